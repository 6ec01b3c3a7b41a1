package paycode

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"onecard/shared/fault"
)

// The worked example of docs/payment-code.md.
const (
	exSeedHex = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	exPubB64  = "JUO5L/EJVRFHatyDadtt3JM2ZaEZeN2hQE7hBmypVZ0="
	exKid     = "kmmc2026a"
	exIssued  = int64(1795579200)
	exCode    = "OC1.AQlrbW1jMjAyNmEEa21tYwgxMDAwMDAwMWsGXUBrBl18ASNFZ4mrze8AAE4g.D3c3YvF2XY6IWLgLB21IJsrCKQd5h8fv8A9J9mb5YCiQ9dRa-9KOzYjW4vhUt8FCziyK9FEPV8e13VBy1wiCCw"
)

func exKey(t testing.TB) Signer {
	seed, err := hex.DecodeString(exSeedHex)
	if err != nil {
		t.Fatal(err)
	}
	return Signer{Kid: exKid, Priv: ed25519.NewKeyFromSeed(seed)}
}

func exKeys(t testing.TB) map[string]ed25519.PublicKey {
	keys, err := KeySet([]KeyInfo{{Kid: exKid, Alg: Alg, PublicKey: exPubB64}})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func exClaims() Claims {
	return Claims{
		School:    "kmmc",
		CardNo:    "10000001",
		AmountFen: 20000,
		IssuedAt:  time.Unix(exIssued, 0),
		ExpiresAt: time.Unix(exIssued+60, 0),
		Nonce:     [8]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef},
	}
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	if fe, ok := fault.As(err); ok {
		return fe.Code
	}
	return "internal"
}

func TestWorkedExample(t *testing.T) {
	key := exKey(t)
	if got := PublishKey(exKid, key.Priv.Public().(ed25519.PublicKey)); got.PublicKey != exPubB64 || got.Alg != "Ed25519" {
		t.Fatalf("published %+v", got)
	}
	code, err := Issue(key, exClaims())
	if err != nil {
		t.Fatal(err)
	}
	if code != exCode {
		t.Fatalf("issued %s\nwant   %s", code, exCode)
	}
	c, err := Parse(exCode)
	if err != nil {
		t.Fatal(err)
	}
	want := exClaims()
	if c.Kid != exKid || c.School != want.School || c.CardNo != want.CardNo || c.AmountFen != want.AmountFen ||
		!c.IssuedAt.Equal(want.IssuedAt) || !c.ExpiresAt.Equal(want.ExpiresAt) || c.Nonce != want.Nonce {
		t.Fatalf("parsed %+v", c)
	}
	if c.NonceID() != "kmmc:10000001:0123456789abcdef" {
		t.Fatal(c.NonceID())
	}
	keys := exKeys(t)
	for _, tc := range []struct {
		now  int64
		want string
	}{
		{exIssued - 6, "BAD_PAYMENT_CODE"},
		{exIssued - 5, ""},
		{exIssued, ""},
		{exIssued + 59, ""},
		{exIssued + 60, "PAYMENT_CODE_EXPIRED"},
		{exIssued + 3600, "PAYMENT_CODE_EXPIRED"},
	} {
		if got := codeOf(c.Verify(keys, time.Unix(tc.now, 0))); got != tc.want {
			t.Errorf("now=%d: got %q want %q", tc.now, got, tc.want)
		}
	}
	if got := codeOf(c.Verify(map[string]ed25519.PublicKey{}, time.Unix(exIssued, 0))); got != "UNKNOWN_KEY" {
		t.Fatal(got)
	}
	if err := c.Verify(map[string]ed25519.PublicKey{exKid: make([]byte, 31)}, time.Unix(exIssued, 0)); codeOf(err) != "internal" {
		t.Fatalf("short key: %v", err)
	}
	fe, _ := fault.As(c.Verify(keys, time.Unix(exIssued+60, 0)))
	if fe.Kind != fault.Rule {
		t.Fatal("expired should be a Rule error")
	}
}

// The doc's example block and key must be the ones above.
func TestDocExampleDecodes(t *testing.T) {
	doc, err := os.ReadFile("../../docs/payment-code.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "<!-- example-code -->")
	if i < 0 {
		t.Fatal("example marker missing from docs/payment-code.md")
	}
	block := strings.SplitN(s[i:], "```", 3)
	if len(block) < 3 {
		t.Fatal("example block missing")
	}
	code := strings.TrimSpace(block[1])
	c, err := Parse(code)
	if err != nil {
		t.Fatalf("doc example does not parse: %v", err)
	}
	if err := c.Verify(exKeys(t), time.Unix(exIssued+10, 0)); err != nil {
		t.Fatalf("doc example does not verify: %v", err)
	}
	if code != exCode {
		t.Fatal("doc example differs from the test vector")
	}
	for _, frag := range []string{exSeedHex, exPubB64, hex.EncodeToString(c.payload)} {
		if !strings.Contains(s, frag) {
			t.Errorf("doc does not mention %s", frag)
		}
	}
	if !strings.Contains(s, hex.EncodeToString(c.sig)) {
		t.Error("doc signature hex differs")
	}
}

func TestIssueRejectsBadClaims(t *testing.T) {
	key := exKey(t)
	mods := map[string]func(c *Claims, k *Signer){
		"school empty":   func(c *Claims, _ *Signer) { c.School = "" },
		"school long":    func(c *Claims, _ *Signer) { c.School = strings.Repeat("s", 17) },
		"school char":    func(c *Claims, _ *Signer) { c.School = "km mc" },
		"card short":     func(c *Claims, _ *Signer) { c.CardNo = "123" },
		"card long":      func(c *Claims, _ *Signer) { c.CardNo = strings.Repeat("1", 21) },
		"card letter":    func(c *Claims, _ *Signer) { c.CardNo = "1000000X" },
		"amount zero":    func(c *Claims, _ *Signer) { c.AmountFen = 0 },
		"amount huge":    func(c *Claims, _ *Signer) { c.AmountFen = 1 << 32 },
		"window 61":      func(c *Claims, _ *Signer) { c.ExpiresAt = c.IssuedAt.Add(61 * time.Second) },
		"window 0":       func(c *Claims, _ *Signer) { c.ExpiresAt = c.IssuedAt },
		"window reverse": func(c *Claims, _ *Signer) { c.ExpiresAt = c.IssuedAt.Add(-time.Second) },
		"year 2107": func(c *Claims, _ *Signer) {
			c.IssuedAt = time.Unix(1<<32, 0)
			c.ExpiresAt = c.IssuedAt.Add(time.Minute)
		},
		"zero nonce": func(c *Claims, _ *Signer) { c.Nonce = [8]byte{} },
		"kid empty":  func(_ *Claims, k *Signer) { k.Kid = "" },
		"kid long":   func(_ *Claims, k *Signer) { k.Kid = strings.Repeat("k", 17) },
		"short key":  func(_ *Claims, k *Signer) { k.Priv = k.Priv[:32] },
	}
	for name, mod := range mods {
		c, k := exClaims(), key
		mod(&c, &k)
		if _, err := Issue(k, c); err == nil {
			t.Errorf("%s: issued", name)
		}
	}
	// Limits at their edges are fine, and the longest code stays within MaxLen.
	c, k := exClaims(), key
	c.School, c.CardNo, c.AmountFen, k.Kid = strings.Repeat("s", 16), strings.Repeat("9", 20), 1<<32-1, strings.Repeat("k", 16)
	code, err := Issue(k, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != MaxLen {
		t.Fatalf("longest code %d chars, MaxLen %d", len(code), MaxLen)
	}
	p, err := Parse(code)
	if err != nil || p.AmountFen != 1<<32-1 || p.CardNo != c.CardNo {
		t.Fatalf("%v %+v", err, p)
	}
}

func TestParseStrict(t *testing.T) {
	payload, sig := splitEx(t)
	enc := base64.RawURLEncoding.EncodeToString
	build := func(p, s []byte) string { return Prefix + enc(p) + "." + enc(s) }
	with := func(f func(p []byte) []byte) string {
		return build(f(bytes.Clone(payload)), sig)
	}
	bad := map[string]string{
		"empty":          "",
		"prefix only":    "OC1.",
		"lower prefix":   "oc1." + exCode[4:],
		"version 2 text": "OC2." + exCode[4:],
		"no dot":         Prefix + enc(payload) + enc(sig),
		"three dots":     exCode + ".x",
		"padded":         Prefix + enc(payload) + "." + base64.URLEncoding.EncodeToString(sig),
		"std alphabet":   Prefix + base64.RawStdEncoding.EncodeToString(payload) + "." + base64.RawStdEncoding.EncodeToString(sig),
		"newline":        exCode[:20] + "\n" + exCode[20:],
		"space":          exCode + " ",
		"sig short":      build(payload, sig[:63]),
		"sig long":       build(payload, append(bytes.Clone(sig), 0)),
		"trailing byte":  with(func(p []byte) []byte { return append(p, 0) }),
		"truncated":      with(func(p []byte) []byte { return p[:len(p)-1] }),
		"version 0":      with(func(p []byte) []byte { p[0] = 0; return p }),
		"version 2":      with(func(p []byte) []byte { p[0] = 2; return p }),
		"kid len 0":      with(func(p []byte) []byte { p[1] = 0; return p }),
		"kid len big":    with(func(p []byte) []byte { p[1] = 200; return p }),
		"kid char":       with(func(p []byte) []byte { p[2] = '.'; return p }),
		"card letter":    with(func(p []byte) []byte { p[2+9+1+4+1] = 'A'; return p }),
		"amount zero":    with(func(p []byte) []byte { copy(p[len(p)-4:], []byte{0, 0, 0, 0}); return p }),
		"too long":       exCode + strings.Repeat("A", MaxLen),
	}
	// Non-canonical last base64 character (unused bits set).
	last := exCode[len(exCode)-1]
	bad["noncanonical"] = exCode[:len(exCode)-1] + string(last+1)
	for name, code := range bad {
		_, err := Parse(code)
		fe, ok := fault.As(err)
		if !ok || fe.Code != "BAD_PAYMENT_CODE" || fe.Kind != fault.Invalid {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestVerifyRejectsForgeries(t *testing.T) {
	keys := exKeys(t)
	now := time.Unix(exIssued+1, 0)
	payload, sig := splitEx(t)
	enc := base64.RawURLEncoding.EncodeToString
	// A well-formed payload with a changed amount, card or expiry keeps its old signature: must not verify.
	for name, f := range map[string]func(p []byte){
		"amount": func(p []byte) { p[len(p)-1]++ },
		"card":   func(p []byte) { p[2+9+1+4+1+7] = '2' },
		"expiry": func(p []byte) { p[len(p)-13]++ },
	} {
		p := bytes.Clone(payload)
		f(p)
		c, err := Parse(Prefix + enc(p) + "." + enc(sig))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := codeOf(c.Verify(keys, now)); got != "BAD_PAYMENT_CODE" {
			t.Errorf("%s: got %q", name, got)
		}
	}
	// Signed by another key under the same kid.
	other := Signer{Kid: exKid, Priv: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))}
	code, err := Issue(other, exClaims())
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Parse(code)
	if got := codeOf(c.Verify(keys, now)); got != "BAD_PAYMENT_CODE" {
		t.Fatal(got)
	}
	// A zero Code (never parsed) does not verify.
	if (Code{Kid: exKid}).Verify(keys, now) == nil {
		t.Fatal("zero code verified")
	}
}

func TestKeySet(t *testing.T) {
	pub := PublishKey("k2", make([]byte, 32))
	keys, err := KeySet([]KeyInfo{{Kid: exKid, Alg: Alg, PublicKey: exPubB64}, pub, {Kid: "pq", Alg: "ML-DSA-44", PublicKey: "x"}})
	if err != nil || len(keys) != 2 {
		t.Fatalf("%v %v", keys, err)
	}
	for name, infos := range map[string][]KeyInfo{
		"dup":      {pub, pub},
		"bad b64":  {{Kid: "k", Alg: Alg, PublicKey: "!!"}},
		"short":    {{Kid: "k", Alg: Alg, PublicKey: base64.StdEncoding.EncodeToString(make([]byte, 31))}},
		"bad kid":  {{Kid: "", Alg: Alg, PublicKey: exPubB64}},
		"long kid": {{Kid: strings.Repeat("k", 17), Alg: Alg, PublicKey: exPubB64}},
	} {
		if _, err := KeySet(infos); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestRandomRoundTrip(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	keys := map[string]ed25519.PublicKey{"k1": pub}
	now := time.Now()
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		n, err := NewNonce()
		if err != nil {
			t.Fatal(err)
		}
		code, err := Issue(Signer{Kid: "k1", Priv: priv}, Claims{School: "kmmc", CardNo: "10000002", AmountFen: 5000,
			IssuedAt: now, ExpiresAt: now.Add(MaxValidity), Nonce: n})
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse(code)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Verify(keys, now); err != nil {
			t.Fatal(err)
		}
		if seen[c.NonceID()] {
			t.Fatal("nonce repeated")
		}
		seen[c.NonceID()] = true
	}
}

func splitEx(t testing.TB) (payload, sig []byte) {
	parts := strings.Split(strings.TrimPrefix(exCode, Prefix), ".")
	var err1, err2 error
	payload, err1 = base64.RawURLEncoding.DecodeString(parts[0])
	sig, err2 = base64.RawURLEncoding.DecodeString(parts[1])
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return payload, sig
}

func FuzzParse(f *testing.F) {
	f.Add(exCode)
	f.Add("OC1..")
	f.Add("OC1.AQ.AA")
	f.Add(exCode[:len(exCode)-3])
	keys := exKeys(f)
	now := time.Unix(exIssued+1, 0)
	f.Fuzz(func(t *testing.T, code string) {
		c, err := Parse(code)
		if err != nil {
			if !fault.Is(err, "BAD_PAYMENT_CODE") {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		// Canonical: a parsed code has exactly one spelling.
		if got := Prefix + b64.EncodeToString(c.payload) + "." + b64.EncodeToString(c.sig); got != code {
			t.Fatalf("non-canonical code accepted: %q", code)
		}
		err = c.Verify(keys, now)
		if err == nil && code != exCode {
			t.Fatalf("mutated code verified: %q", code)
		}
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("non-fault error %v", err)
			}
		}
	})
}
