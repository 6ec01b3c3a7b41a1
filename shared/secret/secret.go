// Package secret hashes what must never be stored in clear: passwords (argon2id), and short secrets or
// identifiers that must be looked up (keyed HMAC digests: emailed codes, ID numbers, refresh tokens).
package secret

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's 19 MiB, 2 passes, 1 lane: about 30 ms on a Lambda at 512 MB.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// HashPassword returns an encoded argon2id hash of pw.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// comparisons counts the secrets compared by this process (CheckPassword, Digester.Equal): the tests
// of the try limits (shared/attempts) read it to prove that a burst compared no more than the limit.
var comparisons atomic.Int64

// Comparisons is how many secrets this process has compared so far.
func Comparisons() int64 { return comparisons.Load() }

// CheckPassword reports whether pw matches an encoded hash from HashPassword.
func CheckPassword(encoded, pw string) bool {
	comparisons.Add(1)
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash lets a login for an unknown account spend the same time as a real check. It is made on
// first use, not at package init: an argon2id hash at init cost every function's cold start ~35 ms
// (make bench).
var dummyHash = sync.OnceValue(func() string { h, _ := HashPassword("timing-equaliser"); return h })

// BurnPasswordCheck spends the time of one password check (for unknown accounts).
func BurnPasswordCheck(pw string) { CheckPassword(dummyHash(), pw) }

// Digester computes keyed digests, so a table dump reveals neither codes nor ID numbers.
type Digester struct{ key []byte }

// NewDigester returns a digester with key (PII_KEY).
func NewDigester(key []byte) Digester { return Digester{key: key} }

// Digest returns hex HMAC-SHA256(key, purpose || 0 || value).
func (d Digester) Digest(purpose, value string) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// Equal compares a stored digest with the digest of value in constant time.
func (d Digester) Equal(stored, purpose, value string) bool {
	comparisons.Add(1)
	return hmac.Equal([]byte(stored), []byte(d.Digest(purpose, value)))
}

// Code returns n random decimal digits.
func Code(n int) (string, error) {
	var b strings.Builder
	for range n {
		v, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			return "", err
		}
		b.WriteByte(byte('0' + v.Int64()))
	}
	return b.String(), nil
}

// Token returns a random URL-safe token of n bytes of entropy.
func Token(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("secret: no randomness: " + err.Error()))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
