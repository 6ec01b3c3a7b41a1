// Package wxsandbox is a local stand-in for WeChat Pay APIv3 (and the mini program login) that signs,
// verifies and encrypts exactly as WeChat Pay does, so the real client in shared/wechatpay, including its
// signature checks and resource decryption, runs unchanged against it in tests and in `make dev`.
//
// It serves:
//
//	GET  /sns/jscode2session                                  mini program login (stable openid per code)
//	POST /v3/pay/transactions/jsapi                           place an order → {"prepay_id"}
//	GET  /v3/pay/transactions/out-trade-no/{no}?mchid=        query an order
//	POST /v3/pay/transactions/out-trade-no/{no}/close         close an unpaid order → 204
//	POST /v3/refund/domestic/refunds                          refund a paid order (refund.go)
//	GET  /v3/refund/domestic/refunds/{out_refund_no}          query a refund
//
// Every /v3 request must carry a valid merchant Authorization; every /v3 answer, errors included, is signed
// with the platform key (Wechatpay-Signature/-Timestamp/-Nonce/-Serial), except the forged answers a test
// asks for (forge_api), whose signature does not verify.
//
// What a real payer would do in the WeChat app is a test control instead:
//
//	POST /sandbox/orders/{no}/pay      pay a NOTPAY order and send the signed, encrypted notification
//	POST /sandbox/orders/{no}/notify   send the notification of a paid order again
//	GET  /sandbox/orders[/{no}]        inspect orders
//	GET  /sandbox/notifications        every delivery attempt, with the HTTP status it got
//	GET|POST /sandbox/mode             {"mode":"normal|drop|duplicate|delay|fail_api|forge_api","ms":N,"count":N,
//	                                   "status":N,"code":"...","path_suffix":"/close"} (forge_api: a man in the
//	                                   middle answers the next count /v3 calls, with a signature that fails)
//	POST /sandbox/reset                forget orders, deliveries and modes
//
// The same controls exist as Go methods (Pay, Resend, SetNotifyMode, FailNextAPICalls, ForgeAPIAnswers, ...) for in-process
// tests. docs/wechatpay.md lists how the sandbox differs from the real service.
package wxsandbox

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"time"
	"unicode/utf8"

	"onecard/shared/chinatime"
)

// Options configure a Sandbox. The keys are the two halves of what the backend holds: the sandbox needs
// the merchant's public key (to check requests) and the platform's private key (to sign answers).
type Options struct {
	MchID, AppID, AppSecret string
	MerchantPublicKey       *rsa.PublicKey
	// MerchantSerial, if set, must match serial_no in every Authorization.
	MerchantSerial string
	APIv3Key       []byte // 32 bytes
	PlatformKey    *rsa.PrivateKey
	PlatformSerial string // sent as Wechatpay-Serial, e.g. "PUB_KEY_ID_0112345..."
	Clock          func() time.Time
	// RetryDelays are the waits between notification attempts while the merchant does not answer 2xx.
	// Real WeChat Pay waits 15s, 15s, 30s, 3m, 10m, ... over 24 hours; the default is short for tests.
	RetryDelays []time.Duration
	HTTPClient  *http.Client // for notifications; default has a 5 s timeout like WeChat Pay
	Logger      *slog.Logger // default discards
}

// DefaultRetryDelays are used when Options.RetryDelays is nil.
var DefaultRetryDelays = []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 5 * time.Second}

// Trade states, as WeChat Pay names them.
const (
	StateNotPay  = "NOTPAY"
	StateSuccess = "SUCCESS"
	StateClosed  = "CLOSED"
)

// Order is the sandbox's record of one JSAPI order.
type Order struct {
	OutTradeNo     string    `json:"out_trade_no"`
	AppID          string    `json:"appid"`
	MchID          string    `json:"mchid"`
	Description    string    `json:"description"`
	AmountFen      int64     `json:"amount_fen"`
	OpenID         string    `json:"openid"`
	NotifyURL      string    `json:"notify_url"`
	TimeExpire     string    `json:"time_expire,omitempty"`
	Attach         string    `json:"attach,omitempty"`
	PrepayID       string    `json:"prepay_id"`
	TradeState     string    `json:"trade_state"`
	TransactionID  string    `json:"transaction_id,omitempty"`
	SuccessTime    time.Time `json:"success_time,omitzero"`
	NotificationID string    `json:"notification_id,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	// request is the canonical form of the create request, to tell a retry from a conflicting reuse.
	request string
}

// Sandbox is the fake WeChat Pay. It is an http.Handler; create it with New and Close it when done.
type Sandbox struct {
	opts   Options
	mux    *http.ServeMux
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // deliveries in flight

	mu         sync.Mutex
	orders     map[string]*Order
	deliveries []Delivery
	mode       Mode
	refunds    map[string]*Refund
	// refundOutcome is how new refunds finish (SetRefundOutcome); "" is SUCCESS.
	refundOutcome string
	inflight      int
	idle          chan struct{}      // closed when inflight drops to 0; replaced when it rises
	billExtra     map[string][]Order // bill lines with no order here (AddBillOnly), by day
}

// New checks opts and builds a Sandbox.
func New(opts Options) (*Sandbox, error) {
	switch {
	case opts.MchID == "" || opts.AppID == "" || opts.AppSecret == "":
		return nil, errors.New("wxsandbox: MchID, AppID and AppSecret are required")
	case opts.MerchantPublicKey == nil || opts.PlatformKey == nil || opts.PlatformSerial == "":
		return nil, errors.New("wxsandbox: MerchantPublicKey, PlatformKey and PlatformSerial are required")
	case len(opts.APIv3Key) != 32:
		return nil, errors.New("wxsandbox: APIv3Key must be 32 bytes")
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.RetryDelays == nil {
		opts.RetryDelays = DefaultRetryDelays
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sandbox{opts: opts, orders: map[string]*Order{}, refunds: map[string]*Refund{}, mode: Mode{Notify: NotifyNormal}, idle: make(chan struct{})}
	close(s.idle)
	s.ctx, s.cancel = context.WithCancel(context.Background())

	m := http.NewServeMux()
	m.HandleFunc("GET /sns/jscode2session", s.jscode2session)
	m.HandleFunc("POST /v3/pay/transactions/jsapi", s.v3(s.createJSAPI))
	m.HandleFunc("GET /v3/pay/transactions/out-trade-no/{no}", s.v3(s.queryOrder))
	m.HandleFunc("POST /v3/pay/transactions/out-trade-no/{no}/close", s.v3(s.closeOrder))
	s.refundRoutes(m)
	s.controlRoutes(m)
	s.billRoutes(m)
	s.mux = m
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close stops pending notification deliveries and waits for them to end.
func (s *Sandbox) Close() {
	s.cancel()
	s.wg.Wait()
}

func (s *Sandbox) now() time.Time { return s.opts.Clock() }

// apiError is WeChat Pay's error body.
type apiError struct {
	status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// v3 wraps a /v3 handler: injected failures, merchant signature check, then a signed answer.
// A handler returns (status, value to encode as JSON or nil for no body, error).
func (s *Sandbox) v3(h func(r *http.Request, body []byte) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			s.writeSigned(w, errf(400, "PARAM_ERROR", "cannot read body"), 0, nil)
			return
		}
		if f := s.takeForgery(r.URL.Path); f != nil {
			s.writeForged(w, f)
			return
		}
		if s.takeFailure() {
			s.writeSigned(w, errf(500, "SYSTEM_ERROR", "系统错误（沙箱注入的故障）"), 0, nil)
			return
		}
		if why := s.checkMerchantRequest(r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), body); why != "" {
			s.opts.Logger.Warn("wxsandbox: refused merchant request", "path", r.URL.Path, "why", why)
			s.writeSigned(w, errf(401, "SIGN_ERROR", "签名错误：%s", why), 0, nil)
			return
		}
		status, out, err := h(r, body)
		s.writeSigned(w, err, status, out)
	}
}

// writeSigned answers like WeChat Pay: JSON body (or none for 204) and the four signature headers.
func (s *Sandbox) writeSigned(w http.ResponseWriter, err error, status int, out any) {
	var body []byte
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = errf(500, "SYSTEM_ERROR", "系统错误")
		}
		status = ae.status
		body, _ = json.Marshal(ae)
	} else if out != nil {
		body, _ = json.Marshal(out)
	}
	s.writeWithSignature(w, status, body, body)
}

// writeForged answers as a man in the middle would: the four signature headers are genuine (made with
// the platform key, as if lifted from another answer), but they sign another body, so they do not verify
// the error body that is sent.
func (s *Sandbox) writeForged(w http.ResponseWriter, e *apiError) {
	body, _ := json.Marshal(e)
	s.writeWithSignature(w, e.status, body, []byte(`{"code":"SYSTEM_ERROR","message":"another answer"}`))
}

// writeWithSignature sends body with WeChat Pay's signature headers over signed (body itself, unless a
// test forges an answer).
func (s *Sandbox) writeWithSignature(w http.ResponseWriter, status int, body, signed []byte) {
	ts := fmt.Sprint(s.now().Unix())
	nonce := randomString(32, alnum)
	sig, err := signLines(s.opts.PlatformKey, ts, nonce, string(signed))
	if err != nil {
		http.Error(w, "signing failed", 500)
		return
	}
	h := w.Header()
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", sig)
	h.Set("Wechatpay-Serial", s.opts.PlatformSerial)
	h.Set("Wechatpay-Signature-Type", authScheme)
	h.Set("Request-ID", randomString(32, alnum))
	if body != nil {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

var outTradeNoRE = regexp.MustCompile(`^[0-9A-Za-z_\-|*]{6,32}$`)

type jsapiRequest struct {
	AppID       string `json:"appid"`
	MchID       string `json:"mchid"`
	Description string `json:"description"`
	OutTradeNo  string `json:"out_trade_no"`
	TimeExpire  string `json:"time_expire"`
	Attach      string `json:"attach"`
	NotifyURL   string `json:"notify_url"`
	Amount      struct {
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
	Payer struct {
		OpenID string `json:"openid"`
	} `json:"payer"`
}

func (s *Sandbox) createJSAPI(r *http.Request, body []byte) (int, any, error) {
	var req jsapiRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return 0, nil, errf(400, "PARAM_ERROR", "请求体不是合法的 JSON")
	}
	switch {
	case req.AppID == "" || req.MchID == "":
		return 0, nil, errf(400, "PARAM_ERROR", "缺少 appid 或 mchid")
	case req.MchID != s.opts.MchID:
		return 0, nil, errf(400, "PARAM_ERROR", "mchid 与请求签名的商户号不一致")
	case req.AppID != s.opts.AppID:
		return 0, nil, errf(400, "APPID_MCHID_NOT_MATCH", "appid 和 mch_id 不匹配")
	case !outTradeNoRE.MatchString(req.OutTradeNo):
		return 0, nil, errf(400, "PARAM_ERROR", "out_trade_no 须为 6-32 位数字、字母、_-|*")
	case req.Description == "" || utf8.RuneCountInString(req.Description) > 127:
		return 0, nil, errf(400, "PARAM_ERROR", "description 长度须为 1-127")
	case utf8.RuneCountInString(req.Attach) > 128:
		return 0, nil, errf(400, "PARAM_ERROR", "attach 超过 128 个字符")
	case req.Amount.Total <= 0:
		return 0, nil, errf(400, "PARAM_ERROR", "amount.total 须为正整数（分）")
	case req.Amount.Currency != "" && req.Amount.Currency != "CNY":
		return 0, nil, errf(400, "PARAM_ERROR", "currency 只支持 CNY")
	case req.Payer.OpenID == "":
		return 0, nil, errf(400, "PARAM_ERROR", "缺少 payer.openid")
	}
	if u, err := url.Parse(req.NotifyURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return 0, nil, errf(400, "PARAM_ERROR", "notify_url 须为完整的 http(s) 地址")
	}
	if req.TimeExpire != "" {
		te, err := time.Parse(time.RFC3339, req.TimeExpire)
		if err != nil {
			return 0, nil, errf(400, "PARAM_ERROR", "time_expire 须为 RFC 3339 格式")
		}
		if !te.After(s.now()) {
			return 0, nil, errf(400, "PARAM_ERROR", "time_expire 已过")
		}
	}
	canon, _ := json.Marshal(req) // field order is fixed by the struct, so equal requests compare equal

	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[req.OutTradeNo]; ok {
		switch {
		case o.request != string(canon):
			return 0, nil, errf(400, "INVALID_REQUEST", "201 商户订单号重复：同一 out_trade_no 的参数不一致")
		case o.TradeState == StateSuccess:
			return 0, nil, errf(400, "ORDERPAID", "订单已支付")
		case o.TradeState == StateClosed:
			return 0, nil, errf(400, "ORDER_CLOSED", "订单已关闭")
		}
		return 200, map[string]string{"prepay_id": o.PrepayID}, nil
	}
	now := s.now()
	o := &Order{
		OutTradeNo: req.OutTradeNo, AppID: req.AppID, MchID: req.MchID, Description: req.Description,
		AmountFen: req.Amount.Total, OpenID: req.Payer.OpenID, NotifyURL: req.NotifyURL, TimeExpire: req.TimeExpire,
		Attach: req.Attach, TradeState: StateNotPay, CreatedAt: now, request: string(canon),
		PrepayID: "wx" + now.In(chinatime.Zone).Format("02150405") + randomString(26, "0123456789abcdef"),
	}
	s.orders[o.OutTradeNo] = o
	s.opts.Logger.Info("wxsandbox: order placed", "out_trade_no", o.OutTradeNo, "amount_fen", o.AmountFen)
	return 200, map[string]string{"prepay_id": o.PrepayID}, nil
}

// transactionJSON is WeChat Pay's transaction object, as queries answer and notifications encrypt it.
func transactionJSON(o *Order) map[string]any {
	t := map[string]any{
		"appid": o.AppID, "mchid": o.MchID, "out_trade_no": o.OutTradeNo, "trade_state": o.TradeState,
		"amount": map[string]any{"total": o.AmountFen, "currency": "CNY", "payer_currency": "CNY"},
	}
	if o.Attach != "" {
		t["attach"] = o.Attach
	}
	switch o.TradeState {
	case StateNotPay:
		t["trade_state_desc"] = "订单未支付"
	case StateClosed:
		t["trade_state_desc"] = "订单已关闭"
	case StateSuccess:
		t["trade_state_desc"] = "支付成功"
		t["transaction_id"] = o.TransactionID
		t["trade_type"] = "JSAPI"
		t["bank_type"] = "OTHERS"
		t["success_time"] = wechatTime(o.SuccessTime)
		t["payer"] = map[string]string{"openid": o.OpenID}
		t["amount"] = map[string]any{"total": o.AmountFen, "payer_total": o.AmountFen, "currency": "CNY", "payer_currency": "CNY"}
	}
	return t
}

func (s *Sandbox) queryOrder(r *http.Request, _ []byte) (int, any, error) {
	if r.URL.Query().Get("mchid") != s.opts.MchID {
		return 0, nil, errf(400, "PARAM_ERROR", "mchid 缺失或与签名商户号不一致")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[r.PathValue("no")]
	if !ok {
		return 0, nil, errf(404, "ORDER_NOT_EXIST", "订单不存在")
	}
	return 200, transactionJSON(o), nil
}

func (s *Sandbox) closeOrder(r *http.Request, body []byte) (int, any, error) {
	var req struct {
		MchID string `json:"mchid"`
	}
	if json.Unmarshal(body, &req) != nil || req.MchID != s.opts.MchID {
		return 0, nil, errf(400, "PARAM_ERROR", "请求体须为 {\"mchid\":\"...\"}，且与签名商户号一致")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[r.PathValue("no")]
	if !ok {
		return 0, nil, errf(404, "ORDER_NOT_EXIST", "订单不存在")
	}
	if o.TradeState == StateSuccess {
		return 0, nil, errf(400, "ORDERPAID", "订单已支付，不能关闭")
	}
	o.TradeState = StateClosed
	return http.StatusNoContent, nil, nil
}

// jscode2session mimics api.weixin.qq.com: HTTP 200 always, errcode in the body. Codes are not one-shot
// here, so a developer can log in as the same user again with the same code.
func (s *Sandbox) jscode2session(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	answer := func(v any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(code int, msg string) { answer(map[string]any{"errcode": code, "errmsg": msg}) }
	code := q.Get("js_code")
	switch {
	case s.takeFailure():
		fail(-1, "system error")
	case q.Get("appid") != s.opts.AppID:
		fail(40013, "invalid appid")
	case q.Get("secret") != s.opts.AppSecret:
		fail(40125, "invalid appsecret")
	case q.Get("grant_type") != "authorization_code":
		fail(40002, "invalid grant_type")
	case code == "" || code == "invalid":
		fail(40029, "invalid code")
	default:
		answer(map[string]string{"openid": OpenIDFor(code), "session_key": randomString(24, alnum)})
	}
}

// OpenIDFor is the openid the sandbox gives a js_code: stable, 28 characters like a real one, so tests
// and `make dev` can log in as the same person by reusing a code.
func OpenIDFor(jsCode string) string {
	sum := sha256.Sum256([]byte(jsCode))
	return "o" + base64.RawURLEncoding.EncodeToString(sum[:])[:27]
}
