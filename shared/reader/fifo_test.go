package reader_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onecard/infra/sqsrunner"
	"onecard/shared/cards"
	"onecard/shared/reader"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

// Tests of the FIFO reader queue (docs/decisions/0013): a message group per school and card shard, so
// that concurrent batches never hold one card, and a failed message holds the rest of its group.

// cardsOf returns the cards whose records ev carries.
func cardsOf(t *testing.T, ev events.SQSEvent) []string {
	var out []string
	for _, m := range ev.Records {
		msgs, err := reader.DecodeMessage(m.Body)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, r := range msgs {
			if !slices.Contains(out, r.CardNo) {
				out = append(out, r.CardNo)
			}
		}
	}
	return out
}

// addCard writes an active card of the test school with a balance (for cards beyond the seeded three).
func (w *world) addCard(no string, fen int64) {
	w.T.Helper()
	c := cards.Card{Key: store.CardKey("kmmc", no), Type: "card", Account: cards.AccountID("kmmc", no), SchoolID: "kmmc", CardNo: no,
		StudentNo: "CUIK2098" + no, HolderName: "测试", Status: cards.Active, PerTxnFen: 5000, DailyFen: 1_000_000, CreatedAt: w.Clock.Now()}
	if err := testkit.Store(w.Deps).Put(context.Background(), c.NewItem(), "", nil); err != nil {
		w.T.Fatal(err)
	}
	if fen > 0 {
		w.Credit(no, fen, "c-"+no)
	}
}

// Five consumers at once, as Lambda runs them by default, over many records of few cards: no card is
// ever in two batches in flight at the same time, and everything is posted once.
func TestConcurrentBatchesNeverHoldOneCard(t *testing.T) {
	w := newWorld(t)
	nos := []string{"10000001", "10000002", "10000003"}
	for i := 0; i < 5; i++ {
		no := fmt.Sprint(20000001 + i)
		w.addCard(no, 0)
		nos = append(nos, no)
	}
	var (
		mu        sync.Mutex
		holding   = map[string]int{} // card → batches in flight that carry it
		overlaps  []string
		batches   atomic.Int64
		concurred atomic.Int64 // batches that started while another was in flight
		inFlight  atomic.Int64
	)
	w.consume(func(r *sqsrunner.Runner) {
		r.Cfg.Pollers = 5
		real := r.Handler
		r.Handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			batches.Add(1)
			if inFlight.Add(1) > 1 {
				concurred.Add(1)
			}
			defer inFlight.Add(-1)
			cs := cardsOf(t, ev)
			mu.Lock()
			for _, no := range cs {
				holding[no]++
				if holding[no] > 1 {
					overlaps = append(overlaps, no)
				}
			}
			mu.Unlock()
			defer func() {
				mu.Lock()
				for _, no := range cs {
					holding[no]--
				}
				mu.Unlock()
			}()
			return real(ctx, ev)
		}
	})
	const requests, per = 12, 25
	var wg sync.WaitGroup
	seqs := make([][]int64, 2)
	var want int64
	all := make([][]map[string]any, requests)
	for i := range all {
		for j := 0; j < per; j++ {
			fen := int64(100 + i*per + j)
			want += fen
			all[i] = append(all[i], w.rec("purchase", fen, nos[(i+j)%len(nos)]))
		}
	}
	for d, device := range []string{"POS-CANTEEN-01", "POS-CANTEEN-02"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := d; i < requests; i += 2 {
				if s := statuses(w.post(device, all[i]...)); strings.Count(s, "accepted") != per {
					t.Error(s)
				}
				seqs[d] = append(seqs[d], seqsOf(all[i]...)...)
			}
		}()
	}
	wg.Wait()
	w.waitDone("POS-CANTEEN-01", seqs[0]...)
	w.waitDone("POS-CANTEEN-02", seqs[1]...)
	mu.Lock()
	defer mu.Unlock()
	if len(overlaps) > 0 {
		t.Fatalf("cards held by two batches at once: %v", overlaps)
	}
	if concurred.Load() == 0 {
		t.Fatalf("the %d batches never ran at the same time: nothing was tested", batches.Load())
	}
	var spent int64 // every card started at 0
	for _, no := range nos {
		spent -= w.Card(no).Balance
	}
	if spent != want {
		t.Fatalf("charged %d, want %d", spent, want)
	}
	w.Reconciled()
}

// A message that fails holds the later messages of its group in the batch: they are reported failed
// too (their records posted meanwhile are duplicates on the retry), while an earlier message of the
// group and the other groups are deleted.
func TestFailedMessageHoldsTheRestOfItsGroup(t *testing.T) {
	w := newWorld(t)
	on := &atomic.Bool{}
	on.Store(true)
	c := w.consumer(failingCard{DB: w.Deps.DB, pk: store.CardKey("kmmc", "10000002").PK, on: on})
	msg := func(id, group, cardNo string) events.SQSMessage {
		m, _ := w.message("POS-CANTEEN-01", cardNo, 100, w.Clock.Now())
		m.MessageId, m.Attributes = id, map[string]string{"MessageGroupId": group}
		return m
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		msg("g1", "G", "10000001"), // before the failure: deleted
		msg("g2", "G", "10000002"), // fails
		msg("h1", "H", "10000003"),
		msg("g3", "G", "10000001"), // after the failure in G: held
		msg("h2", "H", "10000001"),
		msg("g4", "G", "10000003"), // held
	}}
	out, resp := c.Process(context.Background(), ev)
	got := failedIDs(resp)
	slices.Sort(got)
	if fmt.Sprint(got) != "[g2 g3 g4]" || out.Failed != 1 {
		t.Fatalf("failed %v, %+v; want g2 and the rest of G", got, out)
	}
	// SQS gives back g2, g3, g4 in order; the card works again.
	on.Store(false)
	retry(t, c, events.SQSEvent{Records: []events.SQSMessage{ev.Records[1], ev.Records[3], ev.Records[5]}}, 1, 2)
	if got := w.balances(); got != "-300 -100 -200" {
		t.Fatal("balances:", got)
	}
	w.Reconciled()
}

// End to end on the FIFO queue: a card fails once; its message and every later message of its group
// come back after the visibility timeout, in the order they were sent, and no later message of the
// group is handed to a consumer before the failed one is done.
func TestFailedGroupIsRetriedInOrder(t *testing.T) {
	w := newWorld(t)
	// A second card in the failing card's message group.
	failing := "10000002"
	var twin string
	for i := 30000001; twin == ""; i++ {
		if no := fmt.Sprint(i); reader.Shard(no) == reader.Shard(failing) {
			twin = no
		}
	}
	w.addCard(twin, 10000)
	// Three requests, one record each, all in one group: three messages in sending order.
	recs := []map[string]any{w.rec("purchase", 101, failing), w.rec("purchase", 102, twin), w.rec("purchase", 103, twin)}
	for _, r := range recs {
		if s := statuses(w.post("POS-CANTEEN-01", r)); s != "accepted" {
			t.Fatal(s)
		}
	}
	on := &atomic.Bool{}
	on.Store(true)
	c := w.consumer(failingCard{DB: w.Deps.DB, pk: store.CardKey("kmmc", failing).PK, on: on})
	var (
		mu         sync.Mutex
		deliveries [][]int64 // per invocation, the seqs of the group's records in the batch's order
		responses  [][]string
	)
	w.consume(func(r *sqsrunner.Runner) {
		r.Cfg.Pollers = 3
		r.Cfg.VisibilityTimeout = 2 * time.Second // the template's 60 s would make this test slow
		r.Handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			var seqs []int64
			for _, m := range ev.Records {
				msgs, err := reader.DecodeMessage(m.Body)
				if err != nil {
					t.Error(err)
				}
				for _, x := range msgs {
					seqs = append(seqs, x.Seq)
				}
			}
			resp, err := c.Handle(ctx, ev)
			on.Store(false) // the card fails in the first batch only
			mu.Lock()
			deliveries = append(deliveries, seqs)
			responses = append(responses, failedIDs(resp))
			mu.Unlock()
			return resp, err
		}
	})
	w.waitDone("POS-CANTEEN-01", seqsOf(recs...)...)
	mu.Lock()
	defer mu.Unlock()
	want := fmt.Sprint(seqsOf(recs...))
	// Delivered whole and in order, failed whole (the failed message holds the two after it), then
	// delivered again whole and in order.
	if len(deliveries) < 2 || fmt.Sprint(deliveries[0]) != want || len(responses[0]) != 3 || fmt.Sprint(deliveries[1]) != want {
		t.Fatalf("deliveries %v, failures %v; want %s failed whole, then %s again", deliveries, responses, want, want)
	}
	if w.Card(failing).Balance != -101 || w.Card(twin).Balance != 10000-102-103 {
		t.Fatal("balances")
	}
	w.Reconciled()
}
