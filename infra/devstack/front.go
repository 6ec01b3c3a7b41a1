package devstack

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Site is a web client served from a directory under a path prefix, as CloudFront serves the built
// clients from S3 in AWS (template.yaml).
type Site struct {
	Prefix string // "/" or "/console/"
	Dir    string // the build output (index.html inside)
	Build  string // how to build it, shown while it is missing
}

// sandboxPay is the one sandbox route the H5 of a local build calls (its 模拟支付 button): on the same
// origin, so the page needs no CORS. Nothing else of the sandbox is reachable through the front.
var sandboxPay = regexp.MustCompile(`^/sandbox/orders/R[0-9]{24}/pay$`)

// Front routes one origin the way the CloudFront distribution does: /v1/* to the HTTP API, everything
// else to the clients' files. Locally it also forwards the sandbox's pay button.
func Front(api http.Handler, sandboxURL string, sites []Site) (http.Handler, error) {
	sb, err := url.Parse(sandboxURL)
	if err != nil {
		return nil, err
	}
	proxy := httputil.NewSingleHostReverseProxy(sb)
	sorted := append([]Site(nil), sites...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i].Prefix) > len(sorted[j].Prefix) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.Path
		switch {
		case path == "/v1" || strings.HasPrefix(path, "/v1/"),
			r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "":
			api.ServeHTTP(w, r)
			return
		case r.Method == http.MethodPost && sandboxPay.MatchString(path):
			proxy.ServeHTTP(w, r)
			return
		}
		for _, s := range sorted {
			if s.Prefix != "/" && path == strings.TrimSuffix(s.Prefix, "/") {
				http.Redirect(w, r, s.Prefix, http.StatusMovedPermanently)
				return
			}
			if strings.HasPrefix(path, s.Prefix) {
				serveSite(w, r, s)
				return
			}
		}
		api.ServeHTTP(w, r)
	}), nil
}

func serveSite(w http.ResponseWriter, r *http.Request, s Site) {
	if _, err := os.Stat(filepath.Join(s.Dir, "index.html")); err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(w, "This client is not built yet: %s\n", s.Build)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	// Hashed assets may be kept; the pages that name them may not (a rebuild must show at once).
	if strings.Contains(r.URL.Path, "/assets/") {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	http.StripPrefix(strings.TrimSuffix(s.Prefix, "/"), http.FileServer(http.Dir(s.Dir))).ServeHTTP(w, r)
}
