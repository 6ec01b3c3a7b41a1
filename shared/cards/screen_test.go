package cards_test

import (
	"context"
	"testing"
	"time"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

// cardView reads GET /v1/card.
func (w *world) cardView(h []string) cards.View {
	w.T.Helper()
	var v cards.View
	w.Do("GET", "/v1/card", nil, h...).Expect(w.T, 200, "").Decode(w.T, &v)
	return v
}

// login signs phone in again (after the clock moved past its token's life).
func (w *world) login(phone string) []string {
	w.T.Helper()
	var pair struct{ AccessToken string }
	w.Do("POST", "/v1/auth/login", map[string]string{"phone": phone, "password": testkit.StudentPassword}).Expect(w.T, 200, "").Decode(w.T, &pair)
	return testkit.Bearer(pair.AccessToken)
}

// The card screen: what was spent today (China time, from the service's clock) against the daily
// limit, the limits' ceilings, the recharge maximum per order, and whether the card password is still
// the initial one.
func TestCardViewForTheCardScreen(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000301", "CUIK20230001", "011237")
	v := w.cardView(h)
	if v.SpentTodayFen != 0 || !v.PasswordInitial || v.MaxRechargeFen != 100000 ||
		v.Limits.DailyFen != 30000 || v.Limits.MaxPerTxnFen != 50000 || v.Limits.MaxDailyFen != 200000 {
		t.Fatalf("card view of a fresh card: %+v", v)
	}

	// Spending as shared/reader records it on the card in the posting transaction: 12.34 元 on the
	// service's today (the test clock stands at 2026-11-25 12:00 China time).
	card := store.CardKey("kmmc", "10000001")
	spent := func(day string, fen int64) {
		t.Helper()
		if err := testkit.Store(w.Deps).Update(context.Background(), card, "SET spentDay = :d, spentFen = :f", "", nil,
			store.Values{":d": day, ":f": fen}.AV()); err != nil {
			t.Fatal(err)
		}
	}
	spent("2026-11-24", 999)
	if v := w.cardView(h); v.SpentTodayFen != 0 {
		t.Fatalf("yesterday's spending shown as today's: %d", v.SpentTodayFen)
	}
	spent("2026-11-25", 1234)
	if v := w.cardView(h); v.SpentTodayFen != 1234 {
		t.Fatalf("spent today %d, want 1234", v.SpentTodayFen)
	}
	// 16:00 UTC is midnight in China: a new day there (still the 25th in UTC).
	w.Clock.Set(time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC))
	h = w.login("13800000301")
	if v := w.cardView(h); v.SpentTodayFen != 0 {
		t.Fatalf("spent today after China midnight: %d", v.SpentTodayFen)
	}

	// The password flag: a change of the student's own clears it (unless the "new" password is the
	// initial one again); a reset with the ID number, by the student or by staff, sets it.
	initial := func(want bool, when string) {
		t.Helper()
		if v := w.cardView(h); v.PasswordInitial != want {
			t.Fatalf("%s: passwordInitial %v, want %v", when, v.PasswordInitial, want)
		}
		var me struct{ Card *cards.View }
		w.Do("GET", "/v1/me", nil, h...).Expect(t, 200, "").Decode(t, &me)
		if me.Card == nil || me.Card.PasswordInitial != want {
			t.Fatalf("%s: /v1/me card %+v", when, me.Card)
		}
	}
	w.Do("PUT", "/v1/card/password", map[string]string{"oldPassword": "011237", "newPassword": "011237"}, h...).Expect(t, 204, "")
	initial(true, "changed to the initial password itself")
	w.Do("PUT", "/v1/card/password", map[string]string{"oldPassword": "011237", "newPassword": "246810"}, h...).Expect(t, 204, "")
	initial(false, "after a change")
	w.Do("PUT", "/v1/card/password", map[string]string{"oldPassword": "246810", "newPassword": "246810"}, h...).Expect(t, 204, "")
	initial(false, "a changed password set again")
	w.Do("POST", "/v1/card/password/reset", map[string]string{"phone": "13800000301", "studentNo": "CUIK20230001",
		"idNumber": "530102200001011237"}, h...).Expect(t, 204, "")
	initial(true, "after the student's reset")
	w.Do("PUT", "/v1/card/password", map[string]string{"oldPassword": "011237", "newPassword": "135790"}, h...).Expect(t, 204, "")
	initial(false, "after a second change")
	w.Do("POST", "/v1/admin/cards/10000001/reset-password", map[string]string{"idNumber": "530102200001011237"},
		w.StaffOf(auth.RoleIT)...).Expect(t, 204, "")
	initial(true, "after the card center's reset")
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "011237"}, h...).Expect(t, 204, "")
}

// The virtual card can be turned off again; payment codes are then refused as before it was opened.
func TestVirtualCardTurnsOff(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000302", "CUIK20230002", "025620")
	w.Credit("10000002", 1000, "virtual-off")
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 422, "VIRTUAL_CARD_OFF")
	w.Do("POST", "/v1/card/virtual", nil, h...).Expect(t, 204, "")
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 200, "")
	if !w.cardView(h).VirtualCard {
		t.Fatal("virtual card not shown as open")
	}
	w.Do("DELETE", "/v1/card/virtual", nil, h...).Expect(t, 204, "")
	w.Do("DELETE", "/v1/card/virtual", nil, h...).Expect(t, 204, "") // already off: the same answer
	if w.cardView(h).VirtualCard {
		t.Fatal("virtual card still shown as open")
	}
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 422, "VIRTUAL_CARD_OFF")
	w.Do("POST", "/v1/card/virtual", nil, h...).Expect(t, 204, "")
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(t, 200, "")
	// Same access as opening it: a signed-in account with a bound card.
	w.Do("DELETE", "/v1/card/virtual", nil).Expect(t, 401, "")
	w.Do("DELETE", "/v1/card/virtual", nil, w.student("13800000303")...).Expect(t, 422, "CARD_NOT_BOUND")
}
