package staff_test

import (
	"testing"

	"onecard/infra/seed"
	"onecard/shared/secret"
	"onecard/shared/testkit"
)

// A burst of 40 staff logins compares at most five passwords; after it, the right password is refused
// without a comparison. Not parallel: it counts this process's comparisons.
func TestStaffLoginBurst(t *testing.T) {
	e := testkit.WithSchool(t)
	e.PutStaff("burst-user", staffPassword, seed.SchoolID, "finance")
	before := secret.Comparisons()
	rs := e.Burst(40, func(i int) *testkit.Resp {
		pw := "wrong-password-1"
		if i == 30 {
			pw = staffPassword
		}
		return e.Do("POST", "/v1/admin/login", map[string]string{"username": "burst-user", "password": pw})
	})
	tally := testkit.Tally(rs)
	compared := secret.Comparisons() - before
	if compared > 6 || tally["200 "] > 1 || tally["200 "]+tally["401 BAD_CREDENTIALS"]+tally["429 TOO_MANY_ATTEMPTS"] != 40 {
		t.Fatalf("compared %d: %v", compared, tally)
	}
	e.PutStaff("burst-two", staffPassword, seed.SchoolID, "finance")
	before = secret.Comparisons()
	e.Burst(40, func(int) *testkit.Resp {
		return e.Do("POST", "/v1/admin/login", map[string]string{"username": "burst-two", "password": "wrong-password-1"})
	})
	if n := secret.Comparisons() - before; n != 5 {
		t.Fatalf("40 wrong compared %d", n)
	}
	e.Do("POST", "/v1/admin/login", map[string]string{"username": "burst-two", "password": staffPassword}).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	// Unknown usernames meet the same limit (the answer does not tell which exist).
	for range 4 {
		e.Do("POST", "/v1/admin/login", map[string]string{"username": "nobody-here", "password": "wrong-password-1"}).Expect(t, 401, "BAD_CREDENTIALS")
	}
	e.Do("POST", "/v1/admin/login", map[string]string{"username": "nobody-here", "password": "wrong-password-1"}).Expect(t, 429, "TOO_MANY_ATTEMPTS")
}

// A password reset ends the member's tokens even when it happens in the same second as their signing
// (tokens carry a generation, not only a time).
func TestResetEndsTokensOfTheSameSecond(t *testing.T) {
	w := newWorld(t)
	adm := w.StaffOf("admin")
	fin := w.StaffOf("finance")                                        // signed at the same clock instant as the reset below
	w.Do("GET", "/v1/admin/reconcile", nil, fin...).Expect(t, 202, "") // no report yet: one is queued
	w.Do("POST", "/v1/admin/staff/finance-user/reset-password", map[string]string{"newPassword": "fresh-start-2026"}, adm...).Expect(t, 204, "")
	w.Do("GET", "/v1/admin/reconcile", nil, fin...).Expect(t, 401, "TOKEN_REVOKED")
	// Changing one's own password: the old token of this very second dies, the answer's token lives.
	ops := w.StaffOf("ops")
	var tok struct{ Token string }
	w.Do("PUT", "/v1/admin/password", map[string]string{"oldPassword": staffPassword, "newPassword": "brand-new-secret"}, ops...).Expect(t, 200, "").Decode(t, &tok)
	w.Do("GET", "/v1/admin/news", nil, ops...).Expect(t, 401, "TOKEN_REVOKED")
	w.Do("GET", "/v1/admin/news", nil, testkit.Bearer(tok.Token)...).Expect(t, 200, "")
}
