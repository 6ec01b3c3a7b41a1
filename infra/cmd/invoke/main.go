// Command invoke is `make invoke`: `sam local invoke` without SAM or Docker.
//
//	go run ./infra/cmd/invoke -fn AuthLogin [-event events/AuthLogin.json] [-e KEY=VALUE ...] [-q | -v]
//
// It builds the function for this machine, runs its real bootstrap under the Lambda Runtime Interface
// Emulator with the environment template.yaml gives it (pointed at `make dev`'s stack when it runs,
// otherwise at emulators it starts for the occasion), posts the event, prints the function's logs (stderr),
// its JSON answer (stdout), then the init and invoke durations and the AWS actions it called.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	"onecard/infra/invoke"
	"onecard/infra/localstack"
	"onecard/infra/rie"
)

type envFlags map[string]string

func (e envFlags) String() string { return fmt.Sprint(map[string]string(e)) }
func (e envFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want KEY=VALUE")
	}
	e[k] = v
	return nil
}

func main() {
	name := flag.String("fn", "", "LogicalId of the function in template.yaml, e.g. AuthLogin")
	event := flag.String("event", "", "event file (default events/<fn>.json)")
	quiet := flag.Bool("q", false, "do not print the function's log lines")
	verbose := flag.Bool("v", false, "also print the emulator's own (rapid) lines")
	overrides := envFlags{}
	flag.Var(overrides, "e", "KEY=VALUE set in the function's environment (repeatable)")
	flag.Parse()
	if *name == "" {
		fmt.Fprintln(os.Stderr, "usage: make invoke FN=<LogicalId> [EVENT=events/<file>.json]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var logs io.Writer = os.Stderr
	switch {
	case *quiet:
		logs = nil
	case !*verbose:
		logs = rapidFilter{os.Stderr}
	}
	code, err := run(ctx, *name, *event, logs, overrides)
	if err != nil {
		fmt.Fprintln(os.Stderr, "invoke:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

// rapidFilter drops the emulator's own "(rapid)" lines but the INIT REPORT, as `sam local invoke` shows
// the function's lines and START/END/REPORT. (Each Write is one line.)
type rapidFilter struct{ w io.Writer }

func (f rapidFilter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("(rapid)")) && !bytes.Contains(p, []byte("INIT REPORT")) {
		return len(p), nil
	}
	return f.w.Write(p)
}

func run(ctx context.Context, name, eventPath string, logs io.Writer, overrides map[string]string) (int, error) {
	l, err := invoke.Attach(ctx, invoke.Options{UseDev: true, Log: os.Stderr})
	if err != nil {
		return 1, err
	}
	defer l.Close()
	f, err := l.Lookup(name)
	if err != nil {
		return 1, err
	}
	ev, err := l.ReadEvent(name, eventPath)
	if err != nil {
		return 1, err
	}
	fmt.Fprintf(os.Stderr, "invoke: building %s for linux/%s\n", f.CodeURI, runtime.GOARCH)
	out := filepath.Join(localstack.PathsAt(l.Root).CacheDir, "invoke", f.Name)
	r, err := invoke.NewRunner(l, out, []invoke.Function{f}, os.Stderr)
	if err != nil {
		return 1, err
	}
	r.Overrides, r.Logs = overrides, logs
	recs := invoke.NewRecorders(l)
	defer recs.Close()
	o, err := r.Run(ctx, recs, f, ev)
	if err != nil {
		return 1, err
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, o.Result.Payload, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(o.Result.Payload)
	}
	fmt.Println(pretty.String())
	fmt.Fprintf(os.Stderr, "\nInit Duration: %s (INIT REPORT)   Duration: %s   Round trip: %s\n",
		msec(o.Result.Init), msec(o.Result.Duration), msec(o.Result.Wall))
	fmt.Fprintf(os.Stderr, "AWS calls: %s\n", summarize(o.Calls))
	if len(o.Undeclared) > 0 {
		fmt.Fprintf(os.Stderr, "NOT GRANTED in template.yaml (add to the function's Actions): %s\n", strings.Join(o.Undeclared, ", "))
	}
	if err := o.Failed(); err != nil {
		fmt.Fprintf(os.Stderr, "FAILED: %v\n", err)
		return 1, nil
	}
	if o.Status > 0 {
		fmt.Fprintf(os.Stderr, "HTTP %d\n", o.Status)
	}
	return 0, nil
}

func msec(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func summarize(calls []rie.Call) string {
	if len(calls) == 0 {
		return "none"
	}
	count := map[string]int{}
	for _, c := range calls {
		count[c.Service+":"+c.Operation]++
	}
	var parts []string
	for op, n := range count {
		if n > 1 {
			op = fmt.Sprintf("%s ×%d", op, n)
		}
		parts = append(parts, op)
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
