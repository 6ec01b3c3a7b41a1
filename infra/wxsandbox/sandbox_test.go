package wxsandbox_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onecard/infra/wxsandbox"
	"onecard/shared/wechatpay"
)

// keysDir is generated once for the whole package: 2048-bit keys take a moment to make.
var keysDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wxsandbox-keys-")
	if err != nil {
		panic(err)
	}
	keysDir = filepath.Join(dir, "keys")
	if err := wxsandbox.GenerateDevKeys(keysDir); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// receiver is the merchant's notify endpoint: it runs the real ParseNotification.
type receiver struct {
	t      *testing.T
	client *wechatpay.Client
	// status decides the answer to the n-th (1-based) authentic notification; nil means 204.
	status func(n int) int

	mu       sync.Mutex
	n        int
	got      []wechatpay.Transaction
	refused  []error
	headers  []http.Header
	bodies   [][]byte
	received chan wechatpay.Transaction
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, wechatpay.MaxNotificationBytes))
	tx, err := rc.client.ParseNotification(r.Header, body)
	rc.mu.Lock()
	if err != nil {
		rc.refused = append(rc.refused, err)
		rc.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	rc.n++
	n := rc.n
	rc.got = append(rc.got, tx)
	rc.headers = append(rc.headers, r.Header.Clone())
	rc.bodies = append(rc.bodies, body)
	rc.mu.Unlock()
	status := http.StatusNoContent
	if rc.status != nil {
		status = rc.status(n)
	}
	w.WriteHeader(status)
	rc.received <- tx
}

func (rc *receiver) wait(t *testing.T) wechatpay.Transaction {
	t.Helper()
	select {
	case tx := <-rc.received:
		return tx
	case <-time.After(5 * time.Second):
		t.Fatal("no notification arrived")
		return wechatpay.Transaction{}
	}
}

func (rc *receiver) transactions() []wechatpay.Transaction {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]wechatpay.Transaction(nil), rc.got...)
}

type env struct {
	sb     *wxsandbox.Sandbox
	srv    *httptest.Server
	client *wechatpay.Client
	recv   *receiver
	opts   wxsandbox.Options
	ahead  *atomic.Int64 // how far the sandbox's clock runs ahead of the wall clock, in ns
}

func newEnv(t *testing.T, retry ...time.Duration) *env {
	t.Helper()
	opts, err := wxsandbox.LoadDevKeys(keysDir)
	if err != nil {
		t.Fatal(err)
	}
	if retry == nil {
		retry = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}
	}
	opts.RetryDelays = retry
	ahead := new(atomic.Int64)
	opts.Clock = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	sb, err := wxsandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sb)
	rc := &receiver{t: t, received: make(chan wechatpay.Transaction, 16)}
	notify := httptest.NewServer(rc)
	t.Cleanup(func() { sb.Close(); srv.Close(); notify.Close() })

	cfg, err := wxsandbox.DevClientConfig(keysDir, srv.URL, notify.URL+"/v1/payments/wechat/notify")
	if err != nil {
		t.Fatal(err)
	}
	client, err := wechatpay.NewClient(cfg, wechatpay.WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	rc.client = client
	return &env{sb: sb, srv: srv, client: client, recv: rc, opts: opts, ahead: ahead}
}

func (e *env) order(t *testing.T, no string, fen int64) wechatpay.Order {
	t.Helper()
	openID, err := e.client.Code2Session(context.Background(), "zhangsan-login-code")
	if err != nil {
		t.Fatal(err)
	}
	return wechatpay.Order{
		OutTradeNo: no, Description: "一卡通充值", AmountFen: fen, OpenID: openID,
		TimeExpire: time.Now().Add(15 * time.Minute), Attach: "card:10000001",
	}
}

// control calls the JSON test API and decodes the answer into out (if not nil).
func (e *env) control(t *testing.T, method, path string, in any, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, body)
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

func (e *env) idle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.sb.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestOrderPayNotifyQuery(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := e.order(t, "R20260101000000001", 5000)
	if o.OpenID != wxsandbox.OpenIDFor("zhangsan-login-code") || len(o.OpenID) != 28 {
		t.Fatalf("openid %q", o.OpenID)
	}

	prepay, err := e.client.CreateJSAPIOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	pp, err := e.client.PayParams(prepay)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(pp.AppID + "\n" + pp.TimeStamp + "\n" + pp.NonceStr + "\n" + pp.Package + "\n"))
	sig, _ := base64.StdEncoding.DecodeString(pp.PaySign)
	if rsa.VerifyPKCS1v15(e.opts.MerchantPublicKey, crypto.SHA256, sum[:], sig) != nil || pp.Package != "prepay_id="+prepay {
		t.Fatalf("pay params do not verify: %+v", pp)
	}

	tx, err := e.client.QueryOrder(ctx, o.OutTradeNo)
	if err != nil {
		t.Fatal(err)
	}
	if tx.TradeState != wechatpay.TradeStateNotPay || tx.Amount.Total != 5000 || tx.TransactionID != "" {
		t.Fatalf("before pay: %+v", tx)
	}

	var paid map[string]string
	if st := e.control(t, "POST", "/sandbox/orders/"+o.OutTradeNo+"/pay", nil, &paid); st != 200 ||
		paid["trade_state"] != "SUCCESS" || paid["out_trade_no"] != o.OutTradeNo || len(paid["transaction_id"]) != 28 {
		t.Fatalf("pay: %d %v", st, paid)
	}

	got := e.recv.wait(t)
	if err := got.Matches(e.client.MchID(), e.client.AppID(), o.OutTradeNo, 5000); err != nil {
		t.Fatal(err)
	}
	if got.TransactionID != paid["transaction_id"] || got.Payer.OpenID != o.OpenID || got.Attach != "card:10000001" ||
		got.TradeType != "JSAPI" || got.SuccessTime.IsZero() {
		t.Fatalf("notified %+v", got)
	}
	// The notification is shaped like WeChat Pay's.
	h, body := e.recv.headers[0], e.recv.bodies[0]
	if h.Get("Wechatpay-Serial") != e.opts.PlatformSerial || h.Get("Wechatpay-Signature-Type") != "WECHATPAY2-SHA256-RSA2048" {
		t.Fatalf("headers %v", h)
	}
	var n wechatpay.Notification
	if err := json.Unmarshal(body, &n); err != nil {
		t.Fatal(err)
	}
	if n.EventType != "TRANSACTION.SUCCESS" || n.ResourceType != "encrypt-resource" || n.Resource.Algorithm != "AEAD_AES_256_GCM" ||
		n.Resource.AssociatedData != "transaction" || len(n.Resource.Nonce) != 12 || n.Resource.OriginalType != "transaction" || n.ID == "" {
		t.Fatalf("notification %s", body)
	}

	tx, err = e.client.QueryOrder(ctx, o.OutTradeNo)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Matches(e.client.MchID(), e.client.AppID(), o.OutTradeNo, 5000); err != nil || tx.TransactionID != got.TransactionID {
		t.Fatalf("after pay: %v %+v", err, tx)
	}

	if err := e.client.CloseOrder(ctx, o.OutTradeNo); !wechatpay.IsAPICode(err, "ORDERPAID") {
		t.Fatalf("close of a paid order: %v", err)
	}
	// Paying again is a no-op: no second notification.
	if st := e.control(t, "POST", "/sandbox/orders/"+o.OutTradeNo+"/pay", nil, &paid); st != 200 || paid["transaction_id"] != got.TransactionID {
		t.Fatalf("second pay: %d %v", st, paid)
	}
	e.idle(t)
	var d struct{ Deliveries []wxsandbox.Delivery }
	e.control(t, "GET", "/sandbox/notifications", nil, &d)
	if len(d.Deliveries) != 1 || d.Deliveries[0].Status != 204 || d.Deliveries[0].OutTradeNo != o.OutTradeNo {
		t.Fatalf("deliveries %+v", d.Deliveries)
	}
	var so wxsandbox.Order
	if st := e.control(t, "GET", "/sandbox/orders/"+o.OutTradeNo, nil, &so); st != 200 || so.TradeState != "SUCCESS" || so.PrepayID != prepay {
		t.Fatalf("inspect: %d %+v", st, so)
	}
	if _, err := e.client.QueryOrder(ctx, "R20260101999999999"); !wechatpay.IsAPICode(err, "ORDER_NOT_EXIST") {
		t.Fatalf("unknown order: %v", err)
	}
}

func TestCloseOrder(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := e.order(t, "R20260101000000002", 3000)
	if _, err := e.client.CreateJSAPIOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := e.client.CloseOrder(ctx, o.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	if err := e.client.CloseOrder(ctx, o.OutTradeNo); err != nil {
		t.Fatalf("closing twice: %v", err)
	}
	tx, err := e.client.QueryOrder(ctx, o.OutTradeNo)
	if err != nil || tx.TradeState != wechatpay.TradeStateClosed {
		t.Fatalf("%v %+v", err, tx)
	}
	var fail map[string]string
	if st := e.control(t, "POST", "/sandbox/orders/"+o.OutTradeNo+"/pay", nil, &fail); st != 400 || fail["code"] != "ORDER_CLOSED" {
		t.Fatalf("pay closed: %d %v", st, fail)
	}
	if _, err := e.client.CreateJSAPIOrder(ctx, o); !wechatpay.IsAPICode(err, "ORDER_CLOSED") {
		t.Fatalf("reuse closed: %v", err)
	}
}

func TestCreateIsIdempotentPerOutTradeNo(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := e.order(t, "R20260101000000003", 1000)
	a, err := e.client.CreateJSAPIOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.client.CreateJSAPIOrder(ctx, o)
	if err != nil || a != b {
		t.Fatalf("retry gave %q, %v; want %q", b, err, a)
	}
	o.AmountFen = 2000
	_, err = e.client.CreateJSAPIOrder(ctx, o)
	var ae *wechatpay.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 400 || ae.Code != "INVALID_REQUEST" || !ae.Verified {
		t.Fatalf("different amount: %v", err)
	}
}

func TestDropModeThenResend(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := e.order(t, "R20260101000000004", 800)
	if _, err := e.client.CreateJSAPIOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	var mode wxsandbox.Mode
	if st := e.control(t, "POST", "/sandbox/mode", map[string]any{"mode": "drop"}, &mode); st != 200 || mode.Notify != "drop" {
		t.Fatalf("mode: %d %+v", st, mode)
	}
	var paid map[string]string
	e.control(t, "POST", "/sandbox/orders/"+o.OutTradeNo+"/pay", nil, &paid)
	if paid["notify"] != "drop" {
		t.Fatalf("pay answer %v", paid)
	}
	e.idle(t)
	if len(e.sb.Deliveries()) != 0 || len(e.recv.transactions()) != 0 {
		t.Fatal("drop mode delivered")
	}
	// What the reconciler does: the query says it was paid.
	tx, err := e.client.QueryOrder(ctx, o.OutTradeNo)
	if err != nil || tx.Matches(e.client.MchID(), e.client.AppID(), o.OutTradeNo, 800) != nil {
		t.Fatalf("%v %+v", err, tx)
	}
	// An explicit resend is delivered whatever the mode.
	if st := e.control(t, "POST", "/sandbox/orders/"+o.OutTradeNo+"/notify", nil, nil); st != http.StatusAccepted {
		t.Fatalf("notify: %d", st)
	}
	if got := e.recv.wait(t); got.TransactionID != tx.TransactionID {
		t.Fatalf("resent %+v", got)
	}
	// Resending an unpaid order is refused.
	o2 := e.order(t, "R20260101000000005", 800)
	if _, err := e.client.CreateJSAPIOrder(ctx, o2); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.Resend(o2.OutTradeNo); !errors.Is(err, wxsandbox.ErrNotPaid) {
		t.Fatal(err)
	}
}

func TestDuplicateMode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := e.order(t, "R20260101000000006", 1200)
	if _, err := e.client.CreateJSAPIOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.SetNotifyMode(wxsandbox.NotifyDuplicate, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Pay(o.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	a, b := e.recv.wait(t), e.recv.wait(t)
	if a.TransactionID == "" || a.TransactionID != b.TransactionID || a.OutTradeNo != o.OutTradeNo {
		t.Fatalf("%+v %+v", a, b)
	}
	e.idle(t)
	ds := e.sb.Deliveries()
	if len(ds) != 2 || ds[0].NotificationID != ds[1].NotificationID || ds[0].Copy == ds[1].Copy {
		t.Fatalf("%+v", ds)
	}
}

func TestRetriesUntil2xx(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.recv.status = func(n int) int { return []int{500, 503, 204}[min(n, 3)-1] }
	o := e.order(t, "R20260101000000007", 900)
	if _, err := e.client.CreateJSAPIOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Pay(o.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		e.recv.wait(t)
	}
	e.idle(t)
	var statuses []int
	for _, d := range e.sb.Deliveries() {
		statuses = append(statuses, d.Status)
	}
	if fmt.Sprint(statuses) != "[500 503 204]" {
		t.Fatalf("statuses %v", statuses)
	}
}

func TestRetriesGiveUp(t *testing.T) {
	e := newEnv(t, 5*time.Millisecond, 5*time.Millisecond)
	e.recv.status = func(int) int { return 500 }
	o := e.order(t, "R20260101000000008", 900)
	if _, err := e.client.CreateJSAPIOrder(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Pay(o.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	e.idle(t)
	if ds := e.sb.Deliveries(); len(ds) != 3 || ds[2].Attempt != 3 {
		t.Fatalf("want 1 try + 2 retries, got %+v", ds)
	}
}

func TestDelayMode(t *testing.T) {
	e := newEnv(t)
	o := e.order(t, "R20260101000000009", 900)
	if _, err := e.client.CreateJSAPIOrder(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var mode wxsandbox.Mode
	e.control(t, "POST", "/sandbox/mode", map[string]any{"mode": "delay", "ms": 200}, &mode)
	if mode.Notify != "delay" || mode.DelayMS != 200 {
		t.Fatalf("%+v", mode)
	}
	start := time.Now()
	if _, err := e.sb.Pay(o.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	e.recv.wait(t)
	if time.Since(start) < 200*time.Millisecond {
		t.Fatal("delay mode delivered early")
	}
}

func TestFailAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := e.order(t, "R20260101000000010", 900)
	var mode wxsandbox.Mode
	e.control(t, "POST", "/sandbox/mode", map[string]any{"mode": "fail_api", "count": 2}, &mode)
	if mode.FailAPI != 2 {
		t.Fatalf("%+v", mode)
	}
	for range 2 {
		_, err := e.client.CreateJSAPIOrder(ctx, o)
		var ae *wechatpay.APIError
		if !errors.As(err, &ae) || ae.StatusCode != 500 || ae.Code != "SYSTEM_ERROR" || !ae.Verified || !ae.Temporary() {
			t.Fatalf("injected failure: %v", err)
		}
	}
	if _, err := e.client.CreateJSAPIOrder(ctx, o); err != nil {
		t.Fatalf("after the injected failures: %v", err)
	}
	// Login fails the same way, in its own format.
	e.sb.FailNextAPICalls(1)
	_, err := e.client.Code2Session(ctx, "x")
	var we *wechatpay.WeixinError
	if !errors.As(err, &we) || we.ErrCode != -1 {
		t.Fatal(err)
	}
}

func TestRefusesBadMerchantRequests(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// A client holding the wrong merchant key: same serial, so only the signature is wrong.
	cfg, _ := wxsandbox.DevClientConfig(keysDir, e.srv.URL, "http://127.0.0.1:1/notify")
	wrong, err := wechatpay.ParsePrivateKeyPEM(mustRead(t, filepath.Join(keysDir, wxsandbox.FilePlatformPrivate)))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MerchantKey = wrong
	c, err := wechatpay.NewClient(cfg, wechatpay.WithHTTPClient(e.srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateJSAPIOrder(ctx, e.order(t, "R20260101000000011", 100))
	var ae *wechatpay.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Code != "SIGN_ERROR" || !ae.Verified {
		t.Fatalf("wrong key: %v", err)
	}
	if _, ok := e.sb.Order("R20260101000000011"); ok {
		t.Fatal("an unauthenticated request placed an order")
	}
	// No Authorization at all: 401, and the answer is still signed.
	resp, err := e.srv.Client().Get(e.srv.URL + "/v3/pay/transactions/out-trade-no/R20260101000000011?mchid=" + e.opts.MchID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || resp.Header.Get("Wechatpay-Signature") == "" || resp.Header.Get("Wechatpay-Serial") != e.opts.PlatformSerial {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	// Wrong app secret and bad codes on login.
	cfg.MerchantKey = nil
	cfg.MerchantSerial = ""
	cfg.AppSecret = "not-the-secret"
	c, _ = wechatpay.NewClient(cfg, wechatpay.WithHTTPClient(e.srv.Client()))
	var we *wechatpay.WeixinError
	if _, err := c.Code2Session(ctx, "abc"); !errors.As(err, &we) || we.ErrCode != 40125 {
		t.Fatal(err)
	}
	if _, err := e.client.Code2Session(ctx, "invalid"); !errors.As(err, &we) || !we.InvalidCode() {
		t.Fatal(err)
	}
}

// A notification the receiver cannot authenticate is refused and retried; nothing is credited.
func TestReceiverRefusesNotificationsFromAnotherKey(t *testing.T) {
	e := newEnv(t, 5*time.Millisecond)
	// The receiver trusts only a different key under the sandbox's serial.
	cfg, _ := wxsandbox.DevClientConfig(keysDir, e.srv.URL, "http://127.0.0.1:1/notify")
	other, _ := wechatpay.ParsePrivateKeyPEM(mustRead(t, filepath.Join(keysDir, wxsandbox.FileMerchantPrivate)))
	cfg.PlatformKeys = map[string]*rsa.PublicKey{e.opts.PlatformSerial: &other.PublicKey}
	distrustful, err := wechatpay.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.recv.client = distrustful
	o := e.order(t, "R20260101000000012", 100)
	if _, err := e.client.CreateJSAPIOrder(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Pay(o.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	e.idle(t)
	e.recv.mu.Lock()
	defer e.recv.mu.Unlock()
	if len(e.recv.got) != 0 || len(e.recv.refused) != 2 || !errors.Is(e.recv.refused[0], wechatpay.ErrBadSignature) {
		t.Fatalf("got %v refused %v", e.recv.got, e.recv.refused)
	}
}

func TestControlAPI(t *testing.T) {
	e := newEnv(t)
	var fail map[string]string
	if st := e.control(t, "POST", "/sandbox/orders/NOPE000001/pay", nil, &fail); st != 404 || fail["code"] != "ORDER_NOT_EXIST" {
		t.Fatalf("%d %v", st, fail)
	}
	if st := e.control(t, "POST", "/sandbox/mode", map[string]any{"mode": "sideways"}, &fail); st != 400 {
		t.Fatalf("%d %v", st, fail)
	}
	o := e.order(t, "R20260101000000013", 100)
	if _, err := e.client.CreateJSAPIOrder(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	var list struct{ Orders []wxsandbox.Order }
	if e.control(t, "GET", "/sandbox/orders", nil, &list); len(list.Orders) != 1 || list.Orders[0].OutTradeNo != o.OutTradeNo {
		t.Fatalf("%+v", list)
	}
	e.control(t, "POST", "/sandbox/mode", map[string]any{"mode": "fail_api", "count": 5}, nil)
	var mode wxsandbox.Mode
	e.control(t, "POST", "/sandbox/mode", map[string]any{"mode": "normal"}, &mode)
	if mode != (wxsandbox.Mode{Notify: "normal"}) {
		t.Fatalf("normal resets everything: %+v", mode)
	}
	if st := e.control(t, "POST", "/sandbox/reset", nil, nil); st != 204 || len(e.sb.Orders()) != 0 {
		t.Fatal("reset")
	}
}

func TestExpiredOrderCannotBePaid(t *testing.T) {
	e := newEnv(t)
	o := e.order(t, "R20260101000000014", 100)
	o.TimeExpire = time.Now().Add(1500 * time.Millisecond)
	if _, err := e.client.CreateJSAPIOrder(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Pay(o.OutTradeNo); err != nil {
		t.Fatalf("paid before time_expire: %v", err)
	}
	o2 := e.order(t, "R20260101000000015", 100)
	o2.TimeExpire = time.Now().Add(1500 * time.Millisecond)
	if _, err := e.client.CreateJSAPIOrder(context.Background(), o2); err != nil {
		t.Fatal(err)
	}
	e.ahead.Store(int64(1600 * time.Millisecond)) // the sandbox's clock passes time_expire
	if _, err := e.sb.Pay(o2.OutTradeNo); !errors.Is(err, wxsandbox.ErrExpired) {
		t.Fatal(err)
	}
}

func TestGenerateDevKeysKeepsWhatExists(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{wxsandbox.FileMerchantPrivate, wxsandbox.FileMerchantPublic, wxsandbox.FilePlatformPrivate,
		wxsandbox.FilePlatformPublic, wxsandbox.FileAPIv3Key, wxsandbox.FileConfig} {
		if err := os.WriteFile(filepath.Join(dir, f), mustRead(t, filepath.Join(keysDir, f)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	before := mustRead(t, filepath.Join(dir, wxsandbox.FileMerchantPublic))
	os.Remove(filepath.Join(dir, wxsandbox.FileMerchantPublic))
	if err := wxsandbox.GenerateDevKeys(dir); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, mustRead(t, filepath.Join(dir, wxsandbox.FileMerchantPublic))) {
		t.Fatal("public key was not re-derived from the existing private key")
	}
	for _, f := range []string{wxsandbox.FileMerchantPrivate, wxsandbox.FilePlatformPrivate, wxsandbox.FileAPIv3Key, wxsandbox.FileConfig} {
		if !bytes.Equal(mustRead(t, filepath.Join(keysDir, f)), mustRead(t, filepath.Join(dir, f))) {
			t.Fatalf("%s was rewritten", f)
		}
	}
	st, err := os.Stat(filepath.Join(keysDir, wxsandbox.FilePlatformPrivate))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key mode %v %v", st.Mode(), err)
	}
	// Both halves load and pair up.
	opts, err := wxsandbox.LoadDevKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := wxsandbox.DevClientConfig(dir, "http://127.0.0.1:8090", "http://127.0.0.1:3000/v1/payments/wechat/notify")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.MerchantKey.PublicKey.Equal(opts.MerchantPublicKey) || !cfg.PlatformKeys[opts.PlatformSerial].Equal(&opts.PlatformKey.PublicKey) ||
		!bytes.Equal(cfg.APIv3Key, opts.APIv3Key) || cfg.MchID != opts.MchID || cfg.MerchantSerial != opts.MerchantSerial {
		t.Fatal("backend and sandbox halves do not match")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestForgedAnswersDoNotVerify(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o := e.order(t, "R20260101000000015", 600)
	if _, err := e.client.CreateJSAPIOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sb.Pay(o.OutTradeNo); err != nil {
		t.Fatal(err)
	}
	e.idle(t)
	// A man in the middle says the paid order does not exist: the client sees the code, unverified.
	var mode wxsandbox.Mode
	e.control(t, "POST", "/sandbox/mode", map[string]any{"mode": "forge_api", "count": 1, "status": 404, "code": "ORDER_NOT_EXIST"}, &mode)
	if mode.Forge != (wxsandbox.Forgery{Count: 1, Status: 404, Code: "ORDER_NOT_EXIST"}) {
		t.Fatalf("%+v", mode)
	}
	_, err := e.client.QueryOrder(ctx, o.OutTradeNo)
	var ae *wechatpay.APIError
	if !errors.As(err, &ae) || ae.Verified || ae.Code != "ORDER_NOT_EXIST" || wechatpay.IsAPICode(err, "ORDER_NOT_EXIST") {
		t.Fatalf("forged answer: %#v", err)
	}
	if tx, err := e.client.QueryOrder(ctx, o.OutTradeNo); err != nil || tx.TradeState != wechatpay.TradeStateSuccess {
		t.Fatalf("the next answer is WeChat Pay's again: %v %+v", err, tx)
	}
	// Only calls on the given path are forged, and they never reach the orders.
	u := e.order(t, "R20260101000000016", 700)
	if _, err := e.client.CreateJSAPIOrder(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.ForgeAPIAnswers(wxsandbox.Forgery{Count: 1, Status: 400, Code: "ORDER_CLOSED", PathSuffix: "/close"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.QueryOrder(ctx, u.OutTradeNo); err != nil {
		t.Fatalf("a query is not forged: %v", err)
	}
	if err := e.client.CloseOrder(ctx, u.OutTradeNo); !wechatpay.IsUnverified(err) || wechatpay.IsAPICode(err, "ORDER_CLOSED") {
		t.Fatalf("forged close: %v", err)
	}
	if got, _ := e.sb.Order(u.OutTradeNo); got.TradeState != wxsandbox.StateNotPay {
		t.Fatalf("the forged close reached the order: %s", got.TradeState)
	}
	if e.sb.Mode().Forge != (wxsandbox.Forgery{}) {
		t.Fatalf("forgery not used up: %+v", e.sb.Mode())
	}
	if st := e.control(t, "POST", "/sandbox/mode", map[string]any{"mode": "forge_api", "count": 1, "status": 200, "code": "X"}, nil); st != 400 {
		t.Fatalf("a forged success: %d", st)
	}
}

// A payment taken before the sandbox started (the local stack's demo data) is known as WeChat Pay knows
// it: the query answers it paid, a refund within what is left goes through, more is refused.
func TestPaidBeforeStartIsRefundable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	paid := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	e.sb.Paid(wxsandbox.Order{OutTradeNo: "R202611200930001234567890", TransactionID: "4200202611200930001", AmountFen: 5000,
		OpenID: "o-seed", Description: "一卡通充值", SuccessTime: paid}, "F-demo-1", 2000)
	e.sb.Paid(wxsandbox.Order{OutTradeNo: "R202611200930001234567890", AmountFen: 1}, "", 0) // again: no change
	tx, err := e.client.QueryOrder(ctx, "R202611200930001234567890")
	if err != nil || tx.TradeState != wxsandbox.StateSuccess || tx.Amount.Total != 5000 || tx.TransactionID != "4200202611200930001" {
		t.Fatalf("query: %+v %v", tx, err)
	}
	if r, err := e.client.QueryRefund(ctx, "F-demo-1"); err != nil || r.Status != wxsandbox.RefundSuccess || r.Amount.Refund != 2000 {
		t.Fatalf("the earlier refund: %+v %v", r, err)
	}
	if _, err := e.client.CreateRefund(ctx, wechatpay.RefundRequest{OutTradeNo: "R202611200930001234567890", OutRefundNo: "F-2",
		RefundFen: 3001, TotalFen: 5000}); err == nil {
		t.Fatal("a refund above what is left (30.00) went through")
	}
	r, err := e.client.CreateRefund(ctx, wechatpay.RefundRequest{OutTradeNo: "R202611200930001234567890", OutRefundNo: "F-3",
		RefundFen: 3000, TotalFen: 5000})
	if err != nil || r.Amount.Refund != 3000 {
		t.Fatalf("the rest: %+v %v", r, err)
	}
}
