package reader_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"onecard/shared/devicesig"
	"onecard/shared/testkit"
)

// Every refusal of the device step is a 401 with its code, and nothing is recorded.
func TestDeviceSignatureRefusals(t *testing.T) {
	w := newWorld(t)
	body, _ := json.Marshal(map[string]any{"records": []any{w.rec("purchase", 800, "10000001")}})
	other := ed25519.NewKeyFromSeed(make([]byte, 32))
	now := w.Clock.Now()
	cases := []struct {
		name   string
		priv   ed25519.PrivateKey
		device string
		at     time.Time
		edit   func(*http.Request)
		status int
		code   string
	}{
		{"no headers", nil, "POS-CANTEEN-01", now, func(r *http.Request) {
			for _, h := range []string{devicesig.HeaderDeviceID, devicesig.HeaderTimestamp, devicesig.HeaderNonce, devicesig.HeaderSignature} {
				r.Header.Del(h)
			}
		}, 401, "DEVICE_HEADERS_MISSING"},
		{"no signature", nil, "POS-CANTEEN-01", now, func(r *http.Request) { r.Header.Del(devicesig.HeaderSignature) }, 401, "DEVICE_HEADERS_MISSING"},
		{"malformed device id", nil, "POS CANTEEN", now, nil, 401, "BAD_DEVICE_ID"},
		{"timestamp in ms", nil, "POS-CANTEEN-01", now, func(r *http.Request) { r.Header.Set(devicesig.HeaderTimestamp, "1795579205000") }, 401, "BAD_TIMESTAMP"},
		{"timestamp not a number", nil, "POS-CANTEEN-01", now, func(r *http.Request) { r.Header.Set(devicesig.HeaderTimestamp, "12a") }, 401, "BAD_TIMESTAMP"},
		{"stale timestamp", nil, "POS-CANTEEN-01", now.Add(-301 * time.Second), nil, 401, "STALE_TIMESTAMP"},
		{"future timestamp", nil, "POS-CANTEEN-01", now.Add(301 * time.Second), nil, 401, "STALE_TIMESTAMP"},
		{"short nonce", nil, "POS-CANTEEN-01", now, func(r *http.Request) { r.Header.Set(devicesig.HeaderNonce, "short") }, 401, "BAD_NONCE"},
		{"other key", other, "POS-CANTEEN-01", now, nil, 401, "BAD_SIGNATURE"},
		{"garbled signature", nil, "POS-CANTEEN-01", now, func(r *http.Request) { r.Header.Set(devicesig.HeaderSignature, "AAAA") }, 401, "BAD_SIGNATURE"},
		{"body changed after signing", nil, "POS-CANTEEN-01", now, func(r *http.Request) {
			b := strings.Replace(string(body), "800", "900", 1)
			r.Body, r.ContentLength = ioNop(b), int64(len(b))
		}, 401, "BAD_SIGNATURE"},
		{"query added after signing", nil, "POS-CANTEEN-01", now, func(r *http.Request) { r.URL.RawQuery = "x=1" }, 401, "BAD_SIGNATURE"},
		{"unknown device", nil, "POS-NOWHERE-99", now, nil, 401, "UNKNOWN_DEVICE"},
		{"gateway on a reader route", nil, "METERGW-01", now, nil, 403, "DEVICE_NOT_ALLOWED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			priv := c.priv
			if priv == nil {
				priv = deviceKey(c.device)
			}
			w.signedWith(priv, "POST", "/v1/reader/transactions", c.device, body, c.at, c.edit).Expect(t, c.status, c.code)
		})
	}
	// The signature is good (±300 s is inclusive).
	w.signedWith(deviceKey("POS-CANTEEN-01"), "POST", "/v1/reader/transactions", "POS-CANTEEN-01", body, now.Add(-300*time.Second), nil).Expect(t, 200, "")
}

func TestNonceIsSingleUseWithinTheWindow(t *testing.T) {
	w := newWorld(t)
	var nonce, sig, ts string
	capture := func(r *http.Request) {
		nonce, sig, ts = r.Header.Get(devicesig.HeaderNonce), r.Header.Get(devicesig.HeaderSignature), r.Header.Get(devicesig.HeaderTimestamp)
	}
	w.signed("GET", "/v1/reader/keys", "POS-CANTEEN-01", nil, capture).Expect(t, 200, "")
	replay := func(r *http.Request) {
		r.Header.Set(devicesig.HeaderNonce, nonce)
		r.Header.Set(devicesig.HeaderSignature, sig)
		r.Header.Set(devicesig.HeaderTimestamp, ts)
	}
	w.signed("GET", "/v1/reader/keys", "POS-CANTEEN-01", nil, replay).Expect(t, 401, "NONCE_REUSED")
	// Another device may use the same nonce: nonces are per device.
	w.signedWith(deviceKey("POS-CANTEEN-02"), "GET", "/v1/reader/keys", "POS-CANTEEN-02", nil, w.Clock.Now(), func(r *http.Request) {
		r.Header.Set(devicesig.HeaderNonce, nonce)
		r.Header.Set(devicesig.HeaderSignature, devicesig.Sign(deviceKey("POS-CANTEEN-02"), "GET", "/v1/reader/keys",
			w.Clock.Now().Unix(), nonce, nil))
	}).Expect(t, 200, "")
	// Once the window has passed, the replay is refused by the clock, and a fresh signature with the old
	// nonce is a new request (TTL may not have removed the item yet; its expiry is checked in code).
	w.Clock.Advance(10 * time.Minute)
	w.signed("GET", "/v1/reader/keys", "POS-CANTEEN-01", nil, replay).Expect(t, 401, "STALE_TIMESTAMP")
	w.signed("GET", "/v1/reader/keys", "POS-CANTEEN-01", nil, func(r *http.Request) {
		r.Header.Set(devicesig.HeaderNonce, nonce)
		r.Header.Set(devicesig.HeaderSignature, devicesig.Sign(deviceKey("POS-CANTEEN-01"), "GET", "/v1/reader/keys",
			w.Clock.Now().Unix(), nonce, nil))
	}).Expect(t, 200, "")
}

func TestAdminDevices(t *testing.T) {
	w := newWorld(t)
	it := w.StaffOf("it")
	pub := base64.StdEncoding.EncodeToString(deviceKey("POS-SHOP-07").Public().(ed25519.PublicKey))
	reg := map[string]string{"deviceId": "POS-SHOP-07", "kind": "reader", "publicKey": pub, "merchant": "学苑超市", "category": "shop"}
	for _, c := range []struct {
		name  string
		edit  func(map[string]string)
		code  string
		extra string
	}{
		{"bad id", func(m map[string]string) { m["deviceId"] = "POS SHOP" }, "BAD_DEVICE_ID", ""},
		{"bad kind", func(m map[string]string) { m["kind"] = "printer" }, "BAD_DEVICE_KIND", ""},
		{"bad key", func(m map[string]string) { m["publicKey"] = "AAAA" }, "BAD_PUBLIC_KEY", ""},
		{"no merchant", func(m map[string]string) { m["merchant"] = "" }, "BAD_MERCHANT", ""},
		{"bad category", func(m map[string]string) { m["category"] = "library" }, "BAD_CATEGORY", ""},
		{"gateway with category", func(m map[string]string) { m["kind"] = "meter_gateway" }, "BAD_CATEGORY", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range reg {
				m[k] = v
			}
			c.edit(m)
			w.Do("POST", "/v1/admin/devices", m, it...).Expect(t, 400, c.code)
		})
	}
	w.Do("POST", "/v1/admin/devices", `{"deviceId":"X","extra":1}`, it...).Expect(t, 400, "UNKNOWN_FIELD")
	w.Do("POST", "/v1/admin/devices", reg, w.StaffOf("finance")...).Expect(t, 403, "FORBIDDEN")
	var v map[string]any
	w.Do("POST", "/v1/admin/devices", reg, it...).Expect(t, 201, "").Decode(t, &v)
	if v["status"] != "active" || v["merchant"] != "学苑超市" || v["publicKey"] != pub {
		t.Fatalf("registered: %v", v)
	}
	w.Do("POST", "/v1/admin/devices", reg, it...).Expect(t, 200, "") // the same again: done
	changed := map[string]string{}
	for k, val := range reg {
		changed[k] = val
	}
	changed["merchant"] = "别的商户"
	w.Do("POST", "/v1/admin/devices", changed, it...).Expect(t, 409, "DEVICE_EXISTS")

	// The new reader works at once; disabled it is refused like an unknown device; enabled it works again.
	post := func() *testkit.Resp {
		body, _ := json.Marshal(map[string]any{"records": []any{w.rec("purchase", 100, "10000001")}})
		return w.signed("POST", "/v1/reader/transactions", "POS-SHOP-07", body, nil)
	}
	post().Expect(t, 200, "")
	w.Clock.Advance(time.Second) // the audit trail orders by time
	w.Do("POST", "/v1/admin/devices/POS-SHOP-07/disable", nil, it...).Expect(t, 204, "")
	w.Do("POST", "/v1/admin/devices/POS-SHOP-07/disable", nil, it...).Expect(t, 204, "")
	post().Expect(t, 401, "UNKNOWN_DEVICE")
	w.Clock.Advance(time.Second)
	w.Do("POST", "/v1/admin/devices/POS-SHOP-07/enable", nil, it...).Expect(t, 204, "")
	post().Expect(t, 200, "")
	w.Do("POST", "/v1/admin/devices/NO-SUCH/disable", nil, it...).Expect(t, 404, "DEVICE_NOT_FOUND")

	var list struct {
		Items []struct{ DeviceID, Status string }
	}
	w.Do("GET", "/v1/admin/devices?limit=200", nil, it...).Expect(t, 200, "").Decode(t, &list)
	if len(list.Items) != len(testDevices)+1 {
		t.Fatalf("devices: %+v", list.Items)
	}
	// Every change is in the audit trail.
	var audit struct {
		Items []struct{ Action, Target string }
	}
	w.Do("GET", "/v1/admin/audit", nil, w.StaffOf("admin")...).Expect(t, 200, "").Decode(t, &audit)
	var actions []string
	for _, a := range audit.Items {
		if a.Target == "device:POS-SHOP-07" {
			actions = append(actions, a.Action)
		}
	}
	if strings.Join(actions, ",") != "device.enable,device.disable,device.register" {
		t.Fatalf("audit: %v", actions)
	}
}

func ioNop(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
