// Package platform reads configuration and builds the AWS clients once per cold start.
//
// Nothing here touches the network: AWSConfig only reads the environment (region, the execution role's
// credentials). Endpoints for local emulators come from the standard AWS_ENDPOINT_URL_DYNAMODB / _SQS /
// _SESV2 / _SECRETS_MANAGER variables, so no function contains endpoint code.
package platform

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Config is everything a function reads from its environment.
type Config struct {
	Table          string        // TABLE_NAME
	ReaderQueueURL string        // READER_QUEUE_URL
	MailFrom       string        // MAIL_FROM, a verified SES identity
	JWTKey         []byte        // JWT_SECRET (base64 or raw, at least 32 bytes)
	PIIKey         []byte        // PII_KEY: keyed digests of ID numbers and emailed codes
	AccessTTL      time.Duration // ACCESS_TOKEN_TTL, default 15m
	RefreshTTL     time.Duration // REFRESH_TOKEN_TTL, default 720h
	Env            string        // APP_ENV: "local" or "aws"
	// Payment codes (付款码): the signing key and its id, and retired public keys that readers and the
	// ingest still accept (a record may arrive up to 30 days after its code was shown).
	PaycodeKid     string                       // PAYCODE_KID: 1–16 of A–Z a–z 0–9 - _
	PaycodeKey     ed25519.PrivateKey           // PAYCODE_KEY: standard base64 of the 32-byte Ed25519 seed
	PaycodeRetired map[string]ed25519.PublicKey // PAYCODE_RETIRED_KEYS: "kid:base64(public key),…", optional
}

// LoadConfig reads Config from the environment and refuses to start without the secrets.
func LoadConfig(getenv func(string) string) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Config{
		Table:          getenv("TABLE_NAME"),
		ReaderQueueURL: getenv("READER_QUEUE_URL"),
		MailFrom:       getenv("MAIL_FROM"),
		Env:            getenv("APP_ENV"),
		AccessTTL:      15 * time.Minute,
		RefreshTTL:     30 * 24 * time.Hour,
	}
	if c.Table == "" {
		return c, fmt.Errorf("TABLE_NAME is not set")
	}
	var err error
	if c.JWTKey, err = secretBytes(getenv, "JWT_SECRET"); err != nil {
		return c, err
	}
	if c.PIIKey, err = secretBytes(getenv, "PII_KEY"); err != nil {
		return c, err
	}
	if c.PaycodeKid, c.PaycodeKey, c.PaycodeRetired, err = paycodeKeys(getenv); err != nil {
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

func secretBytes(getenv func(string) string, name string) ([]byte, error) {
	v := strings.TrimSpace(getenv(name))
	if v == "" {
		return nil, fmt.Errorf("%s is not set", name)
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		b = []byte(v)
	}
	if len(b) < 32 {
		return nil, fmt.Errorf("%s must hold at least 32 bytes (got %d)", name, len(b))
	}
	return b, nil
}

// paycodeKeys reads the payment-code signing key (required) and the retired public keys (optional).
func paycodeKeys(getenv func(string) string) (string, ed25519.PrivateKey, map[string]ed25519.PublicKey, error) {
	kid := strings.TrimSpace(getenv("PAYCODE_KID"))
	if !keyID(kid) {
		return "", nil, nil, fmt.Errorf("PAYCODE_KID must be 1–16 of A–Z a–z 0–9 - _")
	}
	seed, err := base64.StdEncoding.DecodeString(strings.TrimSpace(getenv("PAYCODE_KEY")))
	if err != nil || len(seed) != ed25519.SeedSize {
		return "", nil, nil, fmt.Errorf("PAYCODE_KEY must be standard base64 of a 32-byte Ed25519 seed")
	}
	retired := map[string]ed25519.PublicKey{}
	for _, item := range strings.Split(getenv("PAYCODE_RETIRED_KEYS"), ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		id, b64, _ := strings.Cut(item, ":")
		pub, err := base64.StdEncoding.DecodeString(b64)
		if !keyID(id) || id == kid || err != nil || len(pub) != ed25519.PublicKeySize {
			return "", nil, nil, fmt.Errorf("PAYCODE_RETIRED_KEYS: %q is not kid:base64 of a 32-byte public key (other than PAYCODE_KID)", id)
		}
		retired[id] = pub
	}
	return kid, ed25519.NewKeyFromSeed(seed), retired, nil
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
