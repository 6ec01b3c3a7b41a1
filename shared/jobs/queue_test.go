package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"onecard/shared/jobs"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// newQueue is a queue in a partition of its own on a fresh table, with the test clock.
func newQueue(t *testing.T) (jobs.Queue, *testkit.Clock) {
	d, clock := testkit.Deps(t)
	return jobs.Queue{S: testkit.Store(d), PK: "QTEST#" + testkit.UniqueName(t), Prefix: "QUEUE#", Now: clock.Now}, clock
}

// A queue of two jobs: concurrent runs take each entry once; a held entry is not free until its lease
// runs out; Retry frees it at once and queues its job again; Done removes it with the outcome's writes.
func TestQueueLeasesEachEntryOnce(t *testing.T) {
	t.Parallel()
	q, clock := newQueue(t)
	s, ctx := q.S, context.Background()
	type job struct {
		store.Key
		Status   string `dynamodbav:"status"`
		Attempts int    `dynamodbav:"attempts"`
	}
	jobKey := func(id string) store.Key { return store.Key{PK: q.PK, SK: "JOB#" + id} }
	var ids []string
	for range 2 {
		id, err := jobs.NewID(clock.Now())
		if err != nil || !jobs.ValidID(id) {
			t.Fatal(id, err)
		}
		ids = append(ids, id)
		if err := s.Put(ctx, job{Key: jobKey(id), Status: jobs.StatusQueued}, "", nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Put(ctx, jobs.Entry{Key: store.Key{PK: q.PK, SK: "QUEUE#" + id}, JobID: id}, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	free, err := q.Free(ctx, 0)
	if err != nil || len(free) != 2 {
		t.Fatalf("free: %+v %v", free, err)
	}
	if one, err := q.Free(ctx, 1); err != nil || len(one) != 1 {
		t.Fatalf("free, at most one: %+v %v", one, err)
	}

	var mu sync.Mutex
	taken := map[string]int{}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, e := range free {
				ok, err := q.Take(ctx, e, jobKey(e.JobID))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					taken[e.JobID]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if taken[ids[0]] != 1 || taken[ids[1]] != 1 {
		t.Fatalf("eight runs took the entries %v times", taken)
	}
	var j job
	if _, err := s.Get(ctx, jobKey(free[0].JobID), &j); err != nil || j.Status != jobs.StatusRunning || j.Attempts != 1 {
		t.Fatalf("taken job: %+v %v", j, err)
	}
	if held, err := q.Free(ctx, 0); err != nil || len(held) != 0 {
		t.Fatalf("held entries are free: %+v %v", held, err)
	}

	// The first job's run fails and gives it back; the second's run dies holding it.
	first, second := free[0], free[1]
	if err := q.Retry(ctx, first, jobKey(first.JobID)); err != nil {
		t.Fatal(err)
	}
	again, err := q.Free(ctx, 0)
	if err != nil || len(again) != 1 || again[0].JobID != first.JobID {
		t.Fatalf("after a retry: %+v %v", again, err)
	}
	if _, err := s.Get(ctx, jobKey(first.JobID), &j); err != nil || j.Status != jobs.StatusQueued {
		t.Fatalf("retried job: %+v %v", j, err)
	}
	clock.Advance(jobs.Lease + time.Second)
	if late, err := q.Free(ctx, 0); err != nil || len(late) != 2 {
		t.Fatalf("after the lease: %+v %v", late, err)
	}
	// Done ends an entry with the outcome's writes; an outcome that fails leaves the entry.
	done := store.JobStatusItem(jobKey(first.JobID), jobs.StatusDone)
	if err := q.Done(ctx, again[0], done); err != nil {
		t.Fatal(err)
	}
	if err := q.Done(ctx, second, store.DeleteItem(jobKey(second.JobID), "attribute_not_exists(PK)", nil)); err == nil {
		t.Fatal("an outcome whose condition failed ended the entry")
	}
	left, err := q.Free(ctx, 0)
	if err != nil || len(left) != 1 || left[0].JobID != second.JobID {
		t.Fatalf("after Done: %+v %v", left, err)
	}
}

// Submit stores a job, its entry and its pointer together, or nothing when a job is pending already.
func TestSubmitKeepsOnePending(t *testing.T) {
	t.Parallel()
	q, _ := newQueue(t)
	s, ctx := q.S, context.Background()
	pending := store.Key{PK: q.PK, SK: "PENDING"}
	submit := func(id string) bool {
		job := struct {
			store.Key
			Status string `dynamodbav:"status"`
		}{store.Key{PK: q.PK, SK: "JOB#" + id}, jobs.StatusQueued}
		ok, err := q.Submit(ctx, job, pending, jobs.Entry{Key: store.Key{PK: q.PK, SK: "QUEUE#" + id}, JobID: id})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !submit("a") || submit("b") {
		t.Fatal("the second job was stored beside the pending one")
	}
	var p jobs.Pointer
	if ok, err := s.Get(ctx, pending, &p); err != nil || !ok || p.JobID != "a" {
		t.Fatalf("pointer %+v %v %v", p, ok, err)
	}
	free, err := q.Free(ctx, 0)
	if err != nil || len(free) != 1 || free[0].JobID != "a" {
		t.Fatalf("queue %+v %v", free, err)
	}
	if ok, _ := s.Get(ctx, store.Key{PK: q.PK, SK: "JOB#b"}, &p); ok {
		t.Fatal("the refused job's item was written")
	}
}
