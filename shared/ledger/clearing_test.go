package ledger_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"onecard/shared/ledger"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

// A movement whose postings do not sum to zero between two accounts is refused by the ledger, whatever
// its caller meant, and writes nothing.
func TestMovementsThatDoNotSumToZeroAreRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	a, k := card("10000001")
	oneSided := ledger.Movement{Scope: "wechat", Key: "one", Postings: []ledger.Posting{{Account: a, Item: k, AmountFen: 100,
		Kind: ledger.KindRecharge, Counterparty: "ext:wechat"}}}
	short := recharge("10000001", 100, "short")
	short.Postings[1].AmountFen = -50
	elsewhere := recharge("10000001", 100, "elsewhere")
	elsewhere.Postings[1].Account = "ext:merchant:POS-CANTEEN-01"
	bothClearing := ledger.Movement{Scope: "x", Key: "clr", Postings: []ledger.Posting{
		{Account: "ext:wechat", AmountFen: 100, Kind: ledger.KindRecharge, Counterparty: "ext:merchant:POS-CANTEEN-01"},
		{Account: "ext:merchant:POS-CANTEEN-01", AmountFen: -100, Kind: ledger.KindRecharge, Counterparty: "ext:wechat"}}}
	three := recharge("10000001", 100, "three")
	three.Postings = append(three.Postings, three.Postings[1])
	for name, m := range map[string]ledger.Movement{"one-sided": oneSided, "short": short, "elsewhere": elsewhere,
		"both clearing": bothClearing, "three": three} {
		if _, err := f.l.Post(ctx, m); !errors.Is(err, ledger.ErrUnbalanced) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if bal, seq, _ := f.balance(t, "10000001"); bal != 0 || seq != 0 {
		t.Fatalf("refused movements wrote: %d %d", bal, seq)
	}
	if c, err := f.l.ClearingDay(ctx, "ext:wechat", "2026-11-25"); err != nil || c.Entries != 0 {
		t.Fatalf("refused movements wrote clearing entries: %+v %v", c, err)
	}
	f.reconcile(t)
}

// Every movement's clearing side is written with it, once: a day's clearing entries per account are
// the opposite of what that day moved on our side, and every day sums to zero.
func TestClearingAccountsMirrorEachDay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	post := func(m ledger.Movement) {
		t.Helper()
		if _, err := f.l.Post(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// 2026-11-25 in China: two recharges, a purchase (replayed), a transfer between cards.
	post(recharge("10000001", 5000, "wx-1"))
	post(recharge("10000002", 3000, "wx-2"))
	post(spend("10000001", 1200, "reader:POS-CANTEEN-01", "1", true))
	post(spend("10000001", 1200, "reader:POS-CANTEEN-01", "1", true))
	post(transfer("10000001", "10000002", 500, "tr-1"))
	// Just after midnight in China (16:00 UTC): the next day's partition.
	f.env.Clock.Set(time.Date(2026, 11, 25, 16, 0, 1, 0, time.UTC))
	post(spend("10000002", 700, "reader:POS-CANTEEN-01", "2", true))
	post(spend("10000002", 9000, "reader:POS-CANTEEN-01", "3", true)) // offline: into arrears
	post(recharge("10000002", 100, "wx-3"))

	want := map[[2]string]ledger.ClearingTotal{
		{"ext:wechat", "2026-11-25"}:                  {Entries: 2, Fen: -8000},
		{"ext:merchant:POS-CANTEEN-01", "2026-11-25"}: {Entries: 1, Fen: 1200},
		{"ext:wechat", "2026-11-26"}:                  {Entries: 1, Fen: -100},
		{"ext:merchant:POS-CANTEEN-01", "2026-11-26"}: {Entries: 2, Fen: 9700},
	}
	for k, w := range want {
		got, err := f.l.ClearingDay(ctx, k[0], k[1])
		if err != nil {
			t.Fatal(err)
		}
		if got.Entries != w.Entries || got.Fen != w.Fen {
			t.Errorf("%s on %s: %d entries, %d fen; want %d, %d", k[0], k[1], got.Entries, got.Fen, w.Entries, w.Fen)
		}
	}
	rep := f.reconcile(t)
	if rep.Days != 2 || rep.ClearingEntries != 6 || rep.ClearingFen != -rep.BalancesFen || rep.BalancesFen != 8100-10900 {
		t.Fatalf("report: %+v", rep)
	}
	if len(rep.Clearing) != 2 || rep.Clearing[0].Account != "ext:merchant:POS-CANTEEN-01" || rep.Clearing[0].Fen != 10900 ||
		rep.Clearing[1].Account != "ext:wechat" || rep.Clearing[1].Fen != -8100 {
		t.Fatalf("clearing totals: %+v", rep.Clearing)
	}
}

// A clearing entry without its other side (written behind the ledger's back) is found: its movement,
// its day and the clearing total no longer sum to zero.
func TestReconcileFindsAClearingEntryWithoutItsOtherSide(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.l.Post(ctx, recharge("10000001", 1000, "wx-c")); err != nil {
		t.Fatal(err)
	}
	stray := ledger.ClearingEntry{Key: store.ClearingKey("ext:wechat", "2026-11-25", "tstray"), TxnID: "tstray",
		Account: "ext:wechat", Kind: ledger.KindRecharge, AmountFen: -300, Counterparty: "card:kmmc:10000001",
		Status: "posted", Day: "2026-11-25", EntityType: "clearing"}
	if err := testkit.Store(f.env.Deps).Put(ctx, stray, "", nil); err != nil {
		t.Fatal(err)
	}
	rep, err := f.l.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, d := range rep.Discrepancies {
		found[d.Account] = true
	}
	if rep.OK || !found["txn:tstray"] || !found["day:2026-11-25"] || !found["clearing"] {
		t.Fatalf("stray clearing entry not found: %+v", rep)
	}
}
