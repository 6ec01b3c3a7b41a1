package invoke_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"onecard/infra/invoke"
	"onecard/infra/localstack"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // the event checks need no emulator
	}
	testkit.Main(m)
}

func root(t *testing.T) string {
	r, err := localstack.Root()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Every function of shared/catalog has events/<LogicalId>.json, shaped like its trigger's event, and
// every event file belongs to a function.
func TestEveryFunctionHasAnEvent(t *testing.T) {
	r := root(t)
	known := map[string]bool{}
	for _, tr := range invoke.Triggers() {
		known[tr.Name] = true
		b, err := os.ReadFile(invoke.EventPath(r, tr.Name))
		if err != nil {
			t.Errorf("%s has no event: run `make events` and give it realistic values (%v)", tr.Name, err)
			continue
		}
		if err := invoke.CheckEvent(tr.Function, tr.Access, b); err != nil {
			t.Errorf("events/%s.json: %v", tr.Name, err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(r, "events", "*.json"))
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".json"); !known[name] {
			t.Errorf("events/%s.json belongs to no function of shared/catalog", name)
		}
	}
}

// Every function runs once under the Lambda Runtime Interface Emulator with its event against the local
// stack: it must not crash, return a handler error or answer 5xx, and it must call no AWS action that
// template.yaml does not grant it (the IAM check from the code's side: the calls are recorded by a proxy
// in front of the emulators).
func TestEveryFunctionUnderTheEmulator(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds all functions and runs each under the Lambda emulator (about a minute); make test runs it")
	}
	ctx := context.Background()
	l, err := invoke.Attach(ctx, invoke.Options{Log: testkit.TestLogs()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	byName := map[string]invoke.Function{}
	for _, f := range l.Functions() {
		byName[f.Name] = f
	}
	// Catalog order, so that an event that changes the demo data (a loss report) runs before the one that
	// undoes it (its cancellation).
	var fns []invoke.Function
	for _, tr := range invoke.Triggers() {
		f, ok := byName[tr.Name]
		if !ok {
			t.Fatalf("%s is in shared/catalog but not in template.yaml: run `make template`", tr.Name)
		}
		fns = append(fns, f)
	}
	for name := range changesDemoLogin {
		if _, ok := byName[name]; !ok {
			t.Fatalf("changesDemoLogin names %s, which is not a function", name)
		}
	}
	for name := range changesDemoCard {
		if _, ok := byName[name]; !ok {
			t.Fatalf("changesDemoCard names %s, which is not a function", name)
		}
	}
	for name := range refusedSamples {
		if _, ok := byName[name]; !ok {
			t.Fatalf("refusedSamples names %s, which is not a function", name)
		}
	}
	start := time.Now()
	runner, err := invoke.NewRunner(l, t.TempDir(), fns, testkit.TestLogs())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d functions for the emulator in %s", len(fns), time.Since(start).Round(time.Millisecond))
	recs := invoke.NewRecorders(l)
	defer recs.Close()

	var (
		mu      sync.Mutex
		summary []string
		// Placeholders log in as the demo user and the demo admin, restoring their passwords first. An
		// event that changes one of those passwords must not run between another worker's restore and
		// its login, so it runs alone; all the others share the lock.
		logins sync.RWMutex
	)
	// Two emulators at a time, each running its share in order, one invoke at a time.
	const workers = 2
	t.Run("run", func(t *testing.T) {
		for w := range workers {
			share := fns[w*len(fns)/workers : (w+1)*len(fns)/workers]
			t.Run(fmt.Sprintf("worker%d", w), func(t *testing.T) {
				t.Parallel()
				for _, f := range share {
					t.Run(f.Name, func(t *testing.T) {
						if changesDemoLogin[f.Name] || changesDemoCard[f.Name] {
							logins.Lock()
							defer logins.Unlock()
						} else {
							logins.RLock()
							defer logins.RUnlock()
						}
						// The function gets the application secret's name, never its keys.
						env, err := l.FunctionEnv(f.Name, "", nil)
						if err != nil {
							t.Fatal(err)
						}
						for _, kv := range env {
							for _, key := range l.AppSecretValues() {
								if strings.Contains(kv, key) {
									t.Errorf("%s: key material in its environment: %s=…", f.Name, strings.SplitN(kv, "=", 2)[0])
								}
							}
						}
						ev, err := l.ReadEvent(f.Name, "")
						if err != nil {
							t.Fatal(err)
						}
						o, err := runner.Run(ctx, recs, f, ev)
						if err != nil {
							t.Fatal(err)
						}
						line := fmt.Sprintf("%-24s status %3d  init %6.1f ms  invoke %6.1f ms  %s", f.Name, o.Status,
							ms(o.Result.Init), ms(o.Result.Duration), strings.Join(actions(o), " "))
						// Granted but not called by this sample: not an error (another path may need it),
						// but worth a look when a grant outlives the code that needed it.
						if unused := unusedGrants(l.Granted(f.Name), actions(o)); len(unused) > 0 {
							line += "  (granted, not called here: " + strings.Join(unused, " ") + ")"
						}
						mu.Lock()
						summary = append(summary, line)
						mu.Unlock()
						if err := o.Failed(); err != nil {
							t.Errorf("%s failed: %v\n%s", f.Name, err, strings.Join(o.Result.Logs, "\n"))
						}
						if want, ok := refusedSamples[f.Name]; ok && o.Status != want {
							t.Errorf("%s answered %d, its sample shows a refusal with %d", f.Name, o.Status, want)
						} else if !ok && o.Status != 0 && (o.Status < 200 || o.Status > 299) {
							t.Errorf("%s answered %d: a sample shows the function at work (fix the event, or list it in refusedSamples with why)\n%s",
								f.Name, o.Status, body(o.Result.Payload))
						}
						if o.Status >= 200 && o.Status <= 299 {
							for _, leak := range internalKeys(o.Result.Payload) {
								t.Errorf("%s answers the table attribute %s: answer with a view type, not the stored item", f.Name, leak)
							}
						}
						for _, a := range o.Undeclared {
							t.Errorf("%s calls %s, which template.yaml does not grant it: add it to the function's Actions", f.Name, a)
						}
					})
				}
			})
		}
	})
	t.Logf("%d functions in %s:\n%s", len(summary), time.Since(start).Round(time.Millisecond), strings.Join(summary, "\n"))
}

// changesDemoLogin names the functions whose sample event changes the password of the demo user or the
// demo admin (the logins behind {{userToken}}, {{refreshToken}} and {{staffToken}}).
var changesDemoLogin = map[string]bool{
	"AdminPassword":     true,
	"MePassword":        true,
	"AuthResetPassword": true,
}

// changesDemoCard names the functions whose sample event changes the demo card in a way another
// sample would trip over (the virtual card turned off refuses CardPaymentCode): they run alone too,
// and the fixture puts the card back before the next event.
var changesDemoCard = map[string]bool{
	"CardVirtualOff": true,
}

// refusedSamples are the samples that show a refusal on purpose, with the status they must get; every
// other HTTP sample must answer 2xx.
var refusedSamples = map[string]int{
	"AuthResetPassword": 400, // the emailed code cannot be known in advance: BAD_CODE
	"MeEmail":           400, // the same: BAD_CODE
	"MePhone":           409, // moving the demo user to the other demo account's phone: PHONE_TAKEN
	"CardUnlock":        409, // the demo card is not locked: NOT_LOCKED
	"AdminCardUnlock":   409, // the same, from the staff console
	// No demo card is cancelled (replacing one would race the other samples): CARD_NOT_CANCELLED.
	"AdminCardMoveBalance": 409,
	// Only the demo user's card is bound, and unbinding it would race the user samples: CARD_NOT_BOUND.
	"AdminCardUnbind": 409,
	// The demo's one pending correction (infra/seed/books.go) is approved by AdminCorrectionApprove's sample,
	// which runs before it: CORRECTION_DECIDED.
	"AdminCorrectionReject": 409,
	// No day's WeChat Pay bill is matched in a fresh stack (WeChatBillMatcher runs at 10:30): BILL_NOT_MATCHED.
	"AdminWeChatBill": 404,
}

// storageOnly are attribute names of the table that are never part of an answer: the keys of the table
// and its indexes, and the TTL attribute.
var storageOnly = regexp.MustCompile(`^(PK|SK|GSI\d*(PK|SK)?|ttl)$`)

// internalKeys lists, by JSON path, the fields of an HTTP answer's JSON body (at any depth) that are
// table attributes.
func internalKeys(payload []byte) []string {
	var res struct {
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if json.Unmarshal(payload, &res) != nil || res.Body == "" {
		return nil
	}
	b := []byte(res.Body)
	if res.IsBase64Encoded {
		var err error
		if b, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
			return nil
		}
	}
	var v any
	if json.Unmarshal(b, &v) != nil {
		return nil // not JSON (a CSV export)
	}
	var out []string
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if storageOnly.MatchString(k) {
					out = append(out, path+"."+k)
				}
				walk(path+"."+k, e)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), e)
			}
		}
	}
	walk("$", v)
	sort.Strings(out)
	return out
}

func body(b []byte) string { return string(b[:min(len(b), 300)]) }

func unusedGrants(granted, called []string) []string {
	var out []string
	for _, g := range granted {
		if !slices.Contains(called, g) {
			out = append(out, g)
		}
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func actions(o *invoke.Outcome) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range o.Calls {
		for _, a := range c.Actions {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}
