package accounts_test

import (
	"fmt"
	"testing"
	"time"

	"onecard/shared/secret"
	"onecard/shared/testkit"
)

// serialEnv is newEnv for tests that count this process's secret comparisons: it does not run in
// parallel with the package's other tests (Go runs the parallel ones after the serial ones).
func serialEnv(t *testing.T) *testkit.Env { return testkit.WithSchool(t) }

// A burst of 40 logins, the right password among them, compares at most five wrong passwords, and once
// five tries stand even the right password is refused without being compared.
func TestLoginBurstComparesAtMostTheLimit(t *testing.T) {
	e := serialEnv(t)
	signup(t, e, "13930000001", "correct-horse")
	before := secret.Comparisons()
	rs := e.Burst(40, func(i int) *testkit.Resp {
		pw := "guess-guess"
		if i == 17 {
			pw = "correct-horse"
		}
		return e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13930000001", "password": pw})
	})
	compared := secret.Comparisons() - before
	tally := testkit.Tally(rs)
	// A right password compared gives its try back, so one more wrong one may be compared after it.
	if compared > 6 || tally["200 "] > 1 || tally["200 "]+tally["401 BAD_CREDENTIALS"]+tally["429 TOO_MANY_ATTEMPTS"] != 40 {
		t.Fatalf("burst compared %d secrets: %v", compared, tally)
	}
	if tally["200 "] == 0 && compared > 5 {
		t.Fatalf("burst without success compared %d: %v", compared, tally)
	}

	// A second account: 40 wrong guesses at once, then the right password in a burst of its own.
	signup(t, e, "13930000002", "correct-horse")
	before = secret.Comparisons()
	rs = e.Burst(40, func(int) *testkit.Resp {
		return e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13930000002", "password": "guess-guess"})
	})
	if n := secret.Comparisons() - before; n != 5 {
		t.Fatalf("40 wrong guesses compared %d (want exactly 5): %v", n, testkit.Tally(rs))
	}
	before = secret.Comparisons()
	rs = e.Burst(10, func(int) *testkit.Resp {
		return e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13930000002", "password": "correct-horse"})
	})
	if tally := testkit.Tally(rs); tally["429 TOO_MANY_ATTEMPTS"] != 10 || secret.Comparisons() != before {
		t.Fatalf("right password after an exhausted burst: %v, compared %d", tally, secret.Comparisons()-before)
	}
	if r := rs[0]; r.Header.Get("Retry-After") == "" || r.JSON()["error"].(map[string]any)["retryAfter"] == nil {
		t.Fatalf("429 without retryAfter: %s", r.Body)
	}
}

// The login password asked inside a session (password, phone and email changes) counts with login: a
// stolen session gets no more guesses than the login page.
func TestPasswordInsideSessionBurst(t *testing.T) {
	e := serialEnv(t)
	access, _ := signup(t, e, "13930000003", "correct-horse")
	h := testkit.Bearer(access)
	before := secret.Comparisons()
	rs := e.Burst(40, func(i int) *testkit.Resp {
		if i%2 == 0 {
			return e.Do("PUT", "/v1/me/password", map[string]string{"oldPassword": "guess-guess", "newPassword": "battery-staple"}, h...)
		}
		return e.Do("PUT", "/v1/me/phone", map[string]string{"newPhone": "13930000099", "password": "guess-guess"}, h...)
	})
	if n := secret.Comparisons() - before; n != 5 {
		t.Fatalf("compared %d: %v", n, testkit.Tally(rs))
	}
	tally := testkit.Tally(rs)
	if tally["422 WRONG_PASSWORD"] != 4 || tally["429 TOO_MANY_ATTEMPTS"] != 36 {
		t.Fatalf("answers: %v", tally)
	}
	// The login page is locked too.
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13930000003", "password": "correct-horse"}).Expect(t, 429, "TOO_MANY_ATTEMPTS")
}

// Wrong answers say how many tries are left.
func TestTriesLeft(t *testing.T) {
	e := newEnv(t)
	signup(t, e, "13930000004", "correct-horse")
	for want := 4; want >= 1; want-- {
		r := e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13930000004", "password": "guess-guess"}).Expect(t, 401, "BAD_CREDENTIALS")
		if got := r.JSON()["error"].(map[string]any)["triesLeft"]; got != float64(want) {
			t.Fatalf("triesLeft %v, want %d", got, want)
		}
	}
}

// A burst of 40 reset attempts with wrong codes compares at most the code's five tries and spends the
// day's ten; the right code after them is refused, so a burst cannot outrun the limit.
func TestResetCodeBurst(t *testing.T) {
	e := serialEnv(t)
	access, _ := signup(t, e, "13930000005", "correct-horse")
	h := testkit.Bearer(access)
	addr := fmt.Sprintf("burst-%d@stu.example.cn", time.Now().UnixNano())
	e.Do("POST", "/v1/me/email/code", map[string]string{"email": addr}, h...).Expect(t, 202, "")
	e.Do("PUT", "/v1/me/email", map[string]string{"email": addr, "code": testkit.LastCode(t, addr), "password": "correct-horse"}, h...).Expect(t, 204, "")
	e.Do("POST", "/v1/auth/password-reset/code", map[string]string{"phone": "13930000005"}).Expect(t, 202, "")
	code := testkit.LastCode(t, addr)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	before := secret.Comparisons()
	rs := e.Burst(40, func(int) *testkit.Resp {
		return e.Do("POST", "/v1/auth/password-reset", map[string]string{"phone": "13930000005", "code": wrong, "newPassword": "new-password-1"})
	})
	if n := secret.Comparisons() - before; n > 5 {
		t.Fatalf("40 wrong codes compared %d: %v", n, testkit.Tally(rs))
	}
	e.Do("POST", "/v1/auth/password-reset", map[string]string{"phone": "13930000005", "code": code, "newPassword": "new-password-1"}).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13930000005", "password": "correct-horse"}).Expect(t, 200, "")
}
