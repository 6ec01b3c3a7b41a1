package invoke

import (
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"onecard/infra/localstack"
	"onecard/infra/wxsandbox"
	"onecard/shared/wechatpay"
)

// The payment functions read their WeChat Pay configuration from Secrets Manager (WECHATPAY_SECRET_ID)
// on first use. Locally the Recorder answers that GetSecretValue with the configuration of a WeChat Pay
// sandbox: make dev's (.run/wechatpay.json, its sandbox on :8090), or one started here.

// wechatFromDev reads the secret make dev wrote for its sandbox; absent is not an error.
func (l *Local) wechatFromDev() {
	b, err := os.ReadFile(filepath.Join(localstack.PathsAt(l.Root).StateDir, "wechatpay.json"))
	if err == nil {
		l.wechatSecret = string(b)
	}
}

// startWeChat runs a sandbox on a free port with dev keys kept under .cache (RSA keys are slow to make)
// and builds the secret that points the functions at it. Its notifications go nowhere: invoke
// WeChatNotify with an event to test that path.
func (l *Local) startWeChat() error {
	dir := filepath.Join(localstack.PathsAt(l.Root).CacheDir, "invoke-wxsandbox")
	if err := wxsandbox.GenerateDevKeys(dir); err != nil {
		return err
	}
	opts, err := wxsandbox.LoadDevKeys(dir)
	if err != nil {
		return err
	}
	opts.RetryDelays = []time.Duration{time.Second}
	sb, err := wxsandbox.New(opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		sb.Close()
		return err
	}
	hs := &http.Server{Handler: sb, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	prev := l.stop
	l.stop = func() { _ = hs.Close(); sb.Close(); prev() }
	base := "http://" + ln.Addr().String()
	b, err := wxsandbox.DevSecret(dir, base, "http://127.0.0.1:9/v1/payments/wechat/notify")
	if err != nil {
		return err
	}
	l.wechatSecret = string(b)
	return nil
}

// wechatSecretName is the name the template gives the WeChat Pay secret ("" when it has none).
func (l *Local) wechatSecretName() string {
	if _, ok := l.Template.Parameters["WeChatPaySecretName"]; !ok {
		return ""
	}
	v, _ := l.Template.Resolve(map[string]any{"Ref": "WeChatPaySecretName"}, l.resolver())
	return v
}

// wechatClient is a WeChat Pay client on the sandbox, for the fixture's code2session.
func (l *Local) wechatClient() (*wechatpay.Client, error) {
	if l.wechatSecret == "" {
		return nil, errors.New("no WeChat Pay sandbox")
	}
	cfg, err := wechatpay.ParseSecret([]byte(l.wechatSecret))
	if err != nil {
		return nil, err
	}
	return wechatpay.NewClient(cfg)
}
