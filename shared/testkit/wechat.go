package testkit

import (
	"context"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"onecard/infra/wxsandbox"
	"onecard/shared/wechatpay"
)

// WeChat is a test's WeChat Pay: the sandbox over HTTP, signing and encrypting like the real one, and the
// real client the functions use, pointed at it.
type WeChat struct {
	Sandbox *wxsandbox.Sandbox
	URL     string
	Client  *wechatpay.Client
	KeysDir string // the dev keys (platform_private.pem signs like WeChat Pay)
}

var (
	wxKeysOnce sync.Once
	wxKeysDir  string
	wxKeysErr  error
)

// devKeys generates one set of dev keys per test binary (RSA generation is slow).
func devKeys(t testing.TB) string {
	wxKeysOnce.Do(func() {
		if wxKeysDir, wxKeysErr = os.MkdirTemp("", "onecard-wx-"); wxKeysErr == nil {
			wxKeysErr = wxsandbox.GenerateDevKeys(wxKeysDir)
		}
	})
	if wxKeysErr != nil {
		t.Fatal(wxKeysErr)
	}
	return wxKeysDir
}

// WithWeChat starts a sandbox for this test, sharing the test clock, with notifications sent to this
// Env's API, and makes the functions use it.
func (e *Env) WithWeChat() *WeChat {
	e.T.Helper()
	dir := devKeys(e.T)
	opts, err := wxsandbox.LoadDevKeys(dir)
	if err != nil {
		e.T.Fatal(err)
	}
	opts.Clock = e.Clock.Now
	opts.RetryDelays = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}
	sb, err := wxsandbox.New(opts)
	if err != nil {
		e.T.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	e.T.Cleanup(func() { srv.Close(); sb.Close() })
	cfg, err := wxsandbox.DevClientConfig(dir, srv.URL, e.API.URL+"/v1/payments/wechat/notify")
	if err != nil {
		e.T.Fatal(err)
	}
	client, err := wechatpay.NewClient(cfg, wechatpay.WithClock(e.Clock.Now))
	if err != nil {
		e.T.Fatal(err)
	}
	e.Deps.WeChat = func(context.Context) (*wechatpay.Client, error) { return client, nil }
	return &WeChat{Sandbox: sb, URL: srv.URL, Client: client, KeysDir: dir}
}

// Idle waits until the sandbox has finished delivering notifications.
func (w *WeChat) Idle(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.Sandbox.WaitIdle(ctx); err != nil {
		t.Fatal("sandbox deliveries did not finish:", err)
	}
}
