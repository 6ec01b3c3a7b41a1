package catalog_test

import (
	"testing"

	"onecard/shared/catalog"
	"onecard/shared/fn"
)

// No route's function may outlive the HTTP API's 30 s: the client would have its 503 while the function
// went on. Long work is a job (GET/POST /v1/admin/reconcile).
func TestNoRouteOutlivesTheHTTPAPI(t *testing.T) {
	for _, f := range catalog.HTTP {
		if f.Timeout > fn.MaxHTTPTimeout {
			t.Errorf("%s (%s) has a %d s timeout; the HTTP API gives up after %d s: run it as a job", f.Name, f.Route, f.Timeout, fn.MaxHTTPTimeout)
		}
	}
}
