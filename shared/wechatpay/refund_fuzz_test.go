package wechatpay

import (
	"net/http"
	"testing"
)

// FuzzParseRefundNotification: arbitrary bodies and headers never panic and are never accepted (nothing
// here carries a genuine signature, and a fuzzer cannot forge RSA). The signed notification's own
// signature over the payment notification's body must not make a refund either.
func FuzzParseRefundNotification(f *testing.F) {
	k := loadTestKeys(f)
	c := newTestClient(f, k)
	body := readTestdata(f, "notification.json")
	f.Add(body, vecNotifySignature, vecNotifyTimestamp, vecNotifyNonce, testPubKeyID)
	f.Add([]byte(`{"id":"x","event_type":"REFUND.SUCCESS","resource_type":"encrypt-resource","resource":{"algorithm":"AEAD_AES_256_GCM","original_type":"refund"}}`),
		vecNotifySignature, vecNotifyTimestamp, vecNotifyNonce, testCertSerial)
	f.Add([]byte{}, "", "", "", "")
	f.Fuzz(func(t *testing.T, b []byte, sig, ts, nonce, serial string) {
		h := http.Header{}
		h.Set("Wechatpay-Signature", sig)
		h.Set("Wechatpay-Timestamp", ts)
		h.Set("Wechatpay-Nonce", nonce)
		h.Set("Wechatpay-Serial", serial)
		r, err := c.ParseRefundNotification(h, b)
		if err == nil {
			t.Fatalf("accepted a refund notification nobody signed as one: %+v", r)
		}
	})
}
