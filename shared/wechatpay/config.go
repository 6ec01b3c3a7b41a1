package wechatpay

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Default endpoints. Payments and the mini program login live on different hosts.
const (
	DefaultBaseURL       = "https://api.mch.weixin.qq.com"
	DefaultWeixinBaseURL = "https://api.weixin.qq.com"
)

// PublicKeyIDPrefix starts every WeChat Pay public key id; other serials are platform certificate serials.
const PublicKeyIDPrefix = "PUB_KEY_ID_"

// Config is one merchant's WeChat Pay identity. Only what an operation needs is required (see package doc).
type Config struct {
	MchID string // 商户号
	AppID string // the mini program's appid, bound to the merchant
	// AppSecret is the mini program's secret, for Code2Session only.
	AppSecret string

	// MerchantSerial is the serial of the merchant API certificate (apiclient_cert.pem) whose private key is
	// MerchantKey; WeChat Pay uses it to pick the key that verifies our requests.
	MerchantSerial string
	MerchantKey    *rsa.PrivateKey

	// APIv3Key is the 32-byte symmetric key set in the merchant platform; it decrypts notification resources.
	APIv3Key []byte

	// PlatformKeys verify WeChat Pay's answers and notifications, keyed by the Wechatpay-Serial they carry:
	// a platform certificate serial (upper-case hex) and/or a WeChat Pay public key id (PUB_KEY_ID_...).
	PlatformKeys map[string]*rsa.PublicKey

	// WechatpaySerial, if set, is sent as the Wechatpay-Serial request header to ask WeChat Pay to sign its
	// answer with that key. Empty means: the single PUB_KEY_ID_ entry of PlatformKeys, if there is exactly
	// one (WeChat Pay only switches answers to the public key when asked this way).
	WechatpaySerial string

	BaseURL string // default DefaultBaseURL
	// WeixinBaseURL serves /sns/jscode2session. Empty means DefaultWeixinBaseURL when BaseURL is the real
	// WeChat Pay, and BaseURL otherwise (a sandbox serves both).
	WeixinBaseURL string
	// NotifyURL receives payment notifications; it must be a public https URL without query in production.
	NotifyURL string
}

// String keeps key material out of logs: fmt's %v and %+v print this instead of the fields.
func (c Config) String() string {
	serials := make([]string, 0, len(c.PlatformKeys))
	for s := range c.PlatformKeys {
		serials = append(serials, s)
	}
	sort.Strings(serials)
	return fmt.Sprintf("wechatpay.Config{MchID:%s AppID:%s MerchantSerial:%s MerchantKey:%s APIv3Key:%s AppSecret:%s PlatformKeys:%v BaseURL:%s NotifyURL:%s}",
		c.MchID, c.AppID, c.MerchantSerial, redacted(c.MerchantKey != nil), redacted(len(c.APIv3Key) > 0),
		redacted(c.AppSecret != ""), serials, c.BaseURL, c.NotifyURL)
}

// GoString covers %#v, which would otherwise print the private key's numbers.
func (c Config) GoString() string { return c.String() }

func redacted(set bool) string {
	if set {
		return "[redacted]"
	}
	return "[unset]"
}

// validate checks the shape of whatever is set; operations check presence of what they need.
func (c *Config) validate() error {
	if c.MchID == "" || c.AppID == "" {
		return fmt.Errorf("%w: MchID and AppID are required", ErrConfig)
	}
	if c.MerchantKey != nil {
		if c.MerchantKey.N.BitLen() < 2048 {
			return fmt.Errorf("%w: merchant key must be RSA 2048 bits or more", ErrConfig)
		}
		if c.MerchantSerial == "" {
			return fmt.Errorf("%w: MerchantSerial is required with MerchantKey", ErrConfig)
		}
	}
	if c.APIv3Key != nil && len(c.APIv3Key) != 32 {
		return fmt.Errorf("%w: APIv3Key must be 32 bytes, got %d", ErrConfig, len(c.APIv3Key))
	}
	for s, k := range c.PlatformKeys {
		if s == "" || k == nil {
			return fmt.Errorf("%w: PlatformKeys has an empty serial or a nil key", ErrConfig)
		}
	}
	for _, u := range []string{c.BaseURL, c.WeixinBaseURL, c.NotifyURL} {
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return fmt.Errorf("%w: %q is not an absolute http(s) URL", ErrConfig, u)
		}
	}
	return nil
}

// ParsePrivateKeyPEM reads an RSA private key in PKCS#8 ("PRIVATE KEY", what apiclient_key.pem holds) or
// PKCS#1 ("RSA PRIVATE KEY") form. Errors never echo the input.
func ParsePrivateKeyPEM(data []byte) (*rsa.PrivateKey, error) {
	block, err := onePEM(data, "PRIVATE KEY", "RSA PRIVATE KEY")
	if err != nil {
		return nil, err
	}
	if block.Type == "RSA PRIVATE KEY" {
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: not a PKCS#1 RSA private key", ErrConfig)
		}
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: not a PKCS#8 private key", ErrConfig)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: private key is not RSA", ErrConfig)
	}
	return rk, nil
}

// ParsePublicKeyPEM reads an RSA public key in PKIX ("PUBLIC KEY", what WeChat Pay's pub_key.pem holds) or
// PKCS#1 ("RSA PUBLIC KEY") form.
func ParsePublicKeyPEM(data []byte) (*rsa.PublicKey, error) {
	block, err := onePEM(data, "PUBLIC KEY", "RSA PUBLIC KEY")
	if err != nil {
		return nil, err
	}
	if block.Type == "RSA PUBLIC KEY" {
		k, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: not a PKCS#1 RSA public key", ErrConfig)
		}
		return k, nil
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: not a PKIX public key", ErrConfig)
	}
	rk, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: public key is not RSA", ErrConfig)
	}
	return rk, nil
}

// ParseCertificatePEM reads an X.509 certificate (a WeChat Pay platform certificate, or the merchant's own
// apiclient_cert.pem) and returns its serial as upper-case hex, one pair of digits per byte as openssl
// prints it, with its RSA public key. Lookups by serial also accept the form without a leading zero.
func ParseCertificatePEM(data []byte) (serial string, key *rsa.PublicKey, err error) {
	block, err := onePEM(data, "CERTIFICATE")
	if err != nil {
		return "", nil, err
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", nil, fmt.Errorf("%w: not an X.509 certificate", ErrConfig)
	}
	rk, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return "", nil, fmt.Errorf("%w: certificate key is not RSA", ErrConfig)
	}
	return fmt.Sprintf("%X", cert.SerialNumber.Bytes()), rk, nil
}

// ParseAPIv3Key checks the APIv3 key as configured in the merchant platform: 32 characters used as bytes.
func ParseAPIv3Key(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) != 32 {
		return nil, fmt.Errorf("%w: APIv3 key must be 32 bytes, got %d", ErrConfig, len(s))
	}
	return []byte(s), nil
}

func onePEM(data []byte, types ...string) (*pem.Block, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block found", ErrConfig)
	}
	for _, t := range types {
		if block.Type == t {
			return block, nil
		}
	}
	return nil, fmt.Errorf("%w: PEM block is %q, want %s", ErrConfig, block.Type, strings.Join(types, " or "))
}

// normSerial makes "0A51..." and "a51..." the same certificate serial (tools disagree on case and on a
// leading zero). Anything that is not pure hex, such as a public key id, is compared exactly.
func normSerial(s string) string {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return s
		}
	}
	return strings.TrimLeft(strings.ToUpper(s), "0")
}
