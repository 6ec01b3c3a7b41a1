package recharge_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"onecard/infra/wxsandbox"
	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/httpapi"
	"onecard/shared/recharge"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

// Issue 18, "A WeChat payment confirmed after a 补卡": the money follows the student to the card that
// replaced the one the order was for, whichever path (notification or reconciler) brings it.

const (
	oldCard = "10000001" // CUIK20230001's card in the seed
	newCard = "19990001"
)

// staff signs in the finance member, who replaces cards and refunds orders.
func (w *world) staff() []string {
	w.T.Helper()
	return w.StaffOf(auth.RoleFinance)
}

// replace is 补卡 through the staff API.
func (w *world) replace(from, to string) {
	w.T.Helper()
	w.Do("POST", "/v1/admin/cards/"+from+"/replace", map[string]string{"newCardNo": to}, w.staff()...).Expect(w.T, 200, "")
}

type orderView struct {
	Status string
	Target struct {
		Kind, CardNo string
	}
	CreditedTo *struct {
		Kind, CardNo string
	}
	CreditNote string
}

// login signs the student in again (after the clock passed the access token's lifetime).
func (w *world) login(phone string) []string {
	w.T.Helper()
	var pair struct{ AccessToken string }
	w.Do("POST", "/v1/auth/login", map[string]string{"phone": phone, "password": testkit.StudentPassword}).Expect(w.T, 200, "").Decode(w.T, &pair)
	return testkit.Bearer(pair.AccessToken)
}

func (w *world) orderView(h []string, no string) orderView {
	w.T.Helper()
	var o orderView
	w.Do("GET", "/v1/orders/"+no, nil, h...).Expect(w.T, 200, "").Decode(w.T, &o)
	return o
}

// checkRedirected asserts the order was paid to newCard, says so, and nothing sits on the old card.
func (w *world) checkRedirected(h []string, no string, fen int64) {
	w.T.Helper()
	o := w.orderView(h, no)
	if o.Status != "paid" || o.Target.CardNo != oldCard || o.CreditedTo == nil || o.CreditedTo.CardNo != newCard ||
		o.CreditedTo.Kind != "card" || o.CreditNote != recharge.NoteReplaced {
		w.T.Fatalf("order view: %+v (credited to %+v)", o, o.CreditedTo)
	}
	if old, nc := w.Card(oldCard), w.Card(newCard); old.Balance != 0 || nc.Balance != fen || nc.Status != cards.Active {
		w.T.Fatalf("old card %s holds %d, new card %s holds %d", old.Status, old.Balance, nc.Status, nc.Balance)
	}
	w.Reconciled()
}

func TestPaymentConfirmedAfterReplaceLandsOnTheNewCard(t *testing.T) {
	w := newWorld(t)
	h := w.student("13700000011", "CUIK20230001", "011237", true)
	no := w.recharge(h, 5000, "")
	w.replace(oldCard, newCard) // nothing to move yet
	w.pay(no)                   // the signed notification follows
	for _, d := range w.WX.Sandbox.Deliveries() {
		if d.Status != http.StatusNoContent {
			t.Fatalf("a delivery was answered %d", d.Status)
		}
	}
	w.checkRedirected(h, no, 5000)
	// WeChat Pay repeating itself credits nothing more, wherever the first credit went.
	if err := w.WX.Sandbox.Resend(no); err != nil {
		t.Fatal(err)
	}
	w.WX.Idle(t)
	w.checkRedirected(h, no, 5000)
	// An order paid to an unreplaced card says so too.
	h2 := w.student("13700000012", "CUIK20230002", "025620", true)
	no2 := w.recharge(h2, 700, "")
	w.pay(no2)
	if o := w.orderView(h2, no2); o.CreditedTo == nil || o.CreditedTo.CardNo != o.Target.CardNo || o.CreditNote != "" {
		t.Fatalf("plain order: %+v %+v", o, o.CreditedTo)
	}
}

func TestReconcilerCreditsAReplacedCardsOrderToTheNewCard(t *testing.T) {
	w := newWorld(t)
	h := w.student("13700000013", "CUIK20230001", "011237", true)
	if err := w.WX.Sandbox.SetNotifyMode("drop", 0); err != nil {
		t.Fatal(err)
	}
	no := w.recharge(h, 5000, "")
	w.replace(oldCard, newCard)
	w.pay(no) // the notification is lost
	w.Clock.Advance(6 * time.Minute)
	if rep := w.runReconciler(); rep.Credited != 1 || rep.Failed != 0 {
		t.Fatalf("reconciler: %+v", rep)
	}
	w.checkRedirected(h, no, 5000)
}

// A 补卡 that lands between Credit's read of the card and its write fails the write (it is conditioned on
// the card state read), and the next attempt decides again: the money goes to the new card, not to the
// card that was just cancelled.
func TestReplaceBetweenReadAndWriteIsDecidedAgain(t *testing.T) {
	w := newWorld(t)
	h := w.student("13700000014", "CUIK20230001", "011237", true)
	if err := w.WX.Sandbox.SetNotifyMode("drop", 0); err != nil {
		t.Fatal(err)
	}
	no := w.recharge(h, 5000, "")
	w.pay(no)
	ctx := httpapi.WithLogger(context.Background(), w.Deps.Log)
	s := recharge.NewService(w.Deps)
	calls := 0
	recharge.SetBeforePost(s, func(context.Context, *recharge.Order) {
		if calls++; calls == 1 {
			w.replace(oldCard, newCard)
		}
	})
	o, err := recharge.Get(ctx, testkit.Store(w.Deps), no)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := w.WX.Client.QueryOrder(ctx, no)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Credit(ctx, w.WX.Client, o, tx); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("%d attempts, want 2 (the first must fail on the card state it read)", calls)
	}
	w.checkRedirected(h, no, 5000)
}

// logBuffer collects a logger's JSON lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// find returns the first record with this level and message.
func (b *logBuffer) find(level, msg string) map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, line := range strings.Split(b.buf.String(), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["level"] == level && rec["msg"] == msg {
			return rec
		}
	}
	return nil
}

func captureLogs() (*logBuffer, *slog.Logger) {
	b := &logBuffer{}
	return b, slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// A card cancelled without a replacement keeps the credit: the money is on the books, on that card, the
// order says so, and an error line tells finance to refund or move it. Where the roster names another
// card for the student, the money goes there instead.
func TestCreditToACardCancelledWithoutReplacement(t *testing.T) {
	w := newWorld(t)
	h := w.student("13700000015", "CUIK20230001", "011237", true)
	if err := w.WX.Sandbox.SetNotifyMode("drop", 0); err != nil {
		t.Fatal(err)
	}
	no := w.recharge(h, 3000, "")
	w.pay(no)
	// Cancelled outright (销户), as a status change does it: status and blv together.
	ctx := context.Background()
	st := testkit.Store(w.Deps)
	c := w.Card(oldCard)
	if err := st.Update(ctx, c.Key, "SET #st = :c, blv = :n", "", map[string]string{"#st": "status"},
		store.Values{":c": cards.Cancelled, ":n": c.BLV + 1}.AV()); err != nil {
		t.Fatal(err)
	}
	logs, logger := captureLogs()
	w.Clock.Advance(6 * time.Minute)
	rep, err := recharge.NewService(w.Deps).Reconcile(httpapi.WithLogger(ctx, logger), recharge.ReconcileAfter)
	if err != nil || rep.Credited != 1 {
		t.Fatalf("reconciler: %+v %v", rep, err)
	}
	o := w.orderView(h, no)
	if o.Status != "paid" || o.CreditedTo == nil || o.CreditedTo.CardNo != oldCard || o.CreditNote != recharge.NoteCardCancelled {
		t.Fatalf("order: %+v %+v", o, o.CreditedTo)
	}
	if got := w.Card(oldCard).Balance; got != 3000 {
		t.Fatalf("cancelled card holds %d", got)
	}
	if rec := logs.find("ERROR", "recharge credited to a cancelled card"); rec == nil || rec["orderNo"] != no || rec["cardNo"] != oldCard {
		t.Fatalf("no error line for finance: %s", logs.buf.String())
	}
	w.Reconciled()

}

// A card whose replacement is not recorded on it (replacedBy missing, as in data older than the field)
// still sends the money to the card the roster names for the student now.
func TestCreditFollowsTheRosterToTheCurrentCard(t *testing.T) {
	w := newWorld(t)
	h := w.student("13700000017", "CUIK20230001", "011237", true)
	if err := w.WX.Sandbox.SetNotifyMode("drop", 0); err != nil {
		t.Fatal(err)
	}
	no := w.recharge(h, 1200, "")
	w.pay(no)
	w.replace(oldCard, newCard)
	st := testkit.Store(w.Deps)
	if err := st.Update(context.Background(), w.Card(oldCard).Key, "REMOVE replacedBy", "", nil, nil); err != nil {
		t.Fatal(err)
	}
	w.Clock.Advance(6 * time.Minute)
	if rep := w.runReconciler(); rep.Credited != 1 {
		t.Fatalf("reconciler: %+v", rep)
	}
	w.checkRedirected(h, no, 1200)
}

// Issue 11: the reconciler acts only on answers WeChat Pay signed. A man in the middle answering
// ORDER_NOT_EXIST about a paid order, or ORDER_CLOSED to our close of an order still payable, changes
// nothing: the order stays pending, an error line says why, and the next run with honest answers
// settles it.
func TestReconcilerIgnoresUnverifiedErrorAnswers(t *testing.T) {
	cases := []struct {
		name  string
		pay   bool
		forge wxsandbox.Forgery
	}{
		{"ORDER_NOT_EXIST about a paid order", true, wxsandbox.Forgery{Count: 1, Status: 404, Code: "ORDER_NOT_EXIST"}},
		{"ORDER_CLOSED to our close", false, wxsandbox.Forgery{Count: 1, Status: 400, Code: "ORDER_CLOSED", PathSuffix: "/close"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			h := w.student("13700000016", "CUIK20230002", "025620", true)
			if err := w.WX.Sandbox.SetNotifyMode("drop", 0); err != nil {
				t.Fatal(err)
			}
			no := w.recharge(h, 900, "")
			if c.pay {
				w.pay(no)
			}
			w.Clock.Advance(31 * time.Minute) // expired: a verified ORDER_NOT_EXIST would close it
			logs, logger := captureLogs()
			ctx := httpapi.WithLogger(context.Background(), logger)
			s := recharge.NewService(w.Deps)
			if err := w.WX.Sandbox.ForgeAPIAnswers(c.forge); err != nil {
				t.Fatal(err)
			}
			rep, err := s.Reconcile(ctx, recharge.ReconcileAfter)
			if err != nil || rep.Checked != 1 || rep.Failed != 1 {
				t.Fatalf("forged answer: %+v %v", rep, err)
			}
			if rec := logs.find("ERROR", "reconcile order: WeChat Pay answer not verified, order left pending"); rec == nil || rec["orderNo"] != no {
				t.Fatalf("no error line: %s", logs.buf.String())
			}
			h = w.login("13700000016")
			if st := w.order(h, no); st != "pending" || w.balance(h) != 0 {
				t.Fatalf("after a forged answer: %s, balance %d", st, w.balance(h))
			}
			// Honest answers settle it.
			rep, err = s.Reconcile(ctx, recharge.ReconcileAfter)
			want, fen := "closed", int64(0)
			if c.pay {
				want, fen = "paid", 900
			}
			if err != nil || rep.Failed != 0 || w.order(h, no) != want || w.balance(h) != fen {
				t.Fatalf("honest run: %+v %v, order %s, balance %d", rep, err, w.order(h, no), w.balance(h))
			}
			w.Reconciled()
		})
	}
}

// An authentic, paid notification for an order we do not have is an error line for the alarm, answered
// 204 so that WeChat Pay does not repeat it for a day (docs/wechatpay.md).
func TestPaidNotificationForAnUnknownOrderIsAnError(t *testing.T) {
	w := newWorld(t)
	logs, logger := captureLogs()
	d := *w.Deps
	d.Log = logger
	notify := recharge.WeChatNotify.Handler(&d)
	unknown := "R20261125120000" + "0000000042"
	req := w.notification(unknown, 5000, platformKey(t, w.WX.KeysDir), w.Clock.Now(), "", false)
	rec := httptest.NewRecorder()
	notify.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("answer %d %s", rec.Code, rec.Body)
	}
	r := logs.find("ERROR", "paid notification for an unknown order")
	if r == nil || r["orderNo"] != unknown || r["amountFen"] != float64(5000) || r["ourMerchant"] != true {
		t.Fatalf("no error line: %s", logs.buf.String())
	}
	w.Reconciled()
}
