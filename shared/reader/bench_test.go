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
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
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
	s := store.New(d.DB, d.Cfg.Table)
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
	_, err := devices.Repo{S: store.New(d.DB, d.Cfg.Table)}.Put(context.Background(), devices.Registration{DeviceID: id, Kind: devices.KindReader,
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

// BenchmarkPipeline posts 20,000 records over 200 cards through the local stack (signed HTTP ingest,
// SQS emulator, the consumer under the template's batch settings), then sends the same ledger writes
// straight to DynamoDB Local, one TransactWriteItems per record with 8 workers, and compares.
func BenchmarkPipeline(b *testing.B) {
	if b.N > 1 {
		b.Skip("one run is the measurement")
	}
	pipe := runPipeline(b)
	raw := runRaw(b)
	ratio := pipe.rate / raw.rate
	fmt.Printf("pipeline: %d records over %d cards in %.1fs = %.0f records/s; %.2f DynamoDB requests and %.2f capacity units per record (ingest %.2f req, consumer %.2f req); %d consumer invocations, mean batch %.1f\n",
		benchRecords, benchCards, pipe.elapsed.Seconds(), pipe.rate, pipe.req, pipe.cu, pipe.ingestReq, pipe.consumerReq, pipe.invocations, float64(pipe.messages)/float64(max(pipe.invocations, 1)))
	fmt.Printf("raw ledger: %d records, one TransactWriteItems each, %d workers, in %.1fs = %.0f records/s; %.2f DynamoDB requests and %.2f capacity units per record\n",
		benchRecords, rawWorkers, raw.elapsed.Seconds(), raw.rate, raw.req, raw.cu)
	fmt.Printf("pipeline_vs_raw_ratio=%.2f\n", ratio)
	b.ReportMetric(pipe.rate, "pipeline-records/s")
	b.ReportMetric(raw.rate, "raw-records/s")
	b.ReportMetric(ratio, "pipeline_vs_raw_ratio")
	b.ReportMetric(pipe.req, "pipeline-ddb-req/record")
	b.ReportMetric(pipe.cu, "pipeline-CU/record")
	b.ReportMetric(raw.req, "raw-ddb-req/record")
	b.ReportMetric(raw.cu, "raw-CU/record")
}

type benchResult struct {
	elapsed                time.Duration
	rate, req, cu          float64
	ingestReq, consumerReq float64
	invocations, messages  int64
}

func runPipeline(b *testing.B) benchResult {
	d, _ := testkit.Deps(b)
	d.Now = time.Now
	nos := benchCardsSetup(b, d, benchCards)
	keys := make([]ed25519.PrivateKey, benchReaders)
	for i := range keys {
		keys[i] = benchDevice(b, d, fmt.Sprintf("POS-BENCH-%02d", i))
	}
	// The ingest and the consumer each get a DynamoDB client that counts.
	var ingestC, consumerC counter
	di, dc := *d, *d
	di.DB, dc.DB = ingestC.client(d), consumerC.client(d)
	e := &testkit.Env{T: b, Deps: &di}
	qs := e.Queues()
	dc.Cfg.ReaderQueueURL = di.Cfg.ReaderQueueURL
	srv, err := apigw.New(testkit.Template(b), catalog.HTTP, &di)
	if err != nil {
		b.Fatal(err)
	}
	api := httptest.NewServer(srv)
	defer api.Close()
	runner, err := sqsrunner.ForEvent(testkit.Template(b), queueConsumer(b), &dc, qs)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	start := time.Now()
	stop := runner.Start(context.Background())
	defer stop()
	var wg sync.WaitGroup
	var wantMessages atomic.Int64 // the ingest packs up to RecordsPerMessage records in a message
	per := benchRecords / benchReaders
	for r := 0; r < benchReaders; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 7))
			id := fmt.Sprintf("POS-BENCH-%02d", r)
			for sent := 0; sent < per; sent += 100 {
				n := min(100, per-sent)
				wantMessages.Add(int64((n + reader.RecordsPerMessage - 1) / reader.RecordsPerMessage))
				body := batchBody(int64(sent+1), n, nos, rng, time.Now())
				req, _ := http.NewRequest("POST", api.URL+"/v1/reader/transactions", bytes.NewReader(body))
				if err := devicesig.SignRequest(req, id, keys[r], body, time.Now()); err != nil {
					b.Error(err)
					return
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil || res.StatusCode != 200 {
					b.Errorf("ingest: %v %v", err, res)
					return
				}
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	ingested := time.Since(start)
	deadline := time.Now().Add(10 * time.Minute)
	for runner.Stats().Deleted < wantMessages.Load() {
		if time.Now().After(deadline) || b.Failed() {
			b.Fatalf("deleted %d of %d messages", runner.Stats().Deleted, wantMessages.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(start)
	st := runner.Stats()
	fmt.Printf("pipeline: ingest of %d records took %.1fs; %d batch failures, %d messages retried\n", benchRecords, ingested.Seconds(), st.BatchFailures, st.Retried)
	verifyBooks(b, d)
	r := benchResult{elapsed: elapsed, rate: benchRecords / elapsed.Seconds(), invocations: st.Invocations, messages: st.Messages}
	ir, icu := ingestC.perRecord(benchRecords)
	cr, ccu := consumerC.perRecord(benchRecords)
	r.req, r.cu, r.ingestReq, r.consumerReq = ir+cr, icu+ccu, ir, cr
	return r
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
	s := store.New(d.DB, d.Cfg.Table)
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
	verifyBooks(b, d)
	r := benchResult{elapsed: elapsed, rate: benchRecords / elapsed.Seconds()}
	r.req, r.cu = c.perRecord(benchRecords)
	return r
}

func verifyBooks(b *testing.B, d *platform.Deps) {
	rep, err := ledger.New(testkit.Store(d), d.Now).Reconcile(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if !rep.OK || rep.Entries != benchRecords+benchCards {
		b.Fatalf("books: ok=%v entries=%d discrepancies=%v", rep.OK, rep.Entries, rep.Discrepancies)
	}
}
