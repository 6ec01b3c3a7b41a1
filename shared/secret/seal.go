package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// Seal encrypts value for storage (AES-256-GCM under a key derived from the PII key, the purpose bound
// as additional data so a sealed phone cannot be passed off as a sealed email). Phones and emails are
// looked up by Digest and kept readable only through Seal: a table dump shows neither.
func (d Digester) Seal(purpose, value string) string {
	aead := d.aead()
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(errors.New("secret: no randomness: " + err.Error()))
	}
	return "v1." + base64.RawStdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(value), []byte(purpose)))
}

// ErrSealed is a sealed value that does not open under this key and purpose.
var ErrSealed = errors.New("secret: sealed value does not open")

// Open decrypts a value from Seal.
func (d Digester) Open(purpose, sealed string) (string, error) {
	if len(sealed) < 3 || sealed[:3] != "v1." {
		return "", ErrSealed
	}
	raw, err := base64.RawStdEncoding.DecodeString(sealed[3:])
	aead := d.aead()
	if err != nil || len(raw) < aead.NonceSize() {
		return "", ErrSealed
	}
	out, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(purpose))
	if err != nil {
		return "", ErrSealed
	}
	return string(out), nil
}

// Keyed reports whether the digester has a key (a zero Digester can neither digest nor seal).
func (d Digester) Keyed() bool { return len(d.key) > 0 }

func (d Digester) aead() cipher.AEAD {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte("pii-seal-v1"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}
