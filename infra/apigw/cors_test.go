package apigw_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"onecard/infra/apigw"
	"onecard/infra/localstack"
	"onecard/infra/samtemplate"
	"onecard/shared/catalog"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/platform"
)

// serveTemplate serves the real template.yaml with every catalog route; the clients point nowhere, so
// only answers that touch nothing (preflights, refusals without a token) can be asked for.
func serveTemplate(t *testing.T) *httptest.Server {
	t.Helper()
	root, err := localstack.Root()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := samtemplate.Load(root)
	if err != nil {
		t.Fatal(err)
	}
	cfg := platform.Config{Table: "none", JWTKey: bytes.Repeat([]byte("k"), 32), PIIKey: bytes.Repeat([]byte("p"), 32)}
	d := platform.New(cfg, aws.Config{Region: "local"}, platform.NewLogger(io.Discard))
	srv, err := apigw.New(tm, catalog.HTTP, d)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(srv)
	t.Cleanup(s.Close)
	return s
}

func send(t *testing.T, method, url string, headers ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// The local gateway applies the template's CorsConfiguration (origins from the AllowedOrigins
// parameter's default, the local origins) as API Gateway does: it answers the preflight itself, adds
// Access-Control-Allow-Origin to every answer for an allowed origin, and nothing for any other.
func TestCorsFromTheTemplate(t *testing.T) {
	s := serveTemplate(t)
	const local, foreign = "http://localhost:5173", "https://evil.example.com"

	t.Run("preflight from an allowed origin", func(t *testing.T) {
		for _, o := range []string{local, "http://127.0.0.1:3000", "http://127.0.0.1:5174"} {
			res := send(t, http.MethodOptions, s.URL+"/v1/card/recharge", "Origin", o,
				"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
			h := res.Header
			if res.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != o ||
				!hasAll(h.Get("Access-Control-Allow-Methods"), "GET", "POST", "PUT", "DELETE") ||
				!hasAll(h.Get("Access-Control-Allow-Headers"), "Authorization", "Content-Type", "Idempotency-Key") ||
				h.Get("Access-Control-Max-Age") != "3600" || h.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("%s: %d %v", o, res.StatusCode, h)
			}
		}
	})
	t.Run("preflight from another origin", func(t *testing.T) {
		res := send(t, http.MethodOptions, s.URL+"/v1/card/recharge", "Origin", foreign, "Access-Control-Request-Method", "POST")
		if res.StatusCode != http.StatusNoContent || corsHeaders(res.Header) != "" {
			t.Errorf("%d %v", res.StatusCode, res.Header)
		}
	})
	t.Run("answer to an allowed origin", func(t *testing.T) {
		res := send(t, http.MethodGet, s.URL+"/v1/me", "Origin", local)
		if res.StatusCode != http.StatusUnauthorized || res.Header.Get("Access-Control-Allow-Origin") != local ||
			!hasAll(res.Header.Get("Access-Control-Expose-Headers"), "Retry-After") || !hasAll(res.Header.Get("Vary"), "Origin") {
			t.Errorf("%d %v", res.StatusCode, res.Header)
		}
	})
	t.Run("answer to another origin or without one", func(t *testing.T) {
		for _, h := range [][]string{{"Origin", foreign}, {"Origin", "http://localhost:3001"}, nil} {
			res := send(t, http.MethodGet, s.URL+"/v1/me", h...)
			if res.StatusCode != http.StatusUnauthorized || corsHeaders(res.Header) != "" {
				t.Errorf("%v: %d %v", h, res.StatusCode, res.Header)
			}
		}
	})
}

// With CORS configured, API Gateway ignores the CORS headers a function sets; so does the local one. A
// deployment's origins (not the default) and a scheme wildcard apply the same way.
func TestCorsHeadersOfAFunctionAreIgnored(t *testing.T) {
	tm, err := samtemplate.Parse([]byte(`
Parameters:
  AllowedOrigins: {Type: CommaDelimitedList, Default: "https://console.example.edu.cn,http://*"}
Resources:
  HttpApi:
    Type: AWS::Serverless::HttpApi
    Properties:
      CorsConfiguration:
        AllowOrigins: !Ref AllowedOrigins
        AllowHeaders: [Authorization]
        AllowMethods: [GET]
  Open:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/open/
      Events: {Api: {Type: HttpApi, Properties: {Method: GET, Path: /open}}}
`))
	if err != nil {
		t.Fatal(err)
	}
	routes := []fn.HTTP{{Name: "Open", Route: "GET /open", Access: fn.Public, Build: func(*platform.Deps) httpapi.Handler {
		return func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			return httpapi.JSON(w, http.StatusOK, map[string]bool{"ok": true})
		}
	}}}
	d := platform.New(platform.Config{Table: "none"}, aws.Config{Region: "local"}, platform.NewLogger(io.Discard))
	srv, err := apigw.New(tm, routes, d)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(srv)
	defer s.Close()
	for origin, want := range map[string]string{
		"https://console.example.edu.cn": "https://console.example.edu.cn",
		"http://anything.example":        "http://anything.example",
		"https://h5.example.edu.cn":      "",
	} {
		res := send(t, http.MethodGet, s.URL+"/open", "Origin", origin)
		if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != want {
			t.Errorf("%s: %d allow-origin %q, want %q", origin, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"), want)
		}
	}
}

func hasAll(list string, want ...string) bool {
	have := map[string]bool{}
	for _, v := range strings.Split(list, ",") {
		have[strings.ToLower(strings.TrimSpace(v))] = true
	}
	for _, w := range want {
		if !have[strings.ToLower(w)] {
			return false
		}
	}
	return true
}

func corsHeaders(h http.Header) string {
	var out []string
	for k := range h {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			out = append(out, k)
		}
	}
	return strings.Join(out, ",")
}
