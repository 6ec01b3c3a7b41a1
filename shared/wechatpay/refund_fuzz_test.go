package wechatpay

import (
	"testing"
)

// FuzzParseRefundNotification: arbitrary bodies and headers never panic and are never accepted (nothing
// here carries a genuine signature, and a fuzzer cannot forge RSA). The signed notification's own
// signature over the payment notification's body must not make a refund either.
func FuzzParseRefundNotification(f *testing.F) {
	_, c, body := notified(f)
	f.Add(body, vecNotifySignature, vecNotifyTimestamp, vecNotifyNonce, testPubKeyID)
	f.Add([]byte(`{"id":"x","event_type":"REFUND.SUCCESS","resource_type":"encrypt-resource","resource":{"algorithm":"AEAD_AES_256_GCM","original_type":"refund"}}`),
		vecNotifySignature, vecNotifyTimestamp, vecNotifyNonce, testCertSerial)
	f.Add([]byte{}, "", "", "", "")
	f.Fuzz(func(t *testing.T, b []byte, sig, ts, nonce, serial string) {
		h := notifyHeader(sig, serial, ts, nonce)
		r, err := c.ParseRefundNotification(h, b)
		if err == nil {
			t.Fatalf("accepted a refund notification nobody signed as one: %+v", r)
		}
	})
}
