package invoke

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"onecard/shared/devicesig"
)

func TestPlaceholders(t *testing.T) {
	l := &Local{}
	now := time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC)
	for name, want := range map[string]string{
		"now": "1795579200", "nowMillis": "1795579200000", "nowRFC3339": "2026-11-25T12:00:00+08:00",
	} {
		if got, err := l.placeholder(context.Background(), name, now); err != nil || got != want {
			t.Errorf("{{%s}} = %q, %v; want %q", name, got, err, want)
		}
	}
	if u, _ := l.placeholder(context.Background(), "uuid", now); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(u) {
		t.Errorf("{{uuid}} = %q", u)
	}
	if _, err := l.placeholder(context.Background(), "userTokn", now); err == nil {
		t.Error("a misspelt placeholder is not an error")
	}
}

// {{deviceSignature}} signs exactly what a reader would: method, path with query, timestamp, nonce, body.
func TestSignDevice(t *testing.T) {
	root := t.TempDir()
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	dir := filepath.Join(root, "infra", "local", "demo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	keys, _ := json.Marshal(map[string]string{"POS-CANTEEN-01": base64.StdEncoding.EncodeToString(seed)})
	if err := os.WriteFile(filepath.Join(dir, "devices.json"), keys, 0o644); err != nil {
		t.Fatal(err)
	}
	ev := `{"rawPath":"/v1/reader/blacklist","rawQueryString":"since=0","body":"","requestContext":{"http":{"method":"GET"}},
		"headers":{"x-device-id":"POS-CANTEEN-01","x-timestamp":"1795579200","x-nonce":"n0nce-n0nce-n0nce-1","x-signature":"{{deviceSignature}}"}}`
	out, err := (&Local{Root: root}).signDevice([]byte(ev))
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Headers map[string]string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := devicesig.Sign(ed25519.NewKeyFromSeed(seed), "GET", "/v1/reader/blacklist?since=0", 1795579200, "n0nce-n0nce-n0nce-1", []byte{})
	if got.Headers["x-signature"] != want {
		t.Fatalf("x-signature %q, want %q", got.Headers["x-signature"], want)
	}
}
