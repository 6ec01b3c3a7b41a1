package wechatpay

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// AuthScheme names the signature scheme in Authorization and Wechatpay-Signature-Type.
const AuthScheme = "WECHATPAY2-SHA256-RSA2048"

// SignTestPrefix starts the signature of WeChat Pay's probe traffic, which a correct merchant rejects.
const SignTestPrefix = "WECHATPAY/SIGNTEST/"

// requestMessage is what the merchant signs: five lines, each ending in \n, the last being the raw body
// (empty for GET, but the \n stays).
func requestMessage(method, requestURI string, timestamp int64, nonce string, body []byte) []byte {
	var b strings.Builder
	b.Grow(len(method) + len(requestURI) + len(nonce) + len(body) + 20)
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(requestURI)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(timestamp, 10))
	b.WriteByte('\n')
	b.WriteString(nonce)
	b.WriteByte('\n')
	b.Write(body)
	b.WriteByte('\n')
	return []byte(b.String())
}

// responseMessage is what WeChat Pay signs on answers and notifications: timestamp, nonce, raw body, each
// ending in \n (a 204's empty body still leaves its \n). The timestamp is used as received, not re-formatted.
func responseMessage(timestamp, nonce string, body []byte) []byte {
	msg := make([]byte, 0, len(timestamp)+len(nonce)+len(body)+3)
	msg = append(msg, timestamp...)
	msg = append(msg, '\n')
	msg = append(msg, nonce...)
	msg = append(msg, '\n')
	msg = append(msg, body...)
	msg = append(msg, '\n')
	return msg
}

// paySignMessage is what wx.requestPayment's paySign covers.
func paySignMessage(appID, timeStamp, nonceStr, pkg string) []byte {
	return []byte(appID + "\n" + timeStamp + "\n" + nonceStr + "\n" + pkg + "\n")
}

// signSHA256 is SHA256withRSA (PKCS #1 v1.5), base64 standard encoding; deterministic for a given key.
func signSHA256(key *rsa.PrivateKey, msg []byte) (string, error) {
	sum := sha256.Sum256(msg)
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, sum[:])
	if err != nil {
		// The error text of crypto/rsa never contains key material, but keep ours generic anyway.
		return "", fmt.Errorf("wechatpay: signing failed")
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// verifySHA256 checks a base64 SHA256withRSA signature. All failures are ErrBadSignature.
func verifySHA256(key *rsa.PublicKey, msg []byte, signature string) error {
	if strings.HasPrefix(signature, SignTestPrefix) {
		return ErrSignTestProbe
	}
	sig, err := base64.StdEncoding.Strict().DecodeString(signature)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: signature is not base64", ErrBadSignature)
	}
	sum := sha256.Sum256(msg)
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil {
		return fmt.Errorf("%w: signature does not verify", ErrBadSignature)
	}
	return nil
}

// nonceAlphabet gives nonces that need no escaping inside Authorization's quoted values.
const nonceAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// newNonce returns 32 random characters from nonceAlphabet.
func newNonce() string {
	var buf [32]byte
	// crypto/rand.Read never fails on supported platforms (it crashes the program instead).
	_, _ = rand.Read(buf[:])
	for i, v := range buf {
		buf[i] = nonceAlphabet[int(v)%len(nonceAlphabet)] // 256 % 36 bias is irrelevant for a nonce
	}
	return string(buf[:])
}

// gcmOpen decrypts an AEAD_AES_256_GCM resource: ciphertext is base64 of (encrypted data || 16-byte tag),
// nonce and associatedData are used as their raw bytes (WeChat Pay's nonce is a 12-character string).
func gcmOpen(key []byte, nonce, associatedData, ciphertextB64 string) ([]byte, error) {
	aead, err := newGCM(key, len(nonce))
	if err != nil {
		return nil, err
	}
	ct, err := base64.StdEncoding.DecodeString(ciphertextB64)
	if err != nil {
		return nil, fmt.Errorf("%w: ciphertext is not base64", ErrDecrypt)
	}
	if len(ct) < aead.Overhead() {
		return nil, fmt.Errorf("%w: ciphertext shorter than the GCM tag", ErrDecrypt)
	}
	pt, err := aead.Open(nil, []byte(nonce), ct, []byte(associatedData))
	if err != nil {
		return nil, fmt.Errorf("%w: authentication failed (wrong APIv3 key, nonce or associated_data)", ErrDecrypt)
	}
	return pt, nil
}

// gcmSeal is gcmOpen's inverse; the package only needs it in tests, where it pins the fixed vectors.
func gcmSeal(key []byte, nonce, associatedData string, plaintext []byte) (string, error) {
	aead, err := newGCM(key, len(nonce))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(aead.Seal(nil, []byte(nonce), plaintext, []byte(associatedData))), nil
}

func newGCM(key []byte, nonceLen int) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("%w: APIv3 key must be 32 bytes", ErrConfig)
	}
	if nonceLen != 12 {
		// WeChat Pay always uses 12; refusing others keeps a forged resource from choosing GCM's slow path.
		return nil, fmt.Errorf("%w: nonce must be 12 bytes, got %d", ErrDecrypt, nonceLen)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return aead, nil
}
