package cards_test

import (
	"context"
	"testing"

	"onecard/infra/seed"
	"onecard/shared/auth"
	"onecard/shared/ledger"
	"onecard/shared/staff"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// world is a test environment with the demo school, students and a staff member per role.
type world struct {
	*testkit.Env
	t *testing.T
}

func newWorld(t *testing.T) *world {
	t.Parallel()
	return newSerialWorld(t)
}

// newSerialWorld is newWorld for a test that must not run beside others (it counts this process's
// secret comparisons); Go runs the parallel tests after the serial ones.
func newSerialWorld(t *testing.T) *world {
	e := testkit.New(t)
	ctx := context.Background()
	if err := seed.School(ctx, e.Deps); err != nil {
		t.Fatal(err)
	}
	if err := seed.StudentsAndCards(ctx, e.Deps); err != nil {
		t.Fatal(err)
	}
	s := e.Deps.Store()
	for _, role := range []string{auth.RoleFinance, auth.RoleIT, auth.RoleOps, auth.RoleAdmin} {
		if err := staff.Put(ctx, s, role+"-user", "staff-password-1", seed.SchoolID, []string{role}); err != nil {
			t.Fatal(err)
		}
	}
	return &world{Env: e, t: t}
}

// student registers phone, logs in and returns the access token.
func (w *world) student(phone string) []string {
	w.t.Helper()
	return w.Student(phone, "kmmc")
}

// bound registers a student and binds the card of studentNo with password pw.
func (w *world) bound(phone, studentNo, pw string) []string {
	w.t.Helper()
	h := w.student(phone)
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": studentNo, "cardPassword": pw}, h...).Expect(w.t, 200, "")
	return h
}

// staff logs in a seeded staff member of role.
func (w *world) staff(role string) []string {
	w.t.Helper()
	return w.StaffLogin(role+"-user", "staff-password-1")
}

// credit puts money on a card as a WeChat recharge would (the recharge issue posts the same movement).
func (w *world) credit(cardNo string, fen int64, key string) {
	w.t.Helper()
	l := ledgerOf(w.Env)
	_, err := l.Post(context.Background(), ledger.Movement{Scope: "test", Key: key, Postings: ledger.External(ledger.Posting{
		Account: "card:kmmc:" + cardNo, Item: store.CardKey("kmmc", cardNo), AmountFen: fen,
		Kind: ledger.KindRecharge, Counterparty: "ext:wechat", Merchant: "微信充值"})})
	if err != nil {
		w.t.Fatal(err)
	}
}

// reconcile runs the books check through the API and fails the test on any discrepancy.
func (w *world) reconcile() map[string]any {
	w.t.Helper()
	return w.Reconcile(w.staff(auth.RoleFinance)...)
}
