// Command wxsandbox runs the local WeChat Pay stand-in (see package onecard/infra/wxsandbox):
//
//	go run ./infra/cmd/wxsandbox -addr 127.0.0.1:8090 -keys .run/wxsandbox
//
// Missing key files in -keys are generated first (wxsandbox.GenerateDevKeys), so the backend can read the
// merchant half of the same directory. Pay an order with
//
//	curl -X POST http://127.0.0.1:8090/sandbox/orders/<out_trade_no>/pay
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"onecard/infra/wxsandbox"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8090", "listen address (keep it on loopback)")
	keys := flag.String("keys", ".run/wxsandbox", "directory of dev keys and config.json, created if missing")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(*addr, *keys, log); err != nil {
		fmt.Fprintln(os.Stderr, "wxsandbox:", err)
		os.Exit(1)
	}
}

func run(addr, keys string, log *slog.Logger) error {
	if err := wxsandbox.GenerateDevKeys(keys); err != nil {
		return fmt.Errorf("preparing keys in %s: %w", keys, err)
	}
	opts, err := wxsandbox.LoadDevKeys(keys)
	if err != nil {
		return fmt.Errorf("loading keys from %s: %w", keys, err)
	}
	opts.Logger = log
	sb, err := wxsandbox.New(opts)
	if err != nil {
		return err
	}
	defer sb.Close()

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: sb, ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info("wxsandbox listening", "addr", ln.Addr().String(), "keys", keys, "mchid", opts.MchID, "appid", opts.AppID,
		"platform_serial", opts.PlatformSerial)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
