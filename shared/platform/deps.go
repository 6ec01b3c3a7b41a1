package platform

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

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
}

// Load builds Deps from the environment. It does no network I/O.
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
	return &Deps{
		Cfg: cfg,
		AWS: awsCfg,
		DB: dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
			// DynamoDB Local omits x-amz-crc32; checking it only produces warnings there.
			o.DisableValidateResponseChecksum = local
		}),
		SQS: sqs.NewFromConfig(awsCfg),
		SES: sesv2.NewFromConfig(awsCfg),
		Log: log,
		Now: time.Now,
	}
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
