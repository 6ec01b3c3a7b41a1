// Package platform reads configuration and builds the AWS clients once per cold start.
//
// Nothing here touches the network: LoadDefaultConfig only reads the environment, and credentials are
// fetched lazily on the first call. Endpoints for local emulators come from the standard
// AWS_ENDPOINT_URL_DYNAMODB / _SQS / _SESV2 variables, so no function contains endpoint code.
package platform

import (
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

// EnvInt reads an optional integer variable.
func EnvInt(getenv func(string) string, name string, def int64) int64 {
	if v := getenv(name); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return def
}
