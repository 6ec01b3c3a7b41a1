package wechatpay

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// FuzzParseNotification feeds arbitrary bodies and header values. ParseNotification must never panic, and
// must never accept anything but the exact signed message: forging an RSA signature is not something a
// fuzzer can do, so success with different bytes would mean we verified the wrong thing.
func FuzzParseNotification(f *testing.F) {
	_, c, body := notified(f)

	f.Add(body, vecNotifySignature, vecNotifyTimestamp, vecNotifyNonce, testPubKeyID)
	f.Add(body, "WECHATPAY/SIGNTEST/"+vecNotifySignature, vecNotifyTimestamp, vecNotifyNonce, testPubKeyID)
	f.Add([]byte(`{"id":"x","event_type":"TRANSACTION.SUCCESS","resource":{}}`), vecNotifySignature, vecNotifyTimestamp, vecNotifyNonce, testCertSerial)
	f.Add([]byte{}, "", "", "", "")
	f.Add(body, vecNotifySignature, "-1", vecNotifyNonce, "0")

	f.Fuzz(func(t *testing.T, b []byte, sig, ts, nonce, serial string) {
		h := notifyHeader(sig, serial, ts, nonce)
		tx, err := c.ParseNotification(h, b)
		if err != nil {
			if tx != (Transaction{}) {
				t.Fatal("refused notification returned a transaction")
			}
			return
		}
		// Compare decoded signatures: base64 ignores embedded newlines, so two strings can carry one signature.
		got, _ := base64.StdEncoding.DecodeString(sig)
		want, _ := base64.StdEncoding.DecodeString(vecNotifySignature)
		if !bytes.Equal(b, body) || ts != vecNotifyTimestamp || nonce != vecNotifyNonce || !bytes.Equal(got, want) {
			t.Fatalf("accepted a message that was never signed: body %q ts %q nonce %q", b, ts, nonce)
		}
		if tx.OutTradeNo != "R20260101000000001" {
			t.Fatalf("accepted %+v", tx)
		}
	})
}
