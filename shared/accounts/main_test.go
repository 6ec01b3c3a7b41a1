package accounts_test

import (
	"testing"

	"onecard/infra/seed"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// newEnv is a fresh world with the demo school.
func newEnv(t *testing.T) *testkit.Env {
	t.Parallel()
	return testkit.WithSchool(t)
}

// register and log in a user; returns the access and refresh tokens.
func signup(t *testing.T, e *testkit.Env, phone, pw string) (string, string) {
	t.Helper()
	e.Do("POST", "/v1/auth/register", map[string]any{"phone": phone, "password": pw, "schoolId": "kmmc", "agreementVersion": seed.AgreementVersion}).Expect(t, 201, "")
	var pair struct{ AccessToken, RefreshToken string }
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": phone, "password": pw}).Expect(t, 200, "").Decode(t, &pair)
	if pair.AccessToken == "" || pair.RefreshToken == "" {
		t.Fatal("login returned no tokens")
	}
	return pair.AccessToken, pair.RefreshToken
}
