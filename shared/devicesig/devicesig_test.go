package devicesig

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"onecard/shared/fault"
)

// The vector in docs/reader-protocol.md ("Worked example"). Computed once; if this test fails the format
// changed, and every reader in the field with it.
const (
	vecSeedB64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" // bytes 0x00..0x1f
	vecPubB64  = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
	vecMethod  = "POST"
	vecPath    = "/v1/reader/transactions"
	vecTS      = int64(1795579205) // 2026-11-25T12:00:05+08:00
	vecNonce   = "3q2-7wAAAAEu_nonce0001"
	vecBody    = `{"records":[{"seq":1795665600001,"occurredAt":"2026-11-25T12:00:00+08:00","kind":"purchase","amountFen":800,"cardNo":"10000001"}]}`
	vecSHA     = "7f05de7a6ff7c67c2ee0222bac833aa366ca7a8356edae1c542c43e03879412b"
	vecSig     = "XRZLjSAkC8UxG7i7+VlZIVUvs5TpcS4xr5Ownt7CnTLknW8ZL+9n+EwNcbbVhxt7vsJ5TzlhbZ9b95/men2gCQ=="
)

func vecKey(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	seed, err := base64.StdEncoding.DecodeString(vecSeedB64)
	if err != nil {
		t.Fatal(err)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return priv, priv.Public().(ed25519.PublicKey)
}

func vecHeader() http.Header {
	h := http.Header{}
	h.Set(HeaderDeviceID, "POS-CANTEEN-01")
	h.Set(HeaderTimestamp, strconv.FormatInt(vecTS, 10))
	h.Set(HeaderNonce, vecNonce)
	h.Set(HeaderSignature, vecSig)
	return h
}

func code(err error) string {
	if err == nil {
		return ""
	}
	fe, ok := fault.As(err)
	if !ok {
		return "non-fault: " + err.Error()
	}
	if fe.Kind != fault.Unauthenticated {
		return "wrong kind: " + fe.Code
	}
	return fe.Code
}

func TestFixedVector(t *testing.T) {
	priv, pub := vecKey(t)
	if got := base64.StdEncoding.EncodeToString(pub); got != vecPubB64 {
		t.Fatalf("public key %s, want %s", got, vecPubB64)
	}
	wantMsg := "POST\n/v1/reader/transactions\n1795579205\n" + vecNonce + "\n" + vecSHA
	if got := string(Message(vecMethod, vecPath, vecTS, vecNonce, []byte(vecBody))); got != wantMsg {
		t.Fatalf("message %q, want %q", got, wantMsg)
	}
	if got := Sign(priv, vecMethod, vecPath, vecTS, vecNonce, []byte(vecBody)); got != vecSig {
		t.Fatalf("signature %s, want %s", got, vecSig)
	}
	s, err := Parse(vecHeader(), vecMethod, vecPath, []byte(vecBody), time.Unix(vecTS, 0))
	if err != nil {
		t.Fatal(err)
	}
	if s.DeviceID != "POS-CANTEEN-01" || s.Timestamp != vecTS || s.Nonce != vecNonce || string(s.Message) != wantMsg {
		t.Fatalf("parsed %+v", s)
	}
	if err := s.Verify(pub); err != nil {
		t.Fatal(err)
	}
	if s.NonceKey() != "POS-CANTEEN-01#"+vecNonce {
		t.Fatal(s.NonceKey())
	}
	if !s.NonceExpiry().Equal(time.Unix(vecTS+301, 0)) {
		t.Fatal(s.NonceExpiry())
	}
}

func TestTampered(t *testing.T) {
	_, pub := vecKey(t)
	now := time.Unix(vecTS, 0)
	cases := []struct {
		name         string
		method, path string
		body         string
		mod          func(h http.Header)
	}{
		{name: "body", method: vecMethod, path: vecPath, body: strings.Replace(vecBody, "800", "801", 1)},
		{name: "empty body", method: vecMethod, path: vecPath, body: ""},
		{name: "path", method: vecMethod, path: "/v1/meter/readings"},
		{name: "query added", method: vecMethod, path: vecPath + "?x=1"},
		{name: "method", method: "PUT", path: vecPath},
		{name: "method case", method: "post", path: vecPath},
		{name: "timestamp", method: vecMethod, path: vecPath, mod: func(h http.Header) { h.Set(HeaderTimestamp, strconv.FormatInt(vecTS+1, 10)) }},
		{name: "nonce", method: vecMethod, path: vecPath, mod: func(h http.Header) { h.Set(HeaderNonce, vecNonce+"x") }},
		{name: "signature bit", method: vecMethod, path: vecPath, mod: func(h http.Header) {
			sig, _ := base64.StdEncoding.DecodeString(vecSig)
			sig[10] ^= 1
			h.Set(HeaderSignature, base64.StdEncoding.EncodeToString(sig))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := vecHeader()
			if c.mod != nil {
				c.mod(h)
			}
			body := vecBody
			if c.body != "" || c.name == "empty body" {
				body = c.body
			}
			s, err := Parse(h, c.method, c.path, []byte(body), now)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if got := code(s.Verify(pub)); got != "BAD_SIGNATURE" {
				t.Fatalf("got %q, want BAD_SIGNATURE", got)
			}
		})
	}
	// Another device's key.
	other := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)).Public().(ed25519.PublicKey)
	s, err := Parse(vecHeader(), vecMethod, vecPath, []byte(vecBody), now)
	if err != nil {
		t.Fatal(err)
	}
	if got := code(s.Verify(other)); got != "BAD_SIGNATURE" {
		t.Fatalf("other key: %q", got)
	}
	if err := s.Verify(pub[:31]); err == nil || code(err) == "BAD_SIGNATURE" {
		t.Fatalf("short key should be an internal error, got %v", err)
	}
}

func TestWindow(t *testing.T) {
	for _, c := range []struct {
		offset time.Duration // now - timestamp
		want   string
	}{
		{0, ""},
		{300 * time.Second, ""},
		{300*time.Second + 999*time.Millisecond, ""}, // whole seconds
		{301 * time.Second, "STALE_TIMESTAMP"},
		{-300 * time.Second, ""},
		{-301 * time.Second, "STALE_TIMESTAMP"},
		{-24 * time.Hour, "STALE_TIMESTAMP"},
		{24 * time.Hour, "STALE_TIMESTAMP"},
	} {
		_, err := Parse(vecHeader(), vecMethod, vecPath, []byte(vecBody), time.Unix(vecTS, 0).Add(c.offset))
		if got := code(err); got != c.want {
			t.Errorf("offset %v: got %q, want %q", c.offset, got, c.want)
		}
	}
}

func TestHeaderFormats(t *testing.T) {
	now := time.Unix(vecTS, 0)
	cases := []struct {
		name string
		mod  func(h http.Header)
		want string
	}{
		{"no device", func(h http.Header) { h.Del(HeaderDeviceID) }, "DEVICE_HEADERS_MISSING"},
		{"no timestamp", func(h http.Header) { h.Del(HeaderTimestamp) }, "DEVICE_HEADERS_MISSING"},
		{"no nonce", func(h http.Header) { h.Del(HeaderNonce) }, "DEVICE_HEADERS_MISSING"},
		{"no signature", func(h http.Header) { h.Del(HeaderSignature) }, "DEVICE_HEADERS_MISSING"},
		{"empty device", func(h http.Header) { h.Set(HeaderDeviceID, "") }, "BAD_DEVICE_ID"},
		{"device 65", func(h http.Header) { h.Set(HeaderDeviceID, strings.Repeat("a", 65)) }, "BAD_DEVICE_ID"},
		{"device 64", func(h http.Header) { h.Set(HeaderDeviceID, strings.Repeat("a", 64)) }, ""},
		{"device space", func(h http.Header) { h.Set(HeaderDeviceID, "POS 1") }, "BAD_DEVICE_ID"},
		{"device twice", func(h http.Header) { h.Add(HeaderDeviceID, "POS-2") }, "BAD_DEVICE_ID"},
		{"ts empty", func(h http.Header) { h.Set(HeaderTimestamp, "") }, "BAD_TIMESTAMP"},
		{"ts float", func(h http.Header) { h.Set(HeaderTimestamp, "1795579205.0") }, "BAD_TIMESTAMP"},
		{"ts plus", func(h http.Header) { h.Set(HeaderTimestamp, "+1795579205") }, "BAD_TIMESTAMP"},
		{"ts minus", func(h http.Header) { h.Set(HeaderTimestamp, "-1795579205") }, "BAD_TIMESTAMP"},
		{"ts leading zero", func(h http.Header) { h.Set(HeaderTimestamp, "01795579205") }, "BAD_TIMESTAMP"},
		{"ts millis", func(h http.Header) { h.Set(HeaderTimestamp, "1795579205000") }, "BAD_TIMESTAMP"},
		{"ts huge", func(h http.Header) { h.Set(HeaderTimestamp, "99999999999999999999999") }, "BAD_TIMESTAMP"},
		{"ts space", func(h http.Header) { h.Set(HeaderTimestamp, " 1795579205") }, "BAD_TIMESTAMP"},
		{"ts twice", func(h http.Header) { h.Add(HeaderTimestamp, "1795579205") }, "BAD_TIMESTAMP"},
		{"nonce 15", func(h http.Header) { h.Set(HeaderNonce, strings.Repeat("n", 15)) }, "BAD_NONCE"},
		{"nonce 16", func(h http.Header) { h.Set(HeaderNonce, strings.Repeat("n", 16)) }, ""},
		{"nonce 64", func(h http.Header) { h.Set(HeaderNonce, strings.Repeat("n", 64)) }, ""},
		{"nonce 65", func(h http.Header) { h.Set(HeaderNonce, strings.Repeat("n", 65)) }, "BAD_NONCE"},
		{"nonce dot", func(h http.Header) { h.Set(HeaderNonce, strings.Repeat("n", 20)+".") }, "BAD_NONCE"},
		{"sig url alphabet", func(h http.Header) {
			h.Set(HeaderSignature, strings.NewReplacer("+", "-", "/", "_").Replace(vecSig))
		}, "BAD_SIGNATURE"},
		{"sig unpadded", func(h http.Header) { h.Set(HeaderSignature, strings.TrimRight(vecSig, "=")) }, "BAD_SIGNATURE"},
		{"sig short", func(h http.Header) { h.Set(HeaderSignature, base64.StdEncoding.EncodeToString(make([]byte, 63))) }, "BAD_SIGNATURE"},
		{"sig long", func(h http.Header) { h.Set(HeaderSignature, base64.StdEncoding.EncodeToString(make([]byte, 65))) }, "BAD_SIGNATURE"},
		{"sig garbage", func(h http.Header) { h.Set(HeaderSignature, strings.Repeat("!", 88)) }, "BAD_SIGNATURE"},
		{"sig twice", func(h http.Header) { h.Add(HeaderSignature, vecSig) }, "BAD_SIGNATURE"},
	}
	for _, c := range cases {
		h := vecHeader()
		c.mod(h)
		_, err := Parse(h, vecMethod, vecPath, []byte(vecBody), now)
		if got := code(err); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSignRequestRoundTrip(t *testing.T) {
	priv, pub := vecKey(t)
	now := time.Now()
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s, err := Parse(r.Header, r.Method, r.URL.RequestURI(), body, time.Now())
		if err == nil {
			err = s.Verify(pub)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		seen = append(seen, s.Nonce)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	for _, target := range []string{"/v1/reader/transactions", "/v1/reader/blacklist?since=42", "/v1/meter/commands/cmd%2F1/ack"} {
		body := []byte(`{"records":[]}`)
		method := http.MethodPost
		if strings.Contains(target, "blacklist") {
			body, method = nil, http.MethodGet
		}
		req, err := http.NewRequest(method, srv.URL+target, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := SignRequest(req, "POS-CANTEEN-01", priv, body, now); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: %d %s", target, resp.StatusCode, msg)
		}
	}
	if len(seen) != 3 || seen[0] == seen[1] || len(seen[0]) != 32 {
		t.Fatalf("nonces %v", seen)
	}
	if err := SignRequest(httptest.NewRequest("GET", "/", nil), "X", priv[:10], nil, now); err == nil {
		t.Fatal("short private key accepted")
	}
}

func FuzzParse(f *testing.F) {
	priv, pub := vecKey(f)
	f.Add("POS-CANTEEN-01", strconv.FormatInt(vecTS, 10), vecNonce, vecSig, vecMethod, vecPath, []byte(vecBody))
	f.Add("", "0", "", "", "GET", "/", []byte(nil))
	f.Add("a", "1795579205", strings.Repeat("n", 16), strings.Repeat("A", 86)+"==", "POST", "/v1?x", []byte("{}"))
	now := time.Unix(vecTS, 0)
	f.Fuzz(func(t *testing.T, id, ts, nonce, sig, method, path string, body []byte) {
		h := http.Header{}
		for k, v := range map[string]string{HeaderDeviceID: id, HeaderTimestamp: ts, HeaderNonce: nonce, HeaderSignature: sig} {
			if v != "" {
				h.Set(k, v)
			}
		}
		s, err := Parse(h, method, path, body, now)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("non-fault error %v", err)
			}
			return
		}
		if !Token(s.DeviceID, 1, 64) || !Token(s.Nonce, 16, 64) || len(s.Signature) != 64 {
			t.Fatalf("accepted malformed headers %+v", s)
		}
		if d := s.Timestamp - vecTS; d > 300 || d < -300 {
			t.Fatalf("accepted stale timestamp %d", s.Timestamp)
		}
		err = s.Verify(pub)
		want := Sign(priv, method, path, s.Timestamp, s.Nonce, body)
		if (err == nil) != (sig == want) {
			t.Fatalf("verify=%v but sig==expected is %v", err, sig == want)
		}
	})
}

// docs/reader-protocol.md shows the same vector.
func TestDocShowsVector(t *testing.T) {
	doc, err := os.ReadFile("../../docs/reader-protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{vecSeedB64, vecPubB64, vecNonce, vecBody, vecSHA, vecSig, strconv.FormatInt(vecTS, 10)} {
		if !strings.Contains(string(doc), s) {
			t.Errorf("docs/reader-protocol.md lacks %s", s)
		}
	}
}
