package reconcile_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"onecard/shared/jobs"
	"onecard/shared/reconcile"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type world struct {
	*testkit.Env
	fin []string
	svc *reconcile.Service
}

func newWorld(t *testing.T) *world {
	t.Helper()
	e := testkit.Seeded(t)
	return &world{Env: e, fin: e.StaffAs("fin-user", "finance-pass-2026", "kmmc", "finance"), svc: reconcile.NewService(e.Deps)}
}

// credit posts a WeChat recharge of fen to cardNo in scope "test" with key.
func (w *world) credit(cardNo string, fen int64, key string) {
	w.T.Helper()
	w.Post("test", key, testkit.Recharge(cardNo, fen))
}

func (w *world) runDue() *reconcile.Job {
	w.T.Helper()
	j, err := w.svc.RunDue(context.Background())
	if err != nil {
		w.T.Fatal(err)
	}
	return j
}

type jobView struct {
	JobID, Status, RequestedBy string
	Report                     *struct {
		OK          bool
		BalancesFen int64
		ClearingFen int64
	}
	DiscrepancyCount int
}

// The staff route never scans: with no report it queues a run and answers 202; the scheduled function
// runs it; the route then answers the report, and the schedule runs one unasked once it is a day old.
func TestReconcileRunsOffTheRequestPath(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.credit("10000001", 2500, "c1")

	var first jobView
	r := w.Do("GET", "/v1/admin/reconcile", nil, w.fin...).Expect(t, 202, "")
	r.Decode(t, &first)
	if first.Status != jobs.StatusQueued || first.RequestedBy != "staff:fin-user" || r.Header.Get("Location") != "/v1/admin/reconcile/jobs/"+first.JobID {
		t.Fatalf("queued: %s %v", r.Body, r.Header)
	}
	// Asking again while it is queued answers the same job.
	var again jobView
	w.Do("POST", "/v1/admin/reconcile", nil, w.fin...).Expect(t, 202, "").Decode(t, &again)
	if again.JobID != first.JobID {
		t.Fatalf("a second job while one is queued: %s, %s", again.JobID, first.JobID)
	}
	var polled jobView
	w.Do("GET", "/v1/admin/reconcile/jobs/"+first.JobID, nil, w.fin...).Expect(t, 200, "").Decode(t, &polled)
	if polled.Status != jobs.StatusQueued || polled.Report != nil {
		t.Fatalf("before the run: %+v", polled)
	}

	if j := w.runDue(); j == nil || j.JobID != first.JobID || j.Status != jobs.StatusDone || !j.Report.OK {
		t.Fatalf("run: %+v", j)
	}
	w.Do("GET", "/v1/admin/reconcile/jobs/"+first.JobID, nil, w.fin...).Expect(t, 200, "").Decode(t, &polled)
	if polled.Status != jobs.StatusDone || polled.Report == nil || !polled.Report.OK || polled.Report.BalancesFen != 2500 ||
		polled.Report.ClearingFen != -2500 {
		t.Fatalf("after the run: %+v", polled)
	}
	m := w.Do("GET", "/v1/admin/reconcile", nil, w.fin...).Expect(t, 200, "").JSON()
	if m["ok"] != true || m["jobId"] != first.JobID || m["balancesFen"] != 2500.0 || m["pending"] != nil {
		t.Fatalf("latest: %v", m)
	}

	// Nothing asked, the report is fresh: the schedule reads and stops.
	if j := w.runDue(); j != nil {
		t.Fatalf("ran unasked: %+v", j)
	}
	// A newer run asked for shows as pending beside the latest report.
	var next jobView
	w.Do("POST", "/v1/admin/reconcile", nil, w.fin...).Expect(t, 202, "").Decode(t, &next)
	m = w.Do("GET", "/v1/admin/reconcile", nil, w.fin...).Expect(t, 200, "").JSON()
	if p, _ := m["pending"].(map[string]any); m["jobId"] != first.JobID || p["jobId"] != next.JobID || next.JobID == first.JobID {
		t.Fatalf("pending: %v", m)
	}
	if j := w.runDue(); j == nil || j.JobID != next.JobID {
		t.Fatalf("asked run: %+v", j)
	}
	// A day later the schedule runs one by itself.
	w.Clock.Advance(reconcile.Every + time.Minute)
	if j := w.runDue(); j == nil || j.RequestedBy != "schedule" || !j.Report.OK {
		t.Fatalf("daily run: %+v", j)
	}
}

// Concurrent runs of the schedule take a job once; a run that died (its lease ran out) is taken over.
func TestAJobIsRunOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.credit("10000002", 700, "c2")
	j, started, err := w.svc.Start(context.Background(), "staff:fin-user")
	if err != nil || !started {
		t.Fatal(started, err)
	}
	var wg sync.WaitGroup
	ran := make([]*reconcile.Job, 5)
	errs := make([]error, 5)
	for i := range ran {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ran[i], errs[i] = w.svc.RunDue(context.Background())
		}()
	}
	wg.Wait()
	n := 0
	for i := range ran {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if ran[i] != nil {
			n++
			if ran[i].JobID != j.JobID {
				t.Fatalf("ran %s, queued %s", ran[i].JobID, j.JobID)
			}
		}
	}
	if n != 1 {
		t.Fatalf("the job ran %d times", n)
	}

	// A run takes the next job and dies holding it.
	j2, _, err := w.svc.Start(context.Background(), "staff:fin-user")
	if err != nil {
		t.Fatal(err)
	}
	q := w.svc.Queue()
	free, err := q.Free(context.Background(), 0)
	if err != nil || len(free) != 1 || free[0].JobID != j2.JobID {
		t.Fatalf("queue: %+v %v", free, err)
	}
	if ok, err := q.Take(context.Background(), free[0], store.ReconcileJobKey(j2.JobID)); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if again, err := q.Take(context.Background(), free[0], store.ReconcileJobKey(j2.JobID)); err != nil || again {
		t.Fatalf("a held entry was taken twice: %v %v", again, err)
	}
	if got := w.runDue(); got != nil {
		t.Fatalf("took a job another run holds: %+v", got)
	}
	w.Clock.Advance(reconcile.Lease + time.Second)
	if got := w.runDue(); got == nil || got.JobID != j2.JobID || got.Status != jobs.StatusDone {
		t.Fatalf("the dead run's job was not taken over: %+v", got)
	}
}

// A report with discrepancies is kept as done, not ok, with its count; an unknown job is 404.
func TestAReportKeepsItsDiscrepancies(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.credit("10000003", 900, "c3")
	if err := testkit.Store(w.Deps).Update(context.Background(), store.CardKey("kmmc", "10000003"), "SET balance = :b", "", nil,
		store.Values{":b": 5}.AV()); err != nil {
		t.Fatal(err)
	}
	var j jobView
	w.Do("POST", "/v1/admin/reconcile", nil, w.fin...).Expect(t, 202, "").Decode(t, &j)
	w.runDue()
	w.Do("GET", "/v1/admin/reconcile/jobs/"+j.JobID, nil, w.fin...).Expect(t, 200, "").Decode(t, &j)
	if j.Status != jobs.StatusDone || j.Report == nil || j.Report.OK || j.DiscrepancyCount < 2 {
		t.Fatalf("tampered books: %+v", j)
	}
	w.Do("GET", "/v1/admin/reconcile/jobs/20261125T040000Z-000000", nil, w.fin...).Expect(t, 404, "RECONCILE_JOB_NOT_FOUND")
	w.Do("GET", "/v1/admin/reconcile/jobs/nonsense", nil, w.fin...).Expect(t, 404, "RECONCILE_JOB_NOT_FOUND")
}
