package wechatpay

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
)

// Secret is the JSON document that holds a merchant's configuration: in AWS one Secrets Manager secret,
// locally a file written by `make dev` for the sandbox. The same parser reads both, so local and cloud
// configuration cannot drift.
type Secret struct {
	MchID                 string            `json:"mchid"`
	AppID                 string            `json:"appid"`
	AppSecret             string            `json:"appsecret"`
	MerchantSerial        string            `json:"merchant_serial"`
	MerchantPrivateKeyPEM string            `json:"merchant_private_key_pem"`
	APIv3Key              string            `json:"apiv3_key"`
	PublicKeys            map[string]string `json:"wechatpay_public_keys"` // PUB_KEY_ID_… → PEM public key
	PlatformCertsPEM      []string          `json:"platform_certificates_pem,omitempty"`
	NotifyURL             string            `json:"notify_url"`
	BaseURL               string            `json:"base_url,omitempty"` // empty: the real WeChat Pay
	WeixinBaseURL         string            `json:"weixin_base_url,omitempty"`
}

// ParseSecret turns the secret's JSON into a Config. Errors never quote key material.
func ParseSecret(b []byte) (Config, error) {
	var s Secret
	if err := json.Unmarshal(b, &s); err != nil {
		return Config{}, fmt.Errorf("%w: secret is not valid JSON", ErrConfig)
	}
	cfg := Config{MchID: s.MchID, AppID: s.AppID, AppSecret: s.AppSecret, MerchantSerial: s.MerchantSerial,
		NotifyURL: s.NotifyURL, BaseURL: s.BaseURL, WeixinBaseURL: s.WeixinBaseURL, PlatformKeys: map[string]*rsa.PublicKey{}}
	var err error
	if s.MerchantPrivateKeyPEM != "" {
		if cfg.MerchantKey, err = ParsePrivateKeyPEM([]byte(s.MerchantPrivateKeyPEM)); err != nil {
			return Config{}, fmt.Errorf("%w: merchant_private_key_pem", ErrConfig)
		}
	}
	if s.APIv3Key != "" {
		if cfg.APIv3Key, err = ParseAPIv3Key(s.APIv3Key); err != nil {
			return Config{}, fmt.Errorf("%w: apiv3_key", ErrConfig)
		}
	}
	for id, p := range s.PublicKeys {
		k, err := ParsePublicKeyPEM([]byte(p))
		if err != nil {
			return Config{}, fmt.Errorf("%w: wechatpay_public_keys[%s]", ErrConfig, id)
		}
		cfg.PlatformKeys[id] = k
	}
	for i, c := range s.PlatformCertsPEM {
		serial, k, err := ParseCertificatePEM([]byte(c))
		if err != nil {
			return Config{}, fmt.Errorf("%w: platform_certificates_pem[%d]", ErrConfig, i)
		}
		cfg.PlatformKeys[serial] = k
	}
	return cfg, nil
}
