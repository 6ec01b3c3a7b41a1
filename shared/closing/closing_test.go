package closing_test

import (
	"testing"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/recharge"
	"onecard/shared/testkit"
)

// Issue 15, "销户 for graduates and leavers".

func TestMain(m *testing.M) { testkit.Main(m) }

// newWorld is testkit's World with WeChat Pay.
func newWorld(t *testing.T) *testkit.World {
	w := testkit.NewWorld(t)
	w.WithWeChat()
	return w
}

type closeResult struct {
	Status  string
	Refunds []struct {
		OrderNo, RefundNo, Status string
		AmountFen                 int64
	}
	RefundedFen, CashPayoutFen, CashDueFen, BalanceFen int64
	ReceiptNo                                          string
}

func TestCloseRefundsTheNewestRechargesFirstThenPaysTheRestInCash(t *testing.T) {
	w := newWorld(t)
	h := w.Payer("13500000001", "CUIK20230001", "011237")
	older := w.Paid(h, 3000)
	newer := w.Paid(h, 2000)
	w.CashTopUp("10000001", 1000, "XJ-1001")
	it := w.StaffOf(auth.RoleIT)

	// 1000 came in cash: no recharge can take it back, so a receipt is needed, and nothing changes without.
	w.Do("POST", "/v1/admin/cards/10000001/close", map[string]any{}, it...).Expect(t, 422, "CASH_RECEIPT_REQUIRED")
	if c := w.Card("10000001"); c.Status != cards.Active || c.Balance != 6000 {
		t.Fatalf("card after a refused close: %s %d", c.Status, c.Balance)
	}
	w.Do("POST", "/v1/admin/cards/10000001/close", map[string]any{"receiptNo": "TK-1001"}, w.StaffOf(auth.RoleFinance)...).Expect(t, 403, "FORBIDDEN")
	var res closeResult
	w.Do("POST", "/v1/admin/cards/10000001/close", map[string]any{"receiptNo": "TK-1001"}, it...).Expect(t, 200, "").Decode(t, &res)
	if res.Status != cards.Cancelled || len(res.Refunds) != 2 || res.Refunds[0].OrderNo != newer || res.Refunds[0].AmountFen != 2000 ||
		res.Refunds[1].OrderNo != older || res.Refunds[1].AmountFen != 3000 || res.RefundedFen != 5000 || res.CashPayoutFen != 1000 ||
		res.BalanceFen != 0 || res.CashDueFen != 0 {
		t.Fatalf("close: %+v", res)
	}
	w.WX.Idle(t)
	for _, r := range w.WX.Sandbox.Refunds() {
		if r.Status != "SUCCESS" {
			t.Fatalf("refund at WeChat Pay: %+v", r)
		}
	}
	c := w.Card("10000001")
	if c.Status != cards.Cancelled || c.ReplacedBy != "" || c.Balance != 0 {
		t.Fatalf("closed card: %s %q %d", c.Status, c.ReplacedBy, c.Balance)
	}
	// Closing again finds nothing left: no refund, no payout.
	var again closeResult
	w.Do("POST", "/v1/admin/cards/10000001/close", map[string]any{}, it...).Expect(t, 200, "").Decode(t, &again)
	if len(again.Refunds) != 0 || again.CashPayoutFen != 0 || len(w.WX.Sandbox.Refunds()) != 2 {
		t.Fatalf("second close: %+v", again)
	}
	// The closed card takes no recharge.
	w.Do("POST", "/v1/card/recharge", map[string]int64{"amountFen": 100}, h...).Expect(t, 422, "CARD_CANCELLED")
	w.Do("POST", "/v1/admin/cards/99999999/close", map[string]any{}, it...).Expect(t, 404, "CARD_NOT_FOUND")
	w.Reconciled()
}

func TestCloseOnlyWhatTheOrdersCanStillGiveBack(t *testing.T) {
	w := newWorld(t)
	h := w.Payer("13500000002", "CUIK20230001", "011237")
	no := w.Paid(h, 4000)
	var rf struct{ RefundNo string }
	w.Do("POST", "/v1/admin/orders/"+no+"/refunds", map[string]any{"amountFen": 1500}, append(w.StaffOf(auth.RoleFinance), "Idempotency-Key", "part-1")...).
		Expect(t, 200, "").Decode(t, &rf)
	w.WX.Idle(t)
	var res closeResult
	w.Do("POST", "/v1/admin/cards/10000001/close", map[string]any{}, w.StaffOf(auth.RoleIT)...).Expect(t, 200, "").Decode(t, &res)
	if len(res.Refunds) != 1 || res.Refunds[0].AmountFen != 2500 || res.BalanceFen != 0 {
		t.Fatalf("close: %+v", res)
	}
	w.WX.Idle(t)
	var o struct{ RefundedFen int64 }
	w.Do("GET", "/v1/orders/"+no, nil, h...).Expect(t, 200, "").Decode(t, &o)
	if o.RefundedFen != 4000 {
		t.Fatalf("order refunded %d", o.RefundedFen)
	}
	w.Reconciled()
}

type batch struct {
	Items []struct {
		StudentNo, CardNo, Outcome, Code string
		RefundedFen, CashDueFen          int64
	}
	Closed, CashDue, Refused int
	NextCursor               string
	Done                     bool
}

func TestGraduationBatchClosesTheClassMarkedGraduated(t *testing.T) {
	w := newWorld(t)
	it := w.StaffOf(auth.RoleIT)
	// The roster marks 张三 and 李四 graduated (class 2023级新闻1班); 王五 stays.
	csv := "studentNo,name,idNumber,cardNo,class,status\n" +
		"CUIK20230001,张三,530102200001011237,10000001,2023级新闻1班,毕业\n" +
		"CUIK20230002,李四,53010220010202562X,10000002,2023级新闻1班,graduated\n" +
		"CUIK20230003,王五,530102200203034322,10000003,2023级新闻1班,在读\n"
	w.Import("/v1/admin/students/import", csv, nil, it...)
	h := w.Payer("13500000003", "CUIK20230003", "034322") // an active student can still bind; graduates cannot
	w.Paid(h, 100)
	w.CashTopUp("10000002", 800, "XJ-2001") // cash in: cash out at the counter
	w.CashTopUp("10000001", 300, "XJ-2002")

	var rep batch
	w.Do("POST", "/v1/admin/students/graduate", map[string]any{"class": "2023级新闻1班"}, it...).Expect(t, 200, "").Decode(t, &rep)
	if !rep.Done || len(rep.Items) != 2 || rep.CashDue != 2 || rep.Items[0].StudentNo != "CUIK20230001" || rep.Items[0].CashDueFen != 300 ||
		rep.Items[1].CashDueFen != 800 {
		t.Fatalf("batch: %+v", rep)
	}
	for _, no := range []string{"10000001", "10000002"} {
		if c := w.Card(no); c.Status != cards.Cancelled {
			t.Fatalf("card %s is %s", no, c.Status)
		}
	}
	if c := w.Card("10000003"); c.Status != cards.Active || c.Balance != 100 {
		t.Fatalf("active student's card: %s %d", c.Status, c.Balance)
	}
	// The counter pays 李四 out; he leaves the worklist, 张三 stays on it.
	var res closeResult
	w.Do("POST", "/v1/admin/cards/10000002/close", map[string]any{"receiptNo": "TK-2001"}, it...).Expect(t, 200, "").Decode(t, &res)
	if res.CashPayoutFen != 800 || res.BalanceFen != 0 {
		t.Fatalf("payout: %+v", res)
	}
	w.Do("POST", "/v1/admin/students/graduate", map[string]any{}, it...).Expect(t, 200, "").Decode(t, &rep)
	if len(rep.Items) != 1 || rep.Items[0].StudentNo != "CUIK20230001" || rep.Items[0].Outcome != "cash_due" {
		t.Fatalf("second batch: %+v", rep)
	}
	w.Do("POST", "/v1/admin/students/graduate", map[string]any{"status": "active"}, it...).Expect(t, 400, "BAD_STATUS")
	w.Reconciled()
	_ = recharge.RefundSucceeded
}

// A batch larger than one chunk goes on with its cursor.
func TestGraduationBatchContinuesWithItsCursor(t *testing.T) {
	w := newWorld(t)
	it := w.StaffOf(auth.RoleIT)
	csv := "studentNo,name,idNumber,cardNo,class,status\n"
	for i := range 30 {
		csv += "CUIK2019" + pad(i) + ",学生" + pad(i) + ",11010519491231002X," + "2019" + pad(i) + "0,2019级,left\n"
	}
	var imp struct{ Created int }
	w.Import("/v1/admin/students/import", csv, &imp, it...)
	if imp.Created != 30 {
		t.Fatalf("import: %+v", imp)
	}
	var rep batch
	w.Do("POST", "/v1/admin/students/graduate", map[string]any{"status": "left"}, it...).Expect(t, 200, "").Decode(t, &rep)
	if rep.Done || rep.NextCursor == "" || len(rep.Items) == 0 || len(rep.Items) > 25 {
		t.Fatalf("first chunk: done %v, %d items", rep.Done, len(rep.Items))
	}
	total := len(rep.Items)
	for !rep.Done {
		w.Do("POST", "/v1/admin/students/graduate", map[string]any{"status": "left", "cursor": rep.NextCursor}, it...).Expect(t, 200, "").Decode(t, &rep)
		total += len(rep.Items)
	}
	if total != 30 {
		t.Fatalf("closed %d of 30", total)
	}
}

func pad(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }
