package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"onecard/shared/devicesig"
	"onecard/shared/paycode"
	"onecard/shared/readerrec"
)

func TestParseFlags(t *testing.T) {
	now := time.UnixMilli(1795579200123)
	c, err := parseFlags([]string{"-cards", "10000001, 10000002,", "-n", "5"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.startSeq != 1795579200123 || len(c.cards) != 2 || c.cards[1] != "10000002" || c.mode != "reader" {
		t.Fatalf("%+v", c)
	}
	c, err = parseFlags([]string{"-mode", "meter", "-meters", "M-E:elec,M-W:water,M3", "-meter-kind", "water"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := []meter{{"M-E", "elec"}, {"M-W", "water"}, {"M3", "water"}}; len(c.meters) != 3 || c.meters[0] != want[0] || c.meters[2] != want[2] {
		t.Fatalf("%+v", c.meters)
	}
	for _, bad := range [][]string{
		{"-mode", "x"}, {"-n", "0"}, {"-batch", "501"}, {"-rate", "-1"}, {"-cards", ""}, {"-mode", "meter"}, {"extra"},
	} {
		if _, err := parseFlags(bad, now); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestBuildRecordsDecode(t *testing.T) {
	now := time.Now()
	c := config{cards: []string{"10000001", "10000002"}, kind: "purchase", amount: 800, startSeq: now.UnixMilli()}
	recs := buildRecords(c, 3, 4, now)
	body, _ := json.Marshal(map[string]any{"records": recs})
	got, err := readerrec.DecodeBatch(body)
	if err != nil {
		t.Fatal(err)
	}
	for i, reason := range readerrec.ValidateBatch(got, now, 100000) {
		if reason != "" {
			t.Fatalf("record %d: %s", i, reason)
		}
	}
	if got[0].Seq != c.startSeq+3 || got[0].CardNo != "10000002" || got[1].CardNo != "10000001" || got[3].Seq != c.startSeq+6 {
		t.Fatalf("%+v", got)
	}
	c.code = "OC1.x.y"
	if r := buildRecords(c, 0, 1, now)[0]; r.CardNo != "" || r.PaymentCode != "OC1.x.y" {
		t.Fatalf("%+v", r)
	}
}

func TestBuildReadingsDecode(t *testing.T) {
	now := time.Now()
	c := config{meters: []meter{{"WH-8D-1006-E", "elec"}, {"WH-8D-1006-W", "water"}}, from: 1000, step: 250}
	body, _ := json.Marshal(map[string]any{"readings": buildReadings(c, 2, now)})
	got, err := readerrec.DecodeReadings(body)
	if err != nil {
		t.Fatal(err)
	}
	if got[1].Reading != 1500 || got[1].Kind != "water" || readerrec.ValidateReadings(got, now)[0] != "" {
		t.Fatalf("%+v", got)
	}
}

func TestParseResults(t *testing.T) {
	tl, err := parseResults([]byte(`{"results":[{"seq":1,"status":"accepted"},{"seq":2,"status":"rejected","reason":"BAD_AMOUNT"},{"seq":3,"status":"duplicate"},{"seq":4,"status":"rejected","reason":"BAD_AMOUNT"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := tl.String(); got != "accepted=1 duplicate=1 rejected=2 (BAD_AMOUNT×2)" {
		t.Fatal(got)
	}
	if _, err := parseResults([]byte(`<html>`)); err == nil {
		t.Fatal("html accepted")
	}
	if got := errorText([]byte(`{"error":{"code":"BAD_SIGNATURE","message":"设备签名无效"}}`)); got != "BAD_SIGNATURE 设备签名无效" {
		t.Fatal(got)
	}
}

func writeKeys(t *testing.T) (path string, pub ed25519.PublicKey) {
	seed := bytes.Repeat([]byte{42}, 32)
	priv := ed25519.NewKeyFromSeed(seed)
	path = filepath.Join(t.TempDir(), "devices.json")
	b, _ := json.Marshal(map[string]string{"POS-CANTEEN-01": base64.StdEncoding.EncodeToString(seed), "BAD": "xx"})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, priv.Public().(ed25519.PublicKey)
}

func TestLoadKey(t *testing.T) {
	path, pub := writeKeys(t)
	priv, err := loadKey(path, "POS-CANTEEN-01")
	if err != nil || !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) {
		t.Fatal(err)
	}
	for _, dev := range []string{"BAD", "NOPE"} {
		if _, err := loadKey(path, dev); err == nil {
			t.Errorf("%s loaded", dev)
		}
	}
}

// A fake ingest: checks the signature, decodes strictly, answers accepted the first time a seq is seen and
// duplicate after.
func TestRunAgainstFakeServer(t *testing.T) {
	path, pub := writeKeys(t)
	var mu sync.Mutex
	seen := map[int64]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s, err := devicesig.Parse(r.Header, r.Method, r.URL.RequestURI(), body, time.Now())
		if err == nil {
			err = s.Verify(pub)
		}
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"code":"BAD_SIGNATURE","message":"设备签名无效"}}`))
			return
		}
		recs, err := readerrec.DecodeBatch(body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		var out []readerrec.Result
		for i, reason := range readerrec.ValidateBatch(recs, time.Now(), 100000) {
			res := readerrec.Result{Seq: recs[i].Seq, Status: readerrec.StatusAccepted}
			switch {
			case reason != "":
				res.Status, res.Reason = readerrec.StatusRejected, reason
			case seen[recs[i].Seq]:
				res.Status = readerrec.StatusDuplicate
			}
			seen[recs[i].Seq] = true
			out = append(out, res)
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"results": out})
	}))
	defer srv.Close()

	cfg, err := parseFlags([]string{"-api", srv.URL, "-keys", path, "-cards", "10000001,10000002", "-n", "25", "-batch", "10", "-rate", "0", "-resend", "-resend-after", "0", "-start-seq", "1000"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(context.Background(), cfg, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"batch 1 (seq 1000–1009): 10 records: accepted=10 duplicate=0 rejected=0",
		"batch 1 (seq 1000–1009) resent: 10 records: accepted=0 duplicate=10 rejected=0",
		"batch 3 (seq 1020–1024): 5 records: accepted=5",
		"total: 25 records in",
		"accepted=25 duplicate=25 rejected=0; failed requests=0",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}

	// Signed as a device the server does not know the key of: every request fails, and run says so.
	cfg.startSeq, cfg.resend, cfg.n = 5000, false, 3
	other := filepath.Join(t.TempDir(), "other.json")
	_ = os.WriteFile(other, []byte(`{"POS-CANTEEN-01":"`+base64.StdEncoding.EncodeToString(make([]byte, 32))+`"}`), 0o600)
	cfg.keys = other
	out.Reset()
	if err := run(context.Background(), cfg, &out); err == nil || !strings.Contains(out.String(), "HTTP 401: BAD_SIGNATURE") {
		t.Fatalf("%v\n%s", err, out.String())
	}
}

func TestWaitTurn(t *testing.T) {
	start := time.Now()
	if err := waitTurn(context.Background(), start, 2, 100); err != nil { // due at +20 ms
		t.Fatal(err)
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Fatalf("did not wait: %v", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := waitTurn(ctx, time.Now(), 100, 1); err == nil {
		t.Fatal("cancelled wait returned nil")
	}
}

// Like a reader, the simulator refuses to pay more than a code authorises unless told to.
func TestCodeAmountBound(t *testing.T) {
	now := time.Unix(1795579200, 0)
	n, _ := paycode.NewNonce()
	code, err := paycode.Issue(paycode.Signer{Kid: "k1", Priv: ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, 32))},
		paycode.Claims{School: "kmmc", CardNo: "10000001", AmountFen: 500, IssuedAt: now, ExpiresAt: now.Add(time.Minute), Nonce: n})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseFlags([]string{"-code", code, "-n", "1", "-amount", "500"}, now); err != nil {
		t.Fatalf("at the code's amount: %v", err)
	}
	if _, err := parseFlags([]string{"-code", code, "-n", "1", "-amount", "501"}, now); err == nil || !strings.Contains(err.Error(), "500 fen") {
		t.Fatalf("above the code's amount: %v", err)
	}
	if _, err := parseFlags([]string{"-code", code, "-n", "1", "-amount", "501", "-ignore-code-amount"}, now); err != nil {
		t.Fatalf("-ignore-code-amount: %v", err)
	}
}
