package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/cards"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type fixture struct {
	env *testkit.Env
	l   *ledger.Ledger
}

func newFixture(t *testing.T) *fixture {
	e := testkit.Seeded(t)
	return &fixture{env: e, l: ledger.New(testkit.Store(e.Deps), e.Deps.Now)}
}

func card(no string) (string, store.Key) {
	return cards.AccountID("kmmc", no), store.CardKey("kmmc", no)
}

func recharge(no string, fen int64, key string) ledger.Movement {
	a, k := card(no)
	return ledger.Movement{Scope: "wechat", Key: key, Postings: ledger.External(ledger.Posting{Account: a, Item: k, AmountFen: fen,
		Kind: ledger.KindRecharge, Counterparty: "ext:wechat"})}
}

func spend(no string, fen int64, scope, key string, offline bool) ledger.Movement {
	a, k := card(no)
	return ledger.Movement{Scope: scope, Key: key, Postings: ledger.External(ledger.Posting{Account: a, Item: k, AmountFen: -fen,
		Kind: ledger.KindPurchase, Counterparty: "ext:merchant:POS-CANTEEN-01", AllowNegative: offline})}
}

func transfer(from, to string, fen int64, key string) ledger.Movement {
	fa, fk := card(from)
	ta, tk := card(to)
	return ledger.Movement{Scope: "app:test", Key: key, Postings: []ledger.Posting{
		{Account: fa, Item: fk, AmountFen: -fen, Kind: ledger.KindDormTransfer, Counterparty: ta},
		{Account: ta, Item: tk, AmountFen: fen, Kind: ledger.KindDormTransfer, Counterparty: fa},
	}}
}

func (f *fixture) balance(t *testing.T, no string) (bal, seq int64, arrears bool) {
	t.Helper()
	c, err := cards.Repo{S: testkit.Store(f.env.Deps)}.Get(context.Background(), "kmmc", no)
	if err != nil {
		t.Fatal(err)
	}
	return c.Balance, c.Seq, c.Arrears
}

func (f *fixture) reconcile(t *testing.T) *ledger.Report {
	t.Helper()
	rep, err := f.l.Reconcile(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK {
		t.Fatalf("reconcile: %+v", rep.Discrepancies)
	}
	return rep
}

func TestPostIsIdempotent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	r1, err := f.l.Post(ctx, recharge("10000001", 5000, "wx-1"))
	if err != nil || r1.Replayed || r1.Entries[0].BalanceAfterFen != 5000 {
		t.Fatalf("first: %+v %v", r1, err)
	}
	r2, err := f.l.Post(ctx, recharge("10000001", 5000, "wx-1"))
	if err != nil || !r2.Replayed || r2.TxnID != r1.TxnID || r2.Entries[0].BalanceAfterFen != 5000 {
		t.Fatalf("replay: %+v %v", r2, err)
	}
	_, err = f.l.Post(ctx, recharge("10000001", 6000, "wx-1"))
	if !fault.Is(err, fault.ErrIdemReused.Code) {
		t.Fatalf("same key, other amount: %v", err)
	}
	if bal, seq, _ := f.balance(t, "10000001"); bal != 5000 || seq != 1 {
		t.Fatalf("balance %d seq %d", bal, seq)
	}
	f.reconcile(t)
}

func TestDebitsNeverOverdrawButOfflineRecordsMay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.l.Post(ctx, recharge("10000001", 300, "wx-a")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.l.Post(ctx, spend("10000001", 301, "app:u", "k1", false)); !errors.Is(err, ledger.ErrInsufficient) {
		t.Fatalf("overdraw allowed: %v", err)
	}
	// A reader approved this offline: it posts, and the card falls into arrears and onto the blacklist.
	r, err := f.l.Post(ctx, spend("10000001", 500, "reader:POS-CANTEEN-01", "1", true))
	if err != nil || r.Entries[0].BalanceAfterFen != -200 {
		t.Fatalf("offline debit: %+v %v", r, err)
	}
	if bal, _, arrears := f.balance(t, "10000001"); bal != -200 || !arrears {
		t.Fatalf("balance %d arrears %v", bal, arrears)
	}
	changes, _ := cards.Blacklist{S: testkit.Store(f.env.Deps)}.Since(ctx, "kmmc", 0)
	if len(changes) != 1 || !changes[0].Blocked || changes[0].CardNo != "10000001" {
		t.Fatalf("blacklist: %+v", changes)
	}
	// A recharge that clears the debt takes it off the list.
	if _, err := f.l.Post(ctx, recharge("10000001", 1000, "wx-b")); err != nil {
		t.Fatal(err)
	}
	if bal, _, arrears := f.balance(t, "10000001"); bal != 800 || arrears {
		t.Fatalf("after recharge: balance %d arrears %v", bal, arrears)
	}
	changes, _ = cards.Blacklist{S: testkit.Store(f.env.Deps)}.Since(ctx, "kmmc", 0)
	if len(changes) != 2 || changes[1].Blocked {
		t.Fatalf("blacklist after recharge: %+v", changes)
	}
	rep := f.reconcile(t)
	if rep.InFen != 1300 || rep.OutFen != 500 || rep.BalancesFen != 800 {
		t.Fatalf("totals: %+v", rep)
	}
}

func TestValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	for _, m := range []ledger.Movement{
		recharge("10000001", 0, "z"),
		recharge("10000001", ledger.MaxAmountFen+1, "big"),
		{Scope: "x", Key: "", Postings: recharge("10000001", 1, "k").Postings},
	} {
		if _, err := f.l.Post(ctx, m); err == nil {
			t.Errorf("accepted %+v", m)
		}
	}
	bad := transfer("10000001", "10000002", 10, "t")
	bad.Postings[1].AmountFen = 11
	if _, err := f.l.Post(ctx, bad); err == nil {
		t.Error("accepted an unbalanced transfer")
	}
	if bal, seq, _ := f.balance(t, "10000001"); bal != 0 || seq != 0 {
		t.Fatalf("refused movements wrote: %d %d", bal, seq)
	}
}

// 50 concurrent postings on one card: credits and app debits that must not overdraw.
func TestConcurrentPostingsOnOneCard(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.l.Post(ctx, recharge("10000001", 10000, "seed")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := recharge("10000001", 100, fmt.Sprintf("c%d", i))
			if i%2 == 1 {
				m = spend("10000001", 300, "app:u", fmt.Sprintf("d%d", i), false)
			}
			if _, err := f.l.Post(ctx, m); err != nil {
				failed.Add(1)
				t.Errorf("posting %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	bal, seq, _ := f.balance(t, "10000001")
	if bal != 10000+25*100-25*300 || seq != 51 {
		t.Fatalf("balance %d seq %d (failed %d)", bal, seq, failed.Load())
	}
	f.reconcile(t)

	// Debits racing for too little money: exactly the affordable ones land, never below zero.
	if _, err := f.l.Post(ctx, spend("10000001", 4000, "app:u", "drain", false)); err != nil {
		t.Fatal(err)
	}
	var ok atomic.Int32
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.l.Post(ctx, spend("10000001", 100, "app:u", fmt.Sprintf("race%d", i), false))
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, ledger.ErrInsufficient):
				t.Errorf("race %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if bal, _, _ := f.balance(t, "10000001"); bal != 0 || ok.Load() != 10 {
		t.Fatalf("after race: balance %d, %d debits landed", bal, ok.Load())
	}
	f.reconcile(t)
}

type entryKey struct {
	Account, Idem string
	Amount        int64
}

func ledgerSnapshot(t *testing.T, e *testkit.Env) ([]entryKey, map[string]int64) {
	t.Helper()
	out := []entryKey{}
	balances := map[string]int64{}
	res, err := e.Deps.DB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.Deps.Cfg.Table)})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range res.Items {
		typ, _ := it["type"].(*types.AttributeValueMemberS)
		if typ != nil && typ.Value == "entry" {
			var k entryKey
			k.Account = it["account"].(*types.AttributeValueMemberS).Value
			k.Idem = it["idem"].(*types.AttributeValueMemberS).Value
			fmt.Sscan(it["amount"].(*types.AttributeValueMemberN).Value, &k.Amount)
			out = append(out, k)
		}
		if a, ok := it["acct"].(*types.AttributeValueMemberS); ok {
			var b int64
			fmt.Sscan(it["balance"].(*types.AttributeValueMemberN).Value, &b)
			balances[a.Value] = b
		}
	}
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[j]) })
	return out, balances
}

// Replaying the same input three times in shuffled order, or posting it in another order on a fresh
// table, leaves the same ledger.
func TestReplayShuffledGivesSameLedger(t *testing.T) {
	t.Parallel()
	var input []ledger.Movement
	for i := 0; i < 12; i++ {
		input = append(input, recharge("10000001", int64(100+i), fmt.Sprintf("wx-%d", i)))
		input = append(input, spend("10000002", int64(50+i), "reader:POS-CANTEEN-01", fmt.Sprint(i), true))
		input = append(input, transfer("10000003", "10000001", int64(10+i), fmt.Sprintf("tr-%d", i)))
	}
	for i := range input { // 10000003 may go negative: these transfers stand for offline approvals
		for j := range input[i].Postings {
			input[i].Postings[j].AllowNegative = true
		}
	}
	f := newFixture(t)
	ctx := context.Background()
	for _, m := range input {
		if _, err := f.l.Post(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	want, wantBal := ledgerSnapshot(t, f.env)
	for round := 0; round < 3; round++ {
		shuffled := append([]ledger.Movement(nil), input...)
		rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		res, errs, err := f.l.PostAll(ctx, shuffled)
		if err != nil {
			t.Fatal(err)
		}
		for i := range res {
			if errs[i] != nil || !res[i].Replayed {
				t.Fatalf("round %d: %+v %v", round, res[i], errs[i])
			}
		}
		got, gotBal := ledgerSnapshot(t, f.env)
		if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(gotBal) != fmt.Sprint(wantBal) {
			t.Fatalf("round %d changed the ledger", round)
		}
	}
	f.reconcile(t)

	g := newFixture(t)
	shuffled := append([]ledger.Movement(nil), input...)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	if _, _, err := g.l.PostAll(ctx, shuffled); err != nil {
		t.Fatal(err)
	}
	got, gotBal := ledgerSnapshot(t, g.env)
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(gotBal) != fmt.Sprint(wantBal) {
		t.Fatalf("another order gave another ledger:\n%v\n%v", gotBal, wantBal)
	}
	g.reconcile(t)
}

// conflicting fails the first n transactions with TransactionConflict, as DynamoDB does when another
// transaction holds an item (DynamoDB Local never does).
type conflicting struct {
	store.DB
	n     atomic.Int32
	calls atomic.Int32
}

func (c *conflicting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.calls.Add(1)
	if c.n.Add(-1) >= 0 {
		reasons := make([]types.CancellationReason, len(in.TransactItems))
		for i := range reasons {
			reasons[i].Code = aws.String("None")
		}
		reasons[0].Code = aws.String("TransactionConflict")
		return nil, &types.TransactionCanceledException{Message: aws.String("conflict"), CancellationReasons: reasons}
	}
	return c.DB.TransactWriteItems(ctx, in, opts...)
}

func TestTransactionConflictsAreRetried(t *testing.T) {
	t.Parallel()
	for _, n := range []int32{1, 4, 12} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := newFixture(t)
			db := &conflicting{DB: f.env.Deps.DB}
			db.n.Store(n)
			l := ledger.New(store.New(db, f.env.Deps.Cfg.Table), f.env.Clock.Now)
			r, err := l.Post(context.Background(), recharge("10000001", 700, "conflicted"))
			if err != nil || r.Entries[0].BalanceAfterFen != 700 {
				t.Fatalf("%+v %v", r, err)
			}
			if db.calls.Load() != n+1 {
				t.Fatalf("%d transaction calls for %d conflicts", db.calls.Load(), n)
			}
			if bal, seq, _ := f.balance(t, "10000001"); bal != 700 || seq != 1 {
				t.Fatalf("balance %d seq %d", bal, seq)
			}
			f.reconcile(t)
		})
	}
}

func TestReconcileFindsTampering(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.l.Post(ctx, recharge("10000001", 1000, "wx-t")); err != nil {
		t.Fatal(err)
	}
	s := testkit.Store(f.env.Deps)
	// Someone edits a balance behind the ledger's back.
	if err := s.Update(ctx, store.CardKey("kmmc", "10000001"), "SET balance = :b", "", nil, store.Values{":b": 99999}.AV()); err != nil {
		t.Fatal(err)
	}
	rep, err := f.l.Reconcile(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK || len(rep.Discrepancies) < 2 {
		t.Fatalf("tampering not found: %+v", rep)
	}
}
