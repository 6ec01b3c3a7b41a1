package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"onecard/infra/localstack"
	"onecard/infra/seed"
	"onecard/infra/wxsandbox"
	"onecard/shared/cards"
	"onecard/shared/recharge"
	"onecard/shared/wechatpay"
)

// The payment functions read their WeChat Pay configuration from Secrets Manager (WECHATPAY_SECRET_ID)
// on first use. Locally the Recorder answers that GetSecretValue with the configuration of a WeChat Pay
// sandbox: make dev's (.run/wechatpay.json, its sandbox on :8090), or one started here.

// wechatFromDev reads the secret make dev wrote for its sandbox; absent is not an error.
func (l *Local) wechatFromDev() {
	state := localstack.PathsAt(l.Root).StateDir
	b, err := os.ReadFile(filepath.Join(state, "wechatpay.json"))
	if err == nil {
		l.wechatSecret = string(b)
		l.wechatKeys = filepath.Join(state, "wxsandbox") // infra/cmd/dev keeps its sandbox's keys there
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
	l.wechatKeys = dir
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

// OrderNo is a card recharge order of the demo user ({{orderNo}}), made through the recharge service
// against the sandbox; the same order every time (a fixed Idempotency-Key).
func (l *Local) OrderNo(ctx context.Context) (string, error) {
	o, err := l.demoOrder(ctx, "invoke-order-sample")
	if err != nil {
		return "", err
	}
	return o.OrderNo, nil
}

// demoOrder creates (or, for a key used before, finds) a 10.00 元 recharge order of the demo user's card.
func (l *Local) demoOrder(ctx context.Context, idemKey string) (*recharge.Order, error) {
	id, err := l.demoUserID(ctx)
	if err != nil {
		return nil, err
	}
	c, err := l.wechatClient()
	if err != nil {
		return nil, err
	}
	d := *l.Deps
	d.Cfg.Table, d.Now = l.Table, time.Now
	d.WeChat = func(context.Context) (*wechatpay.Client, error) { return c, nil }
	svc := recharge.NewService(&d)
	u, ok, err := svc.Users.Get(ctx, id)
	if err != nil || !ok {
		return nil, fmt.Errorf("demo user %s: %v", id, err)
	}
	card, err := cards.Repo{S: svc.S}.Get(ctx, seed.SchoolID, DemoCardNo)
	if err != nil {
		return nil, fmt.Errorf("demo card: %w", err)
	}
	return svc.Create(ctx, u, recharge.CardTarget(card), 1000, "一卡通充值", idemKey)
}

// signNotification makes the body of a WeChatNotify event ("{{wechatNotification}}") a fresh payment's
// TRANSACTION.SUCCESS notification, encrypted and signed with the sandbox's keys as WeChat Pay would, and
// puts its Wechatpay-* headers in the event: a new order of the demo user, paid now.
func (l *Local) signNotification(ctx context.Context, event []byte) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("{{wechatNotification}}: event is not a JSON object: %w", err)
	}
	if b, _ := ev["body"].(string); b != "{{wechatNotification}}" {
		return nil, errors.New("{{wechatNotification}} must be the whole body")
	}
	headers, _ := ev["headers"].(map[string]any)
	if headers == nil {
		return nil, errors.New("{{wechatNotification}}: the event has no headers")
	}
	if l.wechatKeys == "" {
		return nil, errors.New("{{wechatNotification}}: no WeChat Pay sandbox keys")
	}
	opts, err := wxsandbox.LoadDevKeys(l.wechatKeys)
	if err != nil {
		return nil, err
	}
	o, err := l.demoOrder(ctx, "invoke-notify-"+newUUID())
	if err != nil {
		return nil, err
	}
	now := time.Now()
	body, hs, err := wxsandbox.SignedNotification(opts, wxsandbox.Order{OutTradeNo: o.OrderNo, AppID: opts.AppID, MchID: opts.MchID,
		AmountFen: o.AmountFen, OpenID: o.OpenID, TradeState: wxsandbox.StateSuccess,
		TransactionID: "4200" + now.Format("20060102") + strconv.FormatInt(now.UnixNano()%1e16, 10),
		SuccessTime:   now, NotificationID: newUUID()}, now)
	if err != nil {
		return nil, err
	}
	return signedEvent(ev, headers, body, hs)
}

// signedEvent is ev with body as its body and the notification's headers hs (Wechatpay-*) in headers,
// as API Gateway hands a WeChat Pay notification to the function.
func signedEvent(ev, headers map[string]any, body []byte, hs map[string]string) ([]byte, error) {
	for k, v := range hs {
		headers[strings.ToLower(k)] = v
	}
	headers["content-length"] = strconv.Itoa(len(body))
	ev["body"] = string(body)
	return json.MarshalIndent(ev, "", "  ")
}
