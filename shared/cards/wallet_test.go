package cards_test

import (
	"context"
	"errors"
	"testing"

	"onecard/shared/cards"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

// A Put of a Card read before a posting (its Balance and Seq stale) is refused, and the wallet stays
// as the ledger left it: the books still reconcile. A new card is written with an empty wallet.
func TestPutOfAStaleCardKeepsTheWallet(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	s := testkit.Store(w.Deps)
	repo := cards.Repo{S: s}
	w.Credit("10000001", 1000, "w1")
	stale, err := repo.Get(ctx, "kmmc", "10000001")
	if err != nil {
		t.Fatal(err)
	}
	w.Credit("10000001", 2500, "w2")
	stale.HolderName = "改名"
	if err := s.Put(ctx, stale, "", nil); !errors.Is(err, cards.ErrCardPut) {
		t.Fatalf("Put of a Card: err %v, want ErrCardPut", err)
	}
	if _, err := store.PutItem(*stale, "", nil); !errors.Is(err, cards.ErrCardPut) {
		t.Fatalf("PutItem of a Card: err %v, want ErrCardPut", err)
	}
	got, err := repo.Get(ctx, "kmmc", "10000001")
	if err != nil {
		t.Fatal(err)
	}
	if got.Balance != 3500 || got.Seq != 2 || got.HolderName == "改名" {
		t.Fatalf("balance %d seq %d holder %q after a refused Put, want 3500, 2 and the old name", got.Balance, got.Seq, got.HolderName)
	}
	w.Reconciled()

	// NewItem writes a new card with an empty wallet, whatever the struct held.
	fresh := *got
	fresh.Key, fresh.CardNo, fresh.Account = store.CardKey("kmmc", "30000001"), "30000001", cards.AccountID("kmmc", "30000001")
	if err := s.Put(ctx, fresh.NewItem(), "attribute_not_exists(PK)", nil); err != nil {
		t.Fatal(err)
	}
	if nc, err := repo.Get(ctx, "kmmc", "30000001"); err != nil || nc.Balance != 0 || nc.Seq != 0 || nc.HolderName != got.HolderName {
		t.Fatalf("new card %+v, %v: want an empty wallet", nc, err)
	}
}
