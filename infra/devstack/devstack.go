// Package devstack runs the whole system locally in one process: the emulators, the table and queues from
// template.yaml, the demo data, the WeChat Pay sandbox, the reader queue's consumer, the reconcilers and the WeChat bill matcher, every
// HTTP route of template.yaml, and the web clients on the API's own origin (the mini program's H5 at /,
// the staff console at /console/), as CloudFront serves them in AWS. `make dev` runs it on fixed ports;
// the browser tests (`make e2e`) run it on free ones.
package devstack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onecard/infra/apigw"
	"onecard/infra/localstack"
	"onecard/infra/samtemplate"
	"onecard/infra/seed"
	"onecard/infra/sqsrunner"
	"onecard/infra/wxsandbox"
	"onecard/shared/catalog"
	"onecard/shared/chinatime"
	"onecard/shared/dispatch"
	"onecard/shared/httpapi"
	"onecard/shared/imports"
	"onecard/shared/platform"
	"onecard/shared/recharge"
	"onecard/shared/reconcile"
	"onecard/shared/reports"
	"onecard/shared/wxbill"
)

// Table is the local table's name.
const Table = "onecard-local"

// Options of a run. Zero ports and ":0" addresses are picked free.
type Options struct {
	Addr        string           // where the API and the clients listen, e.g. 127.0.0.1:3000
	SandboxAddr string           // the WeChat Pay sandbox, e.g. 127.0.0.1:8090
	Ports       localstack.Ports // the emulators
	StateDir    string           // logs, the sandbox's keys, the WeChat Pay secret file
	Log         io.Writer
	// Sites are the web clients served beside the API (a missing directory serves a page saying how to
	// build it).
	Sites []Site
	// APILog takes the functions' request logs (nil: standard error, as make dev shows them).
	APILog io.Writer
	// BooksEvery is how often the scheduled books reconcile looks for a job (every minute in AWS; 5 s
	// here, so a reconcile asked for in the console is done by the time it is polled).
	BooksEvery time.Duration
	// DBOptions change the DynamoDB client every function uses (make load counts keys with one).
	DBOptions []func(*dynamodb.Options)
	// ReconcileEvery is how often the WeChat Pay reconciler runs (the schedule's job in AWS).
	ReconcileEvery time.Duration
	// BillsEvery is how often the WeChat bill matcher looks for a day to match (once a day in AWS; here
	// every 10 minutes, after a first run at start that matches the demo day, yesterday).
	BillsEvery time.Duration
}

// Running is a started system.
type Running struct {
	URL        string // http://host:port of the API and the clients
	SandboxURL string
	Stack      *localstack.Stack
	Routes     int
	Cors       []string // the allowed origins
	Staff      seed.StaffLogin
	Deps       *platform.Deps    // what the functions run with
	Queues     map[string]string // queue URLs by logical id
	stop       []func()
}

// Stop ends everything Start started, in reverse order.
func (r *Running) Stop() {
	for i := len(r.stop) - 1; i >= 0; i-- {
		r.stop[i]()
	}
	r.stop = nil
}

// Start brings the system up; the context ends the background loops (Stop ends the rest).
func Start(ctx context.Context, o Options) (_ *Running, err error) {
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.ReconcileEvery == 0 {
		o.ReconcileEvery = 30 * time.Second
	}
	if o.BooksEvery == 0 {
		o.BooksEvery = 5 * time.Second
	}
	if o.BillsEvery == 0 {
		o.BillsEvery = 10 * time.Minute
	}
	if err := localstack.CheckTools(); err != nil {
		return nil, err
	}
	root, err := localstack.Root()
	if err != nil {
		return nil, err
	}
	p := localstack.PathsAt(root)
	if err := os.MkdirAll(filepath.Join(o.StateDir, "logs"), 0o755); err != nil {
		return nil, err
	}
	r := &Running{}
	defer func() {
		if err != nil {
			r.Stop()
		}
	}()
	// The API's listener comes first: WeChat Pay's notify URL names its port.
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("%s is in use: is another `make dev` running? (stop it, or run `make stop`)", o.Addr)
	}
	r.stop = append(r.stop, func() { ln.Close() })
	r.URL = "http://" + ln.Addr().String()

	st, err := localstack.Start(ctx, localstack.Options{Ports: o.Ports, LogDir: filepath.Join(o.StateDir, "logs"), Log: o.Log})
	if err != nil {
		return nil, err
	}
	r.Stack = st
	r.stop = append(r.stop, st.Stop)
	st.Setenv()

	// The application secret is a file here, as the WeChat Pay one is: the same JSON as the Secrets
	// Manager secret in AWS, read by the same code (platform.Deps.LoadKeys).
	secretFile, err := devSecrets(p.CacheDir)
	if err != nil {
		return nil, err
	}
	env := map[string]string{"TABLE_NAME": Table, "APP_ENV": "local", "MAIL_FROM": "no-reply@onecard.local",
		"WECHATPAY_CONFIG_FILE": filepath.Join(o.StateDir, "wechatpay.json"),
		"APP_SECRET_FILE":       secretFile}
	for k, v := range env {
		os.Setenv(k, v)
	}
	d, err := platform.Load(ctx)
	if err != nil {
		return nil, err
	}
	if o.APILog != nil {
		d.Log = platform.NewLogger(o.APILog)
	}
	if len(o.DBOptions) > 0 {
		d.SetDB(dynamodb.NewFromConfig(d.AWS, append([]func(*dynamodb.Options){func(o *dynamodb.Options) {
			o.DisableValidateResponseChecksum = true // as platform.New does locally
		}}, o.DBOptions...)...))
	}
	r.Deps = d
	if err := d.LoadKeys(ctx); err != nil {
		return nil, err
	}
	tmpl, err := samtemplate.Load(root)
	if err != nil {
		return nil, err
	}
	if err := localstack.CreateTable(ctx, d.DB, tmpl, Table); err != nil {
		return nil, fmt.Errorf("create table: %w", err)
	}
	queues, err := localstack.CreateQueues(ctx, d.SQS, tmpl, "")
	if err != nil {
		return nil, err
	}
	r.Queues = queues
	os.Setenv("READER_QUEUE_URL", queues["ReaderQueue"])
	d.Cfg.ReaderQueueURL = queues["ReaderQueue"]
	if err := seed.All(ctx, d, root); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	sandbox, err := startWeChatSandbox(o.StateDir, o.SandboxAddr, r.URL)
	if err != nil {
		return nil, fmt.Errorf("wechat pay sandbox: %w", err)
	}
	r.SandboxURL = sandbox.url
	r.stop = append(r.stop, sandbox.close)
	go runReconciler(ctx, d, o.ReconcileEvery)
	go runBooks(ctx, d, o.BooksEvery)
	go runImports(ctx, d, 2*time.Second)
	go runBills(ctx, d, o.BillsEvery)
	go runLiability(ctx, d, o.BooksEvery)
	// The reader queue's consumer, with the template's batch size, window and timeout (infra/sqsrunner).
	consumer, err := sqsrunner.ForEvent(tmpl, dispatch.QueueConsumer, d, queues)
	if err != nil {
		return nil, err
	}
	r.stop = append(r.stop, consumer.Start(ctx))
	api, err := apigw.New(tmpl, catalog.HTTP, d)
	if err != nil {
		return nil, err
	}
	r.Routes = len(api.Routes)
	if api.Cors != nil {
		r.Cors = api.Cors.AllowOrigins
	}
	front, err := Front(api, sandbox.url, o.Sites)
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: front, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	r.stop = append(r.stop, func() {
		shut, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = hs.Shutdown(shut)
	})
	r.Staff, _ = seed.DemoStaff(root)
	return r, nil
}

type sandbox struct {
	url   string
	close func()
}

// startWeChatSandbox runs the sandbox with the dev keys under state/wxsandbox and writes the backend's
// half of the configuration to state/wechatpay.json, in the same JSON shape as the production secret.
func startWeChatSandbox(state, addr, apiURL string) (sandbox, error) {
	dir := filepath.Join(state, "wxsandbox")
	if err := wxsandbox.GenerateDevKeys(dir); err != nil {
		return sandbox{}, err
	}
	opts, err := wxsandbox.LoadDevKeys(dir)
	if err != nil {
		return sandbox{}, err
	}
	sb, err := wxsandbox.New(opts)
	if err != nil {
		return sandbox{}, err
	}
	for _, p := range seed.DemoPayments { // WeChat Pay knows the demo's payments, so refunding them works
		sb.Paid(wxsandbox.Order{OutTradeNo: p.OrderNo, TransactionID: p.TransactionID, AmountFen: p.AmountFen,
			OpenID: "o-seed", Description: "一卡通充值", SuccessTime: p.PaidAt}, p.RefundNo, p.RefundedFen)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		sb.Close()
		return sandbox{}, errors.New(addr + " is in use (another make dev?)")
	}
	hs := &http.Server{Handler: sb, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	secret, err := wxsandbox.DevSecret(dir, url, apiURL+"/v1/payments/wechat/notify")
	if err == nil {
		err = os.WriteFile(filepath.Join(state, "wechatpay.json"), secret, 0o600)
	}
	if err != nil {
		hs.Close()
		sb.Close()
		return sandbox{}, err
	}
	return sandbox{url: url, close: func() { _ = hs.Close(); sb.Close() }}, nil
}

// runReconciler does locally what RechargeReconciler's schedule does in AWS: settle the WeChat orders
// whose notification did not come.
func runReconciler(ctx context.Context, d *platform.Deps, every time.Duration) {
	s := recharge.NewService(d)
	schedule(ctx, every, func() {
		rctx := httpapi.WithLogger(ctx, d.Log.With("fn", "RechargeReconciler"))
		if rep, err := s.Reconcile(rctx, recharge.ReconcileAfter); err != nil {
			d.Log.Error("recharge reconcile", "err", err.Error())
		} else if rep.Checked > 0 {
			d.Log.Info("recharge reconcile", "checked", rep.Checked, "credited", rep.Credited, "closed", rep.Closed)
		}
	})
}

// runBooks does locally what LedgerReconciler's schedule does in AWS: run the reconcile jobs asked for
// (and the daily one).
func runBooks(ctx context.Context, d *platform.Deps, every time.Duration) {
	s := reconcile.NewService(d)
	s.Log = d.Log.With("fn", "LedgerReconciler")
	schedule(ctx, every, func() {
		if _, err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			d.Log.Error("books reconcile", "err", err.Error())
		}
	})
}

// runImports does locally what ImportRunner's schedule does in AWS (every minute there; every 2 s here,
// so an import started in the console is done by the time it is polled): run the queued CSV imports.
func runImports(ctx context.Context, d *platform.Deps, every time.Duration) {
	r := imports.NewRunner(d)
	r.Log = d.Log.With("fn", "ImportRunner")
	schedule(ctx, every, func() {
		if _, err := r.RunDue(ctx); err != nil && ctx.Err() == nil {
			d.Log.Error("imports", "err", err.Error())
		}
	})
}

// runLiability does locally what LiabilityReporter's schedule does in AWS: run the outstanding-balance
// reports staff asked for (as often as the books' reconcile, so the console's poll finds them done).
func runLiability(ctx context.Context, d *platform.Deps, every time.Duration) {
	s := &reports.Service{S: d.Store(), Now: d.Now}
	log := d.Log.With("fn", "LiabilityReporter")
	schedule(ctx, every, func() {
		if _, err := s.RunLiabilityDue(ctx, log); err != nil && ctx.Err() == nil {
			d.Log.Error("liability report", "err", err.Error())
		}
	})
}

// runBills does locally what WeChatBillMatcher's schedule does in AWS: match yesterday's WeChat Pay
// trade bill with the books, once at start (yesterday, and the demo payments' day 2026-11-20, so GET
// /v1/admin/wechat-bills/{day} has reports) and then each day once the day has turned.
func runBills(ctx context.Context, d *platform.Deps, every time.Duration) {
	s := wxbill.NewService(d)
	s.Log = d.Log.With("fn", "WeChatBillMatcher")
	run := func() {
		if _, err := s.MatchDue(ctx); err != nil && ctx.Err() == nil {
			d.Log.Error("wechat bill match", "err", err.Error())
		}
	}
	// The demo's WeChat Pay day (张三's recharge and its refund) is matched too, so the report has lines.
	for _, p := range seed.DemoPayments[:1] {
		if _, err := s.Match(ctx, chinatime.Day(p.PaidAt)); err != nil && ctx.Err() == nil {
			d.Log.Error("wechat bill match", "err", err.Error())
		}
	}
	run()
	schedule(ctx, every, run)
}

// schedule runs f every interval until ctx ends, as an EventBridge schedule invokes a function.
func schedule(ctx context.Context, every time.Duration, f func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// devSecrets returns the file of stable local-only keys (kept in .cache, so tokens survive a restart),
// in the application secret's JSON shape.
func devSecrets(cache string) (string, error) {
	path := filepath.Join(cache, "dev-secrets.json")
	m := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	if m["jwtSecret"] != "" && m["piiKey"] != "" && m["paycodeKey"] != "" && m["paycodeKid"] != "" {
		return path, nil
	}
	// Only what is missing is generated, so that tokens and payment codes survive an upgrade.
	for _, k := range []string{"jwtSecret", "piiKey", "paycodeKey"} { // paycodeKey: an Ed25519 seed
		if m[k] != "" {
			continue
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		m[k] = base64.StdEncoding.EncodeToString(b)
	}
	if m["paycodeKid"] == "" {
		m["paycodeKid"] = "local1"
	}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}

// Clients are the web clients as the local builds put them (`make dev` and `make e2e` build them first).
func Clients(root string) []Site {
	return []Site{
		{Prefix: "/", Dir: filepath.Join(root, "miniprogram", "dist", "devstack", "h5"), Build: "make miniprogram-local"},
		{Prefix: "/console/", Dir: filepath.Join(root, "console", "dist", "devstack"), Build: "make console-local"},
	}
}
