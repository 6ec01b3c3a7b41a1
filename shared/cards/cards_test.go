package cards_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/testkit"
)

func TestBindPrefixesAndView(t *testing.T) {
	w := newWorld(t)
	for i, no := range []string{"CUIK20230001", "cuik20230001", "CUK20230001", "cuk20230001"} {
		h := w.student(fmt.Sprintf("1380000000%d", i))
		if i == 0 {
			var v map[string]any
			w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": no, "cardPassword": "011237"}, h...).Expect(t, 200, "").Decode(t, &v)
			if v["holderName"] != "张*" || v["cardNo"] != "10000001" || v["studentNo"] != "CUIK20230001" || v["status"] != "active" {
				t.Fatalf("bind answer: %v", v)
			}
			continue
		}
		// Every spelling finds the same card, which is now bound to the first account.
		w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": no, "cardPassword": "011237"}, h...).Expect(t, 409, "CARD_BOUND_ELSEWHERE")
	}
	h := w.student("13800000009")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "20230002", "cardPassword": "025620"}, h...).Expect(t, 400, "BAD_STUDENT_NO")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK29990000", "cardPassword": "025620"}, h...).Expect(t, 422, "BIND_FAILED")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230002", "cardPassword": "12345"}, h...).Expect(t, 400, "BAD_CARD_PASSWORD_FORMAT")
	// 李四's ID ends in X: the initial password reads it as 0, and X typed in the app counts as 0.
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230002", "cardPassword": "02562X"}, h...).Expect(t, 200, "")
	var view cards.View
	w.Do("GET", "/v1/card", nil, h...).Expect(t, 200, "").Decode(t, &view)
	if view.HolderName != "李*" || view.BalanceFen != 0 || view.Arrears || view.Limits.PerTxnFen != 5000 || view.VirtualCard {
		t.Fatalf("card view: %+v", view)
	}
	var me map[string]any
	w.Do("GET", "/v1/me", nil, h...).Expect(t, 200, "").Decode(t, &me)
	if c, _ := me["card"].(map[string]any); c == nil || c["cardNo"] != "10000002" {
		t.Fatalf("me.card: %v", me)
	}
	// A second card for the same account in the same school is refused until unbound.
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230003", "cardPassword": "034322"}, h...).Expect(t, 409, "ALREADY_BOUND")
	w.Do("DELETE", "/v1/card/bind", nil, h...).Expect(t, 204, "")
	w.Do("GET", "/v1/card", nil, h...).Expect(t, 422, "CARD_NOT_BOUND")
	w.Do("GET", "/v1/me", nil, h...).Expect(t, 200, "").Decode(t, &me)
	if me["card"] != nil {
		t.Fatalf("card still shown after unbind: %v", me["card"])
	}
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230003", "cardPassword": "034322"}, h...).Expect(t, 200, "")
}

func TestPasswordLockoutAndUnlock(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000011", "CUIK20230003", "034322")
	for i := 1; i < 5; i++ {
		w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "000000"}, h...).Expect(t, 422, "BAD_CARD_PASSWORD")
	}
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "000000"}, h...).Expect(t, 423, "CARD_LOCKED")
	// Locked: even the right password is refused, everywhere it is checked.
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "034322"}, h...).Expect(t, 423, "CARD_LOCKED")
	w.Do("PUT", "/v1/card/password", map[string]string{"oldPassword": "034322", "newPassword": "111111"}, h...).Expect(t, 423, "CARD_LOCKED")
	var card map[string]any
	w.Do("GET", "/v1/card", nil, h...).Expect(t, 200, "").Decode(t, &card)
	if card["status"] != "locked" {
		t.Fatalf("status %v", card["status"])
	}
	w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": "530102200001011237"}, h...).Expect(t, 422, "BAD_ID_NUMBER")
	w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": "530102200203034322"}, h...).Expect(t, 204, "")
	w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": "530102200203034322"}, h...).Expect(t, 409, "NOT_LOCKED")
	// The count restarted: four wrong tries do not lock again.
	for i := 0; i < 4; i++ {
		w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "000000"}, h...).Expect(t, 422, "BAD_CARD_PASSWORD")
	}
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "034322"}, h...).Expect(t, 204, "")
}

// A lock never clears a loss report: a card reported lost, then locked by wrong passwords, is lost again
// once unlocked (by the student with the ID number, or by the card center), and readers keep refusing it.
func TestUnlockKeepsTheLossReport(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000012", "CUIK20230003", "034322")
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "034322"}, h...).Expect(t, 204, "")
	lockIt := func() {
		for i := 1; i < 5; i++ {
			w.Do("DELETE", "/v1/card/loss", map[string]string{"cardPassword": "000000"}, h...).Expect(t, 422, "BAD_CARD_PASSWORD")
		}
		w.Do("DELETE", "/v1/card/loss", map[string]string{"cardPassword": "000000"}, h...).Expect(t, 423, "CARD_LOCKED")
	}
	lockIt()
	w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": "530102200203034322"}, h...).Expect(t, 204, "")
	if c := w.card("10000003"); c.Status != cards.Lost || !c.Blocked() {
		t.Fatalf("after the student's unlock: %s", c.Status)
	}
	lockIt()
	w.Do("POST", "/v1/admin/cards/10000003/unlock", nil, w.StaffOf("it")...).Expect(t, 204, "")
	if c := w.card("10000003"); c.Status != cards.Lost {
		t.Fatalf("after the card center's unlock: %s", c.Status)
	}
	// 解挂 with the right password makes it active, and a lock after that unlocks to active.
	w.Do("DELETE", "/v1/card/loss", map[string]string{"cardPassword": "034322"}, h...).Expect(t, 204, "")
	lockIt()
	w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": "530102200203034322"}, h...).Expect(t, 204, "")
	if c := w.card("10000003"); c.Status != cards.Active {
		t.Fatalf("unlocked after 解挂: %s", c.Status)
	}
}

// A stranger's wrong binds count against their account and throttle binding the card, but never lock
// the card or put it on the blacklist; unknown student numbers and wrong passwords answer alike.
func TestBindFailuresNeverLockTheCard(t *testing.T) {
	w := newWorld(t)
	h := w.student("13800000012")
	for i := 1; i < 5; i++ {
		r := w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230001", "cardPassword": "999999"}, h...).Expect(t, 422, "BIND_FAILED")
		if got := r.JSON()["error"].(map[string]any)["triesLeft"]; got != float64(5-i) {
			t.Fatalf("triesLeft %v after %d", got, i)
		}
	}
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK29990000", "cardPassword": "999999"}, h...).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230001", "cardPassword": "011237"}, h...).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	// The card pays and is not on the blacklist.
	if got := blacklist(t, w.Env, "10000001"); got != "" {
		t.Fatalf("a stranger's binds put the card on the blacklist: %q", got)
	}
	// Other strangers: after ten wrong passwords in all, binding this card pauses for an hour, for
	// everyone, even with the right password; the card itself stays active.
	for i := range 5 {
		o := w.student(fmt.Sprintf("1380000010%d", i))
		w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230001", "cardPassword": "999999"}, o...).Expect(t, 422, "BIND_FAILED")
	}
	o := w.student("13800000110")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230001", "cardPassword": "999999"}, o...).Expect(t, 429, "BIND_THROTTLED")
	owner := w.student("13800000111")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230001", "cardPassword": "011237"}, owner...).Expect(t, 429, "BIND_THROTTLED")
	w.Clock.Advance(61 * time.Minute)
	owner = w.student("13800000113") // the first session's token expired meanwhile
	var v map[string]any
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230001", "cardPassword": "011237"}, owner...).Expect(t, 200, "").Decode(t, &v)
	if v["status"] != "active" {
		t.Fatalf("card after strangers' binds: %v", v)
	}
	// Bound now: any other account meets the same refusal, right password or wrong.
	other := w.student("13800000112")
	for _, pw := range []string{"011237", "999999"} {
		w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230001", "cardPassword": pw}, other...).Expect(t, 409, "CARD_BOUND_ELSEWHERE")
	}
}

func TestIDNumberTriesAreLimited(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000013", "CUIK20230001", "011237")
	for i := 0; i < 5; i++ {
		w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "000000"}, h...)
	}
	for i := 1; i < 5; i++ {
		w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": "530102200203034322"}, h...).Expect(t, 422, "BAD_ID_NUMBER")
	}
	w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": "530102200203034322"}, h...).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": "530102200001011237"}, h...).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": "not-an-id"}, h...).Expect(t, 429, "TOO_MANY_ATTEMPTS")
}

func TestLossAndBlacklistLog(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000014", "CUIK20230001", "011237")
	w.Do("POST", "/v1/card/virtual", nil, h...).Expect(t, 204, "")
	w.Do("DELETE", "/v1/card/loss", map[string]string{"cardPassword": "011237"}, h...).Expect(t, 409, "NOT_LOST")
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "011237"}, h...).Expect(t, 204, "")
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "011237"}, h...).Expect(t, 409, "ALREADY_LOST")
	var card map[string]any
	w.Do("GET", "/v1/card", nil, h...).Expect(t, 200, "").Decode(t, &card)
	if card["status"] != "lost" || card["virtualCard"] != true {
		t.Fatalf("after loss: %v", card)
	}
	if got := blacklist(t, w.Env, "10000001"); got != "+" {
		t.Fatalf("blacklist after loss: %q", got)
	}
	w.Clock.Advance(time.Second)
	w.Do("DELETE", "/v1/card/loss", map[string]string{"cardPassword": "011237"}, h...).Expect(t, 204, "")
	if got := blacklist(t, w.Env, "10000001"); got != "+-" {
		t.Fatalf("blacklist after cancel: %q", got)
	}
}

func TestCardPasswordChangeAndReset(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000015", "CUIK20230002", "025620")
	w.Do("PUT", "/v1/card/password", map[string]string{"oldPassword": "025620", "newPassword": "12ab56"}, h...).Expect(t, 400, "BAD_CARD_PASSWORD_FORMAT")
	w.Do("PUT", "/v1/card/password", map[string]string{"oldPassword": "111111", "newPassword": "654321"}, h...).Expect(t, 422, "BAD_CARD_PASSWORD")
	w.Do("PUT", "/v1/card/password", map[string]string{"oldPassword": "02562x", "newPassword": "654321"}, h...).Expect(t, 204, "")
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "025620"}, h...).Expect(t, 422, "BAD_CARD_PASSWORD")
	// Reset needs the account's phone, the student number and the ID number.
	w.Do("POST", "/v1/card/password/reset", map[string]string{"phone": "13899999999", "studentNo": "CUIK20230002", "idNumber": "53010220010202562X"}, h...).Expect(t, 422, "BAD_ID_NUMBER")
	w.Do("POST", "/v1/card/password/reset", map[string]string{"phone": "13800000015", "studentNo": "CUIK20230002", "idNumber": "530102200102025621"}, h...).Expect(t, 422, "BAD_ID_NUMBER")
	w.Do("POST", "/v1/card/password/reset", map[string]string{"phone": "13800000015", "studentNo": "cuk20230002", "idNumber": "53010220010202562x"}, h...).Expect(t, 204, "")
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "025620"}, h...).Expect(t, 204, "")
}

func TestLimits(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000016", "CUIK20230001", "011237")
	for _, bad := range []string{`{"perTxnFen":0,"dailyFen":100}`, `{"perTxnFen":200,"dailyFen":100}`, `{"perTxnFen":-1,"dailyFen":100}`, `{"perTxnFen":100,"dailyFen":100000000}`} {
		w.Do("PUT", "/v1/card/limits", bad, h...).Expect(t, 400, "BAD_LIMITS")
	}
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":1.5,"dailyFen":100}`, h...).Expect(t, 400, "WRONG_TYPE")
	var lim cards.Limits
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":2000,"dailyFen":10000}`, h...).Expect(t, 200, "").Decode(t, &lim)
	if lim.PerTxnFen != 2000 || lim.DailyFen != 10000 {
		t.Fatalf("limits: %v", lim)
	}
}

// The attack of issue 11: a card with nothing on it raised its own limits to 1,000,000 fen without the
// card password. Raising a limit now takes the card password (and a wrong one counts toward the lock),
// and no limit goes above the school's ceilings, which the student sees and staff set.
func TestRaisingLimitsTakesTheCardPasswordAndStaysUnderTheCeilings(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000018", "CUIK20230001", "011237")
	var card cards.View
	w.Do("GET", "/v1/card", nil, h...).Expect(t, 200, "").Decode(t, &card)
	if card.Limits != (cards.Limits{PerTxnFen: 5000, DailyFen: 30000, MaxPerTxnFen: 50000, MaxDailyFen: 200000}) {
		t.Fatalf("GET /v1/card limits: %+v", card.Limits)
	}
	// The repro, with and without the password: above the ceilings.
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":1000000,"dailyFen":1000000}`, h...).Expect(t, 400, "BAD_LIMITS")
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":1000000,"dailyFen":1000000,"cardPassword":"011237"}`, h...).Expect(t, 400, "BAD_LIMITS")
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":50001,"dailyFen":200000,"cardPassword":"011237"}`, h...).Expect(t, 400, "BAD_LIMITS")
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":50000,"dailyFen":200001,"cardPassword":"011237"}`, h...).Expect(t, 400, "BAD_LIMITS")
	// Within the ceilings, raising either limit takes the password; a wrong one is refused and counts.
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":50000,"dailyFen":200000}`, h...).Expect(t, 400, "CARD_PASSWORD_REQUIRED")
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":5000,"dailyFen":30001}`, h...).Expect(t, 400, "CARD_PASSWORD_REQUIRED")
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":50000,"dailyFen":200000,"cardPassword":"000000"}`, h...).Expect(t, 422, "BAD_CARD_PASSWORD")
	w.Do("GET", "/v1/card", nil, h...).Expect(t, 200, "").Decode(t, &card)
	if card.Limits.PerTxnFen != 5000 || card.Limits.DailyFen != 30000 {
		t.Fatalf("a refused raise changed the limits: %+v", card.Limits)
	}
	var lim cards.Limits
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":50000,"dailyFen":200000,"cardPassword":"011237"}`, h...).Expect(t, 200, "").Decode(t, &lim)
	if lim != (cards.Limits{PerTxnFen: 50000, DailyFen: 200000, MaxPerTxnFen: 50000, MaxDailyFen: 200000}) {
		t.Fatalf("raised: %+v", lim)
	}
	// Lowering needs no password (it only makes the card safer).
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":1000,"dailyFen":5000}`, h...).Expect(t, 200, "")
	// Wrong passwords sent to this route lock the card like any other card-password check.
	// (shared/cards' lockout decides exactly when: within five tries.)
	for i := 0; i < cards.MaxPasswordFailures; i++ {
		r := w.Do("PUT", "/v1/card/limits", `{"perTxnFen":2000,"dailyFen":5000,"cardPassword":"000000"}`, h...)
		if r.Status == 423 {
			break
		}
		r.Expect(t, 422, "BAD_CARD_PASSWORD")
	}
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":2000,"dailyFen":5000,"cardPassword":"011237"}`, h...).Expect(t, 423, "CARD_LOCKED")
	w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": "530102200001011237"}, h...).Expect(t, 204, "")

	// Staff move the ceilings (school settings); the student sees the new ones and may go up to them.
	adm := w.StaffOf(auth.RoleAdmin)
	var s map[string]any
	w.Do("GET", "/v1/admin/school", nil, adm...).Expect(t, 200, "").Decode(t, &s)
	s["maxPerTxnFen"], s["maxDailyFen"] = 1000000, 1000000
	w.Do("PUT", "/v1/admin/school", s, adm...).Expect(t, 200, "")
	w.Do("PUT", "/v1/card/limits", `{"perTxnFen":1000000,"dailyFen":1000000,"cardPassword":"011237"}`, h...).Expect(t, 200, "").Decode(t, &lim)
	if lim != (cards.Limits{PerTxnFen: 1000000, DailyFen: 1000000, MaxPerTxnFen: 1000000, MaxDailyFen: 1000000}) {
		t.Fatalf("under raised ceilings: %+v", lim)
	}
}

func TestTransactionsPagingAndMonth(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000017", "CUIK20230001", "011237")
	for i := 1; i <= 5; i++ {
		w.Credit("10000001", int64(i*100), fmt.Sprintf("page-%d", i))
	}
	var page struct {
		Items []struct {
			TxnID           string
			Kind            string
			AmountFen       int64
			BalanceAfterFen int64
			OccurredAt      string
		}
		NextCursor *string
	}
	w.Do("GET", "/v1/card/transactions?limit=2", nil, h...).Expect(t, 200, "").Decode(t, &page)
	if len(page.Items) != 2 || page.Items[0].AmountFen != 500 || page.Items[0].BalanceAfterFen != 1500 || page.NextCursor == nil ||
		!strings.HasSuffix(page.Items[0].OccurredAt, "+08:00") {
		t.Fatalf("first page: %+v", page)
	}
	var all []int64
	for _, it := range page.Items {
		all = append(all, it.AmountFen)
	}
	for page.NextCursor != nil {
		cur := *page.NextCursor
		page.NextCursor = nil
		page.Items = nil
		w.Do("GET", "/v1/card/transactions?limit=2&cursor="+cur, nil, h...).Expect(t, 200, "").Decode(t, &page)
		for _, it := range page.Items {
			all = append(all, it.AmountFen)
		}
	}
	if fmt.Sprint(all) != "[500 400 300 200 100]" {
		t.Fatalf("pages: %v", all)
	}
	w.Do("GET", "/v1/card/transactions?month=2026-10", nil, h...).Expect(t, 200, "").Decode(t, &page)
	if len(page.Items) != 0 {
		t.Fatalf("October should be empty: %+v", page.Items)
	}
	w.Do("GET", "/v1/card/transactions?month=2026-11", nil, h...).Expect(t, 200, "").Decode(t, &page)
	if len(page.Items) != 5 {
		t.Fatalf("November: %d items", len(page.Items))
	}
	w.Do("GET", "/v1/card/transactions?month=11-2026", nil, h...).Expect(t, 400, "BAD_MONTH")
	w.Do("GET", "/v1/card/transactions?cursor=bm90LWFuLWVudHJ5", nil, h...).Expect(t, 400, "BAD_CURSOR")
	w.Do("GET", "/v1/card/transactions?limit=0", nil, h...).Expect(t, 400, "BAD_LIMIT")
	w.Reconciled()
}

// A student never reaches another student's card: every card route acts on the caller's own binding.
func TestStudentsOnlyTouchTheirOwnCard(t *testing.T) {
	w := newWorld(t)
	a := w.Bound("13800000018", "CUIK20230001", "011237")
	b := w.student("13800000019")
	w.Credit("10000001", 999, "own-1")
	w.Do("GET", "/v1/card", nil, b...).Expect(t, 422, "CARD_NOT_BOUND")
	w.Do("GET", "/v1/card/transactions", nil, b...).Expect(t, 422, "CARD_NOT_BOUND")
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "011237"}, b...).Expect(t, 422, "CARD_NOT_BOUND")
	// Knowing the password is not enough to take a bound card.
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230001", "cardPassword": "011237"}, b...).Expect(t, 409, "CARD_BOUND_ELSEWHERE")
	var card cards.View
	w.Do("GET", "/v1/card", nil, a...).Expect(t, 200, "").Decode(t, &card)
	if card.BalanceFen != 999 {
		t.Fatalf("balance %d", card.BalanceFen)
	}
}

func TestStaffRoutesRefuseStudentsAndOtherRoles(t *testing.T) {
	w := newWorld(t)
	stu := w.student("13800000020")
	routes := []struct {
		method, path string
		allowed      string
	}{
		{"POST", "/v1/admin/students/import", "it"},
		{"POST", "/v1/admin/cards/10000001/unlock", "it"},
		{"POST", "/v1/admin/cards/10000001/reset-password", "it"},
		{"POST", "/v1/admin/cards/10000001/replace", "finance"},
		{"GET", "/v1/admin/reconcile", "finance"},
		{"POST", "/v1/admin/reconcile", "finance"},
		{"GET", "/v1/admin/reconcile/jobs/20261125T040000Z-0a1b2c", "finance"},
		{"GET", "/v1/admin/audit", "admin"},
	}
	for _, r := range routes {
		w.Do(r.method, r.path, "{}", stu...).Expect(t, 401, "TOKEN_INVALID")
		w.Do(r.method, r.path, "{}").Expect(t, 401, "UNAUTHORIZED")
		for _, role := range []string{"finance", "it", "ops"} {
			if role == r.allowed {
				continue
			}
			w.Do(r.method, r.path, "{}", w.StaffOf(role)...).Expect(t, 403, "FORBIDDEN")
		}
	}
}

func blacklist(t *testing.T, e *testkit.Env, cardNo string) string {
	t.Helper()
	changes, err := listBlacklist(e, "kmmc")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range changes {
		if c.CardNo == cardNo {
			if c.Blocked {
				b.WriteByte('+')
			} else {
				b.WriteByte('-')
			}
		}
	}
	return b.String()
}

func TestReplaceCard(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000021", "CUIK20230001", "011237")
	w.Credit("10000001", 4321, "before-replace")
	fin := w.StaffOf("finance")
	var res struct {
		OldCardNo, NewCardNo string
		MovedFen, BalanceFen int64
	}
	w.Do("POST", "/v1/admin/cards/10000001/replace", map[string]string{"newCardNo": "10000002"}, fin...).Expect(t, 409, "CARD_NO_TAKEN")
	w.Do("POST", "/v1/admin/cards/10000001/replace", map[string]string{"newCardNo": "x1"}, fin...).Expect(t, 400, "BAD_CARD_NO")
	keep := map[string]any{"newCardNo": "10000099", "keepBinding": true} // staff checked: the bound account is the student's
	w.Do("POST", "/v1/admin/cards/10000001/replace", keep, fin...).Expect(t, 200, "").Decode(t, &res)
	if res.MovedFen != 4321 || res.BalanceFen != 4321 || res.NewCardNo != "10000099" {
		t.Fatalf("replace: %+v", res)
	}
	// The student's account follows the new card; the old one is cancelled and blacklisted.
	var card cards.View
	w.Do("GET", "/v1/card", nil, h...).Expect(t, 200, "").Decode(t, &card)
	if card.CardNo != "10000099" || card.BalanceFen != 4321 || card.Status != "active" {
		t.Fatalf("card after replace: %+v", card)
	}
	if got := blacklist(t, w.Env, "10000001"); got != "+" {
		t.Fatalf("old card blacklist: %q", got)
	}
	// Repeating the request (a double click, a retry after a timeout) changes nothing.
	w.Do("POST", "/v1/admin/cards/10000001/replace", keep, fin...).Expect(t, 200, "").Decode(t, &res)
	card = cards.View{}
	w.Do("GET", "/v1/card", nil, h...).Expect(t, 200, "").Decode(t, &card)
	if card.BalanceFen != 4321 || res.BalanceFen != 4321 {
		t.Fatalf("repeat changed the new card: %+v %+v", card, res)
	}
	w.Do("POST", "/v1/admin/cards/10000001/replace", map[string]string{"newCardNo": "10000098"}, fin...).Expect(t, 409, "ALREADY_REPLACED")
	// Binding by student number now finds the new card, with the same password.
	h2 := w.student("13800000022")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230001", "cardPassword": "011237"}, h2...).Expect(t, 409, "CARD_BOUND_ELSEWHERE")
	var audit struct {
		Items []struct{ Action, Target string }
	}
	w.Do("GET", "/v1/admin/audit", nil, w.StaffOf("admin")...).Expect(t, 200, "").Decode(t, &audit)
	found := false
	for _, a := range audit.Items {
		found = found || a.Action == "card.replace" && a.Target == "card:10000001"
	}
	if !found {
		t.Fatalf("replace not audited: %+v", audit.Items)
	}
	w.Reconciled()
}
