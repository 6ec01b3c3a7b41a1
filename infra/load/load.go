// Package load plays a lunch rush on one campus against the whole local system (infra/devstack): students
// opening the app (their card, their transactions, a payment code), canteen and hot-water readers posting
// at a steady pace, a few WeChat recharges and dorm recharges, all at once for a fixed time. It reports
// per-route latency, every error, the books' reconcile after the queue drained, and the partition keys
// the rush read and wrote most (Keys). `make load` runs it; docs/benchmarks.md keeps the figures.
package load

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"onecard/shared/devicesig"
)

// Plan is what the rush does.
type Plan struct {
	Students      int           // app users, each with a card bound and 500 元 recharged first
	Duration      time.Duration // of the rush
	AppUsers      int           // students using the app at once
	ReaderRate    float64       // records per second per reader
	Readers       []string      // device ids (keys in infra/local/demo/devices.json)
	RechargeEvery time.Duration // one WeChat recharge (order, sandbox pay)
	DormEvery     time.Duration // one dorm recharge paid by card
}

// Client talks to a running system.
type Client struct {
	API, Sandbox string
	HTTP         *http.Client
	Root         string // the repository (device keys)

	mu    sync.Mutex
	lat   map[string][]time.Duration
	errs  map[string]int
	first map[string]string // the first error body per route, for the report
}

// NewClient returns a client of the system at api with the WeChat Pay sandbox at sandbox.
func NewClient(api, sandbox, root string) *Client {
	return &Client{API: api, Sandbox: sandbox, Root: root,
		HTTP: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		lat:  map[string][]time.Duration{}, errs: map[string]int{}, first: map[string]string{}}
}

// call sends one request and records its latency under route (the route's template); an answer with a
// status other than want is an error.
func (c *Client) call(ctx context.Context, route, method, path string, body any, token string, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.API+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.do(route, req, want, out)
}

func (c *Client) do(route string, req *http.Request, want int, out any) error {
	start := time.Now()
	res, err := c.HTTP.Do(req)
	took := time.Since(start)
	if req.Context().Err() != nil {
		// The rush ended while this request was on its way: neither a latency nor an error.
		if err == nil {
			res.Body.Close()
		}
		return req.Context().Err()
	}
	var b []byte
	if err == nil {
		b, _ = io.ReadAll(res.Body)
		res.Body.Close()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lat[route] = append(c.lat[route], took)
	if err != nil || res.StatusCode != want {
		c.errs[route]++
		if _, ok := c.first[route]; !ok {
			if err != nil {
				c.first[route] = err.Error()
			} else {
				c.first[route] = fmt.Sprintf("%d %s", res.StatusCode, b)
			}
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("%s: %d %s", route, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// Student is a load student: an app account with a bound card.
type Student struct {
	Phone, StudentNo, CardNo, Token string
}

// Setup imports the roster of n students, opens an account for each, binds its card, opens the virtual
// card, binds WeChat and recharges 500 元 through the sandbox; workers at a time.
func (c *Client) Setup(ctx context.Context, staffUser, staffPassword string, n, workers int) ([]Student, error) {
	var staff struct{ Token string }
	if err := c.call(ctx, "POST /v1/admin/login", "POST", "/v1/admin/login",
		map[string]string{"username": staffUser, "password": staffPassword}, "", 200, &staff); err != nil {
		return nil, err
	}
	students := make([]Student, n)
	var csv strings.Builder
	csv.WriteString("studentNo,name,idNumber,cardNo\n")
	ids := make([]string, n)
	for i := range students {
		students[i] = Student{Phone: fmt.Sprintf("166%08d", i+1), StudentNo: fmt.Sprintf("CUIK2099%04d", i+1), CardNo: fmt.Sprintf("3000%04d", i+1)}
		ids[i] = idNumber(fmt.Sprintf("11010120000101%03d", i%1000))
		fmt.Fprintf(&csv, "%s,学生%04d,%s,%s\n", students[i].StudentNo, i+1, ids[i], students[i].CardNo)
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", c.API+"/v1/admin/students/import", strings.NewReader(csv.String()))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+staff.Token)
	var job struct{ JobID string }
	if err := c.do("POST /v1/admin/students/import", req, 202, &job); err != nil {
		return nil, err
	}
	// The import is a job: poll it until the schedule (every 2 s locally) has run it.
	var rep struct{ Created, Rejected int }
	for {
		var j struct {
			Status string
			Report *struct{ Created, Rejected int }
		}
		if err := c.call(ctx, "GET /v1/admin/imports/{jobId}", "GET", "/v1/admin/imports/"+job.JobID, nil, staff.Token, 200, &j); err != nil {
			return nil, err
		}
		if j.Status == "failed" {
			return nil, fmt.Errorf("roster import job %s failed", job.JobID)
		}
		if j.Status == "done" && j.Report != nil {
			rep = *j.Report
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	if rep.Rejected > 0 {
		return nil, fmt.Errorf("roster import rejected %d rows", rep.Rejected)
	}
	var ag struct{ Version int64 }
	if err := c.call(ctx, "GET /v1/agreement", "GET", "/v1/agreement?schoolId=kmmc", nil, "", 200, &ag); err != nil {
		return nil, err
	}
	jobs := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := c.open(ctx, &students[i], ids[i][12:], ag.Version); err != nil {
					errs <- err
				}
			}
		}()
	}
	for i := range students {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return students, nil
}

func (c *Client) open(ctx context.Context, s *Student, cardPassword string, agreement int64) error {
	const pw = "password123"
	if err := c.call(ctx, "POST /v1/auth/register", "POST", "/v1/auth/register", map[string]any{"phone": s.Phone,
		"password": pw, "schoolId": "kmmc", "agreementVersion": agreement}, "", 201, nil); err != nil {
		return err
	}
	var t struct{ AccessToken string }
	if err := c.call(ctx, "POST /v1/auth/login", "POST", "/v1/auth/login", map[string]string{"phone": s.Phone, "password": pw}, "", 200, &t); err != nil {
		return err
	}
	s.Token = t.AccessToken
	if err := c.call(ctx, "POST /v1/card/bind", "POST", "/v1/card/bind", map[string]string{"studentNo": s.StudentNo, "cardPassword": cardPassword}, s.Token, 200, nil); err != nil {
		return err
	}
	if err := c.call(ctx, "POST /v1/card/virtual", "POST", "/v1/card/virtual", nil, s.Token, 204, nil); err != nil {
		return err
	}
	if err := c.call(ctx, "POST /v1/me/wechat", "POST", "/v1/me/wechat", map[string]string{"jsCode": "load-" + s.Phone}, s.Token, 204, nil); err != nil {
		return err
	}
	return c.recharge(ctx, s, 50000)
}

// recharge creates a WeChat order and pays it in the sandbox (which notifies the API like WeChat Pay).
func (c *Client) recharge(ctx context.Context, s *Student, fen int64) error {
	var o struct{ OrderNo string }
	if err := c.call(ctx, "POST /v1/card/recharge", "POST", "/v1/card/recharge", map[string]int64{"amountFen": fen}, s.Token, 201, &o); err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(ctx, "POST", c.Sandbox+"/sandbox/orders/"+o.OrderNo+"/pay", nil)
	return c.do("sandbox pay (→ notify)", req, 200, nil)
}

// Rush runs the plan's traffic until its duration ends and returns how many reader records were accepted.
func (c *Client) Rush(ctx context.Context, p Plan, students []Student) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Duration)
	defer cancel()
	var wg sync.WaitGroup
	var accepted sync.Map
	for i := range p.AppUsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for ctx.Err() == nil {
				s := &students[r.IntN(len(students))]
				_ = c.call(ctx, "GET /v1/card", "GET", "/v1/card", nil, s.Token, 200, nil)
				_ = c.call(ctx, "GET /v1/card/transactions", "GET", "/v1/card/transactions?limit=20", nil, s.Token, 200, nil)
				_ = c.call(ctx, "POST /v1/card/payment-code", "POST", "/v1/card/payment-code", nil, s.Token, 200, nil)
				pause(ctx, time.Duration(200+r.IntN(300))*time.Millisecond)
			}
		}()
	}
	for ri, device := range p.Readers {
		key, err := deviceKey(c.Root, device)
		if err != nil {
			return 0, err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(100+ri), 2))
			kind, amount := "purchase", int64(800)
			if strings.HasPrefix(device, "HOTWATER") {
				kind, amount = "hot_water", 150
			}
			seq := time.Now().UnixMilli() * 1000
			const batch = 10
			every := time.Duration(float64(batch) / p.ReaderRate * float64(time.Second))
			next := time.Now()
			n := 0
			for ctx.Err() == nil {
				recs := make([]map[string]any, batch)
				for j := range recs {
					seq++
					recs[j] = map[string]any{"seq": seq, "occurredAt": time.Now().Format(time.RFC3339), "kind": kind,
						"amountFen": amount, "cardNo": students[r.IntN(len(students))].CardNo}
				}
				if c.postRecords(ctx, device, key, recs) == nil {
					n += batch
				}
				next = next.Add(every)
				pause(ctx, time.Until(next))
			}
			accepted.Store(device, n)
		}()
	}
	ticker := func(every time.Duration, f func(r *rand.Rand)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(every), 3))
			for ctx.Err() == nil {
				f(r)
				pause(ctx, every)
			}
		}()
	}
	ticker(p.RechargeEvery, func(r *rand.Rand) { _ = c.recharge(ctx, &students[r.IntN(len(students))], 5000) })
	rooms := []string{"WH-8D-1006", "WH-6D-101", "WH-9D-101"}
	ticker(p.DormEvery, func(r *rand.Rand) {
		room := rooms[r.IntN(len(rooms))]
		kind := "elec_water"
		if strings.Contains(room, "9D") {
			kind = "elec"
		}
		_ = c.call(ctx, "POST /v1/dorms/rooms/{roomId}/recharge", "POST", "/v1/dorms/rooms/"+room+"/recharge",
			map[string]any{"kind": kind, "amountFen": 500, "payWith": "card"}, students[r.IntN(len(students))].Token, 200, nil)
	})
	wg.Wait()
	total := 0
	accepted.Range(func(_, v any) bool { total += v.(int); return true })
	return total, nil
}

func pause(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

func (c *Client) postRecords(ctx context.Context, device string, key ed25519.PrivateKey, recs []map[string]any) error {
	body, _ := json.Marshal(map[string]any{"records": recs})
	req, err := http.NewRequestWithContext(ctx, "POST", c.API+"/v1/reader/transactions", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if err := devicesig.SignRequest(req, device, key, body, time.Now()); err != nil {
		return err
	}
	return c.do("POST /v1/reader/transactions", req, 200, nil)
}

func deviceKey(root, device string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(filepath.Join(root, "infra", "local", "demo", "devices.json"))
	if err != nil {
		return nil, err
	}
	var seeds map[string]string
	if err := json.Unmarshal(b, &seeds); err != nil {
		return nil, err
	}
	seed, err := base64.StdEncoding.DecodeString(seeds[device])
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("no key for %s in infra/local/demo/devices.json", device)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// idNumber completes 17 digits with their ID check character.
func idNumber(first17 string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	return first17 + string("10X98765432"[sum%11])
}

// RouteStats is one route's figures.
type RouteStats struct {
	Route         string
	Count, Errors int
	P50, P99      time.Duration
	FirstError    string
}

// Stats returns every route's figures, by route.
func (c *Client) Stats() []RouteStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]RouteStats, 0, len(c.lat))
	for route, l := range c.lat {
		s := append([]time.Duration(nil), l...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
		out = append(out, RouteStats{Route: route, Count: len(s), Errors: c.errs[route], P50: q(0.50), P99: q(0.99), FirstError: c.first[route]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Route < out[j].Route })
	return out
}

// Reset forgets the figures (after the setup).
func (c *Client) Reset() {
	c.mu.Lock()
	c.lat, c.errs, c.first = map[string][]time.Duration{}, map[string]int{}, map[string]string{}
	c.mu.Unlock()
}
