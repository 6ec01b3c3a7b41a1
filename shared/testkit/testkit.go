// Package testkit runs integration tests against the real emulators: each test gets its own DynamoDB
// table and queues (so tests run in parallel), a controllable clock, and the local API gateway serving
// every catalog function over HTTP, exactly as `make dev` does.
package testkit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onecard/infra/localstack"
	"onecard/infra/samtemplate"
	"onecard/shared/platform"
	"onecard/shared/store"
)

// Main starts the emulators for this test binary unless `make test` already did (AWS_ENDPOINT_URL_*
// set), runs the tests and stops what it started. Under -short it starts nothing: the tests that need the
// emulators skip (Deps), the others run (`make test-short`, the inner loop).
func Main(m *testing.M) {
	flag.Parse()
	code := func() int {
		if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" && !testing.Short() {
			st, err := localstack.Start(context.Background(), localstack.Options{Log: os.Stderr})
			if err != nil {
				fmt.Fprintln(os.Stderr, "testkit:", err)
				return 1
			}
			defer st.Stop()
			st.Setenv()
		}
		return m.Run()
	}()
	os.Exit(code)
}

var (
	tmplOnce sync.Once
	tmpl     *samtemplate.Template
	tmplErr  error
)

// Template returns the parsed template.yaml.
func Template(t testing.TB) *samtemplate.Template {
	tmplOnce.Do(func() {
		root, err := localstack.Root()
		if err != nil {
			tmplErr = err
			return
		}
		tmpl, tmplErr = samtemplate.Load(root)
	})
	if tmplErr != nil {
		t.Fatal(tmplErr)
	}
	return tmpl
}

// Clock is a settable clock for tests; it starts at a fixed instant and moves only when told.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts at 2026-11-25 12:00 Asia/Shanghai.
func NewClock() *Clock {
	return &Clock{t: time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Set sets the clock.
func (c *Clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Secrets used by every test Deps (never by a deployment).
var (
	TestJWTKey = []byte("test-jwt-key-0123456789abcdef0123456789")
	TestPIIKey = []byte("test-pii-key-0123456789abcdef0123456789")
	// TestPaycodeKey signs payment codes in tests (kid TestPaycodeKid).
	TestPaycodeKey = ed25519.NewKeyFromSeed([]byte("test-paycode-seed-0123456789abcd"))
)

// TestPaycodeKid names TestPaycodeKey.
const TestPaycodeKid = "test1"

var unsafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// UniqueName returns a table- and queue-safe name for this test.
func UniqueName(t testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	n := unsafe.ReplaceAllString(t.Name(), "-")
	if len(n) > 40 {
		n = n[:40]
	}
	return strings.Trim(n, "-.") + "-" + hex.EncodeToString(b)
}

// Deps builds platform.Deps on a fresh table in the emulator, with a test clock.
func Deps(t testing.TB) (*platform.Deps, *Clock) {
	t.Helper()
	if testing.Short() && os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" {
		t.Skip("needs the local emulators; make test runs it (-short starts none)")
	}
	ctx := context.Background()
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(localstack.Region))
	if err != nil {
		t.Fatal(err)
	}
	cfg := platform.Config{Table: UniqueName(t), JWTKey: TestJWTKey, PIIKey: TestPIIKey,
		AccessTTL: 15 * time.Minute, RefreshTTL: 30 * 24 * time.Hour, MailFrom: "no-reply@onecard.test", Env: "local",
		PaycodeKid: TestPaycodeKid, PaycodeKey: TestPaycodeKey}
	d := platform.New(cfg, awsCfg, platform.NewLogger(TestLogs()))
	clock := NewClock()
	d.Now = clock.Now
	if err := localstack.CreateTable(ctx, d.DB, Template(t), cfg.Table); err != nil {
		t.Fatal("create table:", err)
	}
	t.Cleanup(func() {
		_, _ = d.DB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(cfg.Table)})
	})
	return d, clock
}

// TestLogs is where functions log during tests: nowhere, unless ONECARD_TEST_LOGS=1.
func TestLogs() io.Writer {
	if os.Getenv("ONECARD_TEST_LOGS") == "1" {
		return os.Stderr
	}
	return io.Discard
}

// Store returns the store of d.
func Store(d *platform.Deps) *store.Store { return d.Store() }
