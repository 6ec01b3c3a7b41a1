package invoke

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"

	"onecard/infra/localstack"
	"onecard/infra/rie"
)

// Runner runs the functions of a Local stack under the emulator, each invoke a cold start of its own
// emulator process (as `sam local invoke` does), with its AWS calls going through a Recorder.
type Runner struct {
	Local     *Local
	RIE       string            // aws-lambda-rie
	Bins      map[string]string // CodeURI → executable built for this machine
	Overrides map[string]string // environment set last (make invoke's -e)
	Logs      io.Writer         // the emulator's and function's lines as they come; nil keeps them in Result
}

// NewRunner installs the emulator and builds the functions for this machine into outDir (one `go
// build`; the build cache makes a rebuild cheap).
func NewRunner(l *Local, outDir string, fns []Function, log io.Writer) (*Runner, error) {
	bin, err := rie.Install(localstack.PathsAt(l.Root).CacheDir+"/bin", log)
	if err != nil {
		return nil, err
	}
	var uris []string
	for _, f := range fns {
		uris = append(uris, f.CodeURI)
	}
	if outDir == "" {
		outDir = filepath.Join(localstack.PathsAt(l.Root).CacheDir, "invoke")
	}
	bins, err := rie.Build(l.Root, outDir, "", uris)
	if err != nil {
		return nil, err
	}
	return &Runner{Local: l, RIE: bin, Bins: bins}, nil
}

// Outcome is one function run with one event.
type Outcome struct {
	Function Function
	Result   *rie.Result
	Calls    []rie.Call
	// Status is the HTTP status of an HTTP API answer (0 for other triggers).
	Status int
	// BatchItemFailures counts the messages an SQS consumer handed back.
	BatchItemFailures int
	// Undeclared are IAM actions the function's code called that template.yaml does not grant it.
	Undeclared []string
}

// Failed says why an outcome is a failure: the function crashed or returned an error, or answered 5xx.
func (o *Outcome) Failed() error {
	switch {
	case o.Result.Error != nil:
		return o.Result.Error
	case o.Status >= 500:
		return fmt.Errorf("answered %d: %s", o.Status, body(o.Result.Payload))
	}
	return nil
}

// Recorders hands out one Recorder per concurrent run, so calls are attributed to the right function.
type Recorders struct {
	l    *Local
	mu   sync.Mutex
	free []*rie.Recorder
	all  []*rie.Recorder
}

// NewRecorders returns a pool of Recorders on l's emulators.
func NewRecorders(l *Local) *Recorders { return &Recorders{l: l} }

func (p *Recorders) get() (*rie.Recorder, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.free); n > 0 {
		r := p.free[n-1]
		p.free = p.free[:n-1]
		return r, nil
	}
	r, err := rie.NewRecorder(p.l.Emu, p.l.SecretString)
	if err != nil {
		return nil, err
	}
	p.all = append(p.all, r)
	return r, nil
}

func (p *Recorders) put(r *rie.Recorder) { p.mu.Lock(); p.free = append(p.free, r); p.mu.Unlock() }

// Close stops every Recorder.
func (p *Recorders) Close() {
	for _, r := range p.all {
		r.Close()
	}
}

// Run starts f's bootstrap under a fresh emulator, invokes it once with event (placeholders expanded),
// and stops it.
func (r *Runner) Run(ctx context.Context, recs *Recorders, f Function, event []byte) (*Outcome, error) {
	ev, err := r.Local.Expand(ctx, event)
	if err != nil {
		return nil, fmt.Errorf("%s: event: %w", f.Name, err)
	}
	return r.RunExpanded(ctx, recs, f, ev)
}

// RunExpanded is Run with an event whose placeholders are already filled in (cold-start loops).
func (r *Runner) RunExpanded(ctx context.Context, recs *Recorders, f Function, ev []byte) (*Outcome, error) {
	bin, ok := r.Bins[f.CodeURI]
	if !ok {
		return nil, fmt.Errorf("%s: %s was not built", f.Name, f.CodeURI)
	}
	rec, err := recs.get()
	if err != nil {
		return nil, err
	}
	defer recs.put(rec)
	env, err := r.Local.FunctionEnv(f.Name, rec.URL(), r.Overrides)
	if err != nil {
		return nil, err
	}
	in, err := rie.Start(ctx, rie.Options{RIE: r.RIE, Bootstrap: bin, Env: env, Name: f.Name,
		Timeout: f.Timeout, MemoryMB: f.MemoryMB, Region: localstack.Region, Logs: r.Logs})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	defer in.Stop()
	rec.Take()
	res, err := in.Invoke(ctx, ev)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	o := &Outcome{Function: f, Result: res, Calls: rec.Take()}
	var answer struct {
		StatusCode        int `json:"statusCode"`
		BatchItemFailures []struct {
			ItemIdentifier string `json:"itemIdentifier"`
		} `json:"batchItemFailures"`
	}
	if json.Unmarshal(res.Payload, &answer) == nil {
		o.Status = answer.StatusCode
		o.BatchItemFailures = len(answer.BatchItemFailures)
	}
	granted := r.Local.Granted(f.Name)
	for _, a := range rie.Actions(o.Calls) {
		if !slices.Contains(granted, a) {
			o.Undeclared = append(o.Undeclared, a)
		}
	}
	// A secret is granted by its ARN: reading one the policy does not name is undeclared too.
	arns := r.Local.GrantedSecrets(f.Name)
	for _, c := range o.Calls {
		if c.Service != "secretsmanager" || c.SecretID == "" {
			continue
		}
		arn := "arn:aws:secretsmanager:" + localstack.Region + ":000000000000:secret:" + c.SecretID + "-AbCdEf"
		if !slices.ContainsFunc(arns, func(p string) bool { ok, _ := path.Match(p, arn); return ok }) {
			o.Undeclared = append(o.Undeclared, "secretsmanager:GetSecretValue on "+c.SecretID)
		}
	}
	return o, nil
}

// GrantedSecrets lists the ARN patterns of the secrets template.yaml lets function name read.
func (l *Local) GrantedSecrets(name string) []string {
	var out []string
	for _, f := range l.Template.Functions() {
		if f.Name != name {
			continue
		}
		for _, res := range f.SecretResources {
			if v, err := l.Template.Resolve(res, l.resolver()); err == nil {
				out = append(out, v)
			}
		}
	}
	return out
}

// Granted lists the IAM actions template.yaml grants function name.
func (l *Local) Granted(name string) []string {
	for _, f := range l.Template.Functions() {
		if f.Name == name {
			return f.Actions
		}
	}
	return nil
}

// ReadEvent reads events/<name>.json, or path when given.
func (l *Local) ReadEvent(name, path string) ([]byte, error) {
	if path == "" {
		path = EventPath(l.Root, name)
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, fmt.Errorf("no event %s: write one (go run ./infra/cmd/events writes a skeleton)", path)
	}
	return b, err
}

func body(b []byte) string {
	var ans struct{ Body string }
	if json.Unmarshal(b, &ans) == nil && ans.Body != "" {
		b = []byte(ans.Body)
	}
	if len(b) > 300 {
		b = append(b[:300:300], "…"...)
	}
	return string(b)
}
