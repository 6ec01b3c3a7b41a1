package platform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"onecard/shared/store"
	"onecard/shared/wechatpay"
)

// Deps is what a handler is built from: configuration, clients and the clock. One per cold start.
type Deps struct {
	Cfg Config
	AWS aws.Config
	DB  *dynamodb.Client
	SQS *sqs.Client
	SES *sesv2.Client
	Log *slog.Logger
	// Now is the clock. Tests replace it; everything that compares times must read it, never time.Now.
	Now func() time.Time
	// WeChat, when set (tests), returns the WeChat Pay client; otherwise the recharge package loads it
	// from the environment on first use.
	WeChat func(ctx context.Context) (*wechatpay.Client, error)

	keys *sync.Mutex  // held while LoadKeys fills Cfg's keys (a pointer: Deps are copied)
	st   *store.Store // the table, built by New and SetDB
}

// Store is the table these Deps point at, built once per cold start (New, SetDB) and shared by every
// handler. Deps whose table name was changed afterwards (tests) get a fresh store each call instead.
func (d *Deps) Store() *store.Store {
	if st := d.st; st != nil && st.Table == d.Cfg.Table && st.DB == store.DB(d.DB) {
		return st
	}
	return store.New(d.DB, d.Cfg.Table)
}

// SetDB replaces the DynamoDB client (the local stack points it at the emulator) and rebuilds the store.
func (d *Deps) SetDB(db *dynamodb.Client) {
	d.DB = db
	d.st = store.New(db, d.Cfg.Table)
}

var keysFallback sync.Mutex // for Deps not made by New

// LoadKeys fills Cfg's keys from the application secret, once: Secrets Manager's GetSecretValue on
// Cfg.AppSecretID, or locally the file Cfg.AppSecretFile. The keys stay for the life of the container
// (rotating the secret takes a new deployment, or the containers' natural turnover); a failed read is
// tried again on the next call. Keys already present (tests) are kept.
func (d *Deps) LoadKeys(ctx context.Context) error {
	mu := d.keys
	if mu == nil {
		mu = &keysFallback
	}
	mu.Lock()
	defer mu.Unlock()
	if d.Cfg.HasKeys() {
		return nil
	}
	var raw []byte
	switch {
	case d.Cfg.AppSecretFile != "":
		b, err := os.ReadFile(d.Cfg.AppSecretFile)
		if err != nil {
			return fmt.Errorf("reading the application secret file: %w", err)
		}
		raw = b
	case d.Cfg.AppSecretID != "":
		out, err := secretsmanager.NewFromConfig(d.AWS).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &d.Cfg.AppSecretID})
		if err != nil {
			return fmt.Errorf("reading the application secret %s: %w", d.Cfg.AppSecretID, err)
		}
		if out.SecretString == nil {
			return errors.New("the application secret has no string value")
		}
		raw = []byte(*out.SecretString)
	default:
		return errors.New("no application secret: APP_SECRET_ID (or, locally, APP_SECRET_FILE) is not set")
	}
	k, err := ParseAppSecret(raw)
	if err != nil {
		return err
	}
	return d.Cfg.SetKeys(k)
}

// Load builds Deps from the environment. It does no network I/O: the keys come later (LoadKeys).
func Load(ctx context.Context) (*Deps, error) {
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		return nil, err
	}
	return New(cfg, AWSConfig(os.Getenv), NewLogger(os.Stderr)), nil
}

// New builds Deps from explicit parts (tests and the local dev server use this).
func New(cfg Config, awsCfg aws.Config, log *slog.Logger) *Deps {
	local := cfg.Env == "local" || os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != ""
	d := &Deps{
		Cfg:  cfg,
		AWS:  awsCfg,
		SQS:  sqs.NewFromConfig(awsCfg),
		SES:  sesv2.NewFromConfig(awsCfg),
		Log:  log,
		Now:  time.Now,
		keys: &sync.Mutex{},
	}
	d.SetDB(dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		// DynamoDB Local omits x-amz-crc32; checking it only produces warnings there.
		o.DisableValidateResponseChecksum = local
	}))
	return d
}

// NewLogger returns the structured JSON logger every function uses.
func NewLogger(w io.Writer) *slog.Logger {
	h := slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo})
	l := slog.New(h)
	if fn := os.Getenv("AWS_LAMBDA_FUNCTION_NAME"); fn != "" {
		l = l.With("function", fn)
	}
	return l
}
