package reader_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"onecard/shared/devices"
	"onecard/shared/paycode"
	"onecard/shared/reader"
	"onecard/shared/readerrec"
	"onecard/shared/testkit"
)

// A body that is not a batch is refused whole, with 400 and a code.
func TestBatchRefusals(t *testing.T) {
	w := newWorld(t)
	many := make([]any, 501)
	for i := range many {
		many[i] = w.rec("purchase", 100, "10000001")
	}
	tooMany, _ := json.Marshal(map[string]any{"records": many})
	big := `{"records":[{"seq":1,"kind":"` + strings.Repeat("x", 1<<20) + `"}]}`
	for _, c := range []struct{ name, body, code string }{
		{"not json", `{"records":[`, "MALFORMED_JSON"},
		{"two values", `{"records":[]} {}`, "MALFORMED_JSON"},
		{"repeated field", `{"records":[{"seq":1,"seq":2}]}`, "MALFORMED_JSON"},
		{"unknown field", `{"records":[{"seq":1,"shop":"x"}]}`, "UNKNOWN_FIELD"},
		{"string amount", `{"records":[{"seq":1,"amountFen":"800"}]}`, "WRONG_TYPE"},
		{"numeric card", `{"records":[{"seq":1,"cardNo":10000001}]}`, "WRONG_TYPE"},
		{"no records", `{"records":[]}`, "NO_RECORDS"},
		{"null records", `{"records":null}`, "NO_RECORDS"},
		{"501 records", string(tooMany), "TOO_MANY_RECORDS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.signed("POST", "/v1/reader/transactions", "POS-CANTEEN-01", []byte(c.body), nil).Expect(t, 400, c.code)
		})
	}
	w.signed("POST", "/v1/reader/transactions", "POS-CANTEEN-01", []byte(big), nil).Expect(t, 413, "BODY_TOO_LARGE")
	// Exactly 500 is a batch.
	rs := w.post("POS-CANTEEN-01", func() []map[string]any {
		out := make([]map[string]any, 500)
		for i := range out {
			out[i] = w.rec("purchase", 1, fmt.Sprint(10000001+i%3))
		}
		return out
	}()...)
	for _, r := range rs {
		if r.Status != "accepted" && r.Reason != reader.ReasonOverDailyLimit {
			t.Fatalf("500-record batch: %+v", r)
		}
	}
}

// Each record is judged on its own: a bad one is rejected with its reason, the others go on.
func TestRecordReasons(t *testing.T) {
	w := newWorld(t)
	now := w.Clock.Now()
	dup := w.rec("purchase", 100, "10000001")
	with := func(m map[string]any, k string, v any) map[string]any { m[k] = v; return m }
	without := func(m map[string]any, k string) map[string]any { delete(m, k); return m }
	cases := []struct {
		rec  map[string]any
		want string
	}{
		{w.rec("purchase", 800, "10000001"), "accepted"},
		{with(w.rec("purchase", 800, "10000001"), "seq", 0), "rejected:BAD_SEQ"},
		{with(w.rec("purchase", 800, "10000001"), "seq", 1.5), "rejected:BAD_SEQ"},
		{with(w.rec("purchase", 800, "10000001"), "kind", "coffee"), "rejected:BAD_KIND"},
		{w.rec("purchase", 0, "10000001"), "rejected:BAD_AMOUNT"},
		{with(w.rec("purchase", 800, "10000001"), "amountFen", 8.5), "rejected:BAD_AMOUNT"},
		{with(w.rec("purchase", 800, "10000001"), "occurredAt", now.Add(11*time.Minute).Format(time.RFC3339)), "rejected:BAD_TIME"},
		{with(w.rec("purchase", 800, "10000001"), "occurredAt", now.Add(-31*24*time.Hour).Format(time.RFC3339)), "rejected:BAD_TIME"},
		{with(w.rec("purchase", 800, "10000001"), "occurredAt", "yesterday"), "rejected:BAD_TIME"},
		{without(w.rec("purchase", 800, "10000001"), "cardNo"), "rejected:CARD_OR_CODE"},
		{with(w.rec("purchase", 800, "10000001"), "paymentCode", "OC1.x.y"), "rejected:CARD_OR_CODE"},
		{w.rec("purchase", 800, "1234abcd"), "rejected:BAD_CARD_NO"},
		{w.codeRec(800, "OC1.notacode.atall"), "rejected:BAD_PAYMENT_CODE"},
		{dup, "accepted"},
		{with(w.rec("purchase", 900, "10000002"), "seq", dup["seq"]), "rejected:DUPLICATE_IN_BATCH"},
		{w.rec("hot_water", 100, "10000001"), "rejected:KIND_NOT_ALLOWED"},
		{w.rec("purchase", 100, "99999999"), "rejected:CARD_NOT_FOUND"},
		{w.rec("purchase", 5001, "10000002"), "rejected:OVER_TXN_LIMIT"}, // the school's default 50.00 元
		{w.rec("purchase", 5000, "10000003"), "accepted"},
	}
	// The daily limit (300.00 元) counts earlier records of the same batch.
	for i := 0; i < 5; i++ {
		cases = append(cases, struct {
			rec  map[string]any
			want string
		}{w.rec("purchase", 5000, "10000003"), "accepted"})
	}
	cases = append(cases, struct {
		rec  map[string]any
		want string
	}{w.rec("purchase", 1, "10000003"), "rejected:OVER_DAILY_LIMIT"})
	recs := make([]map[string]any, len(cases))
	var want []string
	for i, c := range cases {
		recs[i], want = c.rec, append(want, c.want)
	}
	got := w.post("POS-CANTEEN-01", recs...)
	for i := range cases {
		g := got[i].Status
		if got[i].Reason != "" {
			g += ":" + got[i].Reason
		}
		if g != want[i] {
			t.Errorf("record %d %v: got %s, want %s", i, cases[i].rec, g, want[i])
		}
	}
	if got[1].Seq != 0 || got[0].Seq != recs[0]["seq"] {
		t.Errorf("seq echo: %+v %+v", got[0], got[1])
	}
	// The hot-water reader takes hot water only.
	if s := statuses(w.post("HOTWATER-8D-01", w.rec("hot_water", 150, "10000001"), w.rec("purchase", 150, "10000001"))); s != "accepted,rejected:KIND_NOT_ALLOWED" {
		t.Fatalf("hot water reader: %s", s)
	}
}

// Payment codes: verified at the record's time, single use online, refused for a card that may not pay.
func TestPaymentCodes(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000101", "CUIK20230001", "011237")
	w.Credit("10000001", 10000, "c1")
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 422, "VIRTUAL_CARD_OFF")
	w.Do("POST", "/v1/card/virtual", nil, h...).Expect(t, 204, "")
	var issued struct {
		Code, ExpiresAt      string
		AmountFen, PerTxnFen int64
	}
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 200, "").Decode(t, &issued)
	code := issued.Code
	if issued.ExpiresAt != "2026-11-25T12:01:00+08:00" || issued.AmountFen != 5000 || issued.PerTxnFen != 5000 || len(code) > paycode.MaxLen {
		t.Fatalf("issued: %+v", issued)
	}
	// A reader verifies it offline with the published keys.
	c, err := paycode.Parse(code)
	if err != nil || c.Verify(w.keysOf(), w.Clock.Now()) != nil || c.CardNo != "10000001" || c.School != "kmmc" || c.AmountFen != 5000 {
		t.Fatalf("code does not verify offline: %+v %v", c, err)
	}
	tampered := []byte(code)
	tampered[len(tampered)-10] ^= 1
	foreign := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))
	claims := func(school string) paycode.Claims {
		n, _ := paycode.NewNonce()
		return paycode.Claims{School: school, CardNo: "10000001", AmountFen: 5000, IssuedAt: w.Clock.Now(),
			ExpiresAt: w.Clock.Now().Add(time.Minute), Nonce: n}
	}
	unknownKey, _ := paycode.Issue(paycode.Signer{Kid: "rogue", Priv: foreign}, claims("kmmc"))
	otherSchool, _ := paycode.Issue(paycode.Signer{Kid: testkit.TestPaycodeKid, Priv: testkit.TestPaycodeKey}, claims("ynu"))
	late := w.codeRec(800, code)
	late["occurredAt"] = w.Clock.Now().Add(time.Minute).Format(time.RFC3339) // at expiresAt: expired
	first, second := w.codeRec(800, code), w.codeRec(900, code)
	got := statuses(w.post("POS-CANTEEN-01",
		w.codeRec(800, string(tampered)),
		w.codeRec(800, unknownKey),
		w.codeRec(800, otherSchool),
		late,
		w.codeRec(5001, code),
		first,
		second,
	))
	want := "rejected:BAD_PAYMENT_CODE,rejected:UNKNOWN_KEY,rejected:WRONG_SCHOOL,rejected:PAYMENT_CODE_EXPIRED," +
		"rejected:OVER_TXN_LIMIT,accepted,rejected:PAYMENT_CODE_USED"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	w.consume()
	w.waitDone("POS-CANTEEN-01", first["seq"].(int64))
	// Spent: another reader is refused, and a resend of the record that spent it is a duplicate.
	again := w.codeRec(800, code)
	again["occurredAt"] = w.Clock.Now().Add(30 * time.Second).Format(time.RFC3339)
	if s := statuses(w.post("POS-CANTEEN-02", again)); s != "rejected:PAYMENT_CODE_USED" {
		t.Fatalf("second use: %s", s)
	}
	if s := statuses(w.post("POS-CANTEEN-01", first)); s != "duplicate" {
		t.Fatalf("resend: %s", s)
	}
	if c := w.Card("10000001"); c.Balance != 9200 {
		t.Fatalf("balance %d", c.Balance)
	}
	if hist := w.history("10000001"); len(hist) != 2 || hist[0] != "purchase -800 第一食堂" {
		t.Fatalf("history %v", hist)
	}

	// Cards that may not pay get no code.
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "011237"}, h...).Expect(t, 204, "")
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 422, "CARD_LOST")
	w.Do("DELETE", "/v1/card/loss", map[string]string{"cardPassword": "011237"}, h...).Expect(t, 204, "")
	for i := 0; i < 5; i++ {
		w.Do("PUT", "/v1/card/password", map[string]string{"oldPassword": "000000", "newPassword": "123456"}, h...)
	}
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 423, "CARD_LOCKED")
	w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": "530102200001011237"}, h...).Expect(t, 204, "")
	w.code(h)
	w.Do("POST", "/v1/card/payment-code", nil).Expect(t, 401, "UNAUTHORIZED")
	w.Reconciled()
}

// The daily limit counts what was posted earlier (kept on the card by the consumer), per China day; a
// code carries what is left of it.
func TestDailyLimitAcrossBatches(t *testing.T) {
	w := newWorld(t)
	w.consume()
	w.Credit("10000003", 100000, "c1")
	var recs []map[string]any
	for i := 0; i < 6; i++ {
		recs = append(recs, w.rec("purchase", 4900, "10000003"))
	}
	if s := statuses(w.post("POS-CANTEEN-01", recs...)); strings.Count(s, "accepted") != 6 {
		t.Fatalf("first batch: %s", s)
	}
	w.waitDone("POS-CANTEEN-01", seqsOf(recs...)...)
	if c := w.Card("10000003"); c.SpentDay != "2026-11-25" || c.SpentFen != 29400 {
		t.Fatalf("spent %s %d", c.SpentDay, c.SpentFen)
	}
	h := w.virtual("13800000102", "CUIK20230003", "034322")
	var issued struct{ PerTxnFen int64 }
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 200, "").Decode(t, &issued)
	if issued.PerTxnFen != 600 {
		t.Fatalf("code limit %d, want what is left today (600)", issued.PerTxnFen)
	}
	if s := statuses(w.post("POS-CANTEEN-02", w.rec("purchase", 601, "10000003"), w.rec("purchase", 600, "10000003"))); s != "rejected:OVER_DAILY_LIMIT,accepted" {
		t.Fatalf("second batch: %s", s)
	}
	// A record of yesterday (uploaded late) counts against yesterday, which had nothing.
	y := w.rec("purchase", 4000, "10000003")
	y["occurredAt"] = w.Clock.Now().Add(-24 * time.Hour).Format(time.RFC3339)
	if s := statuses(w.post("POS-CANTEEN-02", y)); s != "accepted" {
		t.Fatalf("yesterday: %s", s)
	}
	w.waitDone("POS-CANTEEN-02", y["seq"].(int64))
	w.Clock.Advance(24 * time.Hour)
	h = w.login("13800000102")
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 200, "").Decode(t, &issued)
	if issued.PerTxnFen != 5000 {
		t.Fatalf("next day code limit %d", issued.PerTxnFen)
	}
	if s := statuses(w.post("POS-CANTEEN-01", w.rec("purchase", 4900, "10000003"))); s != "accepted" {
		t.Fatalf("next day: %s", s)
	}
	w.Reconciled()
}

// flaky fails some entries of SendMessageBatch calls, as SQS may under load.
type flaky struct {
	reader.Sender
	failFirst int32 // entries to fail on each of the first calls
	always    bool
	calls     atomic.Int32
}

func (f *flaky) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	n := f.calls.Add(1)
	if f.always {
		return nil, errors.New("queue down")
	}
	if n > 3 || f.failFirst == 0 {
		return f.Sender.SendMessageBatch(ctx, in, opts...)
	}
	keep := *in
	keep.Entries = in.Entries[:len(in.Entries)-int(min(f.failFirst, int32(len(in.Entries))))]
	out := &sqs.SendMessageBatchOutput{}
	if len(keep.Entries) > 0 {
		res, err := f.Sender.SendMessageBatch(ctx, &keep, opts...)
		if err != nil {
			return nil, err
		}
		out.Successful = res.Successful
	}
	for _, e := range in.Entries[len(keep.Entries):] {
		out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), SenderFault: false})
	}
	return out, nil
}

// Partial SendMessageBatch failures are retried; a record is answered accepted only once it is in the
// queue, and when the queue will not take it the whole batch is 503 (the reader resends it).
func TestEnqueueRetriesAndNeverClaimsWhatItDidNotQueue(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	dev, _, err := devices.Repo{S: testkit.Store(w.Deps)}.Get(ctx, "POS-CANTEEN-01")
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	for i := 0; i < 25; i++ {
		recs = append(recs, w.rec("purchase", 100, fmt.Sprint(10000001+i%3)))
	}
	body, _ := json.Marshal(map[string]any{"records": recs})

	in := reader.NewIngest(w.Deps)
	in.SQS = &flaky{Sender: w.Deps.SQS, failFirst: 4}
	res, err := in.Handle(ctx, dev, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Status != readerrec.StatusAccepted {
			t.Fatalf("%+v", r)
		}
	}
	// Ten records a message: 25 records are three messages, and together they carry each record once.
	if n := w.queued(); n != 3 {
		t.Fatalf("%d messages in the queue, want 3", n)
	}
	seqs := map[int64]bool{}
	for _, m := range w.receive(3) {
		ms, err := reader.DecodeMessage(m)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range ms {
			if seqs[r.Seq] {
				t.Fatalf("seq %d queued twice", r.Seq)
			}
			seqs[r.Seq] = true
		}
	}
	for _, r := range recs {
		if !seqs[r["seq"].(int64)] {
			t.Fatalf("seq %d accepted but not queued", r["seq"])
		}
	}

	in.SQS = &flaky{Sender: w.Deps.SQS, always: true}
	in.SendAttempts = 2
	if _, err := in.Handle(ctx, dev, body); err == nil || !strings.Contains(err.Error(), "QUEUE_UNAVAILABLE") {
		t.Fatalf("queue down: %v", err)
	}
	// Over HTTP the same is a 503 with Retry-After and the error shape.
	w.Deps.Cfg.ReaderQueueURL = w.Deps.Cfg.ReaderQueueURL + "-missing"
	r := w.signed("POST", "/v1/reader/transactions", "POS-CANTEEN-01", body, nil).Expect(t, 503, "QUEUE_UNAVAILABLE")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

// queued counts the messages waiting in this test's reader queue. The emulator counts a message a few
// milliseconds after it took it (it is "delayed" until a zero timer fires), so the count is read until
// it holds still.
func (w *world) queued() int {
	w.T.Helper()
	url := w.Queues()["ReaderQueue"]
	last := -1
	for {
		time.Sleep(100 * time.Millisecond)
		res, err := w.Deps.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
		if err != nil {
			w.T.Fatal(err)
		}
		var n int
		fmt.Sscan(res.Attributes["ApproximateNumberOfMessages"], &n)
		if n == last {
			return n
		}
		last = n
	}
}

// receive takes n messages off this test's reader queue (they stay invisible for a minute).
func (w *world) receive(n int) []string {
	w.T.Helper()
	url := w.Queues()["ReaderQueue"]
	var out []string
	for {
		res, err := w.Deps.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url,
			MaxNumberOfMessages: 10, VisibilityTimeout: 60, WaitTimeSeconds: 1}) // the emulator waits out a long poll
		if err != nil {
			w.T.Fatal(err)
		}
		for _, m := range res.Messages {
			out = append(out, aws.ToString(m.Body))
		}
		if len(out) >= n {
			return out
		}
	}
}

func TestKeysAndBlacklistParameters(t *testing.T) {
	w := newWorld(t)
	keys := w.keysOf()
	if pub := keys[testkit.TestPaycodeKid]; !bytes.Equal(pub, testkit.TestPaycodeKey.Public().(ed25519.PublicKey)) {
		t.Fatalf("keys: %v", keys)
	}
	for _, q := range []string{"?since=abc", "?since=-1", "?since=1&since=2", "?since=99999999999999999999"} {
		w.signed("GET", "/v1/reader/blacklist"+q, "POS-CANTEEN-01", nil, nil).Expect(t, 400, "BAD_SINCE")
	}
	var ans reader.BlacklistAnswer
	w.signed("GET", "/v1/reader/blacklist", "POS-CANTEEN-01", nil, nil).Expect(t, 200, "").Decode(t, &ans)
	if !ans.Full || len(ans.Added) != 0 || ans.Version != w.Clock.Now().Add(-reader.Lookback).UnixMicro() {
		t.Fatalf("empty blacklist: %+v", ans)
	}
	w.signed("GET", "/v1/reader/blacklist", "METERGW-01", nil, nil).Expect(t, 403, "DEVICE_NOT_ALLOWED")
	_ = base64.StdEncoding
}

// keysOf fetches GET /v1/reader/keys as a reader would.
func (w *world) keysOf() map[string]ed25519.PublicKey {
	w.T.Helper()
	var out struct{ Keys []paycode.KeyInfo }
	w.signed("GET", "/v1/reader/keys", "POS-CANTEEN-01", nil, nil).Expect(w.T, 200, "").Decode(w.T, &out)
	keys, err := paycode.KeySet(out.Keys)
	if err != nil {
		w.T.Fatal(err)
	}
	return keys
}

// drained waits until this test's reader queue holds no message, waiting, in flight or delayed: every
// copy sent was consumed and deleted.
func (w *world) drained() {
	w.T.Helper()
	url := w.Queues()["ReaderQueue"]
	names := []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		res, err := w.Deps.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: names})
		if err != nil {
			w.T.Fatal(err)
		}
		left := 0
		for _, n := range names {
			var v int
			fmt.Sscan(res.Attributes[string(n)], &v)
			left += v
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			w.T.Fatalf("reader queue still holds %d messages after 30 s", left)
		}
	}
}
