package reader_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onecard/shared/auth"
	"onecard/shared/paycode"
	"onecard/shared/reader"
	"onecard/shared/testkit"
)

// issued is the answer of POST /v1/card/payment-code.
type issued struct {
	Code      string
	ExpiresAt string
	AmountFen int64
}

func (w *world) issue(h []string) issued {
	w.T.Helper()
	var out issued
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(w.T, 200, "").Decode(w.T, &out)
	c, err := paycode.Parse(out.Code)
	if err != nil || c.AmountFen != out.AmountFen {
		w.T.Fatalf("the code says %d fen, the answer %d (%v)", c.AmountFen, out.AmountFen, err)
	}
	return out
}

// The attack of issue 11: a card with balance 0 raised its limits to 1,000,000 fen, got codes for that
// amount, and a reader posted 3 × 3,000 元: the card ended at −900,000 fen. A code now authorises at
// most min(balance, per-transaction limit, what is left of the daily limit), a card with nothing to
// pay gets no code, and a record above the code's amount is refused.
func TestCodeAuthorisesAtMostWhatTheCardCanPay(t *testing.T) {
	w := newWorld(t)
	w.consume()
	h := w.virtual("13800000111", "CUIK20230001", "011237")
	w.Do("PUT", "/v1/card/limits", map[string]any{"perTxnFen": 1000000, "dailyFen": 1000000}, h...).Expect(t, 400, "BAD_LIMITS")
	w.Do("PUT", "/v1/card/limits", map[string]any{"perTxnFen": 50000, "dailyFen": 200000}, h...).Expect(t, 400, "CARD_PASSWORD_REQUIRED")
	w.Do("PUT", "/v1/card/limits", map[string]any{"perTxnFen": 50000, "dailyFen": 200000, "cardPassword": "011237"}, h...).Expect(t, 200, "")

	// Nothing to pay: a clear refusal, not a code for 0.
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 422, "INSUFFICIENT_BALANCE")

	// The balance bounds the code.
	w.Credit("10000001", 1000, "c1")
	code := w.issue(h)
	if code.AmountFen != 1000 {
		t.Fatalf("code for %d fen on a balance of 1000", code.AmountFen)
	}
	big, over, exact := w.codeRec(300000, code.Code), w.codeRec(1001, code.Code), w.codeRec(1000, code.Code)
	if s := statuses(w.post("POS-CANTEEN-01", big, over, exact)); s != "rejected:OVER_TXN_LIMIT,rejected:OVER_TXN_LIMIT,accepted" {
		t.Fatalf("records against a 1000 fen code: %s", s)
	}
	w.waitDone("POS-CANTEEN-01", exact["seq"].(int64))
	if c := w.Card("10000001"); c.Balance != 0 || c.Arrears {
		t.Fatalf("balance %d arrears %v", c.Balance, c.Arrears)
	}
	// The card screen shows what was spent today against the daily limit.
	var view struct{ SpentTodayFen int64 }
	w.Do("GET", "/v1/card", nil, h...).Expect(t, 200, "").Decode(t, &view)
	if view.SpentTodayFen != 1000 {
		t.Fatalf("spentTodayFen %d after a 1000 fen payment", view.SpentTodayFen)
	}
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 422, "INSUFFICIENT_BALANCE")

	// The per-transaction limit bounds it, then what is left of the daily limit.
	w.Credit("10000001", 300000, "c2")
	if code := w.issue(h); code.AmountFen != 50000 {
		t.Fatalf("code for %d fen, want the per-transaction limit 50000", code.AmountFen)
	}
	var recs []map[string]any
	for i := 0; i < 3; i++ {
		recs = append(recs, w.rec("purchase", 50000, "10000001"))
	}
	recs = append(recs, w.rec("purchase", 48000, "10000001"))
	if s := statuses(w.post("POS-CANTEEN-02", recs...)); s != "accepted,accepted,accepted,accepted" {
		t.Fatalf("card swipes: %s", s)
	}
	w.waitDone("POS-CANTEEN-02", seqsOf(recs...)...) // 199,000 of the 200,000 a day spent
	if code := w.issue(h); code.AmountFen != 1000 {
		t.Fatalf("code for %d fen, want what is left today (1000)", code.AmountFen)
	}
	// A ceiling lowered by staff binds codes at once, whatever the card's own limits say.
	w.Clock.Advance(24 * time.Hour)
	h = w.login("13800000111")
	adm := w.StaffOf(auth.RoleAdmin)
	var s map[string]any
	w.Do("GET", "/v1/admin/school", nil, adm...).Expect(t, 200, "").Decode(t, &s)
	s["maxPerTxnFen"], s["defaultPerTxnFen"] = 3000, 3000
	w.Do("PUT", "/v1/admin/school", s, adm...).Expect(t, 200, "")
	if code := w.issue(h); code.AmountFen != 3000 {
		t.Fatalf("code for %d fen, want the school's ceiling 3000", code.AmountFen)
	}
	w.Reconciled()
}

// Two codes issued on one balance (nothing is reserved at issue) and both spent: the ledger posts the
// first and refuses to take the balance below zero for the second, which becomes a dispute for finance;
// its code counts as spent. Finance can charge it only once the balance covers it.
func TestTwoCodesOnOneBalanceNeverOverdraw(t *testing.T) {
	w := newWorld(t)
	h := w.virtual("13800000112", "CUIK20230002", "025620")
	w.Credit("10000002", 1000, "c1")
	a, b := w.issue(h), w.issue(h)
	if a.AmountFen != 1000 || b.AmountFen != 1000 {
		t.Fatalf("codes for %d and %d fen", a.AmountFen, b.AmountFen)
	}
	ra, rb := w.codeRec(1000, a.Code), w.codeRec(1000, b.Code)
	if s := statuses(w.post("POS-CANTEEN-01", ra)); s != "accepted" {
		t.Fatal(s)
	}
	if s := statuses(w.post("POS-CANTEEN-02", rb)); s != "accepted" {
		t.Fatal(s)
	}
	w.consume()
	w.waitDone("POS-CANTEEN-01", ra["seq"].(int64))
	w.waitDone("POS-CANTEEN-02", rb["seq"].(int64))
	if c := w.Card("10000002"); c.Balance != 0 || c.Arrears {
		t.Fatalf("balance %d arrears %v: a code overdrew the card", c.Balance, c.Arrears)
	}
	if hist := w.history("10000002"); len(hist) != 2 {
		t.Fatalf("history %v", hist)
	}
	ds := w.disputes("?status=open")
	if len(ds) != 1 || ds[0].Reason != reader.DisputeCodeOverBalance || !ds[0].PaidByCode || ds[0].AmountFen != 1000 || ds[0].DeviceID != "POS-CANTEEN-02" {
		t.Fatalf("disputes: %+v", ds)
	}
	// The disputed record's code was presented: it cannot be used again, and a resend is a duplicate.
	if s := statuses(w.post("POS-CANTEEN-01", w.codeRec(500, b.Code))); s != "rejected:PAYMENT_CODE_USED" {
		t.Fatalf("second use of the disputed code: %s", s)
	}
	if s := statuses(w.post("POS-CANTEEN-02", rb)); s != "duplicate" {
		t.Fatalf("resend: %s", s)
	}
	// Finance cannot charge it into arrears; once the student recharged, they can.
	fin := w.StaffOf(auth.RoleFinance)
	seq := rb["seq"].(int64)
	resolve := func() *testkit.Resp {
		return w.Do("POST", "/v1/admin/disputes/POS-CANTEEN-02/"+strconv.FormatInt(seq, 10)+"/resolve", map[string]string{"decision": "charge", "note": "学生确认"}, fin...)
	}
	resolve().Expect(t, 422, "INSUFFICIENT_BALANCE")
	if c := w.Card("10000002"); c.Balance != 0 {
		t.Fatalf("balance %d after a refused charge", c.Balance)
	}
	w.Credit("10000002", 1500, "c2")
	resolve().Expect(t, 200, "")
	if c := w.Card("10000002"); c.Balance != 500 || c.Arrears {
		t.Fatalf("after the charge: %d %v", c.Balance, c.Arrears)
	}
	w.Reconciled()
}

// The same with the two records posted at the same moment by two consumers: whichever the ledger takes
// first is charged, the other is refused at the balance it re-reads and becomes the dispute.
func TestTwoCodesSpentAtOnceNeverOverdraw(t *testing.T) {
	w := newWorld(t)
	h := w.virtual("13800000113", "CUIK20230003", "034322")
	w.Credit("10000003", 800, "c1")
	a, b := w.issue(h), w.issue(h)
	if s := statuses(w.post("POS-CANTEEN-01", w.codeRec(800, a.Code))); s != "accepted" {
		t.Fatal(s)
	}
	if s := statuses(w.post("POS-CANTEEN-02", w.codeRec(800, b.Code))); s != "accepted" {
		t.Fatal(s)
	}
	ev := w.take(2)
	var (
		wg   sync.WaitGroup
		outs [2]reader.Outcome
		resp [2]events.SQSEventResponse
	)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], resp[i] = w.consumer(nil).Process(context.Background(), events.SQSEvent{Records: ev.Records[i : i+1]})
		}()
	}
	wg.Wait()
	if outs[0].Posted+outs[1].Posted != 1 || outs[0].Disputed+outs[1].Disputed != 1 ||
		len(resp[0].BatchItemFailures)+len(resp[1].BatchItemFailures) != 0 {
		t.Fatalf("outcomes %+v %+v", outs, resp)
	}
	if c := w.Card("10000003"); c.Balance != 0 || c.Arrears {
		t.Fatalf("balance %d arrears %v", c.Balance, c.Arrears)
	}
	if ds := w.disputes("?status=open"); len(ds) != 1 || ds[0].Reason != reader.DisputeCodeOverBalance {
		t.Fatalf("disputes: %+v", ds)
	}
	w.Reconciled()
}
