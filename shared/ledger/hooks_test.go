package ledger_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

// hooktest is an account kind whose hook each test sets.
var hookOf = struct {
	sync.Mutex
	f ledger.Hook
}{f: ledger.NoHook}

func init() {
	ledger.Register("hooktest", func(func() time.Time) ledger.Hook {
		return func(c ledger.Change) ([]types.TransactWriteItem, ledger.UpdateParts) {
			hookOf.Lock()
			defer hookOf.Unlock()
			return hookOf.f(c)
		}
	})
}

// hookAccount creates the balance item of a hooktest account.
func hookAccount(t *testing.T, f *fixture, name string) (string, store.Key) {
	t.Helper()
	acct, key := "hooktest:"+name, store.Key{PK: "HOOKTEST#" + name, SK: "ACCT"}
	err := testkit.Store(f.env.Deps).Put(context.Background(), map[string]any{"PK": key.PK, "SK": key.SK, "acct": acct,
		"balance": 0, "seq": 0}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return acct, key
}

func credit(acct string, key store.Key, idem string) ledger.Movement {
	return ledger.Movement{Scope: "test", Key: idem, Postings: ledger.External(ledger.Posting{Account: acct, Item: key, AmountFen: 100,
		Kind: ledger.KindRecharge, Counterparty: "ext:wechat"})}
}

func itemBalance(t *testing.T, f *fixture, key store.Key) (bal, seq int64) {
	t.Helper()
	var b ledger.Balance
	if _, err := testkit.Store(f.env.Deps).Get(context.Background(), key, &b); err != nil {
		t.Fatal(err)
	}
	return b.Balance, b.Seq
}

// A hook cannot write what only the ledger writes: the ledger checks what it returns and refuses the
// movement, writing nothing.
func TestHookCannotWriteBalanceOrSeq(t *testing.T) {
	f := newFixture(t)
	acct, key := hookAccount(t, f, "a")
	own, _ := store.PutItem(map[string]any{"PK": key.PK, "SK": key.SK, "acct": acct, "balance": 1_000_000, "seq": 0}, "", nil)
	cases := map[string]func(ledger.Change) ([]types.TransactWriteItem, ledger.UpdateParts){
		"set balance": func(ledger.Change) ([]types.TransactWriteItem, ledger.UpdateParts) {
			return nil, ledger.UpdateParts{Set: []string{"balance = :hb"}, Values: map[string]any{":hb": 1_000_000}}
		},
		"set seq in a list": func(ledger.Change) ([]types.TransactWriteItem, ledger.UpdateParts) {
			return nil, ledger.UpdateParts{Set: []string{"note = if_not_exists(note, :hn), seq=:hs"}, Values: map[string]any{":hn": "x", ":hs": 0}}
		},
		"remove seq": func(ledger.Change) ([]types.TransactWriteItem, ledger.UpdateParts) {
			return nil, ledger.UpdateParts{Remove: []string{"seq"}}
		},
		"rebind the ledger's value": func(ledger.Change) ([]types.TransactWriteItem, ledger.UpdateParts) {
			return nil, ledger.UpdateParts{Values: map[string]any{":b": 1_000_000}}
		},
		"put the account's own item": func(ledger.Change) ([]types.TransactWriteItem, ledger.UpdateParts) {
			return []types.TransactWriteItem{own}, ledger.UpdateParts{}
		},
	}
	for name, h := range cases {
		hookOf.Lock()
		hookOf.f = h
		hookOf.Unlock()
		_, err := f.l.Post(context.Background(), credit(acct, key, name))
		if !errors.Is(err, ledger.ErrHookWrites) {
			t.Errorf("%s: err %v, want ErrHookWrites", name, err)
		}
		if bal, seq := itemBalance(t, f, key); bal != 0 || seq != 0 {
			t.Errorf("%s: balance %d seq %d, want nothing written", name, bal, seq)
		}
	}
	// A hook that keeps to its own attributes posts.
	hookOf.Lock()
	hookOf.f = func(c ledger.Change) ([]types.TransactWriteItem, ledger.UpdateParts) {
		return nil, ledger.UpdateParts{Set: []string{"note = :hn"}, Values: map[string]any{":hn": c.After}}
	}
	hookOf.Unlock()
	if _, err := f.l.Post(context.Background(), credit(acct, key, "fine")); err != nil {
		t.Fatal(err)
	}
	if bal, seq := itemBalance(t, f, key); bal != 100 || seq != 1 {
		t.Fatalf("balance %d seq %d, want 100 and 1", bal, seq)
	}
}

// A posting to an account kind no package registered a hook for is refused, and a Ledger not built by
// ledger.New has no hook at all.
func TestPostingToAKindWithoutHookIsRefused(t *testing.T) {
	f := newFixture(t)
	s := testkit.Store(f.env.Deps)
	key := store.Key{PK: "NOKIND#a", SK: "ACCT"}
	if err := s.Put(context.Background(), map[string]any{"PK": key.PK, "SK": key.SK, "acct": "nokind:a", "balance": 0, "seq": 0}, "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.l.Post(context.Background(), credit("nokind:a", key, "k1")); !errors.Is(err, ledger.ErrNoHook) {
		t.Fatalf("err %v, want ErrNoHook", err)
	}
	literal := &ledger.Ledger{S: s, Now: f.env.Clock.Now}
	if _, err := literal.Post(context.Background(), recharge("10000001", 100, "k2")); !errors.Is(err, ledger.ErrNoHook) {
		t.Fatalf("a literal Ledger: err %v, want ErrNoHook", err)
	}
	if bal, seq, _ := f.balance(t, "10000001"); bal != 0 || seq != 0 {
		t.Fatalf("balance %d seq %d, want nothing posted", bal, seq)
	}
}

// A posting to an account whose balance item does not exist answers ACCOUNT_NOT_FOUND (404), not a 500.
func TestPostingToAMissingAccountIsNotFound(t *testing.T) {
	f := newFixture(t)
	_, err := f.l.Post(context.Background(), recharge("99999999", 100, "k"))
	if !fault.Is(err, ledger.ErrNoAccount.Code) {
		t.Fatalf("err %v, want ACCOUNT_NOT_FOUND", err)
	}
}
