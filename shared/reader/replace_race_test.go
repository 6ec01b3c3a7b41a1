package reader_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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
	"github.com/aws/smithy-go"

	"onecard/infra/sqsrunner"
	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/ledger"
	"onecard/shared/reader"
	"onecard/shared/store"
)

// afterFirstRead runs hook once, right after the first BatchGetItem returns: what another writer does
// between the consumer's read and its write.
type afterFirstRead struct {
	store.DB
	once sync.Once
	hook func()
}

func (a *afterFirstRead) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	out, err := a.DB.BatchGetItem(ctx, in, opts...)
	a.once.Do(a.hook)
	return out, err
}

// The repro: three purchases are accepted for a card with a balance; right after the
// consumer's batch read, finance replaces the card (补卡). The records were approved before the
// replacement, so they are charged to the new card; a fourth, dated after it (a reader with a stale
// blacklist), is kept as a dispute. Nothing is left as a debt on the cancelled card.
func TestReplaceBetweenTheConsumersReadAndWrite(t *testing.T) {
	w := newWorld(t)
	w.Credit("10000001", 5000, "c1")
	t0 := w.Clock.Now()
	var ev events.SQSEvent
	for _, fen := range []int64{100, 200, 300} {
		m, _ := w.message("POS-CANTEEN-01", "10000001", fen, t0)
		ev.Records = append(ev.Records, m)
	}
	late, lateMsg := w.message("POS-CANTEEN-01", "10000001", 400, t0.Add(2*time.Minute))
	ev.Records = append(ev.Records, late)
	fin := w.StaffOf(auth.RoleFinance)
	w.Clock.Advance(time.Minute)
	c := w.consumer(&afterFirstRead{DB: w.Deps.DB, hook: func() {
		w.Do("POST", "/v1/admin/cards/10000001/replace", map[string]string{"newCardNo": "20000001"}, fin...).Expect(t, 200, "")
	}})
	out, resp := c.Process(context.Background(), ev)
	if len(resp.BatchItemFailures) != 0 || out.Posted != 3 || out.Disputed != 1 {
		t.Fatalf("%+v %v", out, failedIDs(resp))
	}
	old, nc := w.Card("10000001"), w.Card("20000001")
	if old.Status != cards.Cancelled || old.Balance != 0 || nc.Balance != 5000-600 || nc.Arrears {
		t.Fatalf("old card %s %d, new card %d", old.Status, old.Balance, nc.Balance)
	}
	if h := w.history("20000001"); len(h) != 4 { // the move in, three purchases
		t.Fatalf("new card's history: %v", h)
	}
	d := w.disputes("")
	if len(d) != 1 || d[0].Reason != reader.DisputeCardCancelled || d[0].Seq != lateMsg.Seq || d[0].CardNo != "10000001" {
		t.Fatalf("disputes: %+v", d)
	}
	// Redelivered, nothing moves.
	if out, _ := w.consumer(nil).Process(context.Background(), ev); out.Duplicate != 4 {
		t.Fatalf("redelivery: %+v", out)
	}
	w.Reconciled()
}

// A record of a card replaced while it was lost: dated before the loss report it is the student's and
// goes to the new card; dated after, it is a dispute (the card's cutoff is its loss report).
func TestRecordsOfAReplacedLostCard(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000701", "CUIK20230002", "025620")
	w.Credit("10000002", 3000, "c1")
	before, _ := w.message("POS-CANTEEN-01", "10000002", 250, w.Clock.Now())
	w.Clock.Advance(time.Minute)
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "025620"}, h...).Expect(t, 204, "")
	w.Clock.Advance(time.Minute)
	thief, _ := w.message("POS-CANTEEN-01", "10000002", 900, w.Clock.Now())
	w.Clock.Advance(time.Hour)
	w.Do("POST", "/v1/admin/cards/10000002/replace", map[string]string{"newCardNo": "20000002"}, w.StaffOf(auth.RoleFinance)...).Expect(t, 200, "")
	out, resp := w.consumer(nil).Process(context.Background(), events.SQSEvent{Records: []events.SQSMessage{before, thief}})
	if len(resp.BatchItemFailures) != 0 || out.Posted != 1 || out.Disputed != 1 {
		t.Fatalf("%+v", out)
	}
	w.moved("10000002", "20000002", 3000-250)
	w.Reconciled()
}

// moved fails the test unless the replaced card from holds nothing and its replacement to holds fen.
func (w *world) moved(from, to string, fen int64) {
	w.T.Helper()
	if old, nc := w.Card(from), w.Card(to); old.Balance != 0 || nc.Balance != fen {
		w.T.Fatalf("old %d new %d", old.Balance, nc.Balance)
	}
}

// beforeDisputeWrite runs hook once, just before the first transaction that resolves a dispute.
type beforeDisputeWrite struct {
	store.DB
	once sync.Once
	hook func()
}

func (b *beforeDisputeWrite) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		if it.Update != nil {
			if pk, _ := it.Update.Key["PK"].(*types.AttributeValueMemberS); pk != nil && strings.HasPrefix(pk.Value, "DISPUTE#") {
				b.once.Do(b.hook)
			}
		}
	}
	return b.DB.TransactWriteItems(ctx, in, opts...)
}

// Charging a dispute decides the card from a read; a 补卡 between that read and the posting makes it
// decide again: the charge lands on the new card, not as a debt on the cancelled one.
func TestDisputeChargeRacingAReplace(t *testing.T) {
	w := newWorld(t)
	w.Credit("10000003", 2000, "c1")
	seq := w.keep("POS-CANTEEN-01", "10000003", 700, reader.DisputeCardLost)
	fin := w.StaffOf(auth.RoleFinance)
	db := &beforeDisputeWrite{DB: w.Deps.DB, hook: func() {
		w.Do("POST", "/v1/admin/cards/10000003/replace", map[string]string{"newCardNo": "20000003"}, fin...).Expect(t, 200, "")
	}}
	s := store.New(db, w.Deps.Cfg.Table)
	l := ledger.New(s, w.Deps.Now)
	p := auth.Principal{Subject: "finance-user", Kind: auth.KindStaff, School: "kmmc", Roles: []string{auth.RoleFinance}}
	v, err := reader.ResolveDispute(context.Background(), s, l, p, "POS-CANTEEN-01", seq, reader.DecisionCharge, "学生确认", w.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if v.Status != reader.DisputeCharged || v.ChargedCard != "20000003" {
		t.Fatalf("resolved: %+v", v)
	}
	w.moved("10000003", "20000003", 2000-700)
	w.Reconciled()
}

// flakyDB fails a share of DynamoDB calls as a throttled or overloaded table does: throttling, server
// errors, transaction conflicts, and timeouts after a write that did commit.
type flakyDB struct {
	store.DB
	rate   float64
	failed atomic.Int64
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "injected: read tcp: i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func (f *flakyDB) fault(write bool) (err error, after bool) {
	if rand.Float64() >= f.rate {
		return nil, false
	}
	f.failed.Add(1)
	switch n := rand.IntN(4); {
	case n == 0:
		return &types.ProvisionedThroughputExceededException{Message: aws.String("injected")}, false
	case n == 1:
		return &types.InternalServerError{Message: aws.String("injected")}, false
	case n == 2 && write:
		return timeoutErr{}, true // the write committed; its answer was lost
	default:
		return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "injected"}, false
	}
}

func (f *flakyDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	if err, _ := f.fault(false); err != nil {
		return nil, err
	}
	return f.DB.BatchGetItem(ctx, in, opts...)
}

func (f *flakyDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if err, _ := f.fault(false); err != nil {
		return nil, err
	}
	return f.DB.GetItem(ctx, in, opts...)
}

func (f *flakyDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	err, after := f.fault(true)
	if err == nil {
		return f.DB.TransactWriteItems(ctx, in, opts...)
	}
	if after {
		if _, werr := f.DB.TransactWriteItems(ctx, in, opts...); werr != nil {
			return nil, werr
		}
	}
	return nil, err
}

// With a fifth of DynamoDB calls failing, the consumer retries inside the invocation: no message is
// received more than three times, none reaches the dead-letter queue, every record is posted once.
func TestTransientFaultsDoNotDeadLetterGoodRecords(t *testing.T) {
	w := newWorld(t)
	flaky := &flakyDB{DB: w.Deps.DB, rate: 0.2}
	var mu sync.Mutex
	receives := map[string]int{}
	runner := w.consume(func(r *sqsrunner.Runner) {
		// As on AWS, the visibility timeout is not shorter than the function's timeout: a slow batch on a
		// loaded machine is not delivered again while it is still being worked on (a 1 s visibility made
		// this test count such redeliveries as receives). A failed message comes back after 10 s.
		r.Cfg.VisibilityTimeout, r.Cfg.Timeout = 10*time.Second, 10*time.Second
		c := w.consumer(flaky)
		r.Handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			mu.Lock()
			for _, m := range ev.Records {
				receives[m.MessageId]++
			}
			mu.Unlock()
			return c.Handle(ctx, ev)
		}
	})
	want, entries := map[string]int64{}, map[string]int64{}
	var seqs []int64
	for b := 0; b < 6; b++ {
		var recs []map[string]any
		for i := 0; i < 100; i++ {
			no := fmt.Sprint(10000001 + i%3)
			fen := int64(1 + (b*100+i)%50)
			recs = append(recs, w.rec("purchase", fen, no))
			want[no] -= fen
			entries[no]++
		}
		if s := statuses(w.post("POS-CANTEEN-01", recs...)); strings.Count(s, "accepted") != 100 {
			t.Fatal(s)
		}
		seqs = append(seqs, seqsOf(recs...)...)
	}
	w.waitDone("POS-CANTEEN-01", seqs...)
	w.drained()
	mu.Lock()
	most := 0
	for _, n := range receives {
		most = max(most, n)
	}
	mu.Unlock()
	if flaky.failed.Load() == 0 {
		t.Fatal("no fault was injected")
	}
	if most > 3 {
		t.Fatalf("a message was received %d times (%d faults injected, runner %+v)", most, flaky.failed.Load(), runner.Stats())
	}
	res, err := w.Deps.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.Queues()["ReaderDLQ"]), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 0 {
		t.Fatalf("%d messages in the DLQ", len(res.Messages))
	}
	for no, bal := range want {
		if c := w.Card(no); c.Balance != bal || c.Seq != entries[no] {
			t.Fatalf("%s: balance %d seq %d, want %d in %d entries", no, c.Balance, c.Seq, bal, entries[no])
		}
	}
	w.Reconciled()
}
