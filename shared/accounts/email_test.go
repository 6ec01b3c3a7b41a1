package accounts_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onecard/shared/accounts"
	"onecard/shared/testkit"
)

var mailSeq atomic.Int64 // parallel tests take their numbers from it

// uniqueMail gives each test its own address, since the SES emulator is shared by all tests.
func uniqueMail(t *testing.T, tag string) string {
	return fmt.Sprintf("%s-%d-%d@stu.example.cn", tag, mailSeq.Add(1), time.Now().UnixNano()%1000000)
}

// withEmail registers phone (password correct-horse) and binds a fresh address to it by emailed code;
// it returns the session's Authorization header, the refresh token and the address.
func withEmail(t *testing.T, e *testkit.Env, phone, tag string) ([]string, string, string) {
	t.Helper()
	h, rt, addr, code := emailCode(t, e, phone, tag)
	e.Do("PUT", "/v1/me/email", map[string]string{"email": addr, "code": code, "password": "correct-horse"}, h...).Expect(t, 204, "")
	return h, rt, addr
}

// emailCode registers phone (password correct-horse) and asks for a code to a fresh address; it returns
// the session's Authorization header, the refresh token, the address and the code mailed to it.
func emailCode(t *testing.T, e *testkit.Env, phone, tag string) (h []string, rt, addr, code string) {
	t.Helper()
	access, rt := signup(t, e, phone, "correct-horse")
	h = testkit.Bearer(access)
	addr = uniqueMail(t, tag)
	e.Do("POST", "/v1/me/email/code", map[string]string{"email": addr}, h...).Expect(t, 202, "")
	return h, rt, addr, testkit.LastCode(t, addr)
}

func TestBindEmail(t *testing.T) {
	e := newEnv(t)
	access, _ := signup(t, e, "13910000001", "correct-horse")
	h := testkit.Bearer(access)
	addr := uniqueMail(t, "bind")
	e.Do("POST", "/v1/me/email/code", map[string]string{"email": "not-an-email"}, h...).Expect(t, 400, "BAD_EMAIL")
	e.Do("POST", "/v1/me/email/code", map[string]string{"email": addr}, h...).Expect(t, 202, "")
	code := testkit.LastCode(t, addr)
	// Cooldown: a second request within 60 s is refused with Retry-After.
	r := e.Do("POST", "/v1/me/email/code", map[string]string{"email": addr}, h...).Expect(t, 429, "CODE_COOLDOWN")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("cooldown without Retry-After")
	}
	if n := len(testkit.MailsTo(t, addr)); n != 1 {
		t.Fatalf("cooldown still mailed: %d mails", n)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	e.Do("PUT", "/v1/me/email", map[string]string{"email": addr, "code": wrong, "password": "correct-horse"}, h...).Expect(t, 400, "BAD_CODE")
	e.Do("PUT", "/v1/me/email", map[string]string{"email": uniqueMail(t, "other"), "code": code, "password": "correct-horse"}, h...).Expect(t, 400, "BAD_CODE")
	e.Do("PUT", "/v1/me/email", map[string]string{"email": addr, "code": code, "password": "correct-horse"}, h...).Expect(t, 204, "")
	// Single use.
	e.Do("PUT", "/v1/me/email", map[string]string{"email": addr, "code": code, "password": "correct-horse"}, h...).Expect(t, 400, "BAD_CODE")
	var me struct{ Email string }
	e.Do("GET", "/v1/me", nil, h...).Expect(t, 200, "").Decode(t, &me)
	if me.Email != addr {
		t.Fatalf("email not bound: %q", me.Email)
	}
	// Another account cannot take the address.
	other, _ := signup(t, e, "13910000002", "correct-horse")
	e.Do("POST", "/v1/me/email/code", map[string]string{"email": addr}, testkit.Bearer(other)...).Expect(t, 409, "EMAIL_TAKEN")
}

func TestEmailCodeExpiresAndTries(t *testing.T) {
	e := newEnv(t)
	h, _, addr, code := emailCode(t, e, "13910000003", "exp")
	e.Clock.Advance(11 * time.Minute) // DynamoDB Local never runs TTL: expiry is checked in code.
	e.Do("PUT", "/v1/me/email", map[string]string{"email": addr, "code": code, "password": "correct-horse"}, h...).Expect(t, 400, "BAD_CODE")

	// A fresh code survives four wrong tries but not five.
	e.Do("POST", "/v1/me/email/code", map[string]string{"email": addr}, h...).Expect(t, 202, "")
	code = testkit.LastCode(t, addr)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 0; i < 5; i++ {
		e.Do("PUT", "/v1/me/email", map[string]string{"email": addr, "code": wrong, "password": "correct-horse"}, h...).Expect(t, 400, "BAD_CODE")
	}
	e.Do("PUT", "/v1/me/email", map[string]string{"email": addr, "code": code, "password": "correct-horse"}, h...).Expect(t, 400, "BAD_CODE")
}

func TestPasswordReset(t *testing.T) {
	e := newEnv(t)
	_, rt, addr := withEmail(t, e, "13910000004", "reset")

	// Same answer for an unknown phone and for a phone with no email: nothing reveals which exists.
	e.Do("POST", "/v1/auth/password-reset/code", map[string]string{"phone": "13910009999"}).Expect(t, 202, "")
	signup(t, e, "13910000005", "correct-horse")
	e.Do("POST", "/v1/auth/password-reset/code", map[string]string{"phone": "13910000005"}).Expect(t, 202, "")

	before := len(testkit.MailsTo(t, addr))
	e.Do("POST", "/v1/auth/password-reset/code", map[string]string{"phone": "13910000004"}).Expect(t, 202, "")
	if len(testkit.MailsTo(t, addr)) != before+1 {
		t.Fatal("reset code not mailed")
	}
	code := testkit.LastCode(t, addr)
	// Within the cooldown the answer is the same 202 and no mail goes out.
	e.Do("POST", "/v1/auth/password-reset/code", map[string]string{"phone": "13910000004"}).Expect(t, 202, "")
	if len(testkit.MailsTo(t, addr)) != before+1 {
		t.Fatal("cooldown ignored for reset codes")
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	e.Do("POST", "/v1/auth/password-reset", map[string]string{"phone": "13910000004", "code": wrong, "newPassword": "new-password-1"}).Expect(t, 400, "BAD_CODE")
	e.Do("POST", "/v1/auth/password-reset", map[string]string{"phone": "13910000004", "code": code, "newPassword": "short"}).Expect(t, 400, "BAD_PASSWORD")
	e.Do("POST", "/v1/auth/password-reset", map[string]string{"phone": "13910000004", "code": code, "newPassword": "new-password-1"}).Expect(t, 204, "")
	e.Do("POST", "/v1/auth/password-reset", map[string]string{"phone": "13910000004", "code": code, "newPassword": "new-password-2"}).Expect(t, 400, "BAD_CODE")
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13910000004", "password": "new-password-1"}).Expect(t, 200, "")
	// Every earlier session ended.
	e.Do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": rt}).Expect(t, 401, "BAD_REFRESH_TOKEN")
	// An unknown phone's reset is a plain BAD_CODE.
	e.Do("POST", "/v1/auth/password-reset", map[string]string{"phone": "13910009999", "code": "123456", "newPassword": "new-password-1"}).Expect(t, 400, "BAD_CODE")
}

func TestWeChatBindUnconfigured(t *testing.T) {
	e := newEnv(t)
	access, _ := signup(t, e, "13910000006", "correct-horse")
	e.Do("POST", "/v1/me/wechat", map[string]string{"jsCode": ""}, testkit.Bearer(access)...).Expect(t, 400, "BAD_JS_CODE")
}

// Binding or changing the email asks for the login password: a borrowed session cannot move where
// password resets go.
func TestEmailChangeAsksPassword(t *testing.T) {
	e := newEnv(t)
	h, _, addr, code := emailCode(t, e, "13910000007", "pw")
	e.Do("PUT", "/v1/me/email", map[string]string{"email": addr, "code": code}, h...).Expect(t, 422, "WRONG_PASSWORD")
	e.Do("PUT", "/v1/me/email", map[string]string{"email": addr, "code": code, "password": "guess-guess"}, h...).Expect(t, 422, "WRONG_PASSWORD")
	var me struct{ Email string }
	e.Do("GET", "/v1/me", nil, h...).Expect(t, 200, "").Decode(t, &me)
	if me.Email != "" {
		t.Fatalf("bound without the password: %q", me.Email)
	}
	// The code was not spent by the refusals.
	e.Do("PUT", "/v1/me/email", map[string]string{"email": addr, "code": code, "password": "correct-horse"}, h...).Expect(t, 204, "")
}

// Reset codes: at most five mailed a day per account, and at most ten wrong codes a day per phone
// (today's 60 s cooldown alone allowed a fresh code, and five guesses, every minute).
func TestResetCodeDailyCaps(t *testing.T) {
	e := newEnv(t)
	_, _, addr := withEmail(t, e, "13910000008", "cap")
	before := len(testkit.MailsTo(t, addr))
	for range 7 {
		e.Clock.Advance(61 * time.Second)
		e.Do("POST", "/v1/auth/password-reset/code", map[string]string{"phone": "13910000008"}).Expect(t, 202, "")
	}
	if n := len(testkit.MailsTo(t, addr)) - before; n != 5 {
		t.Fatalf("mailed %d reset codes in a day, want 5", n)
	}
	code := testkit.LastCode(t, addr)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	// tenWrong tries ten wrong codes for phone: nine are BAD_CODE, the tenth meets the cap.
	tenWrong := func(phone string) {
		t.Helper()
		for i := range 10 {
			r := e.Do("POST", "/v1/auth/password-reset", map[string]string{"phone": phone, "code": wrong, "newPassword": "new-password-1"})
			if i < 9 {
				r.Expect(t, 400, "BAD_CODE")
			} else {
				r.Expect(t, 429, "TOO_MANY_ATTEMPTS")
			}
		}
	}
	// Ten wrong codes over several fresh codes, then even the right one waits for tomorrow.
	tenWrong("13910000008")
	e.Do("POST", "/v1/auth/password-reset", map[string]string{"phone": "13910000008", "code": code, "newPassword": "new-password-1"}).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	// An unknown phone meets the same cap: the answers do not tell which phones have accounts.
	tenWrong("13910009998")
	e.Clock.Advance(25 * time.Hour)
	e.Do("POST", "/v1/auth/password-reset/code", map[string]string{"phone": "13910000008"}).Expect(t, 202, "")
	e.Do("POST", "/v1/auth/password-reset", map[string]string{"phone": "13910000008", "code": testkit.LastCode(t, addr), "newPassword": "new-password-1"}).Expect(t, 204, "")
}

// The reset-code route answers an unknown phone no sooner than a known one would be answered.
func TestResetCodeTimingFloor(t *testing.T) {
	e := newEnv(t)
	start := time.Now()
	e.Do("POST", "/v1/auth/password-reset/code", map[string]string{"phone": "13910009997"}).Expect(t, 202, "")
	if d := time.Since(start); d < accounts.ResetCodeFloor {
		t.Fatalf("unknown phone answered in %v, under the floor %v", d, accounts.ResetCodeFloor)
	}
}

// Phones and emails are keys and attributes only as keyed digests, and readable only sealed: a dump of
// the table shows neither (the profile still shows them to their owner).
func TestPhoneAndEmailAreNotStoredInClear(t *testing.T) {
	e := newEnv(t)
	h, _, addr := withEmail(t, e, "13910000009", "clear")
	e.Do("PUT", "/v1/me/phone", map[string]string{"newPhone": "13910000019", "password": "correct-horse"}, h...).Expect(t, 204, "")
	var me struct{ Phone, Email string }
	e.Do("GET", "/v1/me", nil, h...).Expect(t, 200, "").Decode(t, &me)
	if me.Phone != "13910000019" || me.Email != addr {
		t.Fatalf("profile: %+v", me)
	}
	out, err := e.Deps.DB.Scan(context.Background(), &dynamodb.ScanInput{TableName: aws.String(e.Deps.Cfg.Table)})
	if err != nil {
		t.Fatal(err)
	}
	dump := fmt.Sprint(out.Items)
	for _, clear := range []string{"13910000009", "13910000019", addr, strings.SplitN(addr, "@", 2)[0]} {
		if strings.Contains(dump, clear) {
			t.Fatalf("the table holds %q in clear", clear)
		}
	}
	if len(out.Items) < 3 {
		t.Fatalf("scan saw %d items", len(out.Items))
	}
}
