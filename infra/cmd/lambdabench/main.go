// Command lambdabench is the functions' part of `make bench`: every function's linux/arm64 binary size
// (built with `make build`'s flags) and its median init duration over cold starts under the Lambda
// Runtime Interface Emulator (built for this machine), against the targets. It prints a table and writes
// it, with the machine and the date, under its own heading in docs/benchmarks.md.
//
//	go run ./infra/cmd/lambdabench [-n 10] [-fn AuthLogin,MeGet] [-write=false]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"onecard/infra/invoke"
	"onecard/infra/rie"
)

// Targets of issue 8.
const (
	maxSize = 10 << 20
	maxInit = 50 * time.Millisecond
)

// Heading is this command's section of docs/benchmarks.md; the rest of the file belongs to others.
const Heading = "## Functions: binary size and cold start"

type row struct {
	name  string
	size  int64
	inits []time.Duration
	err   error
}

func main() {
	n := flag.Int("n", 10, "cold starts per function")
	only := flag.String("fn", "", "comma-separated LogicalIds (default: every function)")
	write := flag.Bool("write", true, "write the figures into docs/benchmarks.md")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *n, *only, *write); err != nil {
		fmt.Fprintln(os.Stderr, "lambdabench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int, only string, write bool) error {
	l, err := invoke.Attach(ctx, invoke.Options{Log: os.Stderr})
	if err != nil {
		return err
	}
	defer l.Close()
	var fns []invoke.Function
	for _, f := range l.Functions() {
		if only == "" || slices.Contains(strings.Split(only, ","), f.Name) {
			fns = append(fns, f)
		}
	}
	if len(fns) == 0 {
		return fmt.Errorf("no function matches %q", only)
	}
	tmp, err := os.MkdirTemp("", "lambdabench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var uris []string
	for _, f := range fns {
		uris = append(uris, f.CodeURI)
	}
	fmt.Fprintf(os.Stderr, "lambdabench: building %d functions for linux/arm64 (make build's flags)\n", len(fns))
	arm, err := rie.Build(l.Root, filepath.Join(tmp, "arm64"), "arm64", uris)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "lambdabench: building them for linux/%s (the emulator runs those)\n", runtime.GOARCH)
	r, err := invoke.NewRunner(l, filepath.Join(tmp, "host"), fns, os.Stderr)
	if err != nil {
		return err
	}
	recs := invoke.NewRecorders(l)
	defer recs.Close()
	fmt.Fprintf(os.Stderr, "lambdabench: %d cold starts each, one at a time\n", n)
	loadBefore := loadAvg()
	var rows []row
	for _, f := range fns {
		rw := row{name: f.Name}
		if st, err := os.Stat(arm[f.CodeURI]); err == nil {
			rw.size = st.Size()
		}
		rw.inits, rw.err = coldStarts(ctx, l, r, recs, f, n)
		rows = append(rows, rw)
		fmt.Fprintf(os.Stderr, "  %-26s %6.2f MiB  init median %6.1f ms\n", f.Name, mib(rw.size), msec(median(rw.inits)))
	}
	load := fmt.Sprintf("load average %s before, %s after", loadBefore, loadAvg())
	table := render(rows, n)
	fmt.Println()
	fmt.Print(table)
	fmt.Println(load)
	if !write {
		return nil
	}
	path := filepath.Join(l.Root, "docs", "benchmarks.md")
	if err := writeSection(path, Heading, section(table, n, load)); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "lambdabench: wrote %q in %s\n", Heading, path)
	return nil
}

func coldStarts(ctx context.Context, l *invoke.Local, r *invoke.Runner, recs *invoke.Recorders, f invoke.Function, n int) ([]time.Duration, error) {
	raw, err := l.ReadEvent(f.Name, "")
	if err != nil {
		return nil, err
	}
	ev, err := l.Expand(ctx, raw) // fresh tokens once; they outlive the loop
	if err != nil {
		return nil, err
	}
	var out []time.Duration
	for i := range n + 1 {
		o, err := r.RunExpanded(ctx, recs, f, ev)
		if err != nil {
			return out, err
		}
		if !o.Result.Cold {
			return out, fmt.Errorf("no INIT REPORT line")
		}
		if i > 0 { // the first start pages the fresh binary in; it measures the disk, not the code
			out = append(out, o.Result.Init)
		}
	}
	return out, nil
}

func render(rows []row, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| function | arm64 binary | init, median of %d | init, min–max | |\n|---|---:|---:|---:|---|\n", n)
	var over []string
	var maxS int64
	var maxI time.Duration
	for _, r := range rows {
		verdict := "ok"
		switch {
		case r.err != nil:
			verdict = "error: " + strings.ReplaceAll(r.err.Error(), "|", "/")
		case r.size > maxSize || median(r.inits) > maxInit:
			verdict = "over target"
			over = append(over, r.name)
		}
		lo, hi := minMax(r.inits)
		fmt.Fprintf(&b, "| %s | %.2f MiB | %.1f ms | %.1f–%.1f ms | %s |\n", r.name, mib(r.size), msec(median(r.inits)), msec(lo), msec(hi), verdict)
		maxS = max(maxS, r.size)
		maxI = max(maxI, median(r.inits))
	}
	fmt.Fprintf(&b, "\nLargest binary %.2f MiB (target ≤ %d MiB); slowest median init %.1f ms (target ≤ %d ms); %d of %d functions over a target",
		mib(maxS), maxSize>>20, msec(maxI), maxInit/time.Millisecond, len(over), len(rows))
	if len(over) > 0 {
		fmt.Fprintf(&b, ": %s", strings.Join(over, ", "))
	}
	b.WriteString(".\n")
	return b.String()
}

func section(table string, n int, load string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf(`Written by `+"`make bench`"+` (infra/cmd/lambdabench) on %s: %s, %d cores, %s, %s/%s, host %s;
%s (1-minute; anything above 0 is other work competing for the cores, and inits grow with it).

- Size: `+"`bootstrap`"+` for linux/arm64 built as `+"`make build`"+` does (`+"`CGO_ENABLED=0 -tags lambda.norpc -trimpath -ldflags=\"-s -w\"`"+`), what
  `+"`sam deploy`"+` uploads (before zip). Target ≤ 10 MiB.
- Init: the same code built for this machine, started %d times under the Lambda Runtime Interface Emulator
  (a fresh emulator per start, one at a time, each invoked with its events/ sample against the local
  emulators; one more start before them is not counted, it pages the new binary in), read from the
  `+"`INIT REPORT(durationMs: …)`"+` line. It measures process start, config and
  client construction; it is not Lambda's figure (arm64 at 512 MB, a cold Firecracker VM), but it moves
  with what init does. Target ≤ 50 ms.

%s`, time.Now().Format("2006-01-02 15:04 MST"), cpuModel(), runtime.NumCPU(), goVersion(), runtime.GOOS, runtime.GOARCH, host, load, n, table)
}

// writeSection replaces the body under heading (up to the next "## " heading) in the Markdown file at
// path, or appends the section, leaving every other section as it is.
func writeSection(path, heading, body string) error {
	old, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		old = []byte("# Benchmarks\n\nFigures printed by `make bench`; each section names the command that writes it.\n")
	} else if err != nil {
		return err
	}
	lines := strings.SplitAfter(string(old), "\n")
	start := -1
	for i, ln := range lines {
		if strings.TrimRight(ln, "\r\n") == heading {
			start = i
			break
		}
	}
	sec := heading + "\n\n" + strings.TrimRight(body, "\n") + "\n"
	var out string
	if start < 0 {
		out = strings.TrimRight(string(old), "\n") + "\n\n" + sec
	} else {
		end := len(lines)
		for i := start + 1; i < len(lines); i++ {
			if strings.HasPrefix(lines[i], "## ") {
				end = i
				break
			}
		}
		rest := strings.Join(lines[end:], "")
		if rest != "" {
			sec += "\n"
		}
		out = strings.Join(lines[:start], "") + sec + rest
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minMax(ds []time.Duration) (time.Duration, time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	return slices.Min(ds), slices.Max(ds)
}

func mib(n int64) float64          { return float64(n) / (1 << 20) }
func msec(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func goVersion() string            { return "Go " + strings.TrimPrefix(runtime.Version(), "go") }

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, ln := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(ln, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH + " CPU"
}
