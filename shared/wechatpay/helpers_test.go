package wechatpay

import (
	"crypto/rsa"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Fixed test identities. The keys under testdata/ were generated once with openssl and are for tests only.
const (
	testMchID       = "1230000109"
	testAppID       = "wxd678efh567hg6787"
	testMerchSerial = "3775B6A45ACD588826D15E583A95F5DD2F1A2A1C"
	testPubKeyID    = "PUB_KEY_ID_0112300001092026010100000001"
	// testCertSerial is platform_cert.pem's serial as openssl prints it (note the leading zero).
	testCertSerial = "0A5157F09EFDC096DE15EBE81A47057A7232F1B8"
	testAPIv3Key   = "0123456789abcdefGHIJKLMNOPqrstuv"
)

// The fixed notification in testdata/notification.json, signed by openssl with platform_private.pem.
const (
	vecNotifyTimestamp = "1767225601"
	vecNotifyNonce     = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS"
	vecNotifySignature = "VpOtIQi4ZtPlD9o4w2rYTsHRAXvoFMu/qBqvgoh0nYoYUAC8yjfjQBQWxxMTo6bLqcEyZxZmHxVBunPOW2qqgYLfoN5qwPgj9Ml1wKb4JgAixmMKSJ6yuFLvnIHvQuSJYRqjZYTt2nmelgY7PyAEnJ4FZjbZv+GjuefcRum2txW1D2Y+phj/MHyKI+vohkZtlr8ZjpYt7VeGuSRAv0p8PCFQMsBpVJTs+4BDxrz5DbQs2RB2ce5JrRkaTFs6xc2yqGbWqU820oEqLwQCQXVtyhRqzZNfkub3285tFMy4qLc5sHq4+MQR+Es2ydC5GOSqcT82AVZh0BnnJwW+AvniOQ=="
)

type testKeys struct {
	merchant       *rsa.PrivateKey
	merchantPublic *rsa.PublicKey
	platform       *rsa.PrivateKey
	platformPublic *rsa.PublicKey
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadTestKeys(t testing.TB) testKeys {
	t.Helper()
	var k testKeys
	var err error
	if k.merchant, err = ParsePrivateKeyPEM(readTestdata(t, "merchant_private.pem")); err != nil {
		t.Fatal(err)
	}
	if k.merchantPublic, err = ParsePublicKeyPEM(readTestdata(t, "merchant_public.pem")); err != nil {
		t.Fatal(err)
	}
	if k.platform, err = ParsePrivateKeyPEM(readTestdata(t, "platform_private.pem")); err != nil {
		t.Fatal(err)
	}
	if k.platformPublic, err = ParsePublicKeyPEM(readTestdata(t, "platform_public.pem")); err != nil {
		t.Fatal(err)
	}
	return k
}

// fixedClock is 60 s after the fixed notification was signed.
func fixedClock() time.Time { return time.Unix(1767225601+60, 0) }

// testConfig has the platform key under both a public key id and the certificate serial, as during a
// switch from certificates to public keys.
func testConfig(k testKeys) Config {
	return Config{
		MchID: testMchID, AppID: testAppID, AppSecret: "appsecret-for-tests-only",
		MerchantSerial: testMerchSerial, MerchantKey: k.merchant,
		APIv3Key:     []byte(testAPIv3Key),
		PlatformKeys: map[string]*rsa.PublicKey{testPubKeyID: k.platformPublic, testCertSerial: k.platformPublic},
		NotifyURL:    "https://api.example.edu.cn/v1/payments/wechat/notify",
	}
}

func newTestClient(t testing.TB, k testKeys, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(testConfig(k), append([]Option{WithClock(fixedClock)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signedHeader signs body as WeChat Pay would (test-side signer, same primitive as the vectors pin).
func signedHeader(t testing.TB, key *rsa.PrivateKey, serial string, ts int64, nonce string, body []byte) http.Header {
	t.Helper()
	tsStr := strconv.FormatInt(ts, 10)
	sig, err := signSHA256(key, responseMessage(tsStr, nonce, body))
	if err != nil {
		t.Fatal(err)
	}
	h := notifyHeader(sig, serial, tsStr, nonce)
	h.Set("Wechatpay-Signature-Type", AuthScheme)
	return h
}

// notifyHeader carries a notification's signature, serial, timestamp and nonce, as they are given.
func notifyHeader(sig, serial, ts, nonce string) http.Header {
	h := http.Header{}
	h.Set("Wechatpay-Signature", sig)
	h.Set("Wechatpay-Serial", serial)
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	return h
}

func vectorHeader() http.Header {
	h := notifyHeader(vecNotifySignature, testPubKeyID, vecNotifyTimestamp, vecNotifyNonce)
	h.Set("Wechatpay-Signature-Type", AuthScheme)
	return h
}

// notified is what a notification test starts from: the test keys, a client on them and the vectors'
// signed notification body.
func notified(t testing.TB) (testKeys, *Client, []byte) {
	t.Helper()
	k := loadTestKeys(t)
	return k, newTestClient(t, k), readTestdata(t, "notification.json")
}
