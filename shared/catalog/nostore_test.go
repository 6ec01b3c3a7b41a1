package catalog_test

import (
	"testing"

	"onecard/infra/seed"
	"onecard/shared/auth"
	"onecard/shared/testkit"
)

// Every answer that carries a token or a payment code — student login and refresh, staff login, a
// payment code — and the refusals around them carry Cache-Control: no-store, over HTTP.
func TestTokenAnswersAreNotStored(t *testing.T) {
	t.Parallel()
	e := testkit.Seeded(t)
	e.PutStaff("admin-user", "staff-password-1", seed.SchoolID, auth.RoleAdmin)
	noStore := func(what string, r *testkit.Resp) {
		t.Helper()
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s (%d): Cache-Control %q, want no-store", what, r.Status, got)
		}
	}

	e.Do("POST", "/v1/auth/register", map[string]any{"phone": "13800000001", "password": "password-123", "schoolId": "kmmc", "agreementVersion": seed.AgreementVersion}).Expect(t, 201, "")
	var pair struct{ AccessToken, RefreshToken string }
	r := e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13800000001", "password": "password-123"}).Expect(t, 200, "")
	r.Decode(t, &pair)
	noStore("student login", r)
	noStore("refused student login", e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13800000001", "password": "wrong-password"}))

	r = e.Do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": pair.RefreshToken}).Expect(t, 200, "")
	r.Decode(t, &pair)
	noStore("refresh", r)

	noStore("staff login", e.Do("POST", "/v1/admin/login", map[string]string{"username": "admin-user", "password": "staff-password-1"}).Expect(t, 200, ""))

	h := testkit.Bearer(pair.AccessToken)
	e.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230001", "cardPassword": "011237"}, h...).Expect(t, 200, "")
	e.Do("POST", "/v1/card/virtual", nil, h...).Expect(t, 204, "")
	// Whether this card may have a code now (its balance) is the payment-code rules' business; the
	// answer, a code or a refusal, is never stored.
	noStore("payment code", e.Do("POST", "/v1/card/payment-code", nil, h...))
}
