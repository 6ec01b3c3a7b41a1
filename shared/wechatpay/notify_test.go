package wechatpay

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseNotificationVector(t *testing.T) {
	_, c, body := notified(t)
	tx, err := c.ParseNotification(vectorHeader(), body)
	if err != nil {
		t.Fatal(err)
	}
	if tx.OutTradeNo != "R20260101000000001" || tx.TransactionID != "4200002026010112345678901234" ||
		tx.TradeState != TradeStateSuccess || tx.Amount.Total != 5000 || tx.Amount.PayerTotal != 5000 ||
		tx.Amount.Currency != "CNY" || tx.Payer.OpenID != "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" || tx.Attach != "card:10000001" ||
		tx.TradeType != "JSAPI" || tx.TradeStateDesc != "支付成功" || !tx.SuccessTime.Equal(time.Unix(1767225600, 0)) {
		t.Fatalf("%+v", tx)
	}
	if err := tx.Matches(c.MchID(), c.AppID(), "R20260101000000001", 5000); err != nil {
		t.Fatal(err)
	}
}

func TestParseNotificationRefusals(t *testing.T) {
	k := loadTestKeys(t)
	body := readTestdata(t, "notification.json")
	otherKey := k.merchant // any RSA key that is not WeChat Pay's

	type tc struct {
		name   string
		header func() http.Header
		body   []byte
		clock  time.Time
		want   error
	}
	with := func(name, value string) func() http.Header {
		return func() http.Header { h := vectorHeader(); h.Set(name, value); return h }
	}
	without := func(name string) func() http.Header {
		return func() http.Header { h := vectorHeader(); h.Del(name); return h }
	}
	tampered := bytes.Replace(body, []byte(`"summary":"支付成功"`), []byte(`"summary":"支付成功 "`), 1)
	cases := []tc{
		{name: "tampered body", header: vectorHeader, body: tampered, want: ErrBadSignature},
		{name: "trailing newline", header: vectorHeader, body: append(append([]byte{}, body...), '\n'), want: ErrBadSignature},
		{name: "unknown serial", header: with("Wechatpay-Serial", "PUB_KEY_ID_0112300001099999999999999999"), body: body, want: ErrUnknownSerial},
		{name: "empty serial", header: without("Wechatpay-Serial"), body: body, want: ErrBadSignature},
		{name: "stale: exactly 5 minutes late", header: vectorHeader, body: body, clock: time.Unix(1767225601, 0).Add(MaxClockSkew), want: ErrStale},
		{name: "stale: 5 minutes early", header: vectorHeader, body: body, clock: time.Unix(1767225601, 0).Add(-MaxClockSkew), want: ErrStale},
		{name: "stale: a day late", header: vectorHeader, body: body, clock: time.Unix(1767225601+86400, 0), want: ErrStale},
		{name: "timestamp changed", header: with("Wechatpay-Timestamp", "1767225602"), body: body, want: ErrBadSignature},
		{name: "timestamp not a number", header: with("Wechatpay-Timestamp", "1767225601.0"), body: body, want: ErrBadSignature},
		{name: "nonce changed", header: with("Wechatpay-Nonce", "5K8264ILTKCH16CQ2502SI8ZNMTM67VT"), body: body, want: ErrBadSignature},
		{name: "SIGNTEST probe", header: with("Wechatpay-Signature", "WECHATPAY/SIGNTEST/"+vecNotifySignature), body: body, want: ErrSignTestProbe},
		{name: "signature not base64", header: with("Wechatpay-Signature", "%%%"), body: body, want: ErrBadSignature},
		{name: "signature missing", header: without("Wechatpay-Signature"), body: body, want: ErrBadSignature},
		{name: "signature repeated", header: func() http.Header {
			h := vectorHeader()
			h.Add("Wechatpay-Signature", vecNotifySignature)
			return h
		}, body: body, want: ErrBadSignature},
		{name: "other signature type", header: with("Wechatpay-Signature-Type", "WECHATPAY2-SM2-WITH-SM3"), body: body, want: ErrBadSignature},
		{name: "signed by another key", header: func() http.Header {
			return signedHeader(t, otherKey, testPubKeyID, 1767225601, vecNotifyNonce, body)
		}, body: body, want: ErrBadSignature},
		{name: "empty body", header: vectorHeader, body: nil, want: ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := fixedClock()
			if !c.clock.IsZero() {
				clock = c.clock
			}
			cl := newTestClient(t, k, WithClock(func() time.Time { return clock }))
			tx, err := cl.ParseNotification(c.header(), c.body)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			if tx != (Transaction{}) {
				t.Fatal("a refused notification returned a transaction")
			}
			if strings.Contains(err.Error(), vecNotifySignature[:16]) || strings.Contains(err.Error(), testAPIv3Key) {
				t.Fatalf("error leaks signature or key: %v", err)
			}
		})
	}
	if !errors.Is(ErrSignTestProbe, ErrBadSignature) {
		t.Fatal("the probe must count as a bad signature")
	}
}

// Validly signed bodies whose content is wrong: the signature passes, later checks refuse.
func TestParseNotificationContent(t *testing.T) {
	k, c, good := notified(t)
	replace := func(old, new string) []byte {
		b := bytes.Replace(good, []byte(old), []byte(new), 1)
		if bytes.Equal(b, good) {
			t.Fatalf("fixture lacks %q", old)
		}
		return b
	}
	seal := func(plain string) string {
		ct, err := gcmSeal([]byte(testAPIv3Key), vecGCMNonce, vecGCMAAD, []byte(plain))
		if err != nil {
			t.Fatal(err)
		}
		return ct
	}
	cases := []struct {
		name string
		body []byte
		want error
	}{
		{"not JSON", []byte("not json"), ErrMalformed},
		{"no id", replace(`"id":"EV-2026010100000000001",`, ""), ErrMalformed},
		{"refund event", replace(`"event_type":"TRANSACTION.SUCCESS"`, `"event_type":"REFUND.SUCCESS"`), ErrUnsupportedEvent},
		{"plain resource", replace(`"resource_type":"encrypt-resource"`, `"resource_type":"plain"`), ErrMalformed},
		{"other algorithm", replace(`"algorithm":"AEAD_AES_256_GCM"`, `"algorithm":"AEAD_SM4_GCM"`), ErrMalformed},
		{"other original type", replace(`"original_type":"transaction"`, `"original_type":"refund"`), ErrMalformed},
		{"associated data changed", replace(`"associated_data":"transaction"`, `"associated_data":"certificate"`), ErrDecrypt},
		{"nonce changed", replace(`"nonce":"fixednonce12"`, `"nonce":"fixednonce13"`), ErrDecrypt},
		{"ciphertext cut", replace(vecGCMCipher, vecGCMCipher[:40]), ErrDecrypt},
		{"resource not a transaction", replace(vecGCMCipher, seal(`[1,2,3]`)), ErrMalformed},
		{"transaction without out_trade_no", replace(vecGCMCipher, seal(`{"mchid":"1230000109","trade_state":"SUCCESS"}`)), ErrMalformed},
		{"bad success_time", replace(vecGCMCipher, seal(`{"mchid":"1","out_trade_no":"R1","trade_state":"SUCCESS","success_time":"yesterday"}`)), ErrMalformed},
		{"too large", append(bytes.Repeat([]byte(" "), MaxNotificationBytes), good...), ErrMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := signedHeader(t, k.platform, testPubKeyID, fixedClock().Unix(), "N0NCE", tc.body)
			if _, err := c.ParseNotification(h, tc.body); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}

	// The same body, re-signed now, still parses: the checks above are about content, not the signer.
	h := signedHeader(t, k.platform, testPubKeyID, fixedClock().Unix(), "N0NCE", good)
	if _, err := c.ParseNotification(h, good); err != nil {
		t.Fatal(err)
	}

	// Wrong APIv3 key configured: authentic notification, undecryptable resource.
	cfg := testConfig(k)
	cfg.APIv3Key = []byte("ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ")
	wrong, err := NewClient(cfg, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.ParseNotification(vectorHeader(), good); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("wrong APIv3 key: %v", err)
	}
}

// Certificate serials and public key ids live side by side; each verifies only with its own key.
func TestParseNotificationSerials(t *testing.T) {
	k := loadTestKeys(t)
	body := readTestdata(t, "notification.json")
	ts := fixedClock().Unix()

	c := newTestClient(t, k)
	for _, serial := range []string{testCertSerial, strings.TrimLeft(testCertSerial, "0"), strings.ToLower(testCertSerial), testPubKeyID} {
		if _, err := c.ParseNotification(signedHeader(t, k.platform, serial, ts, "n", body), body); err != nil {
			t.Errorf("serial %s: %v", serial, err)
		}
	}

	// Two distinct keys: the certificate's and the public key id's. A notification signed with one key but
	// naming the other's serial must fail.
	certKey := k.merchant // stands in for a second WeChat Pay key
	cfg := testConfig(k)
	cfg.PlatformKeys = map[string]*rsa.PublicKey{testPubKeyID: k.platformPublic, testCertSerial: &certKey.PublicKey}
	c2, err := NewClient(cfg, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.ParseNotification(signedHeader(t, certKey, testCertSerial, ts, "n", body), body); err != nil {
		t.Fatalf("certificate key: %v", err)
	}
	if _, err := c2.ParseNotification(signedHeader(t, k.platform, testPubKeyID, ts, "n", body), body); err != nil {
		t.Fatalf("public key id: %v", err)
	}
	if _, err := c2.ParseNotification(signedHeader(t, k.platform, testCertSerial, ts, "n", body), body); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("crossed serial: %v", err)
	}
	// A case change must not turn a public key id into something else.
	if _, err := c2.ParseNotification(signedHeader(t, k.platform, strings.ToLower(testPubKeyID), ts, "n", body), body); !errors.Is(err, ErrUnknownSerial) {
		t.Fatalf("lower-case key id: %v", err)
	}
}

func TestParseNotificationNeedsOnlyVerificationConfig(t *testing.T) {
	k := loadTestKeys(t)
	cfg := testConfig(k)
	cfg.MerchantKey, cfg.MerchantSerial, cfg.AppSecret = nil, "", ""
	c, err := NewClient(cfg, WithClock(fixedClock))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ParseNotification(vectorHeader(), readTestdata(t, "notification.json")); err != nil {
		t.Fatal(err)
	}
	cfg.APIv3Key = nil
	c, _ = NewClient(cfg, WithClock(fixedClock))
	if _, err := c.ParseNotification(vectorHeader(), readTestdata(t, "notification.json")); !errors.Is(err, ErrConfig) {
		t.Fatal(err)
	}
}

func ExampleClient_ParseNotification() {
	// In the notify handler: read at most MaxNotificationBytes, then
	//
	//	tx, err := client.ParseNotification(r.Header, body)
	//	switch {
	//	case errors.Is(err, wechatpay.ErrUnsupportedEvent):
	//		// authentic but nothing to credit: 204
	//	case err != nil:
	//		// forged, stale, replayed from elsewhere, or undecryptable: 401, credit nothing
	//	default:
	//		// look up our order by tx.OutTradeNo, then tx.Matches(mchID, appID, order.No, order.AmountFen),
	//		// credit idempotently, answer 204
	//	}
	fmt.Println(errors.Is(ErrSignTestProbe, ErrBadSignature))
	// Output: true
}
