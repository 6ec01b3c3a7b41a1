package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	_ "onecard/shared/cards" // registers its account kind's ledger hook
	"onecard/shared/ledger"
	"onecard/shared/store"
)

// With BatchReads the ledger reads a chunk's markers and balances in one BatchGetItem; the answers are
// those of the GetItem path: replays, refusals, races and injected conflicts alike.
func TestBatchReads(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	db := &conflicting{DB: f.env.Deps.DB}
	db.n.Store(3)
	l := ledger.New(store.New(db, f.env.Deps.Cfg.Table), f.env.Clock.Now)
	l.BatchReads = true
	ctx := context.Background()
	ms := []ledger.Movement{recharge("10000001", 1000, "b1"), spend("10000001", 300, "app:u", "s1", false),
		spend("10000001", 900, "app:u", "s2", false), transfer("10000001", "10000002", 200, "t1"),
		spend("10000003", 50, "reader:POS-CANTEEN-01", "1", true)}
	res, errs, err := l.PostAll(ctx, ms)
	if err != nil {
		t.Fatal(err)
	}
	if errs[0] != nil || errs[1] != nil || errs[2] != ledger.ErrInsufficient || errs[3] != nil || errs[4] != nil {
		t.Fatalf("errs %v", errs)
	}
	if res[3].Entries[0].BalanceAfterFen != 500 {
		t.Fatalf("results %+v", res)
	}
	res, errs, err = l.PostAll(ctx, ms)
	if err != nil || !res[0].Replayed || !res[4].Replayed || errs[2] != ledger.ErrInsufficient {
		t.Fatalf("replay: %+v %v %v", res, errs, err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.Post(ctx, spend("10000002", 10, "reader:POS-CANTEEN-02", fmt.Sprint(i), true)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if bal, seq, _ := f.balance(t, "10000002"); bal != 0 || seq != 21 {
		t.Fatalf("10000002: %d %d", bal, seq)
	}
	if bal, _, arrears := f.balance(t, "10000003"); bal != -50 || !arrears {
		t.Fatalf("10000003: %d %v", bal, arrears)
	}
	f.reconcile(t)
}

// A stale Prefetched read (another writer got in between) costs a retry, never a wrong balance.
func TestPrefetchedMayBeStale(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	s := store.New(f.env.Deps.DB, f.env.Deps.Cfg.Table)
	a, k := card("10000001")
	pre, err := s.BatchGet(ctx, []store.Key{k, store.IdemKey("reader:X", "1"), store.IdemKey("reader:X", "2")}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.l.Post(ctx, recharge("10000001", 1000, "meanwhile")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.l.Post(ctx, spend("10000001", 100, "reader:X", "2", true)); err != nil {
		t.Fatal(err)
	}
	l := ledger.New(s, f.env.Clock.Now)
	l.BatchReads = true
	l.Prefetched = pre
	res, errs, err := l.PostAll(ctx, []ledger.Movement{spend("10000001", 300, "reader:X", "1", true), spend("10000001", 100, "reader:X", "2", true)})
	if err != nil || errs[0] != nil || errs[1] != nil || !res[1].Replayed {
		t.Fatalf("%+v %v %v", res, errs, err)
	}
	if e, _ := res[0].EntryFor(a); e.BalanceAfterFen != 600 || e.Seq != 3 {
		t.Fatalf("entry %+v", e)
	}
	f.reconcile(t)
}
