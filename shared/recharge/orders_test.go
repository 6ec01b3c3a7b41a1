package recharge_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"onecard/infra/seed"
	"onecard/shared/testkit"
)

type orderLine struct {
	OrderNo, Status, Description, CreatedAt, PaidAt, ExpiresAt string
	AmountFen                                                  int64
	Target                                                     struct{ Kind, CardNo, RoomID, AccountKind, Label string }
}

// myOrders walks GET /v1/orders, limit per page.
func (w *world) myOrders(h []string, limit int) []orderLine {
	w.T.Helper()
	all, _ := testkit.Pages[orderLine](w.Env, "/v1/orders", limit, h...)
	return all
}

// My orders lists the WeChat recharges I made, card and dorm, newest first with their status, paged;
// a dorm recharge I paid shows there; nobody else sees them; a paid recharge's line in the card history
// leads back to its order.
func TestMyOrdersListsCardAndDormRecharges(t *testing.T) {
	w := newWorld(t)
	if err := seed.Dorms(context.Background(), w.Deps); err != nil {
		t.Fatal(err)
	}
	h := w.student("13700000021", "CUIK20230001", "011237", true)
	first := w.recharge(h, 100, "")
	w.Clock.Advance(time.Second)
	second := w.recharge(h, 200, "")
	w.pay(second)
	w.Clock.Advance(time.Second)
	var dorm struct{ OrderNo string }
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1006/recharge", map[string]any{"kind": "elec_water", "amountFen": 3000, "payWith": "wechat"},
		h...).Expect(t, 201, "").Decode(t, &dorm)
	w.pay(dorm.OrderNo)
	w.Clock.Advance(time.Second)
	third := w.recharge(h, 300, "")

	for _, limit := range []int{1, 2, 10} {
		got := w.myOrders(h, limit)
		var seen []string
		for _, o := range got {
			seen = append(seen, fmt.Sprintf("%s:%s:%d", o.OrderNo, o.Status, o.AmountFen))
		}
		want := fmt.Sprint([]string{third + ":pending:300", dorm.OrderNo + ":paid:3000", second + ":paid:200", first + ":pending:100"})
		if fmt.Sprint(seen) != want {
			t.Fatalf("limit %d: %v, want %s", limit, seen, want)
		}
		d := got[1]
		if d.Target.Kind != "dorm" || d.Target.RoomID != "WH-8D-1006" || d.Target.Label != "8栋1006宿舍" || d.Description == "" || d.PaidAt == "" || d.ExpiresAt != "" {
			t.Fatalf("dorm order: %+v", d)
		}
		if c := got[0]; c.Target.Kind != "card" || c.Target.CardNo != "10000001" || c.Description != "一卡通充值" || c.ExpiresAt == "" || c.PaidAt != "" {
			t.Fatalf("card order: %+v", c)
		}
	}
	other := w.student("13700000022", "CUIK20230002", "025620", true)
	if got := w.myOrders(other, 10); len(got) != 0 {
		t.Fatalf("another student sees %+v", got)
	}
	w.Do("GET", "/v1/orders?cursor=bm90LWEtY3Vyc29y", nil, h...).Expect(t, 400, "BAD_CURSOR")
	w.Do("GET", "/v1/orders?limit=101", nil, h...).Expect(t, 400, "BAD_LIMIT")

	// The paid card recharge in the card history, and from there its order.
	var hist struct{ Items []struct{ ID, Kind string } }
	w.Do("GET", "/v1/card/transactions", nil, h...).Expect(t, 200, "").Decode(t, &hist)
	if len(hist.Items) != 1 || hist.Items[0].Kind != "recharge" {
		t.Fatalf("history: %+v", hist.Items)
	}
	var line struct{ OrderNo string }
	w.Do("GET", "/v1/card/transactions/"+hist.Items[0].ID, nil, h...).Expect(t, 200, "").Decode(t, &line)
	if line.OrderNo != second {
		t.Fatalf("line's order %q, want %s", line.OrderNo, second)
	}
	w.Reconciled()
}

// A pending order is cancelled by its owner: closed at WeChat Pay (it can no longer be paid), then
// here, once however often asked. A paid order cannot be cancelled, nor can someone else's be seen.
// An order paid whose notification was lost is credited when its owner tries to cancel it.
func TestCancelPendingOrder(t *testing.T) {
	w := newWorld(t)
	h := w.student("13700000023", "CUIK20230001", "011237", true)
	other := w.student("13700000024", "CUIK20230002", "025620", true)
	no := w.recharge(h, 500, "")
	w.Do("POST", "/v1/orders/"+no+"/cancel", nil, other...).Expect(t, 404, "ORDER_NOT_FOUND")
	for i := 0; i < 2; i++ {
		var o orderLine
		w.Do("POST", "/v1/orders/"+no+"/cancel", nil, h...).Expect(t, 200, "").Decode(t, &o)
		if o.Status != "closed" || o.OrderNo != no || o.ExpiresAt != "" {
			t.Fatalf("cancel %d: %+v", i, o)
		}
	}
	if _, err := w.WX.Sandbox.Pay(no); err == nil {
		t.Fatal("WeChat Pay took money for a cancelled order")
	}
	if w.order(h, no) != "closed" {
		t.Fatal("not closed")
	}

	w.Clock.Advance(time.Second) // newest first is by creation time: give each order its own
	paid := w.recharge(h, 700, "")
	w.pay(paid)
	w.Do("POST", "/v1/orders/"+paid+"/cancel", nil, h...).Expect(t, 409, "ORDER_PAID")
	w.Do("POST", "/v1/orders/not-an-order/cancel", nil, h...).Expect(t, 404, "ORDER_NOT_FOUND")

	// Paid, but the notification never came: the cancel finds out and credits it.
	if err := w.WX.Sandbox.SetNotifyMode("drop", 0); err != nil {
		t.Fatal(err)
	}
	w.Clock.Advance(time.Second)
	lost := w.recharge(h, 900, "")
	w.pay(lost)
	if w.balance(h) != 700 {
		t.Fatal("credited without a notification")
	}
	w.Do("POST", "/v1/orders/"+lost+"/cancel", nil, h...).Expect(t, 409, "ORDER_PAID")
	if w.balance(h) != 1600 || w.order(h, lost) != "paid" {
		t.Fatalf("balance %d, order %s", w.balance(h), w.order(h, lost))
	}
	// Nothing is left for the reconciler: the cancelled order left its pending index with the others.
	w.Clock.Advance(6 * time.Minute)
	if rep := w.runReconciler(); rep.Checked != 0 {
		t.Fatalf("reconciler: %+v", rep)
	}
	var statuses []string
	for _, o := range w.myOrders(h, 10) {
		statuses = append(statuses, o.Status)
	}
	if fmt.Sprint(statuses) != "[paid paid closed]" {
		t.Fatalf("my orders: %v", statuses)
	}
	w.Reconciled()
}
