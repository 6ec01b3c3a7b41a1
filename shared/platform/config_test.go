package platform

import (
	"context"
	"encoding/base64"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// The keys are not configuration: keys left in the environment are ignored, and a function starts
// with only the secret's name (or, locally, its file).
func TestConfigNamesTheSecretOnly(t *testing.T) {
	env := map[string]string{"TABLE_NAME": "t", "JWT_SECRET": b64(strings.Repeat("j", 32)), "PII_KEY": b64(strings.Repeat("p", 32))}
	if _, err := LoadConfig(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "APP_SECRET_ID") {
		t.Fatalf("keys in the environment but no secret name: %v", err)
	}
	env["APP_SECRET_ID"] = "onecard/app"
	c, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil || c.HasKeys() || c.AppSecretID != "onecard/app" {
		t.Fatalf("config %v keys %v: %v", c.AppSecretID, c.HasKeys(), err)
	}
}

// Locally the secret is a file of the same JSON; it is read once, and a bad one is refused without
// quoting it.
func TestKeysFromTheLocalSecretFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "app.json")
	good := `{"jwtSecret":"` + b64(strings.Repeat("j", 32)) + `","piiKey":"` + b64(strings.Repeat("p", 32)) +
		`","paycodeKey":"` + b64(strings.Repeat("s", 32)) + `","paycodeKid":"local1"}`
	if err := os.WriteFile(file, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(envMap{"TABLE_NAME": "t", "APP_SECRET_FILE": file}.get)
	if err != nil {
		t.Fatal(err)
	}
	d := New(c, AWSConfig(func(string) string { return "" }), NewLogger(io.Discard))
	if err := d.LoadKeys(context.Background()); err != nil {
		t.Fatal(err)
	}
	if string(d.Cfg.JWTKey) != strings.Repeat("j", 32) || string(d.Cfg.PIIKey) != strings.Repeat("p", 32) || d.Cfg.PaycodeKid != "local1" || len(d.Cfg.PaycodeKey) != 64 {
		t.Fatalf("keys not from the file")
	}
	_ = os.Remove(file)
	if err := d.LoadKeys(context.Background()); err != nil {
		t.Fatalf("second LoadKeys read again: %v", err)
	}

	secretValue := b64("short")
	for _, bad := range []string{`not json`, `{"jwtSecret":"` + secretValue + `"}`,
		strings.Replace(good, `"local1"`, `"not a kid!"`, 1), strings.Replace(good, b64(strings.Repeat("s", 32)), b64("x"), 1)} {
		_, err := ParseAppSecret([]byte(bad))
		if err == nil || strings.Contains(err.Error(), secretValue) || strings.Contains(err.Error(), b64("x")) {
			t.Errorf("%.20q: %v", bad, err)
		}
	}
}

type envMap map[string]string

func (m envMap) get(k string) string { return m[k] }

func TestStoreIsBuiltOncePerDeps(t *testing.T) {
	d := New(Config{Env: "local", Table: "onecard"}, aws.Config{Region: "ap-east-1"}, NewLogger(io.Discard))
	first, again := d.Store(), d.Store()
	if first != again {
		t.Fatal("every handler should share the store built at cold start")
	}
	if d.Store().Table != "onecard" {
		t.Fatalf("store table %q", d.Store().Table)
	}
	before := d.Store()
	d.SetDB(d.DB)
	if d.Store() == before {
		t.Fatal("SetDB should rebuild the store")
	}
	copied := *d
	copied.Cfg.Table = "other"
	if copied.Store().Table != "other" {
		t.Fatalf("a copy with another table still got %q", copied.Store().Table)
	}
}
