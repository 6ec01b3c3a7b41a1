package fn

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"onecard/shared/fault"
	"onecard/shared/httpapi"
	"onecard/shared/platform"
)

// Start is the whole main of an HTTP function: build clients once, serve. The handler is built on the
// first request, after the application secret's keys are read (Lazy): a cold start does no network.
func Start(f HTTP) {
	d := load()
	lambda.Start(httpadapter.NewV2(Lazy(d, f.Handler)).ProxyWithContext)
}

// StartEvent is the whole main of a queue- or schedule-triggered function; like Start, it reads the
// keys and builds its handler on the first invocation.
func StartEvent(e Event) {
	d := load()
	lambda.Start(&lazyEvent{d: d, build: e.Build}) // a lambda.Handler: Start invokes it as is
}

func load() *platform.Deps {
	d, err := platform.Load(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		os.Exit(1)
	}
	return d
}

// Lazy returns a handler that, on its first request, reads the application secret's keys into d
// (platform.Deps.LoadKeys) and builds the real handler with build, then serves every request with it.
// Until the keys are read every request is answered 500 INTERNAL (and logged), and the next one tries
// again.
func Lazy(d *platform.Deps, build func(*platform.Deps) http.Handler) http.Handler {
	var (
		mu sync.Mutex
		h  http.Handler
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if h == nil {
			if err := d.LoadKeys(r.Context()); err != nil {
				mu.Unlock()
				d.Log.Error("application secret unavailable", "err", err.Error())
				w.Header().Set("Cache-Control", "no-store")
				httpapi.WriteError(w, r, fault.ErrInternal)
				return
			}
			h = build(d)
		}
		mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

// lazyEvent is Lazy for event handlers.
type lazyEvent struct {
	d     *platform.Deps
	build func(*platform.Deps) any
	mu    sync.Mutex
	h     lambda.Handler
}

func (l *lazyEvent) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	l.mu.Lock()
	if l.h == nil {
		if err := l.d.LoadKeys(ctx); err != nil {
			l.mu.Unlock()
			return nil, err
		}
		l.h = lambda.NewHandler(l.build(l.d))
	}
	h := l.h
	l.mu.Unlock()
	return h.Invoke(ctx, payload)
}
