// Package paycode issues, parses and verifies payment codes (付款码): the short-lived, single-use,
// Ed25519-signed text the mini program shows as a QR code and a card reader checks offline.
//
// The format is specified byte by byte in docs/payment-code.md; in short, a code is
//
//	OC1.<base64url(payload)>.<base64url(signature)>
//
// (unpadded base64url, RFC 4648 §5), where the signature is Ed25519 over the payload bytes and the payload is
//
//	version(1)=0x01 | kidLen(1) kid | schoolLen(1) school | cardLen(1) cardNo |
//	issuedAt(u32 BE) | expiresAt(u32 BE) | nonce(8) | amountFen(u32 BE)
//
// A reader SDK can reuse this package as is: it depends only on the standard library and shared/fault.
//
// Single use: Verify cannot know whether a code was seen before. The server records Code.NonceID() with a
// conditional write (and the ledger keys the payment on it), so a second use is refused; a reader should
// also remember the NonceIDs it accepted until their expiry.
package paycode

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"onecard/shared/fault"
	"onecard/shared/plaintext"
)

// Format constants.
const (
	Prefix  = "OC1."
	Version = 1

	MaxValidity = 60 * time.Second // expiresAt − issuedAt, at most
	IssueSkew   = 5 * time.Second  // how far issuedAt may be ahead of the verifier's clock

	MaxKidLen    = 16
	MaxSchoolLen = 16
	MinCardLen   = 4
	MaxCardLen   = 20
	NonceSize    = 8

	fixedLen   = 1 + 1 + 1 + 1 + 4 + 4 + NonceSize + 4 // version, three length bytes, times, nonce, amount
	MaxPayload = fixedLen + MaxKidLen + MaxSchoolLen + MaxCardLen
	// MaxLen is the longest possible code text (193 characters).
	MaxLen = len(Prefix) + (MaxPayload*4+2)/3 + 1 + (ed25519.SignatureSize*4+2)/3
)

// Errors.
var (
	ErrBadCode    = fault.E(fault.Invalid, "BAD_PAYMENT_CODE", "付款码无效")
	ErrBadTime    = fault.E(fault.Invalid, "BAD_PAYMENT_CODE", "付款码时间无效，请校准设备时钟")
	ErrExpired    = fault.E(fault.Rule, "PAYMENT_CODE_EXPIRED", "付款码已过期，请刷新后重试")
	ErrUnknownKey = fault.E(fault.Invalid, "UNKNOWN_KEY", "付款码签名密钥未知，请更新密钥列表")
)

// Claims is what a code says. The server issues AmountFen as what the card could pay at that moment,
// min(balance, per-transaction limit, what is left of the daily limit); a reader refuses a larger amount.
type Claims struct {
	School    string // school id, 1–16 of [A-Za-z0-9_-]
	CardNo    string // 4–20 digits
	AmountFen int64  // the most a reader may approve with the code, 1 … 4294967295 fen
	IssuedAt  time.Time
	ExpiresAt time.Time // after IssuedAt, at most 60 s later; whole seconds
	Nonce     [NonceSize]byte
}

// Signer is the school's current payment-code key.
type Signer struct {
	Kid  string // 1–16 of [A-Za-z0-9_-]
	Priv ed25519.PrivateKey
}

// Code is a parsed, not yet verified, payment code.
type Code struct {
	Claims
	Kid     string
	payload []byte
	sig     []byte
}

// NewNonce returns 8 random bytes for Claims.Nonce.
func NewNonce() ([NonceSize]byte, error) {
	var n [NonceSize]byte
	_, err := rand.Read(n[:])
	return n, err
}

// Issue builds and signs a code. Its errors are the caller's bugs (bad claims or key), not the user's, so
// they are plain (internal) errors. Times are truncated to whole seconds.
func Issue(key Signer, c Claims) (string, error) {
	if !token(key.Kid, 1, MaxKidLen) {
		return "", errors.New("paycode: bad kid")
	}
	if len(key.Priv) != ed25519.PrivateKeySize {
		return "", errors.New("paycode: private key has the wrong length")
	}
	if !token(c.School, 1, MaxSchoolLen) {
		return "", errors.New("paycode: bad school id")
	}
	if !plaintext.Digits(c.CardNo, MinCardLen, MaxCardLen) {
		return "", errors.New("paycode: bad card number")
	}
	if c.AmountFen <= 0 || c.AmountFen > math.MaxUint32 {
		return "", fmt.Errorf("paycode: amount %d out of range", c.AmountFen)
	}
	iss, exp := c.IssuedAt.Unix(), c.ExpiresAt.Unix()
	if iss <= 0 || exp > math.MaxUint32 || exp <= iss || exp-iss > int64(MaxValidity/time.Second) {
		return "", errors.New("paycode: bad validity window")
	}
	if c.Nonce == ([NonceSize]byte{}) {
		return "", errors.New("paycode: zero nonce")
	}

	p := make([]byte, 0, fixedLen+len(key.Kid)+len(c.School)+len(c.CardNo))
	p = append(p, Version)
	p = append(p, byte(len(key.Kid)))
	p = append(p, key.Kid...)
	p = append(p, byte(len(c.School)))
	p = append(p, c.School...)
	p = append(p, byte(len(c.CardNo)))
	p = append(p, c.CardNo...)
	p = binary.BigEndian.AppendUint32(p, uint32(iss))
	p = binary.BigEndian.AppendUint32(p, uint32(exp))
	p = append(p, c.Nonce[:]...)
	p = binary.BigEndian.AppendUint32(p, uint32(c.AmountFen))

	sig := ed25519.Sign(key.Priv, p)
	return Prefix + b64.EncodeToString(p) + "." + b64.EncodeToString(sig), nil
}

var b64 = base64.RawURLEncoding.Strict()

// Parse reads the structure of a code, strictly: the prefix, two unpadded base64url parts in canonical
// form, version 1, every length and character class, a 64-byte signature and no trailing bytes. It does not
// check the signature or the times (see Verify). Every error is ErrBadCode.
func Parse(code string) (Code, error) {
	if len(code) > MaxLen || len(code) <= len(Prefix) || code[:len(Prefix)] != Prefix {
		return Code{}, ErrBadCode
	}
	rest := code[len(Prefix):]
	dot := -1
	for i := 0; i < len(rest); i++ {
		switch ch := rest[i]; {
		case ch == '.':
			if dot >= 0 {
				return Code{}, ErrBadCode
			}
			dot = i
		case !isB64URL(ch): // the decoder would skip CR and LF; a code has exactly one spelling
			return Code{}, ErrBadCode
		}
	}
	if dot < 0 {
		return Code{}, ErrBadCode
	}
	payload, err := b64.DecodeString(rest[:dot])
	if err != nil {
		return Code{}, ErrBadCode
	}
	sig, err := b64.DecodeString(rest[dot+1:])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Code{}, ErrBadCode
	}

	r := reader{b: payload}
	if v, ok := r.byte(); !ok || v != Version {
		return Code{}, ErrBadCode
	}
	kid, ok1 := r.str(1, MaxKidLen)
	school, ok2 := r.str(1, MaxSchoolLen)
	card, ok3 := r.str(MinCardLen, MaxCardLen)
	iss, ok4 := r.u32()
	exp, ok5 := r.u32()
	nonce, ok6 := r.take(NonceSize)
	amount, ok7 := r.u32()
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || len(r.b) != 0 {
		return Code{}, ErrBadCode
	}
	if !token(kid, 1, MaxKidLen) || !token(school, 1, MaxSchoolLen) || !plaintext.Digits(card, MinCardLen, MaxCardLen) || amount == 0 {
		return Code{}, ErrBadCode
	}
	c := Code{Kid: kid, payload: payload, sig: sig}
	c.School, c.CardNo, c.AmountFen = school, card, int64(amount)
	c.IssuedAt, c.ExpiresAt = time.Unix(int64(iss), 0), time.Unix(int64(exp), 0)
	copy(c.Nonce[:], nonce)
	return c, nil
}

// Verify checks, in this order: the key id is in keys (ErrUnknownKey), the signature (ErrBadCode), the
// validity window is 1–60 s (ErrBadCode), issuedAt is at most 5 s ahead of now (ErrBadTime), and now is
// before expiresAt (ErrExpired). A code is valid from issuedAt through expiresAt − 1 s.
//
// now is the moment the code was presented: the reader's clock at the counter, or on the server the time
// the payment is being approved. A public key of the wrong length in keys is an internal error.
func (c Code) Verify(keys map[string]ed25519.PublicKey, now time.Time) error {
	pub, ok := keys[c.Kid]
	if !ok {
		return ErrUnknownKey
	}
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("paycode: public key %q has the wrong length", c.Kid)
	}
	if len(c.sig) != ed25519.SignatureSize || !ed25519.Verify(pub, c.payload, c.sig) {
		return ErrBadCode
	}
	iss, exp := c.IssuedAt.Unix(), c.ExpiresAt.Unix()
	if exp <= iss || exp-iss > int64(MaxValidity/time.Second) {
		return ErrBadCode
	}
	if iss > now.Add(IssueSkew).Unix() {
		return ErrBadTime
	}
	if now.Unix() >= exp {
		return ErrExpired
	}
	return nil
}

// NonceID is the code's single-use key, "school:cardNo:hex(nonce)", e.g. "kmmc:10000001:0123456789abcdef".
func (c Code) NonceID() string {
	return c.School + ":" + c.CardNo + ":" + hex.EncodeToString(c.Nonce[:])
}

// KeyInfo is one entry of GET /v1/reader/keys: {"kid","alg":"Ed25519","publicKey"} with the public key as
// standard base64 of its 32 bytes.
type KeyInfo struct {
	Kid       string `json:"kid"`
	Alg       string `json:"alg"`
	PublicKey string `json:"publicKey"`
}

// Alg is the only algorithm.
const Alg = "Ed25519"

// PublishKey describes a public key for the keys endpoint.
func PublishKey(kid string, pub ed25519.PublicKey) KeyInfo {
	return KeyInfo{Kid: kid, Alg: Alg, PublicKey: base64.StdEncoding.EncodeToString(pub)}
}

// KeySet turns the keys endpoint's list into the map Verify takes. Entries with another alg are skipped
// (forward compatibility); a malformed Ed25519 entry or a repeated kid is an error.
func KeySet(infos []KeyInfo) (map[string]ed25519.PublicKey, error) {
	keys := make(map[string]ed25519.PublicKey, len(infos))
	for _, k := range infos {
		if k.Alg != Alg {
			continue
		}
		if !token(k.Kid, 1, MaxKidLen) {
			return nil, fmt.Errorf("paycode: bad kid %q", k.Kid)
		}
		if _, dup := keys[k.Kid]; dup {
			return nil, fmt.Errorf("paycode: kid %q listed twice", k.Kid)
		}
		pub, err := base64.StdEncoding.Strict().DecodeString(k.PublicKey)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("paycode: bad public key for kid %q", k.Kid)
		}
		keys[k.Kid] = ed25519.PublicKey(pub)
	}
	return keys, nil
}

type reader struct{ b []byte }

func (r *reader) take(n int) ([]byte, bool) {
	if n > len(r.b) {
		return nil, false
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out, true
}

func (r *reader) byte() (byte, bool) {
	b, ok := r.take(1)
	if !ok {
		return 0, false
	}
	return b[0], true
}

func (r *reader) str(min, max int) (string, bool) {
	n, ok := r.byte()
	if !ok || int(n) < min || int(n) > max {
		return "", false
	}
	b, ok := r.take(int(n))
	return string(b), ok
}

func (r *reader) u32() (uint32, bool) {
	b, ok := r.take(4)
	if !ok {
		return 0, false
	}
	return binary.BigEndian.Uint32(b), true
}

func token(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isB64URL(s[i]) {
			return false
		}
	}
	return true
}

func isB64URL(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
