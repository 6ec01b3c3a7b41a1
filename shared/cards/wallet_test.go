package cards_test

import (
	"context"
	"testing"

	"onecard/shared/cards"
	"onecard/shared/testkit"
)

// A Put of a Card read before a posting (its Balance and Seq stale) writes the card's other fields but
// leaves the wallet as the ledger left it: the books still reconcile.
func TestPutOfAStaleCardKeepsTheWallet(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	s := testkit.Store(w.Deps)
	repo := cards.Repo{S: s}
	w.credit("10000001", 1000, "w1")
	stale, err := repo.Get(ctx, "kmmc", "10000001")
	if err != nil {
		t.Fatal(err)
	}
	w.credit("10000001", 2500, "w2")
	stale.HolderName = "改名"
	stale.Balance, stale.Seq = 999_999, 0 // a careless write of the wallet, on top of the stale read
	if err := s.Put(ctx, stale, "", nil); err != nil {
		t.Fatal(err)
	}
	got, err := repo.Get(ctx, "kmmc", "10000001")
	if err != nil {
		t.Fatal(err)
	}
	if got.HolderName != "改名" {
		t.Fatalf("the Put did not write the card: holder %q", got.HolderName)
	}
	if got.Balance != 3500 || got.Seq != 2 {
		t.Fatalf("balance %d seq %d after a Put of a stale card, want 3500 and 2", got.Balance, got.Seq)
	}
	w.reconcile()
}
