package wechatpay

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeWechat is a minimal stand-in written against the protocol text, independent of Client: it checks
// our Authorization with the merchant public key and signs its answers with the platform key. (The full
// sandbox lives in infra/wxsandbox; this one lets the package test itself.)
type fakeWechat struct {
	t      *testing.T
	k      testKeys
	mu     sync.Mutex
	last   *http.Request
	body   []byte
	answer func(w http.ResponseWriter, r *http.Request, body []byte) (status int, out []byte)
	// sign controls how the answer is signed; nil means correctly.
	sign func(h http.Header, out []byte)
}

var authRE = regexp.MustCompile(`^WECHATPAY2-SHA256-RSA2048 mchid="([^"]+)",nonce_str="([^"]+)",signature="([^"]+)",timestamp="([^"]+)",serial_no="([^"]+)"$`)

func (f *fakeWechat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.last, f.body = r, body
	f.mu.Unlock()
	status, out := http.StatusUnauthorized, []byte(`{"code":"SIGN_ERROR","message":"bad"}`)
	if m := authRE.FindStringSubmatch(r.Header.Get("Authorization")); m == nil {
		f.t.Errorf("Authorization not in WeChat's format: %q", r.Header.Get("Authorization"))
	} else if m[1] != testMchID || m[5] != testMerchSerial {
		f.t.Errorf("Authorization mchid/serial: %v", m)
	} else if ts, _ := strconv.ParseInt(m[4], 10, 64); ts != fixedClock().Unix() {
		f.t.Errorf("timestamp %s", m[4])
	} else if err := verifySHA256(f.k.merchantPublic, requestMessage(r.Method, r.URL.RequestURI(), ts, m[2], body), m[3]); err != nil {
		f.t.Errorf("merchant signature: %v", err)
	} else {
		status, out = f.answer(w, r, body)
	}
	if f.sign != nil {
		f.sign(w.Header(), out)
	} else {
		for k, v := range signedHeader(f.t, f.k.platform, testPubKeyID, fixedClock().Unix()-2, "RESPNONCE", out) {
			w.Header()[k] = v
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

func newFake(t *testing.T) (*fakeWechat, *Client) {
	k := loadTestKeys(t)
	f := &fakeWechat{t: t, k: k}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg := testConfig(k)
	cfg.BaseURL = srv.URL
	c, err := NewClient(cfg, WithClock(fixedClock), WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	return f, c
}

var testOrder = Order{
	OutTradeNo: "R20260101000000001", Description: "一卡通充值", AmountFen: 5000,
	OpenID: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", TimeExpire: time.Unix(1767225600+900, 0), Attach: "card:10000001",
}

func TestCreateJSAPIOrder(t *testing.T) {
	f, c := newFake(t)
	f.answer = func(w http.ResponseWriter, r *http.Request, body []byte) (int, []byte) {
		return 200, []byte(`{"prepay_id":"wx26112221580621e9b071c00d9e093b0000"}`)
	}
	id, err := c.CreateJSAPIOrder(context.Background(), testOrder)
	if err != nil {
		t.Fatal(err)
	}
	if id != "wx26112221580621e9b071c00d9e093b0000" {
		t.Fatal(id)
	}
	r := f.last
	if r.Method != "POST" || r.URL.Path != "/v3/pay/transactions/jsapi" || r.Header.Get("Content-Type") != "application/json" ||
		r.Header.Get("Accept") != "application/json" || r.Header.Get("Wechatpay-Serial") != testPubKeyID {
		t.Fatalf("request %s %s %v", r.Method, r.URL, r.Header)
	}
	var got map[string]any
	if err := json.Unmarshal(f.body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"appid": testAppID, "mchid": testMchID, "description": "一卡通充值", "out_trade_no": "R20260101000000001",
		"time_expire": "2026-01-01T08:15:00+08:00", "attach": "card:10000001",
		"notify_url": "https://api.example.edu.cn/v1/payments/wechat/notify",
		"amount":     map[string]any{"total": 5000.0, "currency": "CNY"},
		"payer":      map[string]any{"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("body\n got %s\nwant %s", gj, wj)
	}
}

func TestCreateJSAPIOrderRefusesBadArguments(t *testing.T) {
	_, c := newFake(t)
	for name, mut := range map[string]func(*Order){
		"short no":    func(o *Order) { o.OutTradeNo = "R1" },
		"bad char":    func(o *Order) { o.OutTradeNo = "R2026/0101" },
		"zero amount": func(o *Order) { o.AmountFen = 0 },
		"no openid":   func(o *Order) { o.OpenID = "" },
		"no desc":     func(o *Order) { o.Description = "" },
		"long desc":   func(o *Order) { o.Description = strings.Repeat("充", 128) },
	} {
		o := testOrder
		mut(&o)
		if _, err := c.CreateJSAPIOrder(context.Background(), o); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestAnswerVerification(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request, body []byte) (int, []byte) {
		return 200, []byte(`{"prepay_id":"wx1"}`)
	}
	cases := []struct {
		name string
		sign func(k testKeys) func(h http.Header, out []byte)
		want error
	}{
		{"unsigned", func(k testKeys) func(http.Header, []byte) { return func(http.Header, []byte) {} }, ErrBadSignature},
		{"stale", func(k testKeys) func(http.Header, []byte) {
			return func(h http.Header, out []byte) {
				for n, v := range signedHeader(t, k.platform, testPubKeyID, fixedClock().Add(-10*time.Minute).Unix(), "x", out) {
					h[n] = v
				}
			}
		}, ErrStale},
		{"unknown serial", func(k testKeys) func(http.Header, []byte) {
			return func(h http.Header, out []byte) {
				for n, v := range signedHeader(t, k.platform, "PUB_KEY_ID_OTHER", fixedClock().Unix(), "x", out) {
					h[n] = v
				}
			}
		}, ErrUnknownSerial},
		{"body swapped", func(k testKeys) func(http.Header, []byte) {
			return func(h http.Header, out []byte) {
				for n, v := range signedHeader(t, k.platform, testPubKeyID, fixedClock().Unix(), "x", []byte(`{"prepay_id":"wx2"}`)) {
					h[n] = v
				}
			}
		}, ErrBadSignature},
		{"signed by merchant key", func(k testKeys) func(http.Header, []byte) {
			return func(h http.Header, out []byte) {
				for n, v := range signedHeader(t, k.merchant, testPubKeyID, fixedClock().Unix(), "x", out) {
					h[n] = v
				}
			}
		}, ErrBadSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, c := newFake(t)
			f.answer, f.sign = ok, tc.sign(f.k)
			if _, err := c.CreateJSAPIOrder(context.Background(), testOrder); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestQueryAndClose(t *testing.T) {
	f, c := newFake(t)
	f.answer = func(w http.ResponseWriter, r *http.Request, body []byte) (int, []byte) {
		switch {
		case r.Method == "GET" && r.URL.Path == "/v3/pay/transactions/out-trade-no/R20260101000000001" && r.URL.RawQuery == "mchid="+testMchID:
			return 200, []byte(vecGCMPlain)
		case r.Method == "GET":
			return 404, []byte(`{"code":"ORDER_NOT_EXIST","message":"订单不存在"}`)
		case r.URL.Path == "/v3/pay/transactions/out-trade-no/R20260101000000001/close" && string(body) == `{"mchid":"`+testMchID+`"}`:
			return 204, nil
		case strings.HasSuffix(r.URL.Path, "/close"):
			return 400, []byte(`{"code":"ORDERPAID","message":"订单已支付"}`)
		}
		return 500, []byte(`{"code":"SYSTEM_ERROR","message":"?"}`)
	}
	tx, err := c.QueryOrder(context.Background(), "R20260101000000001")
	if err != nil {
		t.Fatal(err)
	}
	if tx.TradeState != TradeStateSuccess || tx.Amount.Total != 5000 || tx.Payer.OpenID == "" {
		t.Fatalf("%+v", tx)
	}
	_, err = c.QueryOrder(context.Background(), "R20260101000000002")
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 404 || !ae.Verified || !IsAPICode(err, "ORDER_NOT_EXIST") {
		t.Fatalf("unknown order: %v", err)
	}
	if err := c.CloseOrder(context.Background(), "R20260101000000001"); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseOrder(context.Background(), "R20260101000000009"); !IsAPICode(err, "ORDERPAID") {
		t.Fatal(err)
	}
	// A query answer about another order is refused even though it is signed.
	f.answer = func(w http.ResponseWriter, r *http.Request, body []byte) (int, []byte) {
		return 200, []byte(vecGCMPlain)
	}
	if _, err := c.QueryOrder(context.Background(), "R20260101000000003"); !errors.Is(err, ErrMalformed) {
		t.Fatal(err)
	}
	// An unsigned 502 from a proxy is still an APIError, marked unverified.
	f.answer = func(w http.ResponseWriter, r *http.Request, body []byte) (int, []byte) {
		return 502, []byte("<html>bad gateway</html>")
	}
	f.sign = func(http.Header, []byte) {}
	err = c.CloseOrder(context.Background(), "R20260101000000001")
	if !errors.As(err, &ae) || ae.Verified || ae.Code != "HTTP_502" || !ae.Temporary() || !IsUnverified(err) {
		t.Fatalf("502: %#v", err)
	}
	// An error answer whose signature does not verify keeps its code for the log, but IsAPICode does not
	// match it: a man in the middle must not be able to say ORDER_NOT_EXIST, ORDER_CLOSED or ORDERPAID.
	for _, sign := range []func(http.Header, []byte){
		func(http.Header, []byte) {}, // unsigned
		func(h http.Header, b []byte) { // genuine headers over another body
			for k, v := range signedHeader(t, f.k.platform, testPubKeyID, fixedClock().Unix(), "nonce-forged", []byte(`{}`)) {
				h[k] = v
			}
		},
	} {
		f.sign = sign
		f.answer = func(w http.ResponseWriter, r *http.Request, body []byte) (int, []byte) {
			return 404, []byte(`{"code":"ORDER_NOT_EXIST","message":"订单不存在"}`)
		}
		_, err = c.QueryOrder(context.Background(), "R20260101000000001")
		if !errors.As(err, &ae) || ae.Verified || ae.Code != "ORDER_NOT_EXIST" || IsAPICode(err, "ORDER_NOT_EXIST") || !IsUnverified(err) {
			t.Fatalf("unverified ORDER_NOT_EXIST: %#v", err)
		}
	}
}

func TestCode2Session(t *testing.T) {
	var gotQuery string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery = r.URL.RawQuery
		if r.URL.Path != "/sns/jscode2session" {
			http.NotFound(w, r)
			return
		}
		switch r.URL.Query().Get("js_code") {
		case "good":
			_, _ = w.Write([]byte(`{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o","session_key":"tiihtNczf5v6AKRyjwEUhQ=="}`))
		default:
			_, _ = w.Write([]byte(`{"errcode":40029,"errmsg":"invalid code"}`))
		}
	}))
	defer srv.Close()
	k := loadTestKeys(t)
	cfg := testConfig(k)
	cfg.BaseURL = srv.URL // a sandbox serves both hosts
	c, err := NewClient(cfg, WithHTTPClient(srv.Client()))
	if err != nil {
		t.Fatal(err)
	}
	id, err := c.Code2Session(context.Background(), "good")
	if err != nil || id != "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" {
		t.Fatal(id, err)
	}
	if gotQuery != "appid="+testAppID+"&grant_type=authorization_code&js_code=good&secret=appsecret-for-tests-only" {
		t.Fatal(gotQuery)
	}
	_, err = c.Code2Session(context.Background(), "bad")
	var we *WeixinError
	if !errors.As(err, &we) || we.ErrCode != 40029 || !we.InvalidCode() {
		t.Fatal(err)
	}

	// Transport errors must not print the URL, which carries the app secret.
	srv.Close()
	_, err = c.Code2Session(context.Background(), "good")
	if err == nil || strings.Contains(err.Error(), "appsecret") || strings.Contains(err.Error(), "secret=") {
		t.Fatalf("transport error leaks the secret or is nil: %v", err)
	}

	// Against the real WeChat Pay host, login goes to api.weixin.qq.com.
	cfg.BaseURL = ""
	c, _ = NewClient(cfg)
	if c.weixinURL != DefaultWeixinBaseURL || c.cfg.BaseURL != DefaultBaseURL {
		t.Fatal(c.weixinURL, c.cfg.BaseURL)
	}
}
