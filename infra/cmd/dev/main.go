// Command dev is `make dev`: it starts the emulators, creates the table and queues from template.yaml,
// seeds the demo data and serves every route of template.yaml on 127.0.0.1:3000, until Ctrl-C.
package main

import (
	"context"

	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"onecard/infra/devstack"
	"onecard/infra/localstack"
	"onecard/infra/seed"
)

const table = devstack.Table

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "where the API listens")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		fmt.Fprintln(os.Stderr, "make dev:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string) error {
	root, err := localstack.Root()
	if err != nil {
		return err
	}
	p := localstack.PathsAt(root)
	if err := os.MkdirAll(p.StateDir, 0o755); err != nil {
		return err
	}
	killLeftovers(p.StateDir)
	if !localstack.PortFree(portOf(addr)) {
		return fmt.Errorf("%s is in use: is another `make dev` running? (stop it, or run `make stop`)", addr)
	}
	sys, err := devstack.Start(ctx, devstack.Options{
		Addr: addr, SandboxAddr: sandboxAddr, Ports: localstack.DevPorts, StateDir: p.StateDir, Log: os.Stderr,
		Sites: devstack.Clients(root),
	})
	if err != nil {
		return err
	}
	defer sys.Stop()
	writePIDs(p.StateDir, sys.Stack.PIDs())
	// make stop ends this process too (SIGTERM: the same clean stop as Ctrl-C).
	_ = os.WriteFile(filepath.Join(p.StateDir, "dev.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	banner(addr, sys.Stack, sys.Routes, sys.Staff, sys.Cors)
	<-ctx.Done()
	fmt.Fprintln(os.Stderr, "\nmake dev: stopping")
	os.Remove(filepath.Join(p.StateDir, "dev.pids"))
	os.Remove(filepath.Join(p.StateDir, "dev.pid"))
	return nil
}

// sandboxAddr is where the README puts the WeChat Pay sandbox.
const sandboxAddr = "127.0.0.1:8090"

func banner(addr string, st *localstack.Stack, routes int, login seed.StaffLogin, origins []string) {
	fmt.Printf(`
校园一卡通 is running: the mini program, the staff console and the API (Ctrl-C stops everything)

  Mini program     http://%[1]s/          (the student app's H5 build; pay in the WeChat Pay sandbox)
  Staff console    http://%[1]s/console/
  API              http://%[1]s/v1/…      (%[2]d routes from template.yaml)
  SES emulator     http://127.0.0.1:%[3]d/store   (every sent email; codes are in the bodies)
  DynamoDB Local   http://127.0.0.1:%[4]d   table %[5]s
  SQS emulator     http://127.0.0.1:%[6]d   (reader queue consumed in-process, as Lambda would)
  WeChat Pay       http://127.0.0.1:8090   (sandbox: POST /sandbox/orders/{orderNo}/pay pays an order)
  Browser origins  %[9]s
                   (CORS: template.yaml's AllowedOrigins default; pages on other origins get no CORS headers)

Demo logins (local only):
  staff console    %[7]s / %[8]s   (every role; POST /v1/admin/login)
  students         CUIK20230001 张三 card 10000001 card password 011237
                   CUIK20230002 李四 card 10000002 card password 025620
                   CUIK20230003 王五 card 10000003 card password 034322
                   (register a phone account first, then POST /v1/card/bind)
  devices          POS-CANTEEN-01, HOTWATER-8D-01, METERGW-01: keys in infra/local/demo/devices.json
  dorm rooms       WH-6D-101, WH-8D-1006, WH-8D-1224…1230, WH-9D-101

Try:
  curl -s http://%[1]s/v1/schools
  curl -s "http://%[1]s/v1/agreement?schoolId=kmmc"   (用户协议 and 隐私政策; register accepts its version)
  curl -s -XPOST http://%[1]s/v1/auth/register -d '{"phone":"13800000001","password":"password123","schoolId":"kmmc","agreementVersion":1}'
  curl -s -XPOST http://%[1]s/v1/auth/login -d '{"phone":"13800000001","password":"password123"}'
  go run ./infra/cmd/readersim -device POS-CANTEEN-01 -cards 10000001 -n 5   (a canteen reader posting purchases)

`, addr, routes, st.Ports.SES, st.Ports.DynamoDB, table, st.Ports.SQS, login.Username, login.Password,
		originLines(origins))
}

// originLines lays the allowed origins out two a line under the banner's column.
func originLines(origins []string) string {
	if len(origins) == 0 {
		return "none (no CorsConfiguration in template.yaml)"
	}
	var b strings.Builder
	for i, o := range origins {
		switch {
		case i == 0:
		case i%2 == 0:
			b.WriteString("\n                   ")
		default:
			b.WriteString("  ")
		}
		b.WriteString(o)
	}
	return b.String()
}

// A `make dev` killed with SIGKILL leaves its emulators running; the next one ends them first.
func killLeftovers(state string) {
	b, err := os.ReadFile(filepath.Join(state, "dev.pids"))
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && ours(pid) {
			if syscall.Kill(-pid, syscall.SIGTERM) == nil {
				fmt.Fprintf(os.Stderr, "make dev: stopped leftover process group %d\n", pid)
			}
		}
	}
	time.Sleep(500 * time.Millisecond)
	os.Remove(filepath.Join(state, "dev.pids"))
}

// ours reports whether pid is still one of our emulators (a recycled pid belongs to someone else).
func ours(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	cmd := string(b)
	return strings.Contains(cmd, "LoopbackDynamoDB") || strings.Contains(cmd, "infra/local")
}

func writePIDs(state string, pids []int) {
	var b strings.Builder
	for _, p := range pids {
		fmt.Fprintf(&b, "%d\n", p)
	}
	_ = os.WriteFile(filepath.Join(state, "dev.pids"), []byte(b.String()), 0o644)
}

func portOf(addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(p)
	return n
}
