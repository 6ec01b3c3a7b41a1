package corrections_test

import (
	"context"
	"testing"

	"onecard/infra/seed"
	"onecard/shared/cards"
	"onecard/shared/dorm"
	"onecard/shared/ledger"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type world struct {
	*testkit.Env
	finA, finB, lead, ops, admin []string
}

func newWorld(t *testing.T) *world {
	t.Parallel()
	e := testkit.Seeded(t, seed.Dorms)
	const pw = "staff-password-2026"
	return &world{Env: e, finA: e.StaffAs("fin-a", pw, "kmmc", "finance"), finB: e.StaffAs("fin-b", pw, "kmmc", "finance"),
		lead: e.StaffAs("fin-lead", pw, "kmmc", "finance", "finance-lead"), ops: e.StaffAs("ops-user", pw, "kmmc", "ops"),
		admin: e.StaffAs("admin-user", pw, "kmmc", "admin")}
}

func (w *world) balance(k store.Key) int64 {
	w.T.Helper()
	var b ledger.Balance
	if ok, err := testkit.Store(w.Deps).Get(context.Background(), k, &b); err != nil || !ok {
		w.T.Fatal(ok, err)
	}
	return b.Balance
}

type correction struct {
	ID, Status, ProposedBy, DecidedBy, Account, TxnID string
	AmountFen                                         int64
}

func (w *world) propose(body map[string]any, by []string, headers ...string) correction {
	w.T.Helper()
	var c correction
	w.Do("POST", "/v1/admin/corrections", body, append(by, headers...)...).Expect(w.T, 201, "").Decode(w.T, &c)
	return c
}

// Two-person rule: the proposer cannot approve or reject; nothing moves until another member approves;
// a burst of approvals moves once; above the school's correctionLeadFen only a finance lead approves; a
// rejected correction never moves; every step is audited and the books reconcile.
func TestCorrectionsNeedASecondPersonAndMoveOnce(t *testing.T) {
	w := newWorld(t)
	card := store.CardKey("kmmc", "10000001")
	before := w.balance(card)

	c := w.propose(map[string]any{"target": "card", "cardNo": "10000001", "amountFen": 1500, "reason": "食堂重复扣款退回"}, w.finA,
		"Idempotency-Key", "fix-1")
	if c.Status != "pending" || c.ProposedBy != "staff:fin-a" || c.Account != cards.AccountID("kmmc", "10000001") {
		t.Fatalf("proposed: %+v", c)
	}
	// The same key and body again is the same proposal; another body under it is refused.
	w.Do("POST", "/v1/admin/corrections", map[string]any{"target": "card", "cardNo": "10000001", "amountFen": 1500, "reason": "食堂重复扣款退回"},
		append(w.finA, "Idempotency-Key", "fix-1")...).Expect(t, 200, "")
	w.Do("POST", "/v1/admin/corrections", map[string]any{"target": "card", "cardNo": "10000001", "amountFen": 1600, "reason": "食堂重复扣款退回"},
		append(w.finA, "Idempotency-Key", "fix-1")...).Expect(t, 409, "IDEMPOTENCY_KEY_REUSED")
	if got := w.balance(card); got != before {
		t.Fatalf("a proposal moved money: %d → %d", before, got)
	}
	w.Do("POST", "/v1/admin/corrections/"+c.ID+"/approve", nil, w.finA...).Expect(t, 403, "SAME_PERSON")
	w.Do("POST", "/v1/admin/corrections/"+c.ID+"/reject", map[string]string{"reason": "不对"}, w.finA...).Expect(t, 403, "SAME_PERSON")
	w.Do("POST", "/v1/admin/corrections/"+c.ID+"/approve", nil, w.ops...).Expect(t, 403, "FORBIDDEN")

	// Ten approvals at once by the other member: one movement.
	rs := w.Burst(10, func(int) *testkit.Resp { return w.Do("POST", "/v1/admin/corrections/"+c.ID+"/approve", nil, w.finB...) })
	if tally := testkit.Tally(rs); tally["200 "] != 10 {
		t.Fatalf("approvals: %v", tally)
	}
	if got := w.balance(card); got != before+1500 {
		t.Fatalf("balance %d, want %d", got, before+1500)
	}
	var approved correction
	w.Do("POST", "/v1/admin/corrections/"+c.ID+"/approve", nil, w.admin...).Expect(t, 200, "").Decode(t, &approved)
	if approved.Status != "approved" || approved.DecidedBy != "staff:fin-b" || approved.TxnID == "" {
		t.Fatalf("approved: %+v", approved)
	}
	w.Do("POST", "/v1/admin/corrections/"+c.ID+"/reject", map[string]string{"reason": "晚了"}, w.finB...).Expect(t, 409, "CORRECTION_DECIDED")

	// Above the lead amount (default 500.00 元): finance alone cannot approve; a lead can.
	big := w.propose(map[string]any{"target": "card", "cardNo": "10000002", "amountFen": 60000, "reason": "窗口长款退回"}, w.finA)
	w.Do("POST", "/v1/admin/corrections/"+big.ID+"/approve", nil, w.finB...).Expect(t, 403, "LEAD_REQUIRED")
	w.Do("POST", "/v1/admin/corrections/"+big.ID+"/approve", nil, w.lead...).Expect(t, 200, "")

	// A dorm account, debited, then rejected: nothing moves, and it stays rejected.
	room := store.AccountKey("kmmc", "WH-8D-1006", dorm.ElecWater)
	dormBefore := w.balance(room)
	rej := w.propose(map[string]any{"target": "dorm", "roomId": "WH-8D-1006", "accountKind": "elec_water", "amountFen": -300, "reason": "抄表错误"}, w.finB)
	w.Do("POST", "/v1/admin/corrections/"+rej.ID+"/reject", map[string]string{"reason": "已核实无误"}, w.finA...).Expect(t, 200, "")
	w.Do("POST", "/v1/admin/corrections/"+rej.ID+"/reject", map[string]string{"reason": "已核实无误"}, w.finA...).Expect(t, 200, "")
	w.Do("POST", "/v1/admin/corrections/"+rej.ID+"/approve", nil, w.lead...).Expect(t, 409, "CORRECTION_DECIDED")
	if got := w.balance(room); got != dormBefore {
		t.Fatalf("a rejected correction moved %d → %d", dormBefore, got)
	}

	// Bad input is a documented 4xx.
	for _, b := range []struct {
		body   map[string]any
		status int
		code   string
	}{
		{map[string]any{"target": "card", "cardNo": "10000001", "amountFen": 0, "reason": "原因"}, 400, "BAD_AMOUNT"},
		{map[string]any{"target": "card", "cardNo": "10000001", "amountFen": 10_000_001, "reason": "原因"}, 400, "BAD_AMOUNT"},
		{map[string]any{"target": "card", "cardNo": "10000001", "amountFen": 100, "reason": " "}, 400, "BAD_REASON"},
		{map[string]any{"target": "bank", "amountFen": 100, "reason": "原因"}, 400, "BAD_TARGET"},
		{map[string]any{"target": "dorm", "roomId": "WH-8D-1006", "accountKind": "gas", "amountFen": 100, "reason": "原因"}, 400, "BAD_TARGET"},
		{map[string]any{"target": "card", "cardNo": "99999999", "amountFen": 100, "reason": "原因"}, 404, "ACCOUNT_NOT_FOUND"},
	} {
		w.Do("POST", "/v1/admin/corrections", b.body, w.finA...).Expect(t, b.status, b.code)
	}
	w.Do("POST", "/v1/admin/corrections/nope/approve", nil, w.finB...).Expect(t, 404, "CORRECTION_NOT_FOUND")
	w.Do("GET", "/v1/admin/corrections?status=maybe", nil, w.finB...).Expect(t, 400, "BAD_STATUS")

	var list struct {
		Items   []correction
		LeadFen *int64
	}
	w.Do("GET", "/v1/admin/corrections?status=pending", nil, w.finB...).Expect(t, 200, "").Decode(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("pending: %+v", list.Items)
	}
	// The list names the school's lead amount (default 500.00 元), which finance cannot read elsewhere.
	if list.LeadFen == nil || *list.LeadFen != 50000 {
		t.Fatalf("leadFen: %v", list.LeadFen)
	}
	w.Do("GET", "/v1/admin/corrections", nil, w.finB...).Expect(t, 200, "").Decode(t, &list)
	if len(list.Items) != 3 {
		t.Fatalf("all: %+v", list.Items)
	}

	// One proposal, one approval per approved correction, one rejection: each audited once.
	var audit struct {
		Items []struct{ Action, Actor, Target string }
	}
	w.Do("GET", "/v1/admin/audit?limit=100", nil, w.admin...).Expect(t, 200, "").Decode(t, &audit)
	count := map[string]int{}
	for _, a := range audit.Items {
		count[a.Action]++
	}
	if count["correction.propose"] != 3 || count["correction.approve"] != 2 || count["correction.reject"] != 1 {
		t.Fatalf("audit: %v", count)
	}
	rep := w.Reconcile(w.finB...)
	found := false
	for _, c := range rep.Clearing {
		if c.Account == "ext:correction" && c.Fen == -61500 {
			found = true
		}
	}
	if !found {
		t.Fatalf("ext:correction: %+v", rep.Clearing)
	}
}
