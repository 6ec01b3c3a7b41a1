package apigw_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"onecard/infra/apigw"
	"onecard/infra/samtemplate"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/platform"
)

const tmpl = `
Resources:
  Decode:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/decode/
      Events: {Api: {Type: HttpApi, Properties: {Method: POST, Path: /decode}}}
  ReadAll:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/read-all/
      Events: {Api: {Type: HttpApi, Properties: {Method: POST, Path: /read-all}}}
`

// serve runs two public routes with a 16-byte body limit: one decodes its body with httpapi.Decode, the
// other reads it with io.ReadAll (hitting fn's http.MaxBytesReader).
func serve(t *testing.T) *httptest.Server {
	t.Helper()
	tm, err := samtemplate.Parse([]byte(tmpl))
	if err != nil {
		t.Fatal(err)
	}
	ok := func(w http.ResponseWriter) error { return httpapi.JSON(w, http.StatusOK, map[string]bool{"ok": true}) }
	routes := []fn.HTTP{
		{Name: "Decode", Route: "POST /decode", Access: fn.Public, MaxBody: 16, Build: func(*platform.Deps) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				var v map[string]any
				if err := httpapi.Decode(r, 16, &v); err != nil {
					return err
				}
				return ok(w)
			}
		}},
		{Name: "ReadAll", Route: "POST /read-all", Access: fn.Public, MaxBody: 16, Build: func(*platform.Deps) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				if _, err := io.ReadAll(r.Body); err != nil {
					return err
				}
				return ok(w)
			}
		}},
	}
	d := platform.New(platform.Config{Table: "none"}, aws.Config{Region: "local"}, platform.NewLogger(io.Discard))
	srv, err := apigw.New(tm, routes, d)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(srv)
	t.Cleanup(s.Close)
	return s
}

// A body over the route's limit, or over the gateway's 10 MB, is 413 in the error shape of every other
// refusal: {"error":{"code":"BODY_TOO_LARGE","message":…}}.
func TestOversizedBodyIs413InTheErrorShape(t *testing.T) {
	s := serve(t)
	for _, c := range []struct{ name, path, body string }{
		{"over the route's limit, decoded", "/decode", `{"a":"` + strings.Repeat("x", 32) + `"}`},
		{"over the route's limit, read by the handler", "/read-all", strings.Repeat("x", 64)},
		{"over the gateway's 10 MB", "/decode", strings.Repeat("x", 10<<20+1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := http.Post(s.URL+c.path, "application/json", strings.NewReader(c.body))
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out struct {
				Error struct{ Code, Message string }
			}
			b, _ := io.ReadAll(res.Body)
			if err := json.Unmarshal(b, &out); err != nil || res.StatusCode != http.StatusRequestEntityTooLarge ||
				out.Error.Code != "BODY_TOO_LARGE" || out.Error.Message == "" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
				t.Errorf("%d %s %q", res.StatusCode, res.Header.Get("Content-Type"), b)
			}
		})
	}
	// Within the limit the same routes answer.
	for _, p := range []string{"/decode", "/read-all"} {
		res, err := http.Post(s.URL+p, "application/json", strings.NewReader(`{"a":1}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s within the limit: %d", p, res.StatusCode)
		}
	}
}
