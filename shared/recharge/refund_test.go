package recharge_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"onecard/infra/seed"
	"onecard/infra/wxsandbox"
	"onecard/shared/httpapi"
	"onecard/shared/recharge"
	"onecard/shared/testkit"
)

// Issue 15, "Giving money back": refunds of WeChat recharges.

type refundView struct {
	RefundNo, OrderNo, CardNo, Status, WeChatState, WeChatCode, RefundID string
	AmountFen, TotalFen                                                  int64
}

func (w *world) refund(orderNo string, fen int64, key string, status int, code string) refundView {
	w.T.Helper()
	var v refundView
	r := w.Do("POST", "/v1/admin/orders/"+orderNo+"/refunds", map[string]any{"amountFen": fen, "reason": "学生申请退款"},
		append(w.staff(), "Idempotency-Key", key)...).Expect(w.T, status, code)
	if status == 200 {
		r.Decode(w.T, &v)
	}
	return v
}

func (w *world) refundNow(no string) refundView {
	w.T.Helper()
	var v refundView
	w.Do("GET", "/v1/admin/refunds/"+no, nil, w.staff()...).Expect(w.T, 200, "").Decode(w.T, &v)
	return v
}

func (w *world) refundedFen(h []string, orderNo string) int64 {
	w.T.Helper()
	var o struct{ RefundedFen int64 }
	w.Do("GET", "/v1/orders/"+orderNo, nil, h...).Expect(w.T, 200, "").Decode(w.T, &o)
	return o.RefundedFen
}

// paidOrder is a paid card recharge of fen.
func (w *world) paidOrder(h []string, fen int64) string {
	w.T.Helper()
	no := w.recharge(h, fen, "")
	w.pay(no)
	return no
}

func TestRefundPartOfARechargeThenTheRest(t *testing.T) {
	w := newWorld(t)
	h := w.student("13700000101", "CUIK20230001", "011237", true)
	no := w.paidOrder(h, 5000)

	v := w.refund(no, 2000, "r-1", 200, "")
	if v.RefundNo == "" || v.OrderNo != no || v.AmountFen != 2000 || v.TotalFen != 5000 || v.CardNo != oldCard {
		t.Fatalf("refund: %+v", v)
	}
	// Held the moment it was asked: the balance is down before WeChat Pay says anything.
	if got := w.balance(h); got != 3000 {
		t.Fatalf("balance %d while the refund is in flight", got)
	}
	w.WX.Idle(t)
	if got := w.refundNow(v.RefundNo); got.Status != recharge.RefundSucceeded || got.WeChatState != "SUCCESS" || got.RefundID == "" {
		t.Fatalf("after the notification: %+v", got)
	}
	// The same request again is the same refund: nothing more leaves the card, WeChat Pay is not asked twice.
	again := w.refund(no, 2000, "r-1", 200, "")
	if again.RefundNo != v.RefundNo || again.Status != recharge.RefundSucceeded || w.balance(h) != 3000 || len(w.WX.Sandbox.Refunds()) != 1 {
		t.Fatalf("replay: %+v, balance %d, %d refunds at WeChat Pay", again, w.balance(h), len(w.WX.Sandbox.Refunds()))
	}
	w.refund(no, 2500, "r-1", 409, "IDEMPOTENCY_KEY_REUSED")
	// Never more than the payment minus earlier refunds.
	w.refund(no, 3001, "r-2", 409, "REFUND_EXCEEDS_PAYMENT")
	w.refund(no, 3000, "r-3", 200, "")
	w.WX.Idle(t)
	if got := w.balance(h); got != 0 || w.refundedFen(h, no) != 5000 {
		t.Fatalf("after refunding the rest: balance %d, refunded %d", got, w.refundedFen(h, no))
	}
	w.refund(no, 1, "r-4", 409, "REFUND_EXCEEDS_PAYMENT")
	for _, d := range w.WX.Sandbox.Deliveries() {
		if d.Status != http.StatusNoContent {
			t.Fatalf("a delivery was answered %d: %+v", d.Status, d)
		}
	}
	w.Reconciled()
}

func TestRefundRefusals(t *testing.T) {
	w := newWorld(t)
	if err := seed.Dorms(context.Background(), w.Deps); err != nil {
		t.Fatal(err)
	}
	h := w.student("13700000102", "CUIK20230001", "011237", true)
	no := w.paidOrder(h, 3000)
	// The card spent 2000 on the dorm: only 1000 can go back.
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1006/recharge", map[string]any{"kind": "elec_water", "amountFen": 2000, "payWith": "card"},
		append(h, "Idempotency-Key", "dorm-1")...).Expect(t, 200, "")
	w.refund(no, 1001, "b-1", 409, "REFUND_EXCEEDS_BALANCE")
	w.refund(no, 0, "b-2", 400, "BAD_AMOUNT")
	w.Do("POST", "/v1/admin/orders/"+no+"/refunds", map[string]any{"amountFen": 100}, w.staff()...).Expect(t, 400, "IDEMPOTENCY_KEY_REQUIRED")
	w.refund("R20260101000000123456789", 100, "b-3", 404, "ORDER_NOT_FOUND")
	w.refund("not-an-order", 100, "b-4", 404, "ORDER_NOT_FOUND")
	pending := w.recharge(h, 100, "")
	w.refund(pending, 100, "b-5", 409, "ORDER_NOT_PAID")
	// Dorm recharges are not refunded this way.
	var dorm struct{ OrderNo string }
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1006/recharge", map[string]any{"kind": "elec_water", "amountFen": 500, "payWith": "wechat"},
		append(h, "Idempotency-Key", "dorm-2")...).Expect(t, 201, "").Decode(t, &dorm)
	w.pay(dorm.OrderNo)
	w.refund(dorm.OrderNo, 500, "b-6", 422, "REFUND_NOT_SUPPORTED")
	// WeChat Pay's window is a year.
	w.Clock.Advance(366 * 24 * time.Hour)
	w.refund(no, 100, "b-7", 422, "REFUND_WINDOW_PASSED")
	if len(w.WX.Sandbox.Refunds()) != 0 {
		t.Fatalf("WeChat Pay was asked: %+v", w.WX.Sandbox.Refunds())
	}
	w.Reconciled()
}

func TestAFailedOrClosedRefundGivesTheAmountBack(t *testing.T) {
	for _, outcome := range []string{wxsandbox.RefundClosed, wxsandbox.RefundAbnormal} {
		t.Run(outcome, func(t *testing.T) {
			w := newWorld(t)
			h := w.student("13700000103", "CUIK20230001", "011237", true)
			no := w.paidOrder(h, 4000)
			if err := w.WX.Sandbox.SetRefundOutcome(outcome); err != nil {
				t.Fatal(err)
			}
			v := w.refund(no, 4000, "f-1", 200, "")
			w.WX.Idle(t)
			got := w.refundNow(v.RefundNo)
			if got.Status != recharge.RefundFailed || got.WeChatState != outcome {
				t.Fatalf("refund: %+v", got)
			}
			if w.balance(h) != 4000 || w.refundedFen(h, no) != 0 {
				t.Fatalf("balance %d, refunded %d after a failed refund", w.balance(h), w.refundedFen(h, no))
			}
			// A repeated notification gives nothing back twice.
			if err := w.WX.Sandbox.ResendRefund(v.RefundNo); err != nil {
				t.Fatal(err)
			}
			w.WX.Idle(t)
			if w.balance(h) != 4000 {
				t.Fatalf("balance %d after a resent notification", w.balance(h))
			}
			// The amount is refundable again.
			_ = w.WX.Sandbox.SetRefundOutcome(wxsandbox.RefundSuccess)
			w.refund(no, 4000, "f-2", 200, "")
			w.WX.Idle(t)
			if w.balance(h) != 0 {
				t.Fatalf("balance %d", w.balance(h))
			}
			w.Reconciled()
		})
	}
}

func TestRefusedRefundIsReleasedAtOnce(t *testing.T) {
	w := newWorld(t)
	h := w.student("13700000104", "CUIK20230001", "011237", true)
	no := w.paidOrder(h, 1500)
	// WeChat Pay forgets the order (as for one paid to another merchant): a signed RESOURCE_NOT_EXISTS.
	w.WX.Sandbox.Reset()
	v := w.refund(no, 1500, "x-1", 200, "")
	if v.Status != recharge.RefundFailed || v.WeChatCode != "RESOURCE_NOT_EXISTS" || w.balance(h) != 1500 {
		t.Fatalf("refused refund: %+v, balance %d", v, w.balance(h))
	}
	w.Reconciled()
}

func TestLostRefundNotificationIsSettledByTheReconciler(t *testing.T) {
	w := newWorld(t)
	h := w.student("13700000105", "CUIK20230001", "011237", true)
	no := w.paidOrder(h, 2000)
	if err := w.WX.Sandbox.SetNotifyMode(wxsandbox.NotifyDrop, 0); err != nil {
		t.Fatal(err)
	}
	// WeChat Pay is down when finance asks: the refund is held and waits.
	w.WX.Sandbox.FailNextAPICalls(1)
	v := w.refund(no, 2000, "l-1", 200, "")
	if v.Status != recharge.RefundPending || w.balance(h) != 0 {
		t.Fatalf("refund during an outage: %+v, balance %d", v, w.balance(h))
	}
	w.Clock.Advance(recharge.RefundReconcileAfter + time.Second)
	rep := w.runRefundReconciler()
	w.WX.Idle(t) // the refund finishes at WeChat Pay; its notification is dropped
	if rep.Checked != 1 || rep.StillOpen != 1 {
		t.Fatalf("reconciler: %+v", rep)
	}
	w.Clock.Advance(recharge.RefundReconcileAfter + time.Second)
	if rep = w.runRefundReconciler(); rep.Succeeded != 1 {
		t.Fatalf("second run: %+v", rep)
	}
	if got := w.refundNow(v.RefundNo); got.Status != recharge.RefundSucceeded {
		t.Fatalf("refund: %+v", got)
	}
	if len(w.WX.Sandbox.Refunds()) != 1 {
		t.Fatalf("refunds at WeChat Pay: %+v", w.WX.Sandbox.Refunds())
	}
	w.Reconciled()
}

// runRefundReconciler is the refunds' half of the scheduled RechargeReconciler.
func (w *world) runRefundReconciler() recharge.RefundReport {
	w.T.Helper()
	rep, err := recharge.NewService(w.Deps).ReconcileRefunds(httpapi.WithLogger(context.Background(), w.Deps.Log), recharge.RefundReconcileAfter)
	if err != nil {
		w.T.Fatal(err)
	}
	return rep
}

func TestConcurrentRefundsOfOneOrderNeverExceedIt(t *testing.T) {
	w := newWorld(t)
	h := w.student("13700000106", "CUIK20230001", "011237", true)
	no := w.paidOrder(h, 5000)
	w.paidOrder(h, 3000) // the card can give more than the order: only the order limits
	tok := w.staff()
	rs := w.Burst(8, func(i int) *testkit.Resp {
		return w.Do("POST", "/v1/admin/orders/"+no+"/refunds", map[string]any{"amountFen": 1000},
			append(tok, "Idempotency-Key", fmt.Sprintf("burst-%d", i))...)
	})
	tally := testkit.Tally(rs)
	if tally["200 "] != 5 || tally["409 REFUND_EXCEEDS_PAYMENT"] != 3 {
		t.Fatalf("answers: %v", tally)
	}
	w.WX.Idle(t)
	if got := w.balance(h); got != 3000 || w.refundedFen(h, no) != 5000 {
		t.Fatalf("balance %d, refunded %d", got, w.refundedFen(h, no))
	}
	w.Reconciled()
}
