package wechatpay

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxClockSkew bounds how far Wechatpay-Timestamp may be from our clock, on answers and notifications.
// WeChat Pay's own guidance is 5 minutes; a timestamp exactly that far off is already refused.
const MaxClockSkew = 5 * time.Minute

// maxBody caps what we read from WeChat Pay; real answers are a few KB.
const maxBody = 1 << 20

// Client talks to WeChat Pay for one merchant. It is safe for concurrent use.
type Client struct {
	cfg       Config
	hc        *http.Client
	now       func() time.Time
	keys      map[string]*rsa.PublicKey // by normSerial
	reqSerial string                    // Wechatpay-Serial request header, may be empty
	weixinURL string
}

// Option adjusts a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (tests point it at a sandbox; production may add tracing).
// The default has a 10 s timeout, within WeChat Pay's own guidance for these APIs.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithClock sets the clock used for request timestamps and for the freshness check of what WeChat Pay
// signs. Tests use a fixed clock with the fixed vectors.
func WithClock(now func() time.Time) Option { return func(c *Client) { c.now = now } }

// NewClient checks cfg and builds a Client.
func NewClient(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, hc: &http.Client{Timeout: 10 * time.Second}, now: time.Now}
	if c.cfg.BaseURL == "" {
		c.cfg.BaseURL = DefaultBaseURL
	}
	c.cfg.BaseURL = strings.TrimRight(c.cfg.BaseURL, "/")
	c.weixinURL = strings.TrimRight(c.cfg.WeixinBaseURL, "/")
	if c.weixinURL == "" {
		c.weixinURL = DefaultWeixinBaseURL
		if c.cfg.BaseURL != DefaultBaseURL {
			c.weixinURL = c.cfg.BaseURL
		}
	}
	c.keys = make(map[string]*rsa.PublicKey, len(cfg.PlatformKeys))
	var pubIDs []string
	for s, k := range cfg.PlatformKeys {
		c.keys[normSerial(s)] = k
		if strings.HasPrefix(s, PublicKeyIDPrefix) {
			pubIDs = append(pubIDs, s)
		}
	}
	c.reqSerial = cfg.WechatpaySerial
	if c.reqSerial == "" && len(pubIDs) == 1 {
		c.reqSerial = pubIDs[0]
	}
	for _, o := range opts {
		o(c)
	}
	if c.hc == nil {
		c.hc = http.DefaultClient
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// MchID is the configured merchant id (for Transaction.Matches).
func (c *Client) MchID() string { return c.cfg.MchID }

// AppID is the configured appid (for Transaction.Matches).
func (c *Client) AppID() string { return c.cfg.AppID }

// String keeps key material out of logs.
func (c *Client) String() string { return "wechatpay.Client{" + c.cfg.String() + "}" }

// GoString keeps key material out of %#v.
func (c *Client) GoString() string { return c.String() }

// Order is what CreateJSAPIOrder needs. OutTradeNo is our idempotency key: repeating a create with the same
// OutTradeNo and the same fields returns the same prepay_id, so a timed-out create can simply be retried.
type Order struct {
	OutTradeNo  string    // 6–32 of [0-9A-Za-z_-|*], unique per merchant
	Description string    // shown to the payer, at most 127 characters
	AmountFen   int64     // > 0
	OpenID      string    // the payer, under Config.AppID
	TimeExpire  time.Time // optional: after this the order cannot be paid
	Attach      string    // optional, at most 128 characters, echoed in notifications and queries
}

var outTradeNoRE = regexp.MustCompile(`^[0-9A-Za-z_\-|*]{6,32}$`)

// ValidOutTradeNo reports whether s is acceptable to WeChat Pay as an out_trade_no.
func ValidOutTradeNo(s string) bool { return outTradeNoRE.MatchString(s) }

func (o Order) validate() error {
	switch {
	case !ValidOutTradeNo(o.OutTradeNo):
		return fmt.Errorf("%w: out_trade_no must be 6-32 of [0-9A-Za-z_-|*]", ErrInvalidArgument)
	case o.Description == "" || utf8.RuneCountInString(o.Description) > 127:
		return fmt.Errorf("%w: description must be 1-127 characters", ErrInvalidArgument)
	case o.AmountFen <= 0:
		return fmt.Errorf("%w: amount must be positive", ErrInvalidArgument)
	case o.OpenID == "" || len(o.OpenID) > 128:
		return fmt.Errorf("%w: openid is required", ErrInvalidArgument)
	case utf8.RuneCountInString(o.Attach) > 128:
		return fmt.Errorf("%w: attach is at most 128 characters", ErrInvalidArgument)
	}
	return nil
}

// jsapiRequest is the body of POST /v3/pay/transactions/jsapi. Field order follows WeChat's docs; it does
// not matter for the signature, which covers the bytes we send whatever they are.
type jsapiRequest struct {
	AppID       string      `json:"appid"`
	MchID       string      `json:"mchid"`
	Description string      `json:"description"`
	OutTradeNo  string      `json:"out_trade_no"`
	TimeExpire  string      `json:"time_expire,omitempty"`
	Attach      string      `json:"attach,omitempty"`
	NotifyURL   string      `json:"notify_url"`
	Amount      jsapiAmount `json:"amount"`
	Payer       Payer       `json:"payer"`
}

type jsapiAmount struct {
	Total    int64  `json:"total"`
	Currency string `json:"currency"`
}

// CreateJSAPIOrder places a JSAPI (mini program) order and returns its prepay_id, valid for two hours;
// hand it to PayParams. On an error that may be temporary (timeout, 5xx), retry with the same Order.
func (c *Client) CreateJSAPIOrder(ctx context.Context, o Order) (string, error) {
	if err := o.validate(); err != nil {
		return "", err
	}
	if c.cfg.NotifyURL == "" {
		return "", fmt.Errorf("%w: NotifyURL is required to create orders", ErrConfig)
	}
	req := jsapiRequest{
		AppID: c.cfg.AppID, MchID: c.cfg.MchID, Description: o.Description, OutTradeNo: o.OutTradeNo,
		Attach: o.Attach, NotifyURL: c.cfg.NotifyURL,
		Amount: jsapiAmount{Total: o.AmountFen, Currency: "CNY"}, Payer: Payer{OpenID: o.OpenID},
	}
	if !o.TimeExpire.IsZero() {
		req.TimeExpire = FormatTime(o.TimeExpire)
	}
	body, err := c.call(ctx, http.MethodPost, "/v3/pay/transactions/jsapi", nil, req, http.StatusOK)
	if err != nil {
		return "", err
	}
	var resp struct {
		PrepayID string `json:"prepay_id"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.PrepayID == "" {
		return "", fmt.Errorf("%w: jsapi answer without prepay_id", ErrMalformed)
	}
	return resp.PrepayID, nil
}

// QueryOrder asks WeChat Pay for the state of an order by our out_trade_no. An order WeChat Pay has never
// seen gives an *APIError with Code "ORDER_NOT_EXIST" (see IsAPICode).
func (c *Client) QueryOrder(ctx context.Context, outTradeNo string) (Transaction, error) {
	if !ValidOutTradeNo(outTradeNo) {
		return Transaction{}, fmt.Errorf("%w: bad out_trade_no", ErrInvalidArgument)
	}
	q := url.Values{"mchid": {c.cfg.MchID}}
	body, err := c.call(ctx, http.MethodGet, "/v3/pay/transactions/out-trade-no/"+url.PathEscape(outTradeNo), q, nil, http.StatusOK)
	if err != nil {
		return Transaction{}, err
	}
	var t Transaction
	if err := json.Unmarshal(body, &t); err != nil {
		return Transaction{}, fmt.Errorf("%w: order query answer: %v", ErrMalformed, err)
	}
	if t.OutTradeNo != outTradeNo || t.TradeState == "" {
		return Transaction{}, fmt.Errorf("%w: order query answer is for another order or has no state", ErrMalformed)
	}
	return t, nil
}

// CloseOrder closes an unpaid order so it can no longer be paid. Closing a paid order fails with an
// *APIError coded "ORDERPAID": the caller must then credit it (query it first) rather than give up.
func (c *Client) CloseOrder(ctx context.Context, outTradeNo string) error {
	if !ValidOutTradeNo(outTradeNo) {
		return fmt.Errorf("%w: bad out_trade_no", ErrInvalidArgument)
	}
	body := struct {
		MchID string `json:"mchid"`
	}{c.cfg.MchID}
	_, err := c.call(ctx, http.MethodPost, "/v3/pay/transactions/out-trade-no/"+url.PathEscape(outTradeNo)+"/close", nil, body, http.StatusNoContent)
	return err
}

// PayParams is what the mini program passes to wx.requestPayment, JSON-named as that call expects.
type PayParams struct {
	AppID     string `json:"appId"`
	TimeStamp string `json:"timeStamp"`
	NonceStr  string `json:"nonceStr"`
	Package   string `json:"package"`
	SignType  string `json:"signType"`
	PaySign   string `json:"paySign"`
}

// PayParams signs a prepay_id for wx.requestPayment with the merchant key:
// paySign = SHA256withRSA("appId\ntimeStamp\nnonceStr\npackage\n").
func (c *Client) PayParams(prepayID string) (PayParams, error) {
	if c.cfg.MerchantKey == nil {
		return PayParams{}, fmt.Errorf("%w: MerchantKey is required to sign pay params", ErrConfig)
	}
	if prepayID == "" {
		return PayParams{}, fmt.Errorf("%w: empty prepay_id", ErrInvalidArgument)
	}
	p := PayParams{
		AppID:     c.cfg.AppID,
		TimeStamp: strconv.FormatInt(c.now().Unix(), 10),
		NonceStr:  newNonce(),
		Package:   "prepay_id=" + prepayID,
		SignType:  "RSA",
	}
	sig, err := signSHA256(c.cfg.MerchantKey, paySignMessage(p.AppID, p.TimeStamp, p.NonceStr, p.Package))
	if err != nil {
		return PayParams{}, err
	}
	p.PaySign = sig
	return p, nil
}

// Code2Session exchanges a wx.login code for the user's openid under Config.AppID. The session_key WeChat
// also returns is dropped on purpose: nothing here needs it and it must not be stored or logged.
// errcode != 0 comes back as *WeixinError (InvalidCode tells a bad code from a server-side problem).
func (c *Client) Code2Session(ctx context.Context, jsCode string) (string, error) {
	if c.cfg.AppSecret == "" {
		return "", fmt.Errorf("%w: AppSecret is required for code2session", ErrConfig)
	}
	if jsCode == "" || len(jsCode) > 256 {
		return "", fmt.Errorf("%w: js_code is required", ErrInvalidArgument)
	}
	q := url.Values{
		"appid": {c.cfg.AppID}, "secret": {c.cfg.AppSecret}, "js_code": {jsCode}, "grant_type": {"authorization_code"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.weixinURL+"/sns/jscode2session?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("wechatpay: code2session: bad URL")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// *url.Error would print the URL, which carries the app secret: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return "", fmt.Errorf("wechatpay: code2session request failed: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", fmt.Errorf("wechatpay: code2session: reading answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("wechatpay: code2session: HTTP %d", resp.StatusCode)
	}
	var r struct {
		OpenID  string `json:"openid"`
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return "", fmt.Errorf("%w: code2session answer is not JSON", ErrMalformed)
	}
	if r.ErrCode != 0 {
		return "", &WeixinError{ErrCode: r.ErrCode, ErrMsg: r.ErrMsg}
	}
	if r.OpenID == "" {
		return "", fmt.Errorf("%w: code2session answer without openid", ErrMalformed)
	}
	return r.OpenID, nil
}

// call signs and sends one /v3 request and verifies the answer. It returns the body of an answer with
// status want; any other status becomes an *APIError.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in any, want int) ([]byte, error) {
	if c.cfg.MerchantKey == nil || c.cfg.MerchantSerial == "" {
		return nil, fmt.Errorf("%w: MerchantKey and MerchantSerial are required to call WeChat Pay", ErrConfig)
	}
	if len(c.keys) == 0 {
		return nil, fmt.Errorf("%w: PlatformKeys are required to verify WeChat Pay's answers", ErrConfig)
	}
	var reqBody []byte
	if in != nil {
		var err error
		if reqBody, err = json.Marshal(in); err != nil {
			return nil, fmt.Errorf("wechatpay: encoding request: %w", err)
		}
	}
	u := c.cfg.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(reqBody))
	if err != nil {
		return nil, fmt.Errorf("wechatpay: building request: %w", err)
	}
	auth, err := c.authorization(method, req.URL.RequestURI(), reqBody)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "onecard-wechatpay/1 (Go)")
	if reqBody != nil {
		req.Header.Set("Content-Type", "application/json")
	} else {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	if c.reqSerial != "" {
		req.Header.Set("Wechatpay-Serial", c.reqSerial)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("wechatpay: %s %s: reading answer: %w", method, path, err)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("%w: answer larger than %d bytes", ErrMalformed, maxBody)
	}

	verr := c.verifySigned(resp.Header, body)
	if resp.StatusCode == want {
		if verr != nil {
			return nil, fmt.Errorf("wechatpay: %s %s: answer: %w", method, path, verr)
		}
		return body, nil
	}
	ae := &APIError{StatusCode: resp.StatusCode, Verified: verr == nil}
	var eb struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &eb) == nil && eb.Code != "" {
		ae.Code, ae.Message = eb.Code, eb.Message
	} else {
		ae.Code, ae.Message = "HTTP_"+strconv.Itoa(resp.StatusCode), http.StatusText(resp.StatusCode)
	}
	return nil, ae
}

// authorization builds the Authorization header value for one request.
func (c *Client) authorization(method, requestURI string, body []byte) (string, error) {
	ts := c.now().Unix()
	nonce := newNonce()
	sig, err := signSHA256(c.cfg.MerchantKey, requestMessage(method, requestURI, ts, nonce, body))
	if err != nil {
		return "", err
	}
	return formatAuthorization(c.cfg.MchID, nonce, sig, ts, c.cfg.MerchantSerial), nil
}

func formatAuthorization(mchID, nonce, signature string, ts int64, serial string) string {
	return fmt.Sprintf(`%s mchid="%s",nonce_str="%s",signature="%s",timestamp="%d",serial_no="%s"`,
		AuthScheme, mchID, nonce, signature, ts, serial)
}

// platformKey finds the WeChat Pay key a Wechatpay-Serial names.
func (c *Client) platformKey(serial string) *rsa.PublicKey {
	if serial == "" {
		return nil
	}
	return c.keys[normSerial(serial)]
}

// verifySigned checks the four Wechatpay-* headers over body: probe, known serial, fresh timestamp,
// then the RSA signature. Cheap checks go first so junk costs no RSA operation.
func (c *Client) verifySigned(h http.Header, body []byte) error {
	sig, ok1 := oneHeader(h, "Wechatpay-Signature")
	serial, ok2 := oneHeader(h, "Wechatpay-Serial")
	ts, ok3 := oneHeader(h, "Wechatpay-Timestamp")
	nonce, ok4 := oneHeader(h, "Wechatpay-Nonce")
	if ok1 && strings.HasPrefix(sig, SignTestPrefix) {
		return ErrSignTestProbe
	}
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return fmt.Errorf("%w: missing or repeated Wechatpay-Signature/-Serial/-Timestamp/-Nonce", ErrBadSignature)
	}
	if st, ok := oneHeader(h, "Wechatpay-Signature-Type"); ok && st != AuthScheme {
		return fmt.Errorf("%w: unsupported Wechatpay-Signature-Type", ErrBadSignature)
	}
	key := c.platformKey(serial)
	if key == nil {
		return fmt.Errorf("%w: %.64q", ErrUnknownSerial, serial)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 || len(ts) > 12 {
		return fmt.Errorf("%w: Wechatpay-Timestamp is not a Unix time", ErrBadSignature)
	}
	skew := c.now().Sub(time.Unix(sec, 0))
	if skew >= MaxClockSkew || skew <= -MaxClockSkew {
		return fmt.Errorf("%w: Wechatpay-Timestamp is %s away from now", ErrStale, skew.Round(time.Second))
	}
	if len(nonce) > 64 {
		return fmt.Errorf("%w: Wechatpay-Nonce too long", ErrBadSignature)
	}
	return verifySHA256(key, responseMessage(ts, nonce, body), sig)
}

// oneHeader returns the header's value if it is present exactly once and non-empty: two signatures on one
// message would leave us guessing which one WeChat Pay meant.
func oneHeader(h http.Header, name string) (string, bool) {
	v := h.Values(name)
	if len(v) != 1 || v[0] == "" {
		return "", false
	}
	return v[0], true
}
