package wxsandbox

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"time"

	"onecard/shared/chinatime"
)

// This file is WeChat Pay's side of the protocol, written from the protocol text and deliberately not
// shared with shared/wechatpay: if the client and the sandbox used one implementation, a mistake in it
// would sign and verify consistently and every test would still pass.

const authScheme = "WECHATPAY2-SHA256-RSA2048"

// signLines is SHA256withRSA over the lines, each followed by "\n", base64-encoded.
func signLines(key *rsa.PrivateKey, lines ...string) (string, error) {
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, h.Sum(nil))
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

func verifyLines(key *rsa.PublicKey, signature string, lines ...string) bool {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return false
	}
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return rsa.VerifyPKCS1v15(key, crypto.SHA256, h.Sum(nil), sig) == nil
}

// merchantAuth is a parsed Authorization header.
type merchantAuth struct {
	MchID, Nonce, Signature, Timestamp, Serial string
}

var errAuth = errors.New("the Authorization header is not a WECHATPAY2-SHA256-RSA2048 token")

// parseAuthorization reads `WECHATPAY2-SHA256-RSA2048 k1="v1",k2="v2",...` in any key order, as WeChat
// Pay accepts it.
func parseAuthorization(h string) (merchantAuth, error) {
	rest, ok := strings.CutPrefix(h, authScheme+" ")
	if !ok {
		return merchantAuth{}, errAuth
	}
	fields := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return merchantAuth{}, errAuth
		}
		if _, dup := fields[k]; dup {
			return merchantAuth{}, errAuth
		}
		fields[k] = v[1 : len(v)-1]
	}
	a := merchantAuth{fields["mchid"], fields["nonce_str"], fields["signature"], fields["timestamp"], fields["serial_no"]}
	if a.MchID == "" || a.Nonce == "" || a.Signature == "" || a.Timestamp == "" || a.Serial == "" {
		return merchantAuth{}, errAuth
	}
	return a, nil
}

// checkMerchantRequest verifies a request the way WeChat Pay does, and says why it refused.
func (s *Sandbox) checkMerchantRequest(method, requestURI, authz string, body []byte) string {
	a, err := parseAuthorization(authz)
	if err != nil {
		return err.Error()
	}
	if a.MchID != s.opts.MchID {
		return "Authorization mchid is not this merchant"
	}
	if s.opts.MerchantSerial != "" && a.Serial != s.opts.MerchantSerial {
		return "serial_no is not the merchant certificate serial"
	}
	ts, err := strconv.ParseInt(a.Timestamp, 10, 64)
	if err != nil {
		return "timestamp is not a Unix time"
	}
	if d := s.now().Sub(time.Unix(ts, 0)); d >= 5*time.Minute || d <= -5*time.Minute {
		return "timestamp is more than 5 minutes from WeChat Pay's clock"
	}
	if !verifyLines(s.opts.MerchantPublicKey, a.Signature, method, requestURI, a.Timestamp, a.Nonce, string(body)) {
		return "signature does not verify with the merchant public key"
	}
	return ""
}

// sealResource encrypts with AEAD_AES_256_GCM: nonce and associated data as raw bytes, tag appended.
func sealResource(key []byte, nonce, associatedData string, plaintext []byte) (string, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(gcm.Seal(nil, []byte(nonce), plaintext, []byte(associatedData))), nil
}

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// randomString draws n characters uniformly from alphabet.
func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b)
}

// wechatTime is how WeChat Pay writes times: RFC 3339 in UTC+8 with a numeric offset.
func wechatTime(t time.Time) string {
	return t.In(chinatime.Zone).Format("2006-01-02T15:04:05-07:00")
}
