package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"onecard/infra/wxsandbox"
	"onecard/shared/httpapi"
	"onecard/shared/platform"
	"onecard/shared/recharge"
	"onecard/shared/reconcile"
)

// sandboxAddr is where the README puts the WeChat Pay sandbox.
const sandboxAddr = "127.0.0.1:8090"

type closer func()

func (c closer) Close() { c() }

// startWeChatSandbox runs the sandbox with the dev keys under state/wxsandbox and writes the backend's
// half of the configuration to state/wechatpay.json, in the same JSON shape as the production secret.
func startWeChatSandbox(ctx context.Context, state, apiAddr string) (closer, error) {
	dir := filepath.Join(state, "wxsandbox")
	if err := wxsandbox.GenerateDevKeys(dir); err != nil {
		return nil, err
	}
	opts, err := wxsandbox.LoadDevKeys(dir)
	if err != nil {
		return nil, err
	}
	sb, err := wxsandbox.New(opts)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", sandboxAddr)
	if err != nil {
		sb.Close()
		return nil, errors.New(sandboxAddr + " is in use (another make dev?)")
	}
	hs := &http.Server{Handler: sb, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	if err := writeSecret(dir, filepath.Join(state, "wechatpay.json"), "http://"+sandboxAddr,
		"http://"+apiAddr+"/v1/payments/wechat/notify"); err != nil {
		hs.Close()
		sb.Close()
		return nil, err
	}
	return func() { _ = hs.Close(); sb.Close() }, nil
}

func writeSecret(dir, path, baseURL, notifyURL string) error {
	b, err := wxsandbox.DevSecret(dir, baseURL, notifyURL)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// runReconciler does locally what the schedule does in AWS, every 30 seconds.
func runReconciler(ctx context.Context, d *platform.Deps) {
	s := recharge.NewService(d)
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx := httpapi.WithLogger(ctx, d.Log.With("fn", "RechargeReconciler"))
			if rep, err := s.Reconcile(rctx, recharge.ReconcileAfter); err != nil {
				d.Log.Error("recharge reconcile", "err", err.Error())
			} else if rep.Checked > 0 {
				d.Log.Info("recharge reconcile", "checked", rep.Checked, "credited", rep.Credited, "closed", rep.Closed)
			}
		}
	}
}

// runBooks does locally what LedgerReconciler's schedule does in AWS, every 5 seconds rather than every
// minute, so a reconcile asked for in the console is done by the time it is polled.
func runBooks(ctx context.Context, d *platform.Deps) {
	s := reconcile.NewService(d)
	s.Log = d.Log.With("fn", "LedgerReconciler")
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
				d.Log.Error("books reconcile", "err", err.Error())
			}
		}
	}
}
