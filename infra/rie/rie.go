// Package rie runs a function's real bootstrap under the AWS Lambda Runtime Interface Emulator, the
// program `sam local invoke` runs inside its container, without Docker: one emulator process per
// bootstrap, events posted one at a time (the emulator crashes on concurrent invokes, upstream issue #97),
// and the init and invoke durations read from its log lines.
package rie

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The emulator is built from the Go module proxy (it has no tags there, hence a pseudo-version). The
// Makefile pins the same version; a test keeps the two equal.
const (
	Module  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	Command = Module + "/cmd/aws-lambda-rie"
	Version = "v0.0.0-20261030222936-bef5c4ba774d"
)

// Install returns the emulator at dir/aws-lambda-rie, running `go install` first when it is missing or
// not the pinned version.
func Install(dir string, log io.Writer) (string, error) {
	bin := filepath.Join(dir, "aws-lambda-rie")
	if info, err := buildinfo.ReadFile(bin); err == nil && info.Main.Version == Version {
		return bin, nil
	}
	if log != nil {
		fmt.Fprintf(log, "rie: go install %s@%s\n", Command, Version)
	}
	cmd := exec.Command("go", "install", Command+"@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w\n%s", Command, Version, err, out.String())
	}
	return bin, nil
}

// Options start one emulator.
type Options struct {
	RIE       string   // path of aws-lambda-rie
	Bootstrap string   // the function's executable, built for this machine
	Env       []string // KEY=VALUE: the function's environment (the emulator passes it on)
	Name      string   // AWS_LAMBDA_FUNCTION_NAME
	Timeout   int64    // seconds
	MemoryMB  int64
	Region    string
	// Logs, when set, receives every line the emulator and the function print, as they come.
	Logs io.Writer
}

// Instance is one running emulator holding one bootstrap.
type Instance struct {
	opt  Options
	addr string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited

	invoke sync.Mutex // one invoke at a time

	mu    sync.Mutex
	lines []string
	grew  chan struct{} // closed and replaced whenever a line arrives
}

// Start starts the emulator on free loopback ports and waits until it accepts connections. The
// function itself starts (its init runs) on the first invoke, as in Lambda. A port taken between
// choosing it and binding it (other tests run alongside) costs a retry on fresh ports.
func Start(ctx context.Context, opt Options) (*Instance, error) {
	var err error
	for range 3 {
		var in *Instance
		if in, err = start(ctx, opt); err == nil || !errors.Is(err, errExited) {
			return in, err
		}
	}
	return nil, err
}

var errExited = errors.New("aws-lambda-rie exited")

func start(ctx context.Context, opt Options) (*Instance, error) {
	if opt.Timeout == 0 {
		opt.Timeout = 10
	}
	if opt.MemoryMB == 0 {
		opt.MemoryMB = 512
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	apiPort, err := freePort()
	if err != nil {
		return nil, err
	}
	in := &Instance{opt: opt, addr: fmt.Sprintf("127.0.0.1:%d", port), done: make(chan struct{}), grew: make(chan struct{})}
	abs, err := filepath.Abs(opt.Bootstrap)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(opt.RIE, "--runtime-interface-emulator-address", in.addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", apiPort), abs)
	cmd.Dir = filepath.Dir(abs)
	cmd.Env = append(baseEnv(), opt.Env...)
	cmd.Env = append(cmd.Env,
		"AWS_LAMBDA_FUNCTION_NAME="+opt.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_TIMEOUT="+strconv.FormatInt(opt.Timeout, 10),
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.FormatInt(opt.MemoryMB, 10),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+opt.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME=local",
		"AWS_REGION="+opt.Region, "AWS_DEFAULT_REGION="+opt.Region,
		"AWS_SAM_LOCAL=true",
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", opt.RIE, err)
	}
	in.cmd = cmd
	go in.collect(pr)
	go func() { _ = cmd.Wait(); pw.Close(); close(in.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", in.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return in, nil
		}
		select {
		case <-in.done:
			return nil, fmt.Errorf("%w: %s", errExited, strings.Join(in.Lines(), "\n"))
		case <-ctx.Done():
			in.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			in.Stop()
			return nil, errors.New("aws-lambda-rie did not listen within 10 s")
		}
	}
}

// baseEnv is what a Lambda sandbox has before the function's own variables: no proxy settings or
// credentials of the developer's shell leak into the function.
func baseEnv() []string {
	var out []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG"} {
		if v, ok := os.LookupEnv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	return out
}

func (in *Instance) collect(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if in.opt.Logs != nil {
			fmt.Fprintln(in.opt.Logs, line)
		}
		in.mu.Lock()
		in.lines = append(in.lines, line)
		close(in.grew)
		in.grew = make(chan struct{})
		in.mu.Unlock()
	}
}

// Lines returns everything the emulator and the function printed so far.
func (in *Instance) Lines() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.lines...)
}

// Stop ends the emulator and the function (their whole process group).
func (in *Instance) Stop() {
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(3 * time.Second):
		_ = syscall.Kill(-in.cmd.Process.Pid, syscall.SIGKILL)
		<-in.done
	}
}

// Result is one invoke.
type Result struct {
	Payload json.RawMessage // what the handler returned (or the emulator's error document)
	// Init is the cold start's init duration from the `INIT REPORT(durationMs: …)` line; zero on a warm
	// invoke. (The REPORT line's "Init Duration" is wrong under the emulator.)
	Init     time.Duration
	Cold     bool
	Duration time.Duration // the handler's run, from `INVOKE RTDONE(… duration: …)`
	Wall     time.Duration // the HTTP round trip seen by the caller
	Logs     []string      // the lines printed during this invoke
	// Error is set when the function failed: a handler error, a panic, a crash or a timeout.
	Error *FunctionError
}

// FunctionError is the error document Lambda returns instead of the handler's answer.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Invoke posts event to the function and waits for its REPORT line. Invokes on one instance are serial.
func (in *Instance) Invoke(ctx context.Context, event []byte) (*Result, error) {
	in.invoke.Lock()
	defer in.invoke.Unlock()
	in.mu.Lock()
	mark := len(in.lines)
	in.mu.Unlock()

	url := "http://" + in.addr + "/2015-03-31/functions/function/invocations"
	ctx, cancel := context.WithTimeout(ctx, time.Duration(in.opt.Timeout+5)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w (emulator output: %s)", err, tail(in.Lines(), 20))
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	r := &Result{Wall: time.Since(start), Payload: body}
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		r.Error = &FunctionError{Type: "Emulator." + strconv.Itoa(res.StatusCode), Message: strings.TrimSpace(string(body))}
	} else if fe := functionError(body); fe != nil {
		r.Error = fe
	}
	r.Logs = in.waitReport(mark, 5*time.Second)
	r.parse()
	return r, nil
}

// waitReport returns the lines after mark up to and including the invoke's REPORT line.
func (in *Instance) waitReport(mark int, limit time.Duration) []string {
	deadline := time.After(limit)
	for {
		in.mu.Lock()
		lines, grew := in.lines[mark:], in.grew
		for i, l := range lines {
			if strings.HasPrefix(l, "REPORT RequestId:") {
				out := append([]string(nil), lines[:i+1]...)
				in.mu.Unlock()
				return out
			}
		}
		in.mu.Unlock()
		select {
		case <-grew:
		case <-in.done:
			return in.Lines()[mark:]
		case <-deadline:
			return in.Lines()[mark:]
		}
	}
}

var (
	initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)`)
	rtDone     = regexp.MustCompile(`INVOKE RTDONE\(status: [a-z]+, produced bytes: \d+, duration: ([0-9.]+)ms\)`)
	reportDur  = regexp.MustCompile(`\tDuration: ([0-9.]+) ms`)
)

func (r *Result) parse() {
	var report float64
	for _, l := range r.Logs {
		if m := initReport.FindStringSubmatch(l); m != nil {
			r.Init, r.Cold = ms(m[1]), true
		}
		if m := rtDone.FindStringSubmatch(l); m != nil {
			r.Duration = ms(m[1])
		}
		if strings.HasPrefix(l, "REPORT RequestId:") {
			if m := reportDur.FindStringSubmatch(l); m != nil {
				report, _ = strconv.ParseFloat(m[1], 64)
			}
		}
	}
	// No RTDONE line (the runtime crashed): the REPORT line's Duration, which on a cold start also
	// counts the init, is all there is.
	if r.Duration == 0 && report > 0 {
		r.Duration = time.Duration(report*float64(time.Millisecond)) - r.Init
	}
}

func ms(s string) time.Duration {
	f, _ := strconv.ParseFloat(s, 64)
	return time.Duration(f * float64(time.Millisecond))
}

// functionError recognises Lambda's error document: an object with errorType or errorMessage and
// nothing a handler's answer would hold.
func functionError(body []byte) *FunctionError {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return nil
	}
	_, hasType := m["errorType"]
	_, hasMsg := m["errorMessage"]
	if !hasType && !hasMsg {
		return nil
	}
	var fe FunctionError
	_ = json.Unmarshal(body, &fe)
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	return &fe
}

func tail(lines []string, n int) string {
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
