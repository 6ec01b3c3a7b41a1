package reader_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"onecard/infra/sqsrunner"
	"onecard/shared/cards"
	"onecard/shared/ledger"
	"onecard/shared/reader"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

// Purchases and hot water post within seconds; replaying the batches changes nothing.
func TestPurchasesPostAndReplayIsHarmless(t *testing.T) {
	w := newWorld(t)
	w.consume()
	for _, no := range []string{"10000001", "10000002", "10000003"} {
		w.Credit(no, 20000, "c-"+no)
	}
	canteen := []map[string]any{w.rec("purchase", 800, "10000001"), w.rec("purchase", 1250, "10000002"),
		w.rec("purchase", 600, "10000001"), w.rec("purchase", 990, "10000003")}
	water := []map[string]any{w.rec("hot_water", 150, "10000001"), w.rec("hot_water", 275, "10000002")}
	if s := statuses(w.post("POS-CANTEEN-01", canteen...)); s != "accepted,accepted,accepted,accepted" {
		t.Fatal(s)
	}
	if s := statuses(w.post("HOTWATER-8D-01", water...)); s != "accepted,accepted" {
		t.Fatal(s)
	}
	w.waitDone("POS-CANTEEN-01", seqsOf(canteen...)...)
	w.waitDone("HOTWATER-8D-01", seqsOf(water...)...)
	want := map[string]int64{"10000001": 20000 - 800 - 600 - 150, "10000002": 20000 - 1250 - 275, "10000003": 20000 - 990}
	check := func() {
		t.Helper()
		for no, bal := range want {
			if c := w.Card(no); c.Balance != bal || c.Arrears {
				t.Fatalf("%s: balance %d arrears %v, want %d", no, c.Balance, c.Arrears, bal)
			}
		}
	}
	check()
	hist := w.history("10000001")
	sort.Strings(hist)
	if fmt.Sprint(hist) != "[hot_water -150 8栋热水 purchase -600 第一食堂 purchase -800 第一食堂 recharge 20000 微信充值]" {
		t.Fatalf("history: %v", hist)
	}
	// The student sees them with the merchant and kind.
	h := w.Bound("13800000201", "CUIK20230002", "025620")
	var page struct {
		Items []struct {
			Kind      string
			AmountFen int64
			Merchant  string
			Status    string
		}
	}
	w.Do("GET", "/v1/card/transactions", nil, h...).Expect(t, 200, "").Decode(t, &page)
	var seen []string
	for _, it := range page.Items {
		seen = append(seen, fmt.Sprintf("%s %d %s %s", it.Kind, it.AmountFen, it.Merchant, it.Status))
	}
	sort.Strings(seen)
	if fmt.Sprint(seen) != "[hot_water -275 8栋热水 posted purchase -1250 第一食堂 posted recharge 20000 微信充值 posted]" {
		t.Fatalf("student history: %v", seen)
	}
	// Replays, whole or in part, in another order: duplicates, nothing moves.
	for i := 0; i < 2; i++ {
		if s := statuses(w.post("POS-CANTEEN-01", canteen[3], canteen[1], canteen[0], canteen[2])); s != "duplicate,duplicate,duplicate,duplicate" {
			t.Fatal(s)
		}
	}
	if s := statuses(w.post("HOTWATER-8D-01", water[1], w.rec("hot_water", 100, "10000003"))); s != "duplicate,accepted" {
		t.Fatal(s)
	}
	want["10000003"] -= 100
	w.waitDone("HOTWATER-8D-01", w.seq)
	check()
	w.Reconciled()
}

// message is the queue body of a record for the direct consumer tests.
func (w *world) message(device, cardNo string, fen int64, at time.Time) (events.SQSMessage, *reader.Message) {
	m := &reader.Message{Type: reader.TypeRecord, DeviceID: device, SchoolID: "kmmc", Merchant: "第一食堂", Seq: w.nextSeq(),
		OccurredAt: at, Kind: "purchase", AmountFen: fen, CardNo: cardNo, ReceivedAt: at}
	b, _ := json.Marshal(m)
	return events.SQSMessage{MessageId: fmt.Sprintf("m-%d", m.Seq), Body: string(b)}, m
}

func (w *world) consumer(db store.DB) *reader.Consumer {
	c := reader.NewConsumer(w.Deps)
	if db != nil {
		c.S = store.New(db, w.Deps.Cfg.Table)
	}
	return c
}

// retry hands ev again to c, as SQS redelivers a batch, and fails t unless nothing fails this time,
// posted records are posted and duplicate ones are found done already.
func retry(t *testing.T, c *reader.Consumer, ev events.SQSEvent, posted, duplicate int) {
	t.Helper()
	out, resp := c.Process(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 || out.Posted != posted || out.Duplicate != duplicate {
		t.Fatalf("retry: %+v %v", out, failedIDs(resp))
	}
}

func failedIDs(resp events.SQSEventResponse) []string {
	ids := []string{}
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	return ids
}

// SQS delivers at least once: the same record twice in one batch, or again in a later batch, posts once.
func TestDuplicateDeliveries(t *testing.T) {
	w := newWorld(t)
	w.Credit("10000001", 5000, "c1")
	c := w.consumer(nil)
	ctx := context.Background()
	a, _ := w.message("POS-CANTEEN-01", "10000001", 700, w.Clock.Now())
	b, _ := w.message("POS-CANTEEN-01", "10000001", 300, w.Clock.Now())
	a2 := a
	a2.MessageId = "m-copy"
	out, resp := c.Process(ctx, events.SQSEvent{Records: []events.SQSMessage{a, b, a2}})
	if out.Posted != 2 || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("first delivery: %+v %v", out, failedIDs(resp))
	}
	out, resp = c.Process(ctx, events.SQSEvent{Records: []events.SQSMessage{b, a}})
	if out.Posted != 0 || out.Duplicate != 2 || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("redelivery: %+v", out)
	}
	if bal := w.Card("10000001").Balance; bal != 4000 {
		t.Fatalf("balance %d", bal)
	}
	// Through the queue: the same body sent three times (with three deduplication ids, as when it is sent
	// again after SQS's five-minute deduplication window).
	w.consume()
	_, m := w.message("POS-CANTEEN-01", "10000001", 250, w.Clock.Now())
	body, _ := json.Marshal(m)
	url := w.Queues()["ReaderQueue"]
	for i := 0; i < 3; i++ {
		if _, err := w.Deps.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String(string(body)),
			MessageGroupId: aws.String(reader.Group("kmmc", "10000001")), MessageDeduplicationId: aws.String(fmt.Sprint("copy-", i))}); err != nil {
			t.Fatal(err)
		}
	}
	w.waitDone("POS-CANTEEN-01", m.Seq)
	w.drained() // every copy consumed and deleted, not only the first
	if c := w.Card("10000001"); c.Balance != 3750 || c.Seq != 4 {
		t.Fatalf("balance %d seq %d", c.Balance, c.Seq)
	}
	w.Reconciled()
}

// A consumer that dies halfway through a batch leaves its messages in the queue; they come back after
// the visibility timeout and the batch is finished without posting anything twice.
func TestConsumerKilledMidBatch(t *testing.T) {
	w := newWorld(t)
	for _, no := range []string{"10000001", "10000002", "10000003"} {
		w.Credit(no, 50000, "c-"+no)
	}
	var crashed atomic.Bool
	runner := w.consume(func(r *sqsrunner.Runner) {
		r.Cfg.VisibilityTimeout = 2 * time.Second // the template's 180 s would make this test slow
		real := r.Handler
		r.Handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			if len(ev.Records) < 2 || !crashed.CompareAndSwap(false, true) {
				return real(ctx, ev)
			}
			half := events.SQSEvent{Records: ev.Records[:len(ev.Records)/2]}
			if _, err := real(ctx, half); err != nil {
				return events.SQSEventResponse{}, err
			}
			panic("killed mid-batch")
		}
	})
	var recs []map[string]any
	for i := 0; i < 40; i++ {
		recs = append(recs, w.rec("purchase", int64(100+i), fmt.Sprint(10000001+i%3)))
	}
	// Post them before the consumer's first poll can split them: the runner batches what is waiting.
	if s := statuses(w.post("POS-CANTEEN-01", recs...)); strings.Count(s, "accepted") != 40 {
		t.Fatal(s)
	}
	w.waitDone("POS-CANTEEN-01", seqsOf(recs...)...)
	deadline := time.Now().Add(30 * time.Second)
	for w.queued() > 0 && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	st := runner.Stats()
	if !crashed.Load() || st.BatchFailures != 1 {
		t.Fatalf("no crash happened: %+v", st)
	}
	var total int64
	for i := 0; i < 40; i++ {
		total += int64(100 + i)
	}
	var sum, entries int64
	for _, no := range []string{"10000001", "10000002", "10000003"} {
		c := w.Card(no)
		sum += 50000 - c.Balance
		entries += c.Seq - 1
	}
	if sum != total || entries != 40 {
		t.Fatalf("charged %d in %d entries, want %d in 40", sum, entries, total)
	}
	w.Reconciled()
}

// A message the consumer cannot read fails alone and reaches the dead-letter queue after
// maxReceiveCount (5) receives; the good messages of its batches are posted.
func TestPoisonMessageReachesTheDLQ(t *testing.T) {
	w := newWorld(t)
	var poisonSeen atomic.Int32
	w.consume(func(r *sqsrunner.Runner) {
		r.Cfg.VisibilityTimeout = time.Second
		real := r.Handler
		r.Handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			for _, m := range ev.Records {
				if strings.Contains(m.Body, `"seq":"x"`) {
					poisonSeen.Add(1)
				}
			}
			return real(ctx, ev)
		}
	})
	qs := w.Queues()
	ctx := context.Background()
	if _, err := w.Deps.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(qs["ReaderQueue"]), MessageBody: aws.String(`{"type":"reader_record","seq":"x"}`),
		MessageGroupId: aws.String("kmmc:poison"), MessageDeduplicationId: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	good := w.rec("purchase", 100, "10000001")
	w.post("POS-CANTEEN-01", good)
	w.waitDone("POS-CANTEEN-01", good["seq"].(int64))
	deadline := time.Now().Add(40 * time.Second)
	for {
		res, err := w.Deps.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qs["ReaderDLQ"]), MaxNumberOfMessages: 1, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Messages) == 1 {
			if n := poisonSeen.Load(); n != 5 {
				t.Fatalf("moved to the DLQ after %d receives", n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("poison message never reached the DLQ")
		}
	}
	if bal := w.Card("10000001").Balance; bal != -100 {
		t.Fatalf("balance %d", bal)
	}
}

// failingCard fails every transaction that writes one card (the item of partition key pk), as a
// throttled or broken partition would: while on is true, or always when on is nil.
type failingCard struct {
	store.DB
	pk string
	on *atomic.Bool
}

func (f failingCard) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		if it.Update == nil || (f.on != nil && !f.on.Load()) {
			continue
		}
		if pk, ok := it.Update.Key["PK"].(*types.AttributeValueMemberS); ok && pk.Value == f.pk {
			return nil, errors.New("injected failure")
		}
	}
	return f.DB.TransactWriteItems(ctx, in, opts...)
}

// A failure on one card fails only that card's messages.
func TestOneCardFailingFailsOnlyItsMessages(t *testing.T) {
	w := newWorld(t)
	c := w.consumer(failingCard{DB: w.Deps.DB, pk: store.CardKey("kmmc", "10000002").PK})
	var ev events.SQSEvent
	var bad []string
	for i := 0; i < 9; i++ {
		no := fmt.Sprint(10000001 + i%3)
		m, _ := w.message("POS-CANTEEN-01", no, 100, w.Clock.Now())
		ev.Records = append(ev.Records, m)
		if no == "10000002" {
			bad = append(bad, m.MessageId)
		}
	}
	out, resp := c.Process(context.Background(), ev)
	if fmt.Sprint(failedIDs(resp)) != fmt.Sprint(bad) || out.Posted != 6 || out.Failed != 3 {
		t.Fatalf("failed %v (want %v), %+v", failedIDs(resp), bad, out)
	}
	if got := w.balances(); got != "-300 0 -300" {
		t.Fatal("balances:", got)
	}
	// The retry, with the card healthy again, finishes the job.
	retry(t, w.consumer(nil), ev, 3, 6)
	w.Reconciled()
}

// A message carries several records (ten from the ingest). When one of its cards fails, the whole
// message comes back; its other records were posted and are duplicates on the retry, so the ledger ends
// the same as if each record had travelled alone.
func TestFailingCardInAPackedMessage(t *testing.T) {
	w := newWorld(t)
	c := w.consumer(failingCard{DB: w.Deps.DB, pk: store.CardKey("kmmc", "10000002").PK})
	pack := func(id string, cards ...string) events.SQSMessage {
		var recs []string
		for _, no := range cards {
			recs = append(recs, fmt.Sprintf(`{"seq":%d,"occurredAt":%q,"kind":"purchase","amountFen":100,"cardNo":%q}`,
				w.nextSeq(), w.Clock.Now().Format(time.RFC3339Nano), no))
		}
		return events.SQSMessage{MessageId: id, Body: `{"type":"reader_records","deviceId":"POS-CANTEEN-01","schoolId":"kmmc","merchant":"第一食堂",` +
			`"receivedAt":"` + w.Clock.Now().Format(time.RFC3339Nano) + `","records":[` + strings.Join(recs, ",") + `]}`}
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		pack("a", "10000001", "10000002", "10000003"),
		pack("b", "10000001", "10000003"),
		pack("c", "10000002", "10000002"),
	}}
	out, resp := c.Process(context.Background(), ev)
	if got := fmt.Sprint(failedIDs(resp)); got != "[a c]" || out.Posted != 4 || out.Failed != 3 {
		t.Fatalf("failed %s, %+v", got, out)
	}
	if got := w.balances(); got != "-200 0 -200" {
		t.Fatal("balances after the failure:", got)
	}
	// SQS returns a and c; b was deleted. The retry posts card 2 and finds a's other records done.
	ev.Records = []events.SQSMessage{ev.Records[0], ev.Records[2]}
	retry(t, w.consumer(nil), ev, 3, 2)
	if got := w.balances(); got != "-200 -300 -200" {
		t.Fatal("balances after the retry:", got)
	}
	w.Reconciled()
}

// Two readers charging one card at the same moment: both land, in one sequence, nothing lost.
func TestTwoReadersChargeOneCardAtOnce(t *testing.T) {
	w := newWorld(t)
	w.Credit("10000001", 100000, "c1")
	w.consume(func(r *sqsrunner.Runner) { r.Cfg.Pollers = 3 })
	var wg sync.WaitGroup
	var seqs [2][]int64
	var mu sync.Mutex
	for r, dev := range []string{"POS-CANTEEN-01", "POS-CANTEEN-02"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < 4; b++ {
				var recs []map[string]any
				mu.Lock()
				for i := 0; i < 5; i++ {
					recs = append(recs, w.rec("purchase", 100, "10000001"))
				}
				mu.Unlock()
				if s := statuses(w.post(dev, recs...)); strings.Count(s, "accepted") != 5 {
					t.Errorf("%s: %s", dev, s)
				}
				seqs[r] = append(seqs[r], seqsOf(recs...)...)
			}
		}()
	}
	wg.Wait()
	w.waitDone("POS-CANTEEN-01", seqs[0]...)
	w.waitDone("POS-CANTEEN-02", seqs[1]...)
	// And two consumers posting the same card in the same instant, straight to the ledger.
	var evs [2]events.SQSEvent
	for i := 0; i < 20; i++ {
		m, _ := w.message([]string{"POS-CANTEEN-01", "POS-CANTEEN-02"}[i%2], "10000001", 10, w.Clock.Now())
		evs[i%2].Records = append(evs[i%2].Records, m)
	}
	start := make(chan struct{})
	for i := range evs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if out, resp := w.consumer(nil).Process(context.Background(), evs[i]); out.Posted != 10 || len(resp.BatchItemFailures) > 0 {
				t.Errorf("consumer %d: %+v", i, out)
			}
		}()
	}
	close(start)
	wg.Wait()
	if c := w.Card("10000001"); c.Balance != 100000-40*100-20*10 || c.Seq != 61 {
		t.Fatalf("balance %d seq %d", c.Balance, c.Seq)
	}
	w.Reconciled()
}

// hidingCodes hides spent payment codes from batch reads, as if the consumer had read just before
// another one spent the code: only the ledger's own guard is left.
type hidingCodes struct{ store.DB }

func (h hidingCodes) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := h.DB.BatchGetItem(ctx, in, opts...)
	if err != nil {
		return nil, err
	}
	for table, items := range out.Responses {
		kept := items[:0]
		for _, it := range items {
			if pk, _ := it["PK"].(*types.AttributeValueMemberS); pk == nil || !strings.HasPrefix(pk.Value, "PAYCODE#") {
				kept = append(kept, it)
			}
		}
		out.Responses[table] = kept
	}
	return out, nil
}

// A payment code is spent once, by the ledger itself too: two records with one code, from two readers
// that were both offline, charge the card once; the other record becomes a dispute.
func TestCodeSpentOnceByTheLedger(t *testing.T) {
	w := newWorld(t)
	w.Credit("10000001", 10000, "c1")
	h := w.virtual("13800000301", "CUIK20230001", "011237")
	code := w.code(h)
	first, second := w.codeRec(700, code), w.codeRec(700, code)
	// Both readers were offline: each approved the code and uploads later; both are accepted online
	// because neither has been posted yet.
	if s := statuses(w.post("POS-CANTEEN-01", first)); s != "accepted" {
		t.Fatal(s)
	}
	if s := statuses(w.post("POS-CANTEEN-02", second)); s != "accepted" {
		t.Fatal(s)
	}
	// Take both messages off the queue and post them as two consumers would.
	ev := w.take(2)
	one, two := events.SQSEvent{Records: ev.Records[:1]}, events.SQSEvent{Records: ev.Records[1:]}
	if out, _ := w.consumer(nil).Process(context.Background(), one); out.Posted != 1 {
		t.Fatalf("first: %+v", out)
	}
	// The second consumer missed the spent marker in its read: the ledger's put refuses the code.
	blind := w.consumer(hidingCodes{w.Deps.DB})
	blind.MaxAttempts = 3
	if out, resp := blind.Process(context.Background(), two); out.Posted != 0 || len(resp.BatchItemFailures) != 1 {
		t.Fatalf("blind second: %+v", out)
	}
	// Retried (as SQS would), it sees the code spent and keeps the record as a dispute.
	if out, resp := w.consumer(nil).Process(context.Background(), two); out.Disputed != 1 || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("retry: %+v", out)
	}
	if bal := w.Card("10000001").Balance; bal != 9300 {
		t.Fatalf("balance %d", bal)
	}
	ds := w.disputes("")
	if len(ds) != 1 || ds[0].Reason != "PAYMENT_CODE_USED" || !ds[0].PaidByCode || ds[0].AmountFen != 700 {
		t.Fatalf("disputes: %+v", ds)
	}
	w.Reconciled()
}

// A record dated after the card's loss report is not charged: it is kept for staff. Records from before
// the loss that arrive late are charged.
func TestRecordsAfterLossAreDisputed(t *testing.T) {
	w := newWorld(t)
	w.consume()
	h := w.Bound("13800000401", "CUIK20230001", "011237")
	w.Credit("10000001", 5000, "c1")
	before := w.rec("purchase", 500, "10000001")
	w.post("POS-CANTEEN-01", before)
	w.waitDone("POS-CANTEEN-01", before["seq"].(int64))
	lateButBefore := w.rec("purchase", 300, "10000001") // approved offline before the loss, uploaded after
	w.Clock.Advance(time.Minute)
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "011237"}, h...).Expect(t, 204, "")
	w.Clock.Advance(time.Minute)
	thief := w.rec("purchase", 2000, "10000001") // a reader that had not refreshed its blacklist
	if s := statuses(w.post("POS-CANTEEN-02", thief, lateButBefore)); s != "accepted,accepted" {
		t.Fatal(s)
	}
	w.waitDone("POS-CANTEEN-02", thief["seq"].(int64), lateButBefore["seq"].(int64))
	if bal := w.Card("10000001").Balance; bal != 5000-500-300 {
		t.Fatalf("balance %d", bal)
	}
	if s := statuses(w.post("POS-CANTEEN-02", thief)); s != "duplicate" {
		t.Fatalf("resend: %s", s)
	}
	ds := w.disputes("")
	if len(ds) != 1 || ds[0].Reason != "CARD_LOST" || ds[0].AmountFen != 2000 ||
		ds[0].DeviceID != "POS-CANTEEN-02" || ds[0].Seq != thief["seq"].(int64) || ds[0].OccurredAt != "2026-11-25T12:02:00+08:00" {
		t.Fatalf("disputes: %+v", ds)
	}
	w.Do("GET", "/v1/admin/disputes", nil, w.StaffOf("ops")...).Expect(t, 403, "FORBIDDEN")
	w.Do("GET", "/v1/admin/disputes?limit=0", nil, w.StaffOf("finance")...).Expect(t, 400, "BAD_LIMIT")
	w.Reconciled()
}

// Offline approvals may take a card into arrears; it joins the blacklist (incrementally, by version)
// until a recharge clears it, and gets no payment code meanwhile.
func TestArrearsAndTheBlacklist(t *testing.T) {
	w := newWorld(t)
	w.consume()
	h := w.virtual("13800000501", "CUIK20230002", "025620")
	w.Credit("10000002", 500, "c1")
	bl := func(since int64) reader.BlacklistAnswer {
		t.Helper()
		var a reader.BlacklistAnswer
		w.signed("GET", fmt.Sprintf("/v1/reader/blacklist?since=%d", since), "POS-CANTEEN-01", nil, nil).Expect(t, 200, "").Decode(t, &a)
		return a
	}
	v0 := bl(0)
	if len(v0.Added) != 0 || !v0.Full {
		t.Fatalf("start: %+v", v0)
	}
	w.Clock.Advance(time.Second)
	r1 := w.rec("purchase", 800, "10000002")
	w.post("POS-CANTEEN-01", r1)
	w.waitDone("POS-CANTEEN-01", r1["seq"].(int64))
	if c := w.Card("10000002"); c.Balance != -300 || !c.Arrears {
		t.Fatalf("balance %d arrears %v", c.Balance, c.Arrears)
	}
	v1 := bl(v0.Version)
	if fmt.Sprint(v1.Added, v1.Removed) != "[10000002] []" || v1.Full {
		t.Fatalf("after arrears: %+v", v1)
	}
	if full := bl(0); fmt.Sprint(full.Added) != "[10000002]" {
		t.Fatalf("full list: %+v", full)
	}
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 422, "CARD_IN_ARREARS")
	// Offline approvals keep being posted while it is in arrears.
	r2 := w.rec("purchase", 200, "10000002")
	if s := statuses(w.post("POS-CANTEEN-01", r2)); s != "accepted" {
		t.Fatal(s)
	}
	w.waitDone("POS-CANTEEN-01", r2["seq"].(int64))
	w.Clock.Advance(time.Second)
	w.Credit("10000002", 1000, "c2")
	if c := w.Card("10000002"); c.Balance != 500 || c.Arrears {
		t.Fatalf("after recharge: %d %v", c.Balance, c.Arrears)
	}
	// Asked since the version of the first answer (its changes are repeated: the overlap), the card's
	// latest change wins.
	if v2 := bl(v1.Version); fmt.Sprint(v2.Added, v2.Removed) != "[] [10000002]" {
		t.Fatalf("after recharge: %+v", v2)
	}
	if full := bl(0); len(full.Added) != 0 {
		t.Fatalf("full list after recharge: %+v", full)
	}
	w.code(h)
	// A change written late with an older clock (another function's) is still inside the lookback of
	// an answer given after it happened.
	v3 := bl(v1.Version)
	w.Clock.Advance(time.Minute)
	behind := func() time.Time { return w.Clock.Now().Add(-time.Minute) } // a writer whose clock is behind
	late := ledger.New(testkit.Store(w.Deps), behind)
	if _, err := late.Post(context.Background(), ledger.Movement{Scope: "reader:POS-CANTEEN-01", Key: "late-1", Postings: ledger.External(ledger.Posting{
		Account: cards.AccountID("kmmc", "10000002"), Item: store.CardKey("kmmc", "10000002"), AmountFen: -600, Kind: ledger.KindPurchase,
		Counterparty: "ext:merchant:POS-CANTEEN-01", AllowNegative: true})}); err != nil {
		t.Fatal(err)
	}
	if v4 := bl(v3.Version); fmt.Sprint(v4.Added) != "[10000002]" {
		t.Fatalf("late change missed: %+v", v4)
	}
	w.Reconciled()
}

// A posting that read the card before a status change cannot leave the blacklist wrong: cancelling a
// loss while a recharge clears the card's arrears, the recharge (having read "lost") must not leave the
// now active, paid-up card on the list.
func TestBlacklistStaysRightWhenAPostingRacesAStatusChange(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000601", "CUIK20230003", "034322")
	ctx := context.Background()
	s := testkit.Store(w.Deps)
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "034322"}, h...).Expect(t, 204, "")
	_, err := ledger.New(s, w.Clock.Now).Post(ctx, ledger.Movement{Scope: "reader:POS-CANTEEN-01", Key: "1",
		Postings: ledger.External(ledger.Posting{Account: cards.AccountID("kmmc", "10000003"), Item: store.CardKey("kmmc", "10000003"), AmountFen: -500,
			Kind: ledger.KindPurchase, Counterparty: "ext:merchant:POS-CANTEEN-01", AllowNegative: true})})
	if err != nil {
		t.Fatal(err)
	}
	// The recharge reads the card (lost, in arrears) ...
	stale, err := s.BatchGet(ctx, []store.Key{store.CardKey("kmmc", "10000003"), store.IdemKey("test", "r1")}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	// ... the student cancels the loss (still in arrears: still listed) ...
	w.Clock.Advance(time.Second)
	w.Do("DELETE", "/v1/card/loss", map[string]string{"cardPassword": "034322"}, h...).Expect(t, 204, "")
	// ... and the recharge lands with what it read.
	w.Clock.Advance(time.Second)
	l := ledger.New(s, w.Clock.Now)
	l.BatchReads = true
	l.Prefetched = stale
	if _, err := l.Post(ctx, ledger.Movement{Scope: "test", Key: "r1", Postings: ledger.External(ledger.Posting{Account: cards.AccountID("kmmc", "10000003"),
		Item: store.CardKey("kmmc", "10000003"), AmountFen: 1000, Kind: ledger.KindRecharge, Counterparty: "ext:wechat"})}); err != nil {
		t.Fatal(err)
	}
	c := w.Card("10000003")
	if c.Status != "active" || c.Arrears || c.Balance != 500 || c.GSI2PK != "" {
		t.Fatalf("card %s arrears %v balance %d listed %q", c.Status, c.Arrears, c.Balance, c.GSI2PK)
	}
	var ans reader.BlacklistAnswer
	w.signed("GET", "/v1/reader/blacklist", "POS-CANTEEN-01", nil, nil).Expect(t, 200, "").Decode(t, &ans)
	if len(ans.Added) != 0 {
		t.Fatalf("full list: %+v", ans)
	}
	w.signed("GET", fmt.Sprintf("/v1/reader/blacklist?since=%d", w.Clock.Now().Add(-time.Hour).UnixMicro()), "POS-CANTEEN-01", nil, nil).Expect(t, 200, "").Decode(t, &ans)
	if fmt.Sprint(ans.Added, ans.Removed) != "[] [10000003]" {
		t.Fatalf("changes: %+v", ans)
	}
	w.Reconciled()
}
