package fn_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onecard/infra/rie"
	"onecard/shared/auth"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/platform"
)

// The application secret as Secrets Manager holds it.
var (
	jwtKey    = []byte("jwt-key-from-the-secret-0123456789abcdef")
	appSecret = `{"jwtSecret":"` + base64.StdEncoding.EncodeToString(jwtKey) + `","piiKey":"` +
		base64.StdEncoding.EncodeToString([]byte("pii-key-from-the-secret-0123456789abcdef")) +
		`","paycodeKey":"` + base64.StdEncoding.EncodeToString([]byte("paycode-seed-from-the-secret-012")) + `","paycodeKid":"sm1"}`
)

// function builds a function the way its main does, configured by env alone, against a local Secrets
// Manager (the Recorder answers GetSecretValue) that holds the application secret once available is set.
// Its one route issues a staff token with the JWT key it was built with.
func function(t *testing.T, available *atomic.Bool) (*httptest.Server, *rie.Recorder) {
	t.Helper()
	rec, err := rie.NewRecorder(rie.Upstreams{}, func(name string) (string, bool) {
		return appSecret, name == "onecard/app" && available.Load()
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rec.Close() })
	env := map[string]string{"TABLE_NAME": "onecard", "APP_SECRET_ID": "onecard/app", "AWS_REGION": "ap-east-1",
		"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_ENDPOINT_URL_SECRETS_MANAGER": rec.URL()}
	getenv := func(k string) string { return env[k] }
	cfg, err := platform.LoadConfig(getenv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HasKeys() {
		t.Fatal("keys before the first request")
	}
	d := platform.New(cfg, platform.AWSConfig(getenv), platform.NewLogger(io.Discard))
	f := fn.HTTP{Name: "Issue", Route: "POST /issue", Access: fn.Public, Build: func(d *platform.Deps) httpapi.Handler {
		tokens := auth.NewTokens(d.Cfg.JWTKey, time.Hour, d.Now)
		return func(w http.ResponseWriter, r *http.Request) error {
			tok, err := tokens.Issue(auth.Principal{Subject: "admin-user", Kind: auth.KindStaff, School: "kmmc"})
			if err != nil {
				return err
			}
			return httpapi.JSON(w, http.StatusOK, map[string]string{"token": tok})
		}
	}}
	srv := httptest.NewServer(fn.Lazy(d, f.Handler))
	t.Cleanup(srv.Close)
	return srv, rec
}

func post(t *testing.T, srv *httptest.Server) (int, string) {
	t.Helper()
	res, err := http.Post(srv.URL+"/issue", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// A function configured with only the secret's name reads the keys from the secret on its first
// request, not before, and once for the life of the container.
func TestKeysComeFromTheSecretOnFirstUse(t *testing.T) {
	var available atomic.Bool
	available.Store(true)
	srv, rec := function(t, &available)
	if calls := rec.Take(); len(calls) != 0 {
		t.Fatalf("calls before the first request: %+v", calls)
	}
	for i := range 3 {
		status, body := post(t, srv)
		if status != 200 {
			t.Fatalf("request %d: %d %s", i, status, body)
		}
		var out struct{ Token string }
		_ = json.Unmarshal([]byte(body), &out)
		// Signed with the secret's JWT key.
		if _, err := auth.NewTokens(jwtKey, time.Hour, time.Now).Verify(out.Token, auth.KindStaff); err != nil {
			t.Fatalf("token not signed with the secret's key: %v", err)
		}
	}
	calls := rec.Take()
	if len(calls) != 1 || calls[0].Operation != "GetSecretValue" || calls[0].SecretID != "onecard/app" {
		t.Fatalf("want one GetSecretValue of onecard/app for three requests, got %+v", calls)
	}
}

// While the secret cannot be read the function answers 500 INTERNAL in the error shape, and it tries
// again on the next request.
func TestUnreadableSecretIsRetried(t *testing.T) {
	var available atomic.Bool
	srv, rec := function(t, &available)
	status, body := post(t, srv)
	if status != 500 || !strings.Contains(body, `"code":"INTERNAL"`) {
		t.Fatalf("secret missing: %d %s", status, body)
	}
	available.Store(true)
	if status, body := post(t, srv); status != 200 {
		t.Fatalf("secret back: %d %s", status, body)
	}
	if n := len(rec.Take()); n != 2 {
		t.Fatalf("%d GetSecretValue calls, want 2 (the failed one and its retry)", n)
	}
}
