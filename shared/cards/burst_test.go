package cards_test

import (
	"fmt"
	"testing"

	"onecard/shared/secret"
	"onecard/shared/testkit"
)

// 40 wrong card passwords at once from the owner compare exactly five and lock the card; the right
// password after them is refused without a comparison. Today's code compared all 40.
func TestCardPasswordBurst(t *testing.T) {
	w := newSerialWorld(t)
	h := w.Bound("13800000201", "CUIK20230003", "034322")
	before := secret.Comparisons()
	rs := w.Burst(40, func(int) *testkit.Resp {
		return w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "000000"}, h...)
	})
	if n := secret.Comparisons() - before; n != 5 {
		t.Fatalf("compared %d: %v", n, testkit.Tally(rs))
	}
	if tally := testkit.Tally(rs); tally["422 BAD_CARD_PASSWORD"] != 4 || tally["423 CARD_LOCKED"] != 36 {
		t.Fatalf("answers: %v", tally)
	}
	before = secret.Comparisons()
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "034322"}, h...).Expect(t, 423, "CARD_LOCKED")
	if secret.Comparisons() != before {
		t.Fatal("a locked card's password was compared")
	}
	var card map[string]any
	w.Do("GET", "/v1/card", nil, h...).Expect(t, 200, "").Decode(t, &card)
	if card["status"] != "locked" {
		t.Fatalf("status %v", card["status"])
	}

	// Unlocking by ID number: 40 wrong numbers at once compare five, then only the card center helps.
	before = secret.Comparisons()
	rs = w.Burst(40, func(i int) *testkit.Resp {
		return w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": withCheckDigit(fmt.Sprintf("530102199901%02d123", i%28+1))}, h...)
	})
	if n := secret.Comparisons() - before; n != 5 {
		t.Fatalf("ID burst compared %d: %v", n, testkit.Tally(rs))
	}
	w.Do("POST", "/v1/card/unlock", map[string]string{"idNumber": "530102200203034322"}, h...).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	w.Do("POST", "/v1/admin/cards/10000003/unlock", nil, w.StaffOf("it")...).Expect(t, 204, "")
	w.Do("POST", "/v1/card/loss", map[string]string{"cardPassword": "034322"}, h...).Expect(t, 204, "")
}

// A stranger's burst of 40 binds, the right password among them, compares at most the account's five
// (plus one after a right one gives its try back) and never locks the card.
func TestBindBurstFromOneAccount(t *testing.T) {
	w := newSerialWorld(t)
	h := w.student("13800000202")
	before := secret.Comparisons()
	rs := w.Burst(40, func(i int) *testkit.Resp {
		pw := "999999"
		if i == 25 {
			pw = "025620"
		}
		return w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230002", "cardPassword": pw}, h...)
	})
	compared := secret.Comparisons() - before
	tally := testkit.Tally(rs)
	if compared > 6 || tally["200 "] > 1 {
		t.Fatalf("compared %d: %v", compared, tally)
	}
	if got := blacklist(t, w.Env, "10000002"); got != "" {
		t.Fatalf("blacklist: %q", got)
	}
}

// withCheckDigit completes 17 digits into a well-formed ID number (GB 11643 check digit).
func withCheckDigit(d17 string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range d17 {
		sum += int(c-'0') * weights[i]
	}
	return d17 + string("10X98765432"[sum%11])
}

// A card password reset whose phone or student number does not match counts like a wrong ID number, so
// the answers do not tell a right ID with a wrong phone from a wrong ID.
func TestResetMismatchCounts(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000203", "CUIK20230002", "025620")
	for i := 1; i < 5; i++ {
		r := w.Do("POST", "/v1/card/password/reset", map[string]string{"phone": "13899999999", "studentNo": "CUIK20230002", "idNumber": "53010220010202562X"}, h...).Expect(t, 422, "BAD_ID_NUMBER")
		if got := r.JSON()["error"].(map[string]any)["triesLeft"]; got != float64(5-i) {
			t.Fatalf("triesLeft %v after %d", got, i)
		}
	}
	w.Do("POST", "/v1/card/password/reset", map[string]string{"phone": "13800000203", "studentNo": "CUIK20230009", "idNumber": "53010220010202562X"}, h...).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	w.Do("POST", "/v1/card/password/reset", map[string]string{"phone": "13800000203", "studentNo": "CUIK20230002", "idNumber": "53010220010202562X"}, h...).Expect(t, 429, "TOO_MANY_ATTEMPTS")
}
