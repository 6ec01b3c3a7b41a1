package cards_test

import (
	"context"
	"testing"

	"onecard/infra/seed"
	"onecard/shared/auth"
	"onecard/shared/chinatime"
	"onecard/shared/school"
	"onecard/shared/staff"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

// Issue 15, "The counter": cash top-ups with their receipts, the day's cash per cashier, the 补卡 fee.

type cashReport struct {
	Day      string
	Count    int
	NetFen   int64
	Cashiers []struct {
		Cashier               string
		Count                 int
		InFen, OutFen, NetFen int64
		Receipts              []struct {
			ReceiptNo, Kind, CardNo string
			AmountFen               int64
		}
	}
}

func (w *world) cashReport(day string, h []string) cashReport {
	w.T.Helper()
	var r cashReport
	w.Do("GET", "/v1/admin/cash?day="+day, nil, h...).Expect(w.T, 200, "").Decode(w.T, &r)
	return r
}

func TestCashTopUpAndTheDaysCashPerCashier(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := staff.Put(ctx, store.New(w.Deps.DB, w.Deps.Cfg.Table), "cashier-2", "staff-password-1", seed.SchoolID, []string{auth.RoleFinance}); err != nil {
		t.Fatal(err)
	}
	fin, fin2 := w.StaffOf(auth.RoleFinance), w.StaffLogin("cashier-2", "staff-password-1")
	topup := func(h []string, card string, fen int64, receipt string, status int, code string) map[string]any {
		return w.Do("POST", "/v1/admin/cards/"+card+"/cash-topup", map[string]any{"amountFen": fen, "receiptNo": receipt}, h...).Expect(t, status, code).JSON()
	}
	got := topup(fin, "10000001", 5000, "XJ-0001", 200, "")
	if got["balanceFen"] != float64(5000) || got["cashier"] != "finance-user" || got["receiptNo"] != "XJ-0001" {
		t.Fatalf("top-up: %v", got)
	}
	// The same receipt again is the same top-up; used for anything else it is refused.
	if again := topup(fin, "10000001", 5000, "XJ-0001", 200, ""); again["replayed"] != true || w.card("10000001").Balance != 5000 {
		t.Fatalf("replay: %v, balance %d", again, w.card("10000001").Balance)
	}
	topup(fin, "10000001", 6000, "XJ-0001", 409, "RECEIPT_USED")
	topup(fin2, "10000001", 5000, "XJ-0001", 409, "RECEIPT_USED")
	topup(fin, "10000002", 5000, "XJ-0001", 409, "RECEIPT_USED")
	topup(fin2, "10000002", 1200, "XJ-0002", 200, "")
	topup(fin, "10000003", 300, "XJ-0003", 200, "")
	topup(fin, "10000001", 0, "XJ-0004", 400, "BAD_AMOUNT")
	topup(fin, "10000001", 100001, "XJ-0004", 400, "BAD_AMOUNT")
	topup(fin, "10000001", 100, "收据1", 400, "BAD_RECEIPT_NO")
	topup(fin, "99999999", 100, "XJ-0005", 404, "CARD_NOT_FOUND")
	topup(w.StaffOf(auth.RoleIT), "10000001", 100, "XJ-0006", 403, "FORBIDDEN")

	day := chinatime.Day(w.Clock.Now())
	r := w.cashReport(day, fin)
	if r.Count != 3 || r.NetFen != 6500 || len(r.Cashiers) != 2 {
		t.Fatalf("report: %+v", r)
	}
	for _, c := range r.Cashiers {
		switch c.Cashier {
		case "finance-user":
			if c.Count != 2 || c.InFen != 5300 || c.NetFen != 5300 || c.Receipts[0].ReceiptNo != "XJ-0001" || c.Receipts[0].CardNo != "10000001" || c.Receipts[0].Kind != "cash_topup" {
				t.Fatalf("finance-user: %+v", c)
			}
		case "cashier-2":
			if c.Count != 1 || c.InFen != 1200 || c.Receipts[0].ReceiptNo != "XJ-0002" {
				t.Fatalf("cashier-2: %+v", c)
			}
		default:
			t.Fatalf("cashier %q", c.Cashier)
		}
	}
	// Another day has nothing; a bad day is refused.
	if r := w.cashReport("2020-01-01", fin); r.Count != 0 || len(r.Cashiers) != 0 {
		t.Fatalf("other day: %+v", r)
	}
	w.Do("GET", "/v1/admin/cash?day=20200101", nil, fin...).Expect(t, 400, "BAD_DAY")
	if !w.audited("card.cash_topup", "card:10000001") {
		t.Fatal("no audit record")
	}
	w.Reconciled()
}

// setReplaceFee sets the school's 补卡 fee.
func (w *world) setReplaceFee(fen int64) {
	w.T.Helper()
	sch := seed.DemoSchool()
	sch.ReplaceFeeFen = fen
	if err := (school.Repo{S: testkit.Store(w.Deps)}).Put(context.Background(), sch); err != nil {
		w.T.Fatal(err)
	}
}

func TestReplaceFeeFromTheBalanceOrInCash(t *testing.T) {
	w := newWorld(t)
	w.setReplaceFee(2000)
	fin := w.StaffOf(auth.RoleFinance)
	w.Credit("10000001", 5000, "fee-1")
	replace := func(from, to string, body map[string]any, status int, code string) map[string]any {
		body["newCardNo"] = to
		return w.Do("POST", "/v1/admin/cards/"+from+"/replace", body, fin...).Expect(t, status, code).JSON()
	}
	replace("10000001", "19990001", map[string]any{}, 400, "FEE_FROM_REQUIRED")
	got := replace("10000001", "19990001", map[string]any{"feeFrom": "balance"}, 200, "")
	if got["feeFen"] != float64(2000) || got["feeFrom"] != "balance" || got["balanceFen"] != float64(3000) || got["movedFen"] != float64(5000) {
		t.Fatalf("replace with fee from balance: %v", got)
	}
	// Repeating the request charges nothing more.
	if again := replace("10000001", "19990001", map[string]any{"feeFrom": "balance"}, 200, ""); again["balanceFen"] != float64(3000) {
		t.Fatalf("repeat: %v", again)
	}
	// A balance that cannot pay is refused before anything changes; cash is taken instead.
	w.Credit("10000002", 500, "fee-2")
	replace("10000002", "19990002", map[string]any{"feeFrom": "balance"}, 422, "INSUFFICIENT_BALANCE")
	if c := w.card("10000002"); c.Status != "active" || c.Balance != 500 {
		t.Fatalf("refused replace changed the card: %s %d", c.Status, c.Balance)
	}
	replace("10000002", "19990002", map[string]any{"feeFrom": "cash"}, 400, "BAD_RECEIPT_NO")
	got = replace("10000002", "19990002", map[string]any{"feeFrom": "cash", "receiptNo": "BK-0001"}, 200, "")
	if got["feeFen"] != float64(2000) || got["feeFrom"] != "cash" || got["receiptNo"] != "BK-0001" || got["balanceFen"] != float64(500) {
		t.Fatalf("replace with fee in cash: %v", got)
	}
	day := chinatime.Day(w.Clock.Now())
	if r := w.cashReport(day, fin); r.Count != 1 || r.NetFen != 2000 || r.Cashiers[0].Receipts[0].ReceiptNo != "BK-0001" {
		t.Fatalf("cash report: %+v", r)
	}
	// A school without a fee replaces for free.
	w.setReplaceFee(0)
	if got := replace("10000003", "19990003", map[string]any{}, 200, ""); got["feeFen"] != float64(0) {
		t.Fatalf("free replace: %v", got)
	}
	rep := w.Reconciled()
	found := false
	for _, c := range rep.Clearing {
		if c.Account == "ext:fee:kmmc" && c.Fen == 4000 {
			found = true
		}
	}
	if !found {
		t.Fatalf("fees not on ext:fee:kmmc: %+v", rep.Clearing)
	}
}
