package testkit

import (
	"context"
	"testing"

	"onecard/infra/seed"
	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/ledger"
	"onecard/shared/platform"
	"onecard/shared/store"
)

// The ground most tests of money stand on: the demo school of infra/seed with its students and cards,
// staff members, WeChat Pay's sandbox, and the few moves every such test makes (a student who has bound a
// card, a paid recharge, a card read from the table, a credit posted as a recharge posts it). testkit may
// import infra/seed: seed imports no test code (go list -deps ./infra/seed lists no testkit).

// Seed writes demo data into a test's table (seed.School, seed.StudentsAndCards and seed.Dorms are Seeds).
type Seed = func(context.Context, *platform.Deps) error

// WithSchool is New on the demo school alone (no students yet), then whatever more writes. It does not
// call t.Parallel: that stays the test's choice.
func WithSchool(t testing.TB, more ...Seed) *Env {
	t.Helper()
	e := New(t)
	ctx := context.Background()
	for _, f := range append([]Seed{seed.School}, more...) {
		if err := f(ctx, e.Deps); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// Seeded is WithSchool with the school's students and cards, then whatever more writes.
func Seeded(t testing.TB, more ...Seed) *Env {
	t.Helper()
	return WithSchool(t, append([]Seed{seed.StudentsAndCards}, more...)...)
}

// StaffAs writes a staff member straight into the table, signs them in through the API and returns
// the Authorization header pair.
func (e *Env) StaffAs(username, password, school string, roles ...string) []string {
	e.T.Helper()
	e.PutStaff(username, password, school, roles...)
	return e.StaffLogin(username, password)
}

// Bound registers phone in the demo school (Student), binds the card of studentNo with card password pw
// (none when studentNo is empty) and returns the Authorization header pair.
func (e *Env) Bound(phone, studentNo, pw string) []string {
	e.T.Helper()
	h := e.Student(phone, seed.SchoolID)
	if studentNo != "" {
		e.Do("POST", "/v1/card/bind", map[string]string{"studentNo": studentNo, "cardPassword": pw}, h...).Expect(e.T, 200, "")
	}
	return h
}

// BindWeChat binds a WeChat account to the student h (the js code "code-"+phone, as the sandbox's
// openid follows it).
func (e *Env) BindWeChat(h []string, phone string) {
	e.T.Helper()
	e.Do("POST", "/v1/me/wechat", map[string]string{"jsCode": "code-" + phone}, h...).Expect(e.T, 204, "")
}

// Card reads the demo school's card no straight from the table.
func (e *Env) Card(no string) *cards.Card {
	e.T.Helper()
	c, err := cards.Repo{S: Store(e.Deps)}.Get(context.Background(), seed.SchoolID, no)
	if err != nil {
		e.T.Fatal(err)
	}
	return c
}

// Recharge is the posting of a WeChat recharge of fen to the demo school's card cardNo, against the
// ext:wechat clearing account (without the merchant and time the recharge credit adds: set them on the
// result where a test reads them, or use Credit).
func Recharge(cardNo string, fen int64) ledger.Posting {
	return ledger.Posting{Account: cards.AccountID(seed.SchoolID, cardNo), Item: store.CardKey(seed.SchoolID, cardNo),
		AmountFen: fen, Kind: ledger.KindRecharge, Counterparty: "ext:wechat"}
}

// Credit puts fen on the demo school's card cardNo as a WeChat recharge would (Recharge with the
// merchant the student sees, 微信充值, posted in scope "test" with key).
func (e *Env) Credit(cardNo string, fen int64, key string) {
	e.T.Helper()
	p := Recharge(cardNo, fen)
	p.Merchant = "微信充值"
	e.Post("test", key, p)
}

// Post posts p against its counterparty's clearing account (ledger.External) as one movement of scope
// and key, with the ledger the services use, and fails the test if it is refused.
func (e *Env) Post(scope, key string, p ledger.Posting) {
	e.T.Helper()
	if _, err := ledger.New(Store(e.Deps), e.Deps.Now).Post(context.Background(),
		ledger.Movement{Scope: scope, Key: key, Postings: ledger.External(p)}); err != nil {
		e.T.Fatal(err)
	}
}

// World is a Console whose school also has its students and cards (Seeded), with a staff member of
// every role ("<role>-user", ConsolePassword; StaffOf signs one in), and WeChat Pay's sandbox once
// WithWeChat is called.
type World struct {
	*Console
	WX *WeChat
}

// NewWorld is a parallel test's World; more seeds write what the test needs besides (seed.Dorms).
func NewWorld(t *testing.T, more ...Seed) *World {
	t.Parallel()
	return NewSerialWorld(t, more...)
}

// NewSerialWorld is NewWorld for a test that must not run beside others (one that counts what its
// process does).
func NewSerialWorld(t *testing.T, more ...Seed) *World {
	c := &Console{Seeded(t, more...)}
	c.putEveryRole()
	return &World{Console: c}
}

// WithWeChat starts this World's WeChat Pay sandbox (Env.WithWeChat) and keeps it in WX.
func (w *World) WithWeChat() *WeChat {
	w.T.Helper()
	w.WX = w.Env.WithWeChat()
	return w.WX
}

// Reconciled proves the books as the World's finance member does (Reconcile) and returns the report.
func (w *World) Reconciled() *ledger.Report {
	w.T.Helper()
	return w.Reconcile(w.StaffOf(auth.RoleFinance)...)
}

// Paid makes a paid WeChat recharge of fen to the card the student h has bound (with WeChat), waits for
// the sandbox's notification to be delivered and returns the order number.
func (w *World) Paid(h []string, fen int64) string {
	w.T.Helper()
	if w.WX == nil {
		w.T.Fatal("Paid needs WeChat Pay: call WithWeChat first")
	}
	var out struct{ OrderNo string }
	w.Do("POST", "/v1/card/recharge", map[string]int64{"amountFen": fen}, h...).Expect(w.T, 201, "").Decode(w.T, &out)
	if _, err := w.WX.Sandbox.Pay(out.OrderNo); err != nil {
		w.T.Fatal(err)
	}
	w.WX.Idle(w.T)
	return out.OrderNo
}

// CashTopUp puts fen in cash on card as finance does at the counter, with its receipt number.
func (w *World) CashTopUp(card string, fen int64, receipt string) {
	w.T.Helper()
	w.Do("POST", "/v1/admin/cards/"+card+"/cash-topup", map[string]any{"amountFen": fen, "receiptNo": receipt},
		w.StaffOf(auth.RoleFinance)...).Expect(w.T, 200, "")
}

// Payer is Bound with WeChat bound too (BindWeChat): a student who can recharge.
func (e *Env) Payer(phone, studentNo, pw string) []string {
	e.T.Helper()
	h := e.Bound(phone, studentNo, pw)
	e.BindWeChat(h, phone)
	return h
}
