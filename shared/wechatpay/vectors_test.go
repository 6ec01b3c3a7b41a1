package wechatpay

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The vectors below were computed once outside Go (openssl dgst -sha256 -sign for signatures, Python's
// cryptography AESGCM for the resource) and committed as literals, so a mistake shared by our signer and
// our verifier, or by our encryption and decryption, cannot pass unnoticed.

const (
	vecNonce = "593BEC0C930BF1AFEB40B4A08C8FB242"
	// openssl: printf 'POST\n/v3/pay/transactions/jsapi\n1767225600\n<vecNonce>\n{"mchid":"1230000109"}\n'
	vecRequestSignature = "BtJDcz6e/7G3QmaRGTWv1N7X7p+PgYICR5DtTUf8YZTAuzEwhe5bdiwhryRuzcltvZIkg3TvZCEPUVz/msotizVviAIsT9pqobGg7ly019NLBUzwNi6Zkq8BzZbrEVt1QpOZ0VIItLsThdHJNrC/WEoYrb9zJOa6QIwYr/Fya+cdv19ir+ThD7E0rGr29iu4XtU80IDU1VU0aHaKHYAMDuoPdoyzdeGw6nuTDQaGh1vRaCRMbBvBo3MT0suVZOLiORh0sxZ1z7HNaLDw5MLd2XGa4u/x9/qEO8qvOdaYfWWgjJkc05elboj02byzxvjP0MfzOzTmil0uI1o7hij3Aw=="
	// openssl: printf 'wxd678efh567hg6787\n1767225600\n<vecNonce>\nprepay_id=wx201410272009395522657a690389285100\n'
	vecPaySign = "fKnOoiCTFE53Tq2CnTUBBarM89gqLG+W9pGFm5CIoefrA/cyEhymVzS7zrUwJ8t6YWq/eT81fmJ8mtGoxZMTZvCBu1vUmdp4D0Pvko15zjc5bFJkr5rS9UyaWl/3oVT0AUNCeELrngTzvELHHa1JJ4dFbPRhsX0s7+OlfweQfa0+ul9XQ4Z7EB46SOoC1bhBz9rPqKhWM2+fjmC/wUtN/iHiuxXQdF1RIlAEfzxZ1T5m8rybMYYwcyVvsQzmGa5mzzhzUip79EUWaGyPBl3+yb6anLvEGUg0SA8AoaiGFMdG29M8bX84Oo8uiBFf1wvenyxOw++6V/wG4AC44mCXIw=="

	vecGCMNonce  = "fixednonce12"
	vecGCMAAD    = "transaction"
	vecGCMPlain  = `{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_trade_no":"R20260101000000001","transaction_id":"4200002026010112345678901234","trade_type":"JSAPI","trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"OTHERS","attach":"card:10000001","success_time":"2026-01-01T08:00:00+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"amount":{"total":5000,"payer_total":5000,"currency":"CNY","payer_currency":"CNY"}}`
	vecGCMCipher = "dT1IxJy8gQPZeKmK3XDOEJcaghtcrR48wr8u5yTqKeaHJSOsCCDqs+IpSWPSMr+HXdV8Yxkyq3KXKVKWNnimneO8FtiJvLY1TLtld3LJgqU4OD6gBxau41qy4axEveMrG4W6puU+5Q+uFUMpAOxLo5QJMrAR8k5F+lA6mrQZUTc5zdMIozSuA/NWfA47VptFdW9tmHoEhkl62wXBgLbbxSModfoQeYeIERSqLcY5/xXukT3/aNlFXUPTGAIqvdQMXXtgKhSbcnophXt8sTEOQGOhjxBJ8Eh+/sxP7bTkx5EZYBOxhtxeep+XXpFdBqYsIJx7TvymQTylx/kTl1C9scCtALhRCNPgkyeNqvnbQHc0553SBFdoE+GkeiEbJk3IwYLVBAcvDDKU6o7wrleLMDVYndeHD2Txnt80WQNyzIweEiTLdqFBO/ZytORZ0XyI7IdvtN77ItUGFr+BZm5wFrJbZC9JostYvFxHDq8dK46JEYxaXBbR8Uxh4wl9IzU6/hdUi3e88JZChax2oNRYAZy3JXkF38slILS7mZN0wo0eO1HDnP/7IeBFwBTTywtR1ZvKrtpS+ejiJnGX1z1vOj75glI="
)

func TestRequestSignatureVector(t *testing.T) {
	k := loadTestKeys(t)
	msg := requestMessage("POST", "/v3/pay/transactions/jsapi", 1767225600, vecNonce, []byte(`{"mchid":"1230000109"}`))
	got, err := signSHA256(k.merchant, msg)
	if err != nil {
		t.Fatal(err)
	}
	if got != vecRequestSignature {
		t.Fatalf("request signature differs from the openssl vector:\n got %s\nwant %s", got, vecRequestSignature)
	}
	if err := verifySHA256(k.merchantPublic, msg, vecRequestSignature); err != nil {
		t.Fatal(err)
	}
	// A GET signs an empty body but keeps the final newline.
	if m := string(requestMessage("GET", "/v3/x?mchid=1", 1, "N", nil)); m != "GET\n/v3/x?mchid=1\n1\nN\n\n" {
		t.Fatalf("GET message %q", m)
	}
	auth := formatAuthorization(testMchID, vecNonce, vecRequestSignature, 1767225600, testMerchSerial)
	want := `WECHATPAY2-SHA256-RSA2048 mchid="1230000109",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",signature="` +
		vecRequestSignature + `",timestamp="1767225600",serial_no="3775B6A45ACD588826D15E583A95F5DD2F1A2A1C"`
	if auth != want {
		t.Fatalf("Authorization\n got %s\nwant %s", auth, want)
	}
}

func TestPaySignVector(t *testing.T) {
	k := loadTestKeys(t)
	msg := paySignMessage(testAppID, "1767225600", vecNonce, "prepay_id=wx201410272009395522657a690389285100")
	got, err := signSHA256(k.merchant, msg)
	if err != nil {
		t.Fatal(err)
	}
	if got != vecPaySign {
		t.Fatalf("paySign differs from the openssl vector:\n got %s\nwant %s", got, vecPaySign)
	}

	c := newTestClient(t, k)
	p, err := c.PayParams("wx201410272009395522657a690389285100")
	if err != nil {
		t.Fatal(err)
	}
	if p.AppID != testAppID || p.TimeStamp != "1767225661" || p.Package != "prepay_id=wx201410272009395522657a690389285100" ||
		p.SignType != "RSA" || len(p.NonceStr) != 32 {
		t.Fatalf("PayParams %+v", p)
	}
	if err := verifySHA256(k.merchantPublic, paySignMessage(p.AppID, p.TimeStamp, p.NonceStr, p.Package), p.PaySign); err != nil {
		t.Fatalf("paySign does not verify: %v", err)
	}
	js, _ := json.Marshal(p)
	for _, f := range []string{`"appId"`, `"timeStamp"`, `"nonceStr"`, `"package"`, `"signType"`, `"paySign"`} {
		if !strings.Contains(string(js), f) {
			t.Fatalf("PayParams JSON lacks %s: %s", f, js)
		}
	}
}

func TestGCMVector(t *testing.T) {
	key := []byte(testAPIv3Key)
	ct, err := gcmSeal(key, vecGCMNonce, vecGCMAAD, []byte(vecGCMPlain))
	if err != nil {
		t.Fatal(err)
	}
	if ct != vecGCMCipher {
		t.Fatalf("ciphertext differs from the Python vector:\n got %s\nwant %s", ct, vecGCMCipher)
	}
	pt, err := gcmOpen(key, vecGCMNonce, vecGCMAAD, vecGCMCipher)
	if err != nil {
		t.Fatal(err)
	}
	if string(pt) != vecGCMPlain {
		t.Fatalf("plaintext %s", pt)
	}
	// Each input is authenticated.
	bad := map[string]func() error{
		"aad":   func() error { _, err := gcmOpen(key, vecGCMNonce, "", vecGCMCipher); return err },
		"nonce": func() error { _, err := gcmOpen(key, "fixednonce13", vecGCMAAD, vecGCMCipher); return err },
		"key": func() error {
			_, err := gcmOpen([]byte("0123456789abcdefGHIJKLMNOPqrstuw"), vecGCMNonce, vecGCMAAD, vecGCMCipher)
			return err
		},
		"tag": func() error {
			_, err := gcmOpen(key, vecGCMNonce, vecGCMAAD, vecGCMCipher[:len(vecGCMCipher)-4]+"AAA=")
			return err
		},
		"short":     func() error { _, err := gcmOpen(key, vecGCMNonce, vecGCMAAD, "AAAA"); return err },
		"notbase64": func() error { _, err := gcmOpen(key, vecGCMNonce, vecGCMAAD, "!!"); return err },
		"nonce-len": func() error { _, err := gcmOpen(key, "short", vecGCMAAD, vecGCMCipher); return err },
	}
	for name, f := range bad {
		if err := f(); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: got %v, want ErrDecrypt", name, err)
		}
	}
}

func TestParseKeys(t *testing.T) {
	k := loadTestKeys(t)
	serial, pub, err := ParseCertificatePEM(readTestdata(t, "platform_cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if serial != testCertSerial {
		t.Fatalf("serial %s, want %s", serial, testCertSerial)
	}
	if !pub.Equal(k.platformPublic) {
		t.Fatal("certificate key is not the platform key")
	}
	// PKCS#8 and PKCS#1 private keys both load (platform_private is PKCS#8, merchant_private PKCS#1).
	if !k.merchant.PublicKey.Equal(k.merchantPublic) || !k.platform.PublicKey.Equal(k.platformPublic) {
		t.Fatal("private and public test keys do not pair")
	}
	for name, f := range map[string]func() error{
		"empty":       func() error { _, err := ParsePrivateKeyPEM(nil); return err },
		"cert as key": func() error { _, err := ParsePrivateKeyPEM(readTestdata(t, "platform_cert.pem")); return err },
		"key as cert": func() error { _, _, err := ParseCertificatePEM(readTestdata(t, "platform_public.pem")); return err },
		"priv as pub": func() error { _, err := ParsePublicKeyPEM(readTestdata(t, "merchant_private.pem")); return err },
	} {
		err := f()
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "MII") {
			t.Errorf("%s: error echoes PEM content", name)
		}
	}
	if _, err := ParseAPIv3Key(" " + testAPIv3Key + "\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseAPIv3Key("short"); !errors.Is(err, ErrConfig) {
		t.Fatal(err)
	}
}

func TestConfigRedacted(t *testing.T) {
	k := loadTestKeys(t)
	cfg := testConfig(k)
	c := newTestClient(t, k)
	secrets := []string{testAPIv3Key, "appsecret-for-tests-only", k.merchant.D.String()[:20], k.merchant.Primes[0].String()[:20]}
	for _, s := range []string{
		fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprint(&cfg),
		fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c),
	} {
		for _, sec := range secrets {
			if strings.Contains(s, sec) {
				t.Fatalf("formatted config leaks a secret: %s", s)
			}
		}
		if !strings.Contains(s, testMchID) {
			t.Fatalf("formatted config lost the mchid: %s", s)
		}
	}
}

func TestNewClientValidates(t *testing.T) {
	k := loadTestKeys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"no mchid":     func(c *Config) { c.MchID = "" },
		"short apiv3":  func(c *Config) { c.APIv3Key = []byte("x") },
		"small key":    func(c *Config) { c.MerchantKey = small },
		"no serial":    func(c *Config) { c.MerchantSerial = "" },
		"nil platform": func(c *Config) { c.PlatformKeys = map[string]*rsa.PublicKey{"X": nil} },
		"bad notify":   func(c *Config) { c.NotifyURL = "/relative" },
	} {
		cfg := testConfig(k)
		mut(&cfg)
		if _, err := NewClient(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestTransactionJSONAndMatches(t *testing.T) {
	var tx Transaction
	if err := json.Unmarshal([]byte(vecGCMPlain), &tx); err != nil {
		t.Fatal(err)
	}
	if !tx.SuccessTime.Equal(time.Unix(1767225600, 0)) || tx.Amount.Total != 5000 || tx.Payer.OpenID != "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" {
		t.Fatalf("%+v", tx)
	}
	out, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	var back Transaction
	if err := json.Unmarshal(out, &back); err != nil || !back.SuccessTime.Equal(tx.SuccessTime) || back.TransactionID != tx.TransactionID {
		t.Fatalf("round trip: %v %s", err, out)
	}
	if !strings.Contains(string(out), `"success_time":"2026-01-01T08:00:00+08:00"`) {
		t.Fatalf("success_time not in WeChat's format: %s", out)
	}
	// An unpaid order has no success_time, or an empty one.
	if err := json.Unmarshal([]byte(`{"out_trade_no":"R1","trade_state":"NOTPAY","success_time":""}`), &back); err != nil || !back.SuccessTime.IsZero() {
		t.Fatalf("unpaid: %v", err)
	}

	if err := tx.Matches(testMchID, testAppID, "R20260101000000001", 5000); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		mch, app, no string
		amt          int64
		mut          func(*Transaction)
		want         error
	}{
		{"1230000110", testAppID, "R20260101000000001", 5000, nil, ErrMismatch},
		{testMchID, "wx0000000000000000", "R20260101000000001", 5000, nil, ErrMismatch},
		{testMchID, testAppID, "R20260101000000002", 5000, nil, ErrMismatch},
		{testMchID, testAppID, "R20260101000000001", 5001, nil, ErrMismatch},
		{testMchID, testAppID, "R20260101000000001", 5000, func(t *Transaction) { t.Amount.Currency = "USD" }, ErrMismatch},
		{testMchID, testAppID, "R20260101000000001", 5000, func(t *Transaction) { t.TradeState = TradeStateNotPay }, ErrNotPaid},
		{testMchID, testAppID, "R20260101000000001", 5000, func(t *Transaction) { t.TransactionID = "" }, ErrMismatch},
	}
	for i, c := range cases {
		x := tx
		if c.mut != nil {
			c.mut(&x)
		}
		if err := x.Matches(c.mch, c.app, c.no, c.amt); !errors.Is(err, c.want) {
			t.Errorf("case %d: got %v, want %v", i, err, c.want)
		}
	}
	if got := FormatTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); got != "2026-01-01T08:00:00+08:00" {
		t.Fatal(got)
	}
}
