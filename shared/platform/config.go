// Package platform reads configuration and builds the AWS clients once per cold start.
//
// Nothing here touches the network at init: AWSConfig only reads the environment (region, the execution
// role's credentials), and the application secret is read on the first request (Deps.LoadKeys).
// Endpoints for local emulators come from the standard AWS_ENDPOINT_URL_DYNAMODB / _SQS / _SESV2 /
// _SECRETS_MANAGER variables, so no function contains endpoint code.
package platform

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything a function reads from its environment, and the keys of the application secret.
//
// The keys are not in the environment: the template passes only the secret's name (APP_SECRET_ID), and
// Deps.LoadKeys reads the secret from Secrets Manager on the function's first request (a cold start does
// no network), keeping it for the life of the container. Locally the secret is a file of the same JSON
// (APP_SECRET_FILE), as the WeChat Pay secret is (WECHATPAY_CONFIG_FILE).
type Config struct {
	Table          string        // TABLE_NAME
	ReaderQueueURL string        // READER_QUEUE_URL
	MailFrom       string        // MAIL_FROM, a verified SES identity
	AccessTTL      time.Duration // ACCESS_TOKEN_TTL, default 15m
	RefreshTTL     time.Duration // REFRESH_TOKEN_TTL, default 720h
	Env            string        // APP_ENV: "local" or "aws"
	AppSecretID    string        // APP_SECRET_ID: name or ARN of the application secret in Secrets Manager
	AppSecretFile  string        // APP_SECRET_FILE: locally, a file holding the same JSON instead
	// PaycodeRetired are the public keys of retired payment-code keys that readers and the ingest still
	// accept (a record may arrive up to 30 days after its code was shown): PAYCODE_RETIRED_KEYS,
	// "kid:base64(public key),…", optional. Public, so they stay in the environment.
	PaycodeRetired map[string]ed25519.PublicKey

	// From the application secret (AppKeys), filled by Deps.LoadKeys or set directly by tests.
	JWTKey     []byte             // jwtSecret: signs access, refresh and staff tokens
	PIIKey     []byte             // piiKey: keyed digests of ID numbers and emailed codes
	PaycodeKid string             // paycodeKid: 1–16 of A–Z a–z 0–9 - _
	PaycodeKey ed25519.PrivateKey // paycodeKey: signs payment codes
}

// HasKeys reports whether the application secret's keys are in c.
func (c Config) HasKeys() bool {
	return len(c.JWTKey) > 0 && len(c.PIIKey) > 0 && len(c.PaycodeKey) > 0
}

// LoadConfig reads Config from the environment: everything but the keys, and where the keys are.
func LoadConfig(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Config{
		Table:          getenv("TABLE_NAME"),
		ReaderQueueURL: getenv("READER_QUEUE_URL"),
		MailFrom:       getenv("MAIL_FROM"),
		Env:            getenv("APP_ENV"),
		AppSecretID:    strings.TrimSpace(getenv("APP_SECRET_ID")),
		AppSecretFile:  strings.TrimSpace(getenv("APP_SECRET_FILE")),
		AccessTTL:      15 * time.Minute,
		RefreshTTL:     30 * 24 * time.Hour,
	}
	if c.Table == "" {
		return c, fmt.Errorf("TABLE_NAME is not set")
	}
	if c.AppSecretID == "" && c.AppSecretFile == "" {
		return c, fmt.Errorf("APP_SECRET_ID (or, locally, APP_SECRET_FILE) is not set")
	}
	var err error
	if c.PaycodeRetired, err = retiredKeys(getenv("PAYCODE_RETIRED_KEYS")); err != nil {
		return c, err
	}
	if v := getenv("ACCESS_TOKEN_TTL"); v != "" {
		if c.AccessTTL, err = time.ParseDuration(v); err != nil {
			return c, fmt.Errorf("ACCESS_TOKEN_TTL: %w", err)
		}
	}
	if v := getenv("REFRESH_TOKEN_TTL"); v != "" {
		if c.RefreshTTL, err = time.ParseDuration(v); err != nil {
			return c, fmt.Errorf("REFRESH_TOKEN_TTL: %w", err)
		}
	}
	if c.MailFrom == "" {
		c.MailFrom = "no-reply@onecard.local"
	}
	return c, nil
}

// AppKeys are the keys of the application secret, whose JSON is
// {"jwtSecret", "piiKey", "paycodeKey", "paycodeKid"}.
type AppKeys struct {
	JWT        []byte
	PII        []byte
	PaycodeKid string
	PaycodeKey ed25519.PrivateKey
}

// ParseAppSecret reads the application secret's JSON. jwtSecret and piiKey are standard base64 of at
// least 32 bytes; paycodeKey is standard base64 of a 32-byte Ed25519 seed; paycodeKid is 1–16 of
// A–Z a–z 0–9 - _. Errors name the field, never its value.
func ParseAppSecret(b []byte) (AppKeys, error) {
	var in struct {
		JWT        string `json:"jwtSecret"`
		PII        string `json:"piiKey"`
		PaycodeKey string `json:"paycodeKey"`
		PaycodeKid string `json:"paycodeKid"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return AppKeys{}, fmt.Errorf("the application secret is not a JSON object")
	}
	var k AppKeys
	var err error
	if k.JWT, err = keyBytes("jwtSecret", in.JWT); err != nil {
		return AppKeys{}, err
	}
	if k.PII, err = keyBytes("piiKey", in.PII); err != nil {
		return AppKeys{}, err
	}
	if k.PaycodeKid = strings.TrimSpace(in.PaycodeKid); !keyID(k.PaycodeKid) {
		return AppKeys{}, fmt.Errorf("the application secret's paycodeKid must be 1–16 of A–Z a–z 0–9 - _")
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(in.PaycodeKey))
	if err != nil || len(seed) != ed25519.SeedSize {
		return AppKeys{}, fmt.Errorf("the application secret's paycodeKey must be standard base64 of a 32-byte Ed25519 seed")
	}
	k.PaycodeKey = ed25519.NewKeyFromSeed(seed)
	return k, nil
}

// SetKeys puts the application secret's keys into c, refusing a current payment-code key id that is
// also listed as retired.
func (c *Config) SetKeys(k AppKeys) error {
	if _, dup := c.PaycodeRetired[k.PaycodeKid]; dup {
		return fmt.Errorf("PAYCODE_RETIRED_KEYS lists %q, the current paycodeKid", k.PaycodeKid)
	}
	c.JWTKey, c.PIIKey, c.PaycodeKid, c.PaycodeKey = k.JWT, k.PII, k.PaycodeKid, k.PaycodeKey
	return nil
}

func keyBytes(name, v string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(b) < 32 {
		return nil, fmt.Errorf("the application secret's %s must be standard base64 of at least 32 bytes", name)
	}
	return b, nil
}

// retiredKeys reads PAYCODE_RETIRED_KEYS.
func retiredKeys(v string) (map[string]ed25519.PublicKey, error) {
	retired := map[string]ed25519.PublicKey{}
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		id, b64, _ := strings.Cut(item, ":")
		pub, err := base64.StdEncoding.DecodeString(b64)
		if !keyID(id) || err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("PAYCODE_RETIRED_KEYS: %q is not kid:base64 of a 32-byte public key", id)
		}
		retired[id] = pub
	}
	return retired, nil
}

func keyID(s string) bool {
	if len(s) < 1 || len(s) > 16 {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// EnvInt reads an optional integer variable.
func EnvInt(getenv func(string) string, name string, def int64) int64 {
	if v := getenv(name); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return def
}
