package recharge

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"onecard/shared/platform"
	"onecard/shared/wechatpay"
)

// WeChatSource yields the WeChat Pay client, building it on first use: in AWS the configuration is a
// Secrets Manager secret (WECHATPAY_SECRET_ID), fetched on the first request rather than at init so a cold
// start does no network I/O; locally it is a file (WECHATPAY_CONFIG_FILE) in the same JSON shape. Tests set
// Deps.WeChat directly.
type WeChatSource struct {
	d      *platform.Deps
	mu     sync.Mutex
	client *wechatpay.Client
}

// NewWeChatSource returns the source for d.
func NewWeChatSource(d *platform.Deps) *WeChatSource { return &WeChatSource{d: d} }

// ErrNotConfigured means no WeChat Pay configuration was given to this function.
var ErrNotConfigured = errors.New("wechat pay is not configured (WECHATPAY_SECRET_ID or WECHATPAY_CONFIG_FILE)")

// Client returns the client, loading the configuration once (a failed load is retried on the next call).
func (s *WeChatSource) Client(ctx context.Context) (*wechatpay.Client, error) {
	if s.d.WeChat != nil {
		return s.d.WeChat(ctx)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client != nil {
		return s.client, nil
	}
	raw, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	cfg, err := wechatpay.ParseSecret(raw)
	if err != nil {
		return nil, err
	}
	c, err := wechatpay.NewClient(cfg, wechatpay.WithClock(s.d.Now))
	if err != nil {
		return nil, err
	}
	s.client = c
	return c, nil
}

func (s *WeChatSource) load(ctx context.Context) ([]byte, error) {
	if f := os.Getenv("WECHATPAY_CONFIG_FILE"); f != "" {
		return os.ReadFile(f)
	}
	id := os.Getenv("WECHATPAY_SECRET_ID")
	if id == "" {
		return nil, ErrNotConfigured
	}
	out, err := secretsmanager.NewFromConfig(s.d.AWS).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &id})
	if err != nil {
		return nil, fmt.Errorf("reading the WeChat Pay secret: %w", err)
	}
	if out.SecretString == nil {
		return nil, errors.New("the WeChat Pay secret has no string value")
	}
	return []byte(*out.SecretString), nil
}

// Code2Session makes the source usable as accounts.OpenIDs.
func (s *WeChatSource) Code2Session(ctx context.Context, jsCode string) (string, error) {
	c, err := s.Client(ctx)
	if err != nil {
		return "", err
	}
	return c.Code2Session(ctx, jsCode)
}
