package devstack

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFrontRoutesOneOrigin(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api "+r.URL.Path) })
	sb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "sandbox "+r.Method+" "+r.URL.Path)
	}))
	defer sb.Close()
	h5 := t.TempDir()
	os.WriteFile(filepath.Join(h5, "index.html"), []byte("h5 page"), 0o644)
	os.MkdirAll(filepath.Join(h5, "assets"), 0o755)
	os.WriteFile(filepath.Join(h5, "assets", "a.js"), []byte("h5 asset"), 0o644)
	console := t.TempDir()
	os.WriteFile(filepath.Join(console, "index.html"), []byte("console page"), 0o644)
	missing := filepath.Join(t.TempDir(), "nope")
	front, err := Front(api, sb.URL, []Site{{Prefix: "/", Dir: h5}, {Prefix: "/console/", Dir: console},
		{Prefix: "/later/", Dir: missing, Build: "make later"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(front)
	defer srv.Close()
	cases := []struct {
		method, path string
		status       int
		body         string
		cache        string
	}{
		{"GET", "/v1/schools", 200, "api /v1/schools", ""},
		{"GET", "/", 200, "h5 page", "no-cache"},
		{"GET", "/assets/a.js", 200, "h5 asset", "immutable"},
		{"GET", "/console/", 200, "console page", "no-cache"},
		{"GET", "/later/", 503, "make later", ""},
		{"POST", "/sandbox/orders/R202611291200001234567890/pay", 200, "sandbox POST /sandbox/orders/R202611291200001234567890/pay", ""},
		// the rest of the sandbox (its control routes) is not reachable through the front
		{"POST", "/sandbox/mode", 405, "", ""},
		{"GET", "/sandbox/orders", 404, "", ""},
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != c.status || !strings.Contains(string(b), c.body) {
			t.Errorf("%s %s = %d %q, want %d containing %q", c.method, c.path, res.StatusCode, b, c.status, c.body)
		}
		if c.cache != "" && !strings.Contains(res.Header.Get("Cache-Control"), c.cache) {
			t.Errorf("%s: Cache-Control %q, want %q", c.path, res.Header.Get("Cache-Control"), c.cache)
		}
	}
	res, err := noRedirect.Get(srv.URL + "/console")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMovedPermanently || res.Header.Get("Location") != "/console/" {
		t.Errorf("/console = %d → %q, want a redirect to /console/", res.StatusCode, res.Header.Get("Location"))
	}
}
