// Command readersim plays a card reader (or a meter gateway) against the API: it signs batches the way a
// device must (shared/devicesig, docs/reader-protocol.md), posts them, and prints what came back.
//
// Reader mode (default): n records, round-robin over the cards, in batches, at a given rate:
//
//	go run ./infra/cmd/readersim -api http://127.0.0.1:3000 -keys infra/local/demo/devices.json \
//	    -device POS-CANTEEN-01 -cards 10000001,10000002 -kind purchase -n 20 -rate 10 -amount 800
//
// Pay with a payment code instead of a card: -code 'OC1....' (one record; a code is single use). Like a
// reader, it refuses an -amount above what the code authorises (its amountFen, at most the card's balance
// when issued); -ignore-code-amount posts it anyway, to see the server refuse it (OVER_TXN_LIMIT).
// Show that a retry is harmless: -resend posts every batch a second time, -resend-after (2 s) later, once the
// consumer has posted it; its records come back duplicate. (A resend while the first copy is still in the
// queue is answered accepted again; the consumer posts it once.)
//
// Meter mode: n rounds, each posting one cumulative reading per meter, rising by -step each round:
//
//	go run ./infra/cmd/readersim -mode meter -device METERGW-01 -keys infra/local/demo/devices.json \
//	    -meters WH-8D-1006-E:elec,WH-8D-1006-W:water -from 100000 -step 250 -n 3
//
// Seqs start at the current unix time in milliseconds unless -start-seq says otherwise, so that reruns do
// not collide with earlier records (a collision would come back duplicate).
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"onecard/shared/devicesig"
	"onecard/shared/paycode"
)

type config struct {
	api, keys, device, mode string
	// reader mode
	cards    []string
	kind     string
	amount   int64
	code     string
	overCode bool
	startSeq int64
	// meter mode
	meters    []meter
	meterKind string
	from      int64
	step      int64
	// both
	n, batch int
	rate     float64
	resend   bool
	resendAt time.Duration
	timeout  time.Duration
}

type meter struct{ id, kind string }

func main() {
	cfg, err := parseFlags(os.Args[1:], time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "readersim:", err)
		os.Exit(2)
	}
	if err := run(context.Background(), cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "readersim:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, now time.Time) (config, error) {
	var c config
	var cards, meters string
	fs := flag.NewFlagSet("readersim", flag.ContinueOnError)
	fs.StringVar(&c.api, "api", "http://127.0.0.1:3000", "API base URL")
	fs.StringVar(&c.keys, "keys", "infra/local/demo/devices.json", `device keys: {"DEVICE-ID": "<base64 of the 32-byte Ed25519 seed>"}`)
	fs.StringVar(&c.device, "device", "POS-CANTEEN-01", "device id to sign as")
	fs.StringVar(&c.mode, "mode", "reader", "reader (POST /v1/reader/transactions) or meter (POST /v1/meter/readings)")
	fs.StringVar(&cards, "cards", "10000001", "comma-separated card numbers, used round-robin")
	fs.StringVar(&c.kind, "kind", "purchase", "record kind: purchase or hot_water")
	fs.Int64Var(&c.amount, "amount", 800, "amount per record in fen")
	fs.StringVar(&c.code, "code", "", "payment code to pay with instead of a card number")
	fs.BoolVar(&c.overCode, "ignore-code-amount", false, "with -code: post an -amount above the code's amount (a reader would refuse it)")
	fs.Int64Var(&c.startSeq, "start-seq", now.UnixMilli(), "first seq (default: now in unix milliseconds)")
	fs.StringVar(&meters, "meters", "", "meter mode: comma-separated meter ids, each optionally id:kind")
	fs.StringVar(&c.meterKind, "meter-kind", "elec", "meter mode: kind for meters given without one (elec or water)")
	fs.Int64Var(&c.from, "from", 0, "meter mode: first cumulative reading, in hundredths")
	fs.Int64Var(&c.step, "step", 100, "meter mode: increase per round, in hundredths")
	fs.IntVar(&c.n, "n", 20, "records to send (meter mode: rounds)")
	fs.IntVar(&c.batch, "batch", 10, "records per request, 1–500")
	fs.Float64Var(&c.rate, "rate", 10, "records per second; 0 for as fast as possible")
	fs.BoolVar(&c.resend, "resend", false, "post every batch twice (the second answer should be all duplicate)")
	fs.DurationVar(&c.resendAt, "resend-after", 2*time.Second, "with -resend: wait this long before the second post, so the first is posted")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "per-request timeout")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	c.cards = splitList(cards)
	for _, m := range splitList(meters) {
		id, kind, ok := strings.Cut(m, ":")
		if !ok {
			kind = c.meterKind
		}
		c.meters = append(c.meters, meter{id, kind})
	}
	switch {
	case c.mode != "reader" && c.mode != "meter":
		return c, fmt.Errorf("-mode must be reader or meter")
	case c.n < 1:
		return c, fmt.Errorf("-n must be at least 1")
	case c.batch < 1 || c.batch > 500:
		return c, fmt.Errorf("-batch must be 1–500")
	case c.rate < 0:
		return c, fmt.Errorf("-rate must not be negative")
	case c.mode == "reader" && c.code == "" && len(c.cards) == 0:
		return c, fmt.Errorf("-cards or -code is required")
	case c.mode == "reader" && c.code != "" && !c.overCode && c.amount > codeAmount(c.code):
		return c, fmt.Errorf("-amount %d is above the %d fen the payment code authorises: a reader refuses it (-ignore-code-amount posts it anyway)",
			c.amount, codeAmount(c.code))
	case c.mode == "meter" && len(c.meters) == 0:
		return c, fmt.Errorf("-meters is required in meter mode")
	case c.mode == "meter" && len(c.meters) > 500:
		return c, fmt.Errorf("at most 500 meters")
	}
	return c, nil
}

// codeAmount is the amount a payment code authorises; a code that does not parse is left for the server
// to refuse (BAD_PAYMENT_CODE), so it counts as no bound here.
func codeAmount(code string) int64 {
	c, err := paycode.Parse(code)
	if err != nil {
		return math.MaxInt64
	}
	return c.AmountFen
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// loadKey reads the device's private key from a devices.json file.
func loadKey(path, device string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var seeds map[string]string
	if err := json.Unmarshal(b, &seeds); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := seeds[device]
	if !ok {
		return nil, fmt.Errorf("%s has no key for %s", path, device)
	}
	seed, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s: the key of %s is not base64 of 32 bytes", path, device)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// wireRecord is one record as docs/reader-protocol.md spells it.
type wireRecord struct {
	Seq         int64  `json:"seq"`
	OccurredAt  string `json:"occurredAt"`
	Kind        string `json:"kind"`
	AmountFen   int64  `json:"amountFen"`
	CardNo      string `json:"cardNo,omitempty"`
	PaymentCode string `json:"paymentCode,omitempty"`
}

type wireReading struct {
	MeterID string `json:"meterId"`
	Kind    string `json:"kind"`
	Reading int64  `json:"reading"`
	ReadAt  string `json:"readAt"`
}

// buildRecords makes records first … first+count−1 of the run (seq = startSeq + index), all occurring at.
func buildRecords(c config, first, count int, at time.Time) []wireRecord {
	recs := make([]wireRecord, count)
	for i := range recs {
		k := first + i
		r := wireRecord{
			Seq:        c.startSeq + int64(k),
			OccurredAt: at.Format(time.RFC3339),
			Kind:       c.kind,
			AmountFen:  c.amount,
		}
		if c.code != "" {
			r.PaymentCode = c.code
		} else {
			r.CardNo = c.cards[k%len(c.cards)]
		}
		recs[i] = r
	}
	return recs
}

// buildReadings makes round's reading of every meter: from + step × round.
func buildReadings(c config, round int, at time.Time) []wireReading {
	rs := make([]wireReading, len(c.meters))
	for i, m := range c.meters {
		rs[i] = wireReading{MeterID: m.id, Kind: m.kind, Reading: c.from + c.step*int64(round), ReadAt: at.Format(time.RFC3339)}
	}
	return rs
}

// tally is what the answers said.
type tally struct {
	status  map[string]int // accepted, duplicate, rejected
	reasons map[string]int
}

func newTally() tally { return tally{status: map[string]int{}, reasons: map[string]int{}} }

func (t tally) add(o tally) {
	for k, v := range o.status {
		t.status[k] += v
	}
	for k, v := range o.reasons {
		t.reasons[k] += v
	}
}

func (t tally) String() string {
	s := fmt.Sprintf("accepted=%d duplicate=%d rejected=%d", t.status["accepted"], t.status["duplicate"], t.status["rejected"])
	var other []string
	for k := range t.status {
		if k != "accepted" && k != "duplicate" && k != "rejected" {
			other = append(other, k)
		}
	}
	sort.Strings(other)
	for _, k := range other {
		s += fmt.Sprintf(" %s=%d", k, t.status[k])
	}
	if len(t.reasons) > 0 {
		keys := make([]string, 0, len(t.reasons))
		for k := range t.reasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s×%d", k, t.reasons[k])
		}
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

// parseResults reads a 200 answer: {"results":[{"status":...,"reason":...}, ...]}.
func parseResults(body []byte) (tally, error) {
	var resp struct {
		Results []struct {
			Status string `json:"status"`
			Reason string `json:"reason"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return tally{}, fmt.Errorf("unreadable answer: %w", err)
	}
	t := newTally()
	for _, r := range resp.Results {
		t.status[r.Status]++
		if r.Reason != "" {
			t.reasons[r.Reason]++
		}
	}
	return t, nil
}

// errorText renders an API error body {"error":{"code","message"}}, or the raw body.
func errorText(body []byte) string {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
		return e.Error.Code + " " + e.Error.Message
	}
	if len(body) > 200 {
		body = body[:200]
	}
	return strings.TrimSpace(string(body))
}

type client struct {
	http   *http.Client
	api    string
	device string
	priv   ed25519.PrivateKey
}

// post signs and sends one JSON body; a non-200 answer is an error carrying the API's code and message.
func (cl client) post(ctx context.Context, path string, payload any) (tally, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return tally{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(cl.api, "/")+path, bytes.NewReader(body))
	if err != nil {
		return tally{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	if err := devicesig.SignRequest(req, cl.device, cl.priv, body, time.Now()); err != nil {
		return tally{}, err
	}
	resp, err := cl.http.Do(req)
	if err != nil {
		return tally{}, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return tally{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return tally{}, fmt.Errorf("HTTP %d: %s", resp.StatusCode, errorText(answer))
	}
	return parseResults(answer)
}

func run(ctx context.Context, c config, out io.Writer) error {
	priv, err := loadKey(c.keys, c.device)
	if err != nil {
		return err
	}
	cl := client{http: &http.Client{Timeout: c.timeout}, api: c.api, device: c.device, priv: priv}

	// Work out the batches: reader mode cuts n records into -batch sized requests; meter mode sends one
	// request per round.
	type job struct {
		label   string
		path    string
		payload any
		count   int
	}
	var next func(i int, at time.Time) job
	unit, jobs := "records", (c.n+c.batch-1)/c.batch
	if c.mode == "meter" {
		unit, jobs = "readings", c.n
		next = func(i int, at time.Time) job {
			rs := buildReadings(c, i, at)
			return job{fmt.Sprintf("round %d", i+1), "/v1/meter/readings", map[string]any{"readings": rs}, len(rs)}
		}
	} else {
		next = func(i int, at time.Time) job {
			first := i * c.batch
			recs := buildRecords(c, first, min(c.batch, c.n-first), at)
			label := fmt.Sprintf("batch %d (seq %d–%d)", i+1, recs[0].Seq, recs[len(recs)-1].Seq)
			return job{label, "/v1/reader/transactions", map[string]any{"records": recs}, len(recs)}
		}
	}

	total, sent, failed := newTally(), 0, 0
	start := time.Now()
	for i := 0; i < jobs; i++ {
		if err := waitTurn(ctx, start, sent, c.rate); err != nil {
			return err
		}
		j := next(i, time.Now())
		tries := 1
		if c.resend {
			tries = 2
		}
		for try := 0; try < tries; try++ {
			t0 := time.Now()
			label := j.label
			if try > 0 {
				label += " resent"
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(c.resendAt):
				}
			}
			got, err := cl.post(ctx, j.path, j.payload)
			ms := time.Since(t0).Milliseconds()
			if err != nil {
				failed++
				fmt.Fprintf(out, "%s: %d %s: FAILED %v (%d ms)\n", label, j.count, unit, err, ms)
				continue
			}
			total.add(got)
			fmt.Fprintf(out, "%s: %d %s: %s (%d ms)\n", label, j.count, unit, got, ms)
		}
		sent += j.count
	}
	elapsed := time.Since(start)
	fmt.Fprintf(out, "total: %d %s in %.2fs (%.1f %s/s): %s; failed requests=%d\n",
		sent, unit, elapsed.Seconds(), float64(sent)/max(elapsed.Seconds(), 1e-9), unit, total, failed)
	if failed > 0 {
		return errors.New(strconv.Itoa(failed) + " request(s) failed")
	}
	return nil
}

// waitTurn paces the run: the record numbered sent may go at start + sent/rate.
func waitTurn(ctx context.Context, start time.Time, sent int, rate float64) error {
	if rate <= 0 {
		return ctx.Err()
	}
	d := time.Until(start.Add(time.Duration(float64(sent) / rate * float64(time.Second))))
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
