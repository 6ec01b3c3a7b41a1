package devices

import (
	"crypto/ed25519"
	"testing"

	"onecard/shared/httpapi"
)

// The registration body comes from a staff console: whatever it holds, it is refused with a code or
// yields a device a reader can sign for.
func FuzzRegistration(f *testing.F) {
	for _, s := range []string{
		`{"deviceId":"POS-CANTEEN-01","kind":"reader","publicKey":"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=","merchant":"第一食堂","category":"canteen"}`,
		`{"deviceId":"METERGW-01","kind":"meter_gateway","publicKey":"A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="}`,
		`{"deviceId":"","kind":"reader"}`, `{}`, `[]`, `{"merchant":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var in Registration
		if httpapi.DecodeBytes(body, &in) != nil {
			return
		}
		pub, err := in.validate()
		if err != nil {
			return
		}
		if len(pub) != ed25519.PublicKeySize || !ValidID(in.DeviceID) || (in.Kind != KindReader && in.Kind != KindMeterGateway) {
			t.Fatalf("accepted %+v", in)
		}
		if in.Kind == KindReader && in.Merchant == "" {
			t.Fatalf("reader without merchant: %+v", in)
		}
	})
}
