package localstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Ports of the emulators; zero picks a free loopback port.
type Ports struct {
	DynamoDB int
	SQS      int
	SES      int
}

// DevPorts are the fixed ports of `make dev` (8005 for SES, as the README says).
var DevPorts = Ports{DynamoDB: 8000, SQS: 9324, SES: 8005}

// Stack is a running set of emulators.
type Stack struct {
	Ports Ports
	procs []*exec.Cmd
	logs  []*os.File
}

// Local credentials: DynamoDB Local accepts only letters and digits.
const (
	Region    = "ap-east-1"
	AccessKey = "local"
	SecretKey = "local"
)

// Env returns the variables that point the AWS SDK at this stack.
func (s *Stack) Env() map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": fmt.Sprintf("http://127.0.0.1:%d", s.Ports.DynamoDB),
		"AWS_ENDPOINT_URL_SQS":      fmt.Sprintf("http://127.0.0.1:%d", s.Ports.SQS),
		"AWS_ENDPOINT_URL_SESV2":    fmt.Sprintf("http://127.0.0.1:%d", s.Ports.SES),
		"AWS_REGION":                Region,
		"AWS_ACCESS_KEY_ID":         AccessKey,
		"AWS_SECRET_ACCESS_KEY":     SecretKey,
		"AWS_EC2_METADATA_DISABLED": "true",
		"SES_STORE_URL":             fmt.Sprintf("http://127.0.0.1:%d/store", s.Ports.SES),
	}
}

// Options controls Start.
type Options struct {
	Ports  Ports
	LogDir string    // where emulator output goes; defaults to a temp dir
	Log    io.Writer // progress lines
}

// Start installs what is missing and starts the three emulators, waiting until each answers.
func Start(ctx context.Context, opt Options) (*Stack, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	p := PathsAt(root)
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	if err := Install(p, opt.Log); err != nil {
		return nil, err
	}
	if opt.LogDir == "" {
		if opt.LogDir, err = os.MkdirTemp("", "onecard-stack-"); err != nil {
			return nil, err
		}
	}
	s := &Stack{Ports: opt.Ports}
	for _, port := range []*int{&s.Ports.DynamoDB, &s.Ports.SQS, &s.Ports.SES} {
		if *port == 0 {
			if *port, err = FreePort(); err != nil {
				return nil, err
			}
		} else if !PortFree(*port) {
			return nil, fmt.Errorf("port 127.0.0.1:%d is in use (another `make dev`? run `make stop`)", *port)
		}
	}
	starts := []struct {
		name string
		cmd  *exec.Cmd
		port int
		path string
	}{
		{"dynamodb", exec.Command("java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx512m",
			"-Djava.library.path="+filepath.Join(p.Emulator, "DynamoDBLocal_lib"),
			"-cp", p.JavaClass+":"+classpath(p), "LoopbackDynamoDB",
			"-inMemory", "-port", strconv.Itoa(s.Ports.DynamoDB), "-disableTelemetry"), s.Ports.DynamoDB, ""},
		{"sqs", exec.Command("node", filepath.Join(p.NodeDir, "sqs.js"), strconv.Itoa(s.Ports.SQS)), s.Ports.SQS, ""},
		{"ses", exec.Command("node", filepath.Join(p.NodeDir, "node_modules", "aws-ses-v2-local", "dist", "cli.js"),
			"--host", "127.0.0.1", "--port", strconv.Itoa(s.Ports.SES)), s.Ports.SES, "/store"},
	}
	for _, st := range starts {
		lf, err := os.Create(filepath.Join(opt.LogDir, st.name+".log"))
		if err != nil {
			s.Stop()
			return nil, err
		}
		st.cmd.Stdout, st.cmd.Stderr = lf, lf
		st.cmd.Dir = p.NodeDir
		st.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := st.cmd.Start(); err != nil {
			lf.Close()
			s.Stop()
			return nil, fmt.Errorf("start %s: %w", st.name, err)
		}
		s.procs = append(s.procs, st.cmd)
		s.logs = append(s.logs, lf)
	}
	for i, st := range starts {
		if err := waitReady(ctx, st.port, st.path, 60*time.Second, s.procs[i]); err != nil {
			s.Stop()
			return nil, fmt.Errorf("%s did not start (log: %s): %w", st.name, filepath.Join(opt.LogDir, st.name+".log"), err)
		}
	}
	fmt.Fprintf(opt.Log, "localstack: dynamodb :%d, sqs :%d, ses :%d\n", s.Ports.DynamoDB, s.Ports.SQS, s.Ports.SES)
	return s, nil
}

// PIDs of the emulator processes (for `make dev`'s leftover cleanup).
func (s *Stack) PIDs() []int {
	var out []int
	for _, c := range s.procs {
		if c.Process != nil {
			out = append(out, c.Process.Pid)
		}
	}
	return out
}

// Stop ends every emulator (their whole process groups) and waits for them.
func (s *Stack) Stop() {
	for _, c := range s.procs {
		if c.Process != nil {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
		}
	}
	for _, c := range s.procs {
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
			<-done
		}
	}
	for _, f := range s.logs {
		f.Close()
	}
	s.procs, s.logs = nil, nil
}

// FreePort asks the kernel for an unused loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PortFree reports whether nothing listens on 127.0.0.1:port.
func PortFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func waitReady(ctx context.Context, port int, path string, limit time.Duration, proc *exec.Cmd) error {
	deadline := time.Now().Add(limit)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	exited := make(chan struct{})
	go func() {
		// ProcessState is set by Wait, which Stop calls; here we only poll the process for liveness.
		for time.Now().Before(deadline) {
			if err := proc.Process.Signal(syscall.Signal(0)); err != nil {
				close(exited)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("process exited")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			conn.Close()
			if path == "" {
				return nil
			}
			if res, err := http.Get("http://" + addr + path); err == nil {
				res.Body.Close()
				if res.StatusCode < 500 {
					return nil
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("timed out waiting for " + addr)
}

// Setenv exports the stack's variables into this process.
func (s *Stack) Setenv() {
	for k, v := range s.Env() {
		os.Setenv(k, v)
	}
}

// EnvList returns Env as KEY=VALUE strings.
func (s *Stack) EnvList() []string {
	var out []string
	for k, v := range s.Env() {
		out = append(out, k+"="+v)
	}
	return out
}

// String describes the stack for humans.
func (s *Stack) String() string {
	var b strings.Builder
	for k, v := range s.Env() {
		if strings.HasPrefix(k, "AWS_ENDPOINT_URL_") {
			fmt.Fprintf(&b, "%s=%s ", k, v)
		}
	}
	return strings.TrimSpace(b.String())
}
