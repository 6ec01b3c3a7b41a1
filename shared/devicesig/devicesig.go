// Package devicesig signs and checks the Ed25519 signatures that card readers and meter gateways put on
// every request to a device route (docs/reader-protocol.md).
//
// A device sends four headers:
//
//	X-Device-Id   1–64 of [A-Za-z0-9_-]
//	X-Timestamp   unix seconds, decimal, no sign, no leading zeros; accepted within ±300 s of the server clock
//	X-Nonce       16–64 of [A-Za-z0-9_-], never reused by that device
//	X-Signature   standard (padded) base64 of the 64-byte Ed25519 signature over the message
//
// and the signed message is the bytes of
//
//	METHOD + "\n" + PATH_WITH_QUERY + "\n" + TIMESTAMP + "\n" + NONCE + "\n" + hex(sha256(body))
//
// with the hex digest in lower case (the digest of an empty body for a GET).
//
// A server checks a request in this order:
//
//  1. Parse the headers (format and clock window; no key needed, no I/O).
//  2. Look up the public key of Signed.DeviceID; an unknown or disabled device is ErrUnknownDevice.
//  3. Signed.Verify(pub).
//  4. Only then consume the nonce: a conditional put of Signed.NonceKey() that fails if the item exists,
//     kept (DynamoDB TTL) until at least Signed.NonceExpiry(). A nonce already there is ErrNonceReused.
//     This package does not remember nonces; single use is the caller's job, and step 4 after step 3 means
//     forged requests cost no writes.
package devicesig

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"

	"onecard/shared/fault"
)

// Header names.
const (
	HeaderDeviceID  = "X-Device-Id"
	HeaderTimestamp = "X-Timestamp"
	HeaderNonce     = "X-Nonce"
	HeaderSignature = "X-Signature"
)

// MaxSkew is how far X-Timestamp may be from the server clock, either way (inclusive, whole seconds).
const MaxSkew = 300 * time.Second

// Limits on the header values.
const (
	MaxDeviceIDLen = 64
	MinNonceLen    = 16
	MaxNonceLen    = 64
	maxTimestampLn = 12 // unix seconds up to year 33658; keeps ParseInt far from overflow
	sigB64Len      = 88 // base64.StdEncoding.EncodedLen(ed25519.SignatureSize)
)

// Errors. All are 401 (fault.Unauthenticated); the messages are for the device vendor's logs.
var (
	ErrHeadersMissing = fault.E(fault.Unauthenticated, "DEVICE_HEADERS_MISSING", "缺少设备签名请求头（X-Device-Id、X-Timestamp、X-Nonce、X-Signature）")
	ErrBadDeviceID    = fault.E(fault.Unauthenticated, "BAD_DEVICE_ID", "X-Device-Id 格式不正确（1–64 位字母、数字、-、_）")
	ErrBadTimestamp   = fault.E(fault.Unauthenticated, "BAD_TIMESTAMP", "X-Timestamp 必须是 Unix 秒数（十进制整数）")
	ErrStaleTimestamp = fault.E(fault.Unauthenticated, "STALE_TIMESTAMP", "X-Timestamp 与服务器时间相差超过 300 秒，请校准设备时钟")
	ErrBadNonce       = fault.E(fault.Unauthenticated, "BAD_NONCE", "X-Nonce 格式不正确（16–64 位字母、数字、-、_）")
	ErrBadSignature   = fault.E(fault.Unauthenticated, "BAD_SIGNATURE", "设备签名无效")

	// For callers: an X-Device-Id with no registered (or an inactive) key, and a nonce seen before.
	ErrUnknownDevice = fault.E(fault.Unauthenticated, "UNKNOWN_DEVICE", "设备未登记或已停用")
	ErrNonceReused   = fault.E(fault.Unauthenticated, "NONCE_REUSED", "X-Nonce 已使用过，每个请求必须使用新的随机串")
)

// Signed is a request whose headers are well formed and fresh, but whose signature is not yet checked.
type Signed struct {
	DeviceID  string
	Timestamp int64  // unix seconds
	Nonce     string //
	Signature []byte // 64 bytes
	Message   []byte // the exact bytes the signature must cover
}

// Message returns the bytes a device signs.
func Message(method, pathWithQuery string, ts int64, nonce string, body []byte) []byte {
	sum := sha256.Sum256(body)
	tsText := strconv.FormatInt(ts, 10)
	msg := make([]byte, 0, len(method)+len(pathWithQuery)+len(tsText)+len(nonce)+4+2*sha256.Size)
	msg = append(msg, method...)
	msg = append(msg, '\n')
	msg = append(msg, pathWithQuery...)
	msg = append(msg, '\n')
	msg = append(msg, tsText...)
	msg = append(msg, '\n')
	msg = append(msg, nonce...)
	msg = append(msg, '\n')
	msg = hex.AppendEncode(msg, sum[:])
	return msg
}

// Sign returns the X-Signature value for a request.
func Sign(priv ed25519.PrivateKey, method, pathWithQuery string, ts int64, nonce string, body []byte) string {
	sig := ed25519.Sign(priv, Message(method, pathWithQuery, ts, nonce, body))
	return base64.StdEncoding.EncodeToString(sig)
}

// NewNonce returns a fresh random nonce: 32 characters of base64url (192 random bits).
func NewNonce() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// SignRequest signs req (whose body is body; the caller sets req.Body) as deviceID at time now with a fresh
// nonce, and sets the four headers. The path signed is req.URL.RequestURI(): the escaped path plus "?" and
// the raw query when there is one, exactly as it goes on the request line.
func SignRequest(req *http.Request, deviceID string, priv ed25519.PrivateKey, body []byte, now time.Time) error {
	if len(priv) != ed25519.PrivateKeySize {
		return errors.New("devicesig: private key has the wrong length")
	}
	nonce, err := NewNonce()
	if err != nil {
		return err
	}
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	ts := now.Unix()
	req.Header.Set(HeaderDeviceID, deviceID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderNonce, nonce)
	req.Header.Set(HeaderSignature, Sign(priv, method, req.URL.RequestURI(), ts, nonce, body))
	return nil
}

// Parse checks the signature headers of a request for method and pathWithQuery (the request-line target:
// escaped path, plus "?" and the raw query if any) with the given body, against the clock now. It checks
// presence, formats and the ±300 s window, and builds the message to verify; it does not check the
// signature itself (see Verify) nor the nonce's single use (see the package comment).
//
// A header given more than once is malformed.
func Parse(h http.Header, method, pathWithQuery string, body []byte, now time.Time) (Signed, error) {
	ids, tss, nonces, sigs := h.Values(HeaderDeviceID), h.Values(HeaderTimestamp), h.Values(HeaderNonce), h.Values(HeaderSignature)
	if len(ids) == 0 || len(tss) == 0 || len(nonces) == 0 || len(sigs) == 0 {
		return Signed{}, ErrHeadersMissing
	}
	if len(ids) != 1 || !Token(ids[0], 1, MaxDeviceIDLen) {
		return Signed{}, ErrBadDeviceID
	}
	ts, ok := parseTimestamp(tss)
	if !ok {
		return Signed{}, ErrBadTimestamp
	}
	if d := now.Unix() - ts; d > int64(MaxSkew/time.Second) || d < -int64(MaxSkew/time.Second) {
		return Signed{}, ErrStaleTimestamp
	}
	if len(nonces) != 1 || !Token(nonces[0], MinNonceLen, MaxNonceLen) {
		return Signed{}, ErrBadNonce
	}
	if len(sigs) != 1 || len(sigs[0]) != sigB64Len {
		return Signed{}, ErrBadSignature
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(sigs[0])
	if err != nil || len(sig) != ed25519.SignatureSize {
		return Signed{}, ErrBadSignature
	}
	return Signed{
		DeviceID:  ids[0],
		Timestamp: ts,
		Nonce:     nonces[0],
		Signature: sig,
		Message:   Message(method, pathWithQuery, ts, nonces[0], body),
	}, nil
}

// Verify checks the signature with the device's public key. A key of the wrong length is an internal error
// (a bad key in our own store), not the device's fault.
func (s Signed) Verify(pub ed25519.PublicKey) error {
	if len(pub) != ed25519.PublicKeySize {
		return errors.New("devicesig: public key has the wrong length")
	}
	if len(s.Signature) != ed25519.SignatureSize || !ed25519.Verify(pub, s.Message, s.Signature) {
		return ErrBadSignature
	}
	return nil
}

// NonceKey is the single-use key for this request's nonce: the device id and the nonce, so that two
// devices never collide.
func (s Signed) NonceKey() string { return s.DeviceID + "#" + s.Nonce }

// NonceExpiry is when a stored nonce may be forgotten: after it, a replay is refused by the clock window.
func (s Signed) NonceExpiry() time.Time {
	return time.Unix(s.Timestamp, 0).Add(MaxSkew + time.Second)
}

// parseTimestamp accepts exactly one header value of 1–12 decimal digits without a leading zero (so that
// the text signed is exactly strconv.FormatInt of the value).
func parseTimestamp(vals []string) (int64, bool) {
	if len(vals) != 1 {
		return 0, false
	}
	s := vals[0]
	if len(s) == 0 || len(s) > maxTimestampLn || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Token reports whether s is min–max characters of [A-Za-z0-9_-]: the shape of every identifier a device
// sends (its id, a nonce, a meter id).
func Token(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
