package reader_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"onecard/infra/apigw"
	"onecard/infra/seed"
	"onecard/infra/sqsrunner"
	"onecard/shared/cards"
	"onecard/shared/catalog"
	"onecard/shared/devices"
	"onecard/shared/devicesig"
	"onecard/shared/fn"
	"onecard/shared/ledger"
	"onecard/shared/platform"
	"onecard/shared/reader"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

// Benchmark sizes (issue 5): 20,000 records over 200 cards end to end, the same writes straight to
// DynamoDB Local with 8 workers.
const (
	benchRecords = 20000
	benchCards   = 200
	benchReaders = 4
	rawWorkers   = 8
)

// counter counts DynamoDB requests and the capacity DynamoDB reports for them (ReturnConsumedCapacity
// is set on every request that takes it).
type counter struct {
	requests atomic.Int64
	milliCU  atomic.Int64 // capacity units × 1000
}

func (c *counter) client(d *platform.Deps) *dynamodb.Client {
	return dynamodb.NewFromConfig(d.AWS, func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = true
		o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
			return st.Initialize.Add(middleware.InitializeMiddlewareFunc("count", c.handle), middleware.After)
		})
	})
}

func (c *counter) handle(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	total := types.ReturnConsumedCapacityTotal
	switch v := in.Parameters.(type) {
	case *dynamodb.GetItemInput:
		v.ReturnConsumedCapacity = total
	case *dynamodb.PutItemInput:
		v.ReturnConsumedCapacity = total
	case *dynamodb.UpdateItemInput:
		v.ReturnConsumedCapacity = total
	case *dynamodb.QueryInput:
		v.ReturnConsumedCapacity = total
	case *dynamodb.BatchGetItemInput:
		v.ReturnConsumedCapacity = total
	case *dynamodb.TransactWriteItemsInput:
		v.ReturnConsumedCapacity = total
	}
	out, md, err := next.HandleInitialize(ctx, in)
	c.requests.Add(1)
	var ccs []types.ConsumedCapacity
	switch r := out.Result.(type) {
	case *dynamodb.GetItemOutput:
		if r.ConsumedCapacity != nil {
			ccs = append(ccs, *r.ConsumedCapacity)
		}
	case *dynamodb.PutItemOutput:
		if r.ConsumedCapacity != nil {
			ccs = append(ccs, *r.ConsumedCapacity)
		}
	case *dynamodb.UpdateItemOutput:
		if r.ConsumedCapacity != nil {
			ccs = append(ccs, *r.ConsumedCapacity)
		}
	case *dynamodb.QueryOutput:
		if r.ConsumedCapacity != nil {
			ccs = append(ccs, *r.ConsumedCapacity)
		}
	case *dynamodb.BatchGetItemOutput:
		ccs = r.ConsumedCapacity
	case *dynamodb.TransactWriteItemsOutput:
		ccs = r.ConsumedCapacity
	}
	for _, cc := range ccs {
		if cc.CapacityUnits != nil {
			c.milliCU.Add(int64(*cc.CapacityUnits * 1000))
		}
	}
	return out, md, err
}

func (c *counter) perRecord(n int) (requests, cu float64) {
	return float64(c.requests.Load()) / float64(n), float64(c.milliCU.Load()) / 1000 / float64(n)
}

// benchCardsSetup writes n cards with a large balance (through the ledger) and a high daily limit.
func benchCardsSetup(tb testing.TB, d *platform.Deps, n int) []string {
	ctx := context.Background()
	if err := seed.School(ctx, d); err != nil {
		tb.Fatal(err)
	}
	s := d.Store()
	nos := make([]string, n)
	var credits []ledger.Movement
	for i := range nos {
		no := fmt.Sprint(20000001 + i)
		nos[i] = no
		c := cards.Card{Key: store.CardKey("kmmc", no), Type: "card", Account: cards.AccountID("kmmc", no), SchoolID: "kmmc", CardNo: no,
			StudentNo: fmt.Sprint("CUIK2099", i), HolderName: "测试", Status: cards.Active, PerTxnFen: 5000, DailyFen: 1_000_000, CreatedAt: d.Now()}
		if err := s.Put(ctx, c.NewItem(), "", nil); err != nil {
			tb.Fatal(err)
		}
		credits = append(credits, ledger.Movement{Scope: "bench", Key: no, Postings: ledger.External(ledger.Posting{Account: c.Account, Item: c.Key,
			AmountFen: 5_000_000, Kind: ledger.KindRecharge, Counterparty: "ext:wechat"})})
	}
	if _, _, err := ledger.New(testkit.Store(d), d.Now).PostAll(ctx, credits); err != nil {
		tb.Fatal(err)
	}
	return nos
}

func benchDevice(tb testing.TB, d *platform.Deps, id string) ed25519.PrivateKey {
	priv := deviceKey(id)
	_, err := devices.Repo{S: d.Store()}.Put(context.Background(), devices.Registration{DeviceID: id, Kind: devices.KindReader,
		PublicKey: base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)), Merchant: "第一食堂", Category: devices.CategoryCanteen}, "kmmc", d.Now())
	if err != nil {
		tb.Fatal(err)
	}
	return priv
}

func batchBody(seq0 int64, n int, nos []string, rng *rand.Rand, at time.Time) []byte {
	recs := make([]map[string]any, n)
	for i := range recs {
		recs[i] = map[string]any{"seq": seq0 + int64(i), "occurredAt": at.Format(time.RFC3339), "kind": "purchase",
			"amountFen": 100 + rng.Int64N(1400), "cardNo": nos[rng.IntN(len(nos))]}
	}
	b, _ := json.Marshal(map[string]any{"records": recs})
	return b
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIngest100 is the ingest handler on batches of 100 card records: signature, decoding and
// checks, the DynamoDB reads, the SQS sends. cpu-µs/record is this process's CPU time (the emulators run
// in their own processes), the number the issue targets (< 50 µs).
func BenchmarkIngest100(b *testing.B) {
	d, _ := testkit.Deps(b)
	d.Now = time.Now
	nos := benchCardsSetup(b, d, 3)
	priv := benchDevice(b, d, "POS-CANTEEN-01")
	e := &testkit.Env{T: b, Deps: d}
	e.Queues()
	f, _ := catalog.Find("ReaderTransactions")
	h := f.Handler(d)
	rng := rand.New(rand.NewPCG(1, 2))
	seq := int64(1)
	var cpu time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		body := batchBody(seq, 100, nos, rng, time.Now())
		seq += 100
		req := httptest.NewRequest("POST", "/v1/reader/transactions", bytes.NewReader(body))
		if err := devicesig.SignRequest(req, "POS-CANTEEN-01", priv, body, time.Now()); err != nil {
			b.Fatal(err)
		}
		rec := httptest.NewRecorder()
		b.StartTimer()
		c0 := cpuTime()
		h.ServeHTTP(rec, req)
		cpu += cpuTime() - c0
		if rec.Code != 200 || bytes.Contains(rec.Body.Bytes(), []byte("rejected")) {
			b.Fatalf("%d %s", rec.Code, rec.Body.String()[:min(300, rec.Body.Len())])
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*100), "cpu-µs/record")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*100), "wall-µs/record")
}

// pipelineConcurrency are the consumer concurrencies BenchmarkPipeline measures: two (what the standard
// queue was held to), five (Lambda's default) and ten (the template's maximum).
var pipelineConcurrency = []int{2, 5, 10}

// BenchmarkPipeline posts 20,000 records over 200 cards through the local stack (signed HTTP ingest,
// SQS emulator, the consumer under the template's batch settings) at each consumer concurrency, each
// time followed by the same ledger writes straight to DynamoDB Local, one TransactWriteItems per record
// with 8 workers, and compares the two of the same round (the machine is shared: a later round may run
// slower or faster as a whole).
func BenchmarkPipeline(b *testing.B) {
	if b.N > 1 {
		b.Skip("one run is the measurement")
	}
	for _, conc := range pipelineConcurrency {
		pipe := runPipeline(b, conc)
		raw := runRaw(b)
		ratio := pipe.rate / raw.rate
		fmt.Printf("pipeline at consumer concurrency %d: %d records over %d cards in %.1fs = %.0f records/s; %.2f DynamoDB requests and %.2f capacity units per record (ingest %.2f req, consumer %.2f req); %d consumer invocations, mean batch %.1f messages, %.1f records\n",
			conc, benchRecords, benchCards, pipe.elapsed.Seconds(), pipe.rate, pipe.req, pipe.cu, pipe.ingestReq, pipe.consumerReq, pipe.invocations,
			float64(pipe.messages)/float64(max(pipe.invocations, 1)), float64(benchRecords)/float64(max(pipe.invocations, 1)))
		fmt.Printf("raw ledger: %d records, one TransactWriteItems each, %d workers, in %.1fs = %.0f records/s; %.2f DynamoDB requests and %.2f capacity units per record\n",
			benchRecords, rawWorkers, raw.elapsed.Seconds(), raw.rate, raw.req, raw.cu)
		fmt.Printf("pipeline_vs_raw_ratio=%.2f at consumer concurrency %d\n", ratio, conc)
		b.ReportMetric(pipe.rate, fmt.Sprintf("pipeline-records/s@%d", conc))
		b.ReportMetric(raw.rate, fmt.Sprintf("raw-records/s@%d", conc))
		b.ReportMetric(ratio, fmt.Sprintf("pipeline_vs_raw_ratio@%d", conc))
		b.ReportMetric(pipe.req, fmt.Sprintf("pipeline-ddb-req/record@%d", conc))
		b.ReportMetric(pipe.cu, fmt.Sprintf("pipeline-CU/record@%d", conc))
	}
}

type benchResult struct {
	elapsed                time.Duration
	rate, req, cu          float64
	ingestReq, consumerReq float64
	invocations, messages  int64
}

// pipelineStack is the local pipeline of a benchmark: the cards, the readers, the API and the consumer
// (not started) with conc concurrent batches, each side with a DynamoDB client that counts.
type pipelineStack struct {
	d                  *platform.Deps
	nos                []string
	keys               []ed25519.PrivateKey
	api                *httptest.Server
	runner             *sqsrunner.Runner
	queueURL           string
	ingestC, consumerC counter
}

func newPipelineStack(b *testing.B, conc, readers int) *pipelineStack {
	d, _ := testkit.Deps(b)
	d.Now = time.Now
	p := &pipelineStack{d: d, nos: benchCardsSetup(b, d, benchCards)}
	p.keys = make([]ed25519.PrivateKey, readers)
	for i := range p.keys {
		p.keys[i] = benchDevice(b, d, fmt.Sprintf("POS-BENCH-%02d", i))
	}
	di, dc := *d, *d
	di.DB, dc.DB = p.ingestC.client(d), p.consumerC.client(d)
	e := &testkit.Env{T: b, Deps: &di}
	qs := e.Queues()
	p.queueURL = qs["ReaderQueue"]
	dc.Cfg.ReaderQueueURL = di.Cfg.ReaderQueueURL
	srv, err := apigw.New(testkit.Template(b), catalog.HTTP, &di)
	if err != nil {
		b.Fatal(err)
	}
	p.api = httptest.NewServer(srv)
	b.Cleanup(p.api.Close)
	p.runner, err = sqsrunner.ForEvent(testkit.Template(b), queueConsumer(b), &dc, qs)
	if err != nil {
		b.Fatal(err)
	}
	p.runner.Cfg.Pollers = conc
	return p
}

// send posts one signed batch of n records from reader r; it returns when the ingest answered.
func (p *pipelineStack) send(b *testing.B, r int, seq0 int64, n int, rng *rand.Rand) bool {
	body := batchBody(seq0, n, p.nos, rng, time.Now())
	req, _ := http.NewRequest("POST", p.api.URL+"/v1/reader/transactions", bytes.NewReader(body))
	if err := devicesig.SignRequest(req, fmt.Sprintf("POS-BENCH-%02d", r), p.keys[r], body, time.Now()); err != nil {
		b.Error(err)
		return false
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		b.Errorf("ingest: %v %v", err, res)
		return false
	}
	res.Body.Close()
	return true
}

// drained waits until the queue holds nothing, visible or in flight.
func (p *pipelineStack) drained(b *testing.B, within time.Duration) {
	deadline := time.Now().Add(within)
	for {
		res, err := p.d.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &p.queueURL,
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
		if err != nil {
			b.Fatal(err)
		}
		if res.Attributes["ApproximateNumberOfMessages"] == "0" && res.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
			return
		}
		if time.Now().After(deadline) || b.Failed() {
			b.Fatalf("queue not drained: %v", res.Attributes)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func runPipeline(b *testing.B, conc int) benchResult {
	p := newPipelineStack(b, conc, benchReaders)
	runtime.GC()
	start := time.Now()
	stop := p.runner.Start(context.Background())
	defer stop()
	var wg sync.WaitGroup
	per := benchRecords / benchReaders
	for r := 0; r < benchReaders; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			for sent := 0; sent < per; sent += 100 {
				if !p.send(b, r, int64(sent+1), min(100, per-sent), rng) {
					return
				}
			}
		}()
	}
	wg.Wait()
	ingested := time.Since(start)
	p.drained(b, 10*time.Minute)
	elapsed := time.Since(start)
	st := p.runner.Stats()
	fmt.Printf("pipeline at consumer concurrency %d: ingest of %d records took %.1fs; %d batch failures, %d messages retried\n", conc, benchRecords, ingested.Seconds(), st.BatchFailures, st.Retried)
	verifyBooks(b, p.d, benchRecords)
	r := benchResult{elapsed: elapsed, rate: benchRecords / elapsed.Seconds(), invocations: st.Invocations, messages: st.Messages}
	ir, icu := p.ingestC.perRecord(benchRecords)
	cr, ccu := p.consumerC.perRecord(benchRecords)
	r.req, r.cu, r.ingestReq, r.consumerReq = ir+cr, icu+ccu, ir, cr
	return r
}

// Swipe latency: records arrive at a steady rate (latencyRates, records per second), as readers at a
// canteen post them (latencyReaders readers, each a small batch every latencyTick), for latencyFor.
var latencyRates = []int{100, 200}

const (
	latencyReaders = 10
	latencyTick    = 100 * time.Millisecond
	latencyFor     = 30 * time.Second
)

// BenchmarkSwipeLatency measures, at a steady 100 and 200 records/s, the time from a record accepted (the
// ingest's answer reached the reader) to its balance posted (the consumer's invocation that posted it
// returned), with the consumer at the template's concurrency.
func BenchmarkSwipeLatency(b *testing.B) {
	if b.N > 1 {
		b.Skip("one run is the measurement")
	}
	for _, rate := range latencyRates {
		swipeLatency(b, rate)
	}
}

func swipeLatency(b *testing.B, rate int) {
	p := newPipelineStack(b, 0, latencyReaders)
	if p.runner.Cfg.Pollers == 0 {
		p.runner.Cfg.Pollers = int(queueConsumer(b).MaxConcurrency)
	}
	var accepted, posted sync.Map // "r#seq" → time.Time
	real := p.runner.Handler
	p.runner.Handler = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		resp, err := real(ctx, ev)
		now := time.Now()
		if err != nil {
			return resp, err
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		for _, m := range ev.Records {
			msgs, derr := reader.DecodeMessage(m.Body)
			if derr != nil || failed[m.MessageId] {
				continue
			}
			for _, x := range msgs {
				posted.LoadOrStore(fmt.Sprintf("%s#%d", x.DeviceID, x.Seq), now)
			}
		}
		return resp, err
	}
	stop := p.runner.Start(context.Background())
	defer stop()
	perTick := rate * int(latencyTick/time.Millisecond) / 1000 / latencyReaders // records per reader per tick
	ticks := int(latencyFor / latencyTick)
	var wg sync.WaitGroup
	start := time.Now()
	for r := 0; r < latencyReaders; r++ {
		rng := rand.New(rand.NewPCG(uint64(r), 11))
		bodies := make([]int64, ticks) // seq0 of each tick's batch
		for i := range bodies {
			bodies[i] = int64(i*perTick + 1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Readers start spread over one tick, so the records do not arrive in bursts. A reader does
			// not wait for an answer before its next batch is due: the rate holds even when the ingest
			// answers slowly (a reader's batches then overlap, each with its own seqs).
			next := start.Add(latencyTick * time.Duration(r) / latencyReaders)
			for i := 0; i < ticks; i++ {
				time.Sleep(time.Until(next))
				next = next.Add(latencyTick)
				local := rand.New(rand.NewPCG(rng.Uint64(), uint64(i)))
				seq0 := bodies[i]
				wg.Add(1)
				go func() {
					defer wg.Done()
					if !p.send(b, r, seq0, perTick, local) {
						return
					}
					at := time.Now()
					for k := 0; k < perTick; k++ {
						accepted.Store(fmt.Sprintf("POS-BENCH-%02d#%d", r, seq0+int64(k)), at)
					}
				}()
			}
		}()
	}
	wg.Wait()
	sendTime := time.Since(start)
	p.drained(b, 5*time.Minute)
	total := latencyReaders * ticks * perTick
	verifyBooks(b, p.d, total)
	var lat []time.Duration
	accepted.Range(func(k, v any) bool {
		if pt, ok := posted.Load(k); ok {
			lat = append(lat, max(0, pt.(time.Time).Sub(v.(time.Time))))
		}
		return true
	})
	if len(lat) != total {
		b.Fatalf("%d latencies for %d records", len(lat), total)
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	st := p.runner.Stats()
	fmt.Printf("swipe latency at %.0f records/s (%d readers, a batch of %d every %v, %d records), consumer concurrency %d: p50 %v, p99 %v, max %v; %d invocations, mean batch %.1f messages\n",
		float64(total)/sendTime.Seconds(), latencyReaders, perTick, latencyTick, total, p.runner.Cfg.Pollers,
		p50.Round(time.Millisecond), p99.Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond), st.Invocations, float64(st.Messages)/float64(max(st.Invocations, 1)))
	b.ReportMetric(float64(p50.Milliseconds()), fmt.Sprintf("swipe-p50-ms@%d/s", rate))
	b.ReportMetric(float64(p99.Milliseconds()), fmt.Sprintf("swipe-p99-ms@%d/s", rate))
}

// queueConsumer is the catalog function that consumes the reader queue.
func queueConsumer(b *testing.B) fn.Event {
	for _, e := range catalog.Events {
		if e.Queue == "ReaderQueue" {
			return e
		}
	}
	b.Fatal("no consumer of ReaderQueue in the catalog")
	return fn.Event{}
}

func runRaw(b *testing.B) benchResult {
	d, _ := testkit.Deps(b)
	d.Now = time.Now
	nos := benchCardsSetup(b, d, benchCards)
	var c counter
	d.DB = c.client(d)
	s := d.Store()
	rng := rand.New(rand.NewPCG(3, 4))
	msgs := make([]*reader.Message, benchRecords)
	for i := range msgs {
		msgs[i] = &reader.Message{Type: reader.TypeRecord, DeviceID: "POS-RAW-01", SchoolID: "kmmc", Merchant: "第一食堂",
			Seq: int64(i + 1), OccurredAt: time.Now(), Kind: "purchase", AmountFen: 100 + rng.Int64N(1400), CardNo: nos[rng.IntN(len(nos))]}
	}
	runtime.GC()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < rawWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= benchRecords {
					return
				}
				m := msgs[i]
				mv, err := m.Movement()
				if err == nil {
					l := ledger.New(s, d.Now)
					l.BatchReads = true // as the consumer posts
					_, err = l.Post(context.Background(), mv)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	verifyBooks(b, d, benchRecords)
	r := benchResult{elapsed: elapsed, rate: benchRecords / elapsed.Seconds()}
	r.req, r.cu = c.perRecord(benchRecords)
	return r
}

func verifyBooks(b *testing.B, d *platform.Deps, records int) {
	rep, err := ledger.New(testkit.Store(d), d.Now).Reconcile(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if !rep.OK || rep.Entries != records+benchCards {
		b.Fatalf("books: ok=%v entries=%d discrepancies=%v", rep.OK, rep.Entries, rep.Discrepancies)
	}
}
