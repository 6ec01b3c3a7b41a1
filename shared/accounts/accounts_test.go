package accounts_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"onecard/infra/seed"
	"onecard/shared/auth"
	"onecard/shared/school"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

func TestSchoolsList(t *testing.T) {
	e := newEnv(t)
	var out struct {
		Items []struct {
			SchoolID string   `json:"schoolId"`
			Name     string   `json:"name"`
			Prefixes []string `json:"studentNoPrefixes"`
		}
	}
	e.Do("GET", "/v1/schools", nil).Expect(t, 200, "").Decode(t, &out)
	if len(out.Items) != 1 || out.Items[0].SchoolID != "kmmc" || out.Items[0].Name != "昆明传媒学院" ||
		strings.Join(out.Items[0].Prefixes, ",") != "CUIK,CUK" {
		t.Fatalf("schools: %+v", out)
	}
}

func TestRegisterValidation(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"short phone", `{"phone":"1381234567","password":"password1","schoolId":"kmmc"}`, 400, "BAD_PHONE"},
		{"landline", `{"phone":"02112345678","password":"password1","schoolId":"kmmc"}`, 400, "BAD_PHONE"},
		{"letters in phone", `{"phone":"1381234567a","password":"password1","schoolId":"kmmc"}`, 400, "BAD_PHONE"},
		{"short password", `{"phone":"13812345678","password":"short","schoolId":"kmmc"}`, 400, "BAD_PASSWORD"},
		{"long password", fmt.Sprintf(`{"phone":"13812345678","password":"%s","schoolId":"kmmc"}`, strings.Repeat("a", 65)), 400, "BAD_PASSWORD"},
		{"unknown school", `{"phone":"13812345678","password":"password1","schoolId":"nope"}`, 400, "BAD_SCHOOL"},
		{"unknown field", `{"phone":"13812345678","password":"password1","schoolId":"kmmc","admin":true}`, 400, "UNKNOWN_FIELD"},
		{"wrong type", `{"phone":13812345678,"password":"password1","schoolId":"kmmc"}`, 400, "WRONG_TYPE"},
		{"not json", `phone=13812345678`, 400, "MALFORMED_JSON"},
		{"two objects", `{"phone":"13812345678"}{"x":1}`, 400, "MALFORMED_JSON"},
		{"empty", ``, 400, "EMPTY_BODY"},
		{"agreement not accepted", `{"phone":"13812345678","password":"password1","schoolId":"kmmc"}`, 400, "MISSING_FIELD"},
		{"agreement null", `{"phone":"13812345678","password":"password1","schoolId":"kmmc","agreementVersion":null}`, 400, "MISSING_FIELD"},
		{"agreement of no version", `{"phone":"13812345678","password":"password1","schoolId":"kmmc","agreementVersion":0}`, 422, "AGREEMENT_OUTDATED"},
		{"agreement not yet published", `{"phone":"13812345678","password":"password1","schoolId":"kmmc","agreementVersion":2}`, 422, "AGREEMENT_OUTDATED"},
		{"agreement as text", `{"phone":"13812345678","password":"password1","schoolId":"kmmc","agreementVersion":"1"}`, 400, "WRONG_TYPE"},
		{"too large", `{"phone":"` + strings.Repeat("1", 70000) + `"}`, 413, "BODY_TOO_LARGE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.Do("POST", "/v1/auth/register", c.body).Expect(t, c.status, c.code)
		})
	}
	// Nothing was written by any refusal: the phone is still free.
	e.Do("POST", "/v1/auth/register", map[string]any{"phone": "13812345678", "password": "password1", "schoolId": "kmmc", "agreementVersion": seed.AgreementVersion}).Expect(t, 201, "")
}

func TestRegisterDuplicatePhone(t *testing.T) {
	e := newEnv(t)
	body := map[string]any{"phone": "13900000001", "password": "password1", "schoolId": "kmmc", "agreementVersion": seed.AgreementVersion}
	e.Do("POST", "/v1/auth/register", body).Expect(t, 201, "")
	e.Do("POST", "/v1/auth/register", body).Expect(t, 409, "PHONE_TAKEN")
}

func TestLoginAndMe(t *testing.T) {
	e := newEnv(t)
	access, _ := signup(t, e, "13900000002", "correct-horse")
	var me struct {
		UserID, Phone, Email, SchoolID string
		WechatBound                    bool
		Card                           any
	}
	e.Do("GET", "/v1/me", nil, testkit.Bearer(access)...).Expect(t, 200, "").Decode(t, &me)
	if me.Phone != "13900000002" || me.SchoolID != "kmmc" || me.Card != nil || me.WechatBound || me.UserID == "" {
		t.Fatalf("me: %+v", me)
	}
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13900000002", "password": "wrong-horse"}).Expect(t, 401, "BAD_CREDENTIALS")
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13900009999", "password": "whatever1"}).Expect(t, 401, "BAD_CREDENTIALS")
}

func TestLoginBruteForceLockout(t *testing.T) {
	e := newEnv(t)
	signup(t, e, "13900000003", "correct-horse")
	bad := map[string]string{"phone": "13900000003", "password": "guess-guess"}
	for i := 1; i < 5; i++ {
		e.Do("POST", "/v1/auth/login", bad).Expect(t, 401, "BAD_CREDENTIALS")
	}
	r := e.Do("POST", "/v1/auth/login", bad).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Locked: even the right password waits.
	good := map[string]string{"phone": "13900000003", "password": "correct-horse"}
	e.Do("POST", "/v1/auth/login", good).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	e.Clock.Advance(16 * time.Minute)
	e.Do("POST", "/v1/auth/login", good).Expect(t, 200, "")
	// The lock ends with its window, and a right password does not count: four failures and a success
	// leave one wrong try.
	for i := 0; i < 4; i++ {
		e.Do("POST", "/v1/auth/login", bad).Expect(t, 401, "BAD_CREDENTIALS")
	}
	e.Do("POST", "/v1/auth/login", good).Expect(t, 200, "")
}

func TestRefreshRotationAndReuse(t *testing.T) {
	e := newEnv(t)
	_, rt1 := signup(t, e, "13900000004", "correct-horse")
	var p2 struct{ AccessToken, RefreshToken string }
	e.Do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": rt1}).Expect(t, 200, "").Decode(t, &p2)
	if p2.RefreshToken == rt1 || p2.AccessToken == "" {
		t.Fatal("refresh did not rotate")
	}
	e.Do("GET", "/v1/me", nil, testkit.Bearer(p2.AccessToken)...).Expect(t, 200, "")
	// Reusing the rotated token revokes the family: the newest token dies too.
	e.Do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": rt1}).Expect(t, 401, "REFRESH_TOKEN_REUSED")
	e.Do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": p2.RefreshToken}).Expect(t, 401, "BAD_REFRESH_TOKEN")
	// Garbage and tampered tokens.
	e.Do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": "nonsense"}).Expect(t, 401, "BAD_REFRESH_TOKEN")
	e.Do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": p2.RefreshToken + "x"}).Expect(t, 401, "BAD_REFRESH_TOKEN")
}

func TestRefreshExpires(t *testing.T) {
	e := newEnv(t)
	_, rt := signup(t, e, "13900000005", "correct-horse")
	e.Clock.Advance(31 * 24 * time.Hour)
	e.Do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": rt}).Expect(t, 401, "BAD_REFRESH_TOKEN")
}

func TestLogout(t *testing.T) {
	e := newEnv(t)
	access, rt := signup(t, e, "13900000006", "correct-horse")
	e.Do("POST", "/v1/auth/logout", nil).Expect(t, 401, "UNAUTHORIZED")
	e.Do("GET", "/v1/me", nil, testkit.Bearer(access)...).Expect(t, 200, "")
	e.Do("POST", "/v1/auth/logout", nil, testkit.Bearer(access)...).Expect(t, 204, "")
	e.Do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": rt}).Expect(t, 401, "BAD_REFRESH_TOKEN")
	// The access token ends with its session, not 15 minutes later.
	e.Do("GET", "/v1/me", nil, testkit.Bearer(access)...).Expect(t, 401, "TOKEN_REVOKED")
	e.Do("POST", "/v1/auth/logout", nil, testkit.Bearer(access)...).Expect(t, 401, "TOKEN_REVOKED")
}

// A reused refresh token revokes its family, and with it the access tokens of that session.
func TestReusedRefreshEndsTheSession(t *testing.T) {
	e := newEnv(t)
	_, rt := signup(t, e, "13900000016", "correct-horse")
	var pair struct{ AccessToken, RefreshToken string }
	e.Do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": rt}).Expect(t, 200, "").Decode(t, &pair)
	e.Do("GET", "/v1/me", nil, testkit.Bearer(pair.AccessToken)...).Expect(t, 200, "")
	e.Do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": rt}).Expect(t, 401, "REFRESH_TOKEN_REUSED")
	e.Do("GET", "/v1/me", nil, testkit.Bearer(pair.AccessToken)...).Expect(t, 401, "TOKEN_REVOKED")
}

func TestAccessTokenChecks(t *testing.T) {
	e := newEnv(t)
	access, _ := signup(t, e, "13900000007", "correct-horse")
	e.Do("GET", "/v1/me", nil).Expect(t, 401, "UNAUTHORIZED")
	e.Do("GET", "/v1/me", nil, "Authorization", "Basic abc").Expect(t, 401, "UNAUTHORIZED")
	// Tampered payload: flip a character of the claims part.
	parts := strings.Split(access, ".")
	tampered := parts[0] + "." + parts[1][:len(parts[1])-2] + "xx." + parts[2]
	e.Do("GET", "/v1/me", nil, testkit.Bearer(tampered)...).Expect(t, 401, "TOKEN_INVALID")
	// Signed with another key.
	other := auth.NewTokens([]byte("another-key-another-key-another-key!!"), time.Hour, e.Clock.Now)
	forged, _ := other.Issue(auth.Principal{Subject: "u_x", Kind: auth.KindUser, School: "kmmc"})
	e.Do("GET", "/v1/me", nil, testkit.Bearer(forged)...).Expect(t, 401, "TOKEN_INVALID")
	// A staff token is not a user token.
	real := auth.NewTokens(testkit.TestJWTKey, time.Hour, e.Clock.Now)
	staff, _ := real.Issue(auth.Principal{Subject: "admin", Kind: auth.KindStaff, Roles: []string{"admin"}})
	e.Do("GET", "/v1/me", nil, testkit.Bearer(staff)...).Expect(t, 401, "TOKEN_INVALID")
	// Expired.
	e.Clock.Advance(16 * time.Minute)
	e.Do("GET", "/v1/me", nil, testkit.Bearer(access)...).Expect(t, 401, "TOKEN_EXPIRED")
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	access, _ := signup(t, e, "13900000008", "correct-horse")
	h := testkit.Bearer(access)
	e.Do("PUT", "/v1/me/password", map[string]string{"oldPassword": "wrong-horse", "newPassword": "battery-staple"}, h...).Expect(t, 422, "WRONG_PASSWORD")
	e.Do("PUT", "/v1/me/password", map[string]string{"oldPassword": "correct-horse", "newPassword": "short"}, h...).Expect(t, 400, "BAD_PASSWORD")
	// A second device signed in with the old password.
	var other struct{ AccessToken, RefreshToken string }
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13900000008", "password": "correct-horse"}).Expect(t, 200, "").Decode(t, &other)
	e.Do("PUT", "/v1/me/password", map[string]string{"oldPassword": "correct-horse", "newPassword": "battery-staple"}, h...).Expect(t, 204, "")
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13900000008", "password": "correct-horse"}).Expect(t, 401, "BAD_CREDENTIALS")
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13900000008", "password": "battery-staple"}).Expect(t, 200, "")
	// This device stays signed in; the other one is signed out, access and refresh.
	e.Do("GET", "/v1/me", nil, h...).Expect(t, 200, "")
	e.Do("GET", "/v1/me", nil, testkit.Bearer(other.AccessToken)...).Expect(t, 401, "TOKEN_REVOKED")
	e.Do("POST", "/v1/auth/refresh", map[string]string{"refreshToken": other.RefreshToken}).Expect(t, 401, "BAD_REFRESH_TOKEN")
}

func TestChangePhone(t *testing.T) {
	e := newEnv(t)
	access, _ := signup(t, e, "13900000009", "correct-horse")
	signup(t, e, "13900000010", "correct-horse")
	h := testkit.Bearer(access)
	e.Do("PUT", "/v1/me/phone", map[string]string{"newPhone": "13900000010", "password": "correct-horse"}, h...).Expect(t, 409, "PHONE_TAKEN")
	e.Do("PUT", "/v1/me/phone", map[string]string{"newPhone": "13900000011", "password": "wrong-horse"}, h...).Expect(t, 422, "WRONG_PASSWORD")
	e.Do("PUT", "/v1/me/phone", map[string]string{"newPhone": "139", "password": "correct-horse"}, h...).Expect(t, 400, "BAD_PHONE")
	e.Do("PUT", "/v1/me/phone", map[string]string{"newPhone": "13900000011", "password": "correct-horse"}, h...).Expect(t, 204, "")
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13900000011", "password": "correct-horse"}).Expect(t, 200, "")
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13900000009", "password": "correct-horse"}).Expect(t, 401, "BAD_CREDENTIALS")
	// The old number is free again.
	e.Do("POST", "/v1/auth/register", map[string]any{"phone": "13900000009", "password": "password1", "schoolId": "kmmc", "agreementVersion": seed.AgreementVersion}).Expect(t, 201, "")
}

func TestSwitchSchool(t *testing.T) {
	e := newEnv(t)
	access, _ := signup(t, e, "13900000012", "correct-horse")
	h := testkit.Bearer(access)
	e.Do("PUT", "/v1/me/school", map[string]string{"schoolId": "nowhere"}, h...).Expect(t, 400, "BAD_SCHOOL")
	e.Do("PUT", "/v1/me/school", map[string]string{"schoolId": "kmmc"}, h...).Expect(t, 204, "")
}

func TestUnknownRoute(t *testing.T) {
	e := newEnv(t)
	e.Do("GET", "/v1/nothing-here", nil).Expect(t, 404, "ROUTE_NOT_FOUND")
}

type loginAnswer struct {
	AccessToken      string
	ConsentRequired  bool
	AgreementVersion int64
}

func login(t *testing.T, e *testkit.Env, phone, pw string) loginAnswer {
	t.Helper()
	var a loginAnswer
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": phone, "password": pw}).Expect(t, 200, "").Decode(t, &a)
	if a.AccessToken == "" {
		t.Fatal("login returned no access token")
	}
	return a
}

func acceptedVersion(t *testing.T, e *testkit.Env, h []string) int64 {
	t.Helper()
	var me struct{ AgreementVersion *int64 }
	e.Do("GET", "/v1/me", nil, h...).Expect(t, 200, "").Decode(t, &me)
	if me.AgreementVersion == nil {
		t.Fatal("GET /v1/me has no agreementVersion")
	}
	return *me.AgreementVersion
}

// Registration records the agreement version accepted; a newer version makes the next login ask for
// consent (the session opens all the same), POST /v1/me/consent records it, and GET /v1/me shows it.
// Acceptances are per school: switching school asks for the new school's.
func TestAgreementConsent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	access, _ := signup(t, e, "13900000031", "correct-horse")
	h := testkit.Bearer(access)
	if v := acceptedVersion(t, e, h); v != seed.AgreementVersion {
		t.Fatalf("accepted at registration: %d", v)
	}
	if a := login(t, e, "13900000031", "correct-horse"); a.ConsentRequired || a.AgreementVersion != seed.AgreementVersion {
		t.Fatalf("login with the current version accepted: %+v", a)
	}

	e.PutStaff("admin-user", "staff-password-1", seed.SchoolID, auth.RoleAdmin)
	adm := e.StaffLogin("admin-user", "staff-password-1")
	e.Do("PUT", "/v1/admin/school/agreement", map[string]any{"version": 1, "agreement": "第二版用户协议", "privacy": "第二版隐私政策"}, adm...).Expect(t, 200, "")

	a := login(t, e, "13900000031", "correct-horse")
	if !a.ConsentRequired || a.AgreementVersion != 2 {
		t.Fatalf("login after a new version: %+v", a)
	}
	h = testkit.Bearer(a.AccessToken)
	if v := acceptedVersion(t, e, h); v != 1 {
		t.Fatalf("accepted before consenting: %d", v)
	}
	e.Do("POST", "/v1/me/consent", map[string]any{}, h...).Expect(t, 400, "MISSING_FIELD")
	r := e.Do("POST", "/v1/me/consent", map[string]any{"agreementVersion": 1}, h...).Expect(t, 422, "AGREEMENT_OUTDATED")
	if msg, _ := r.JSON()["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "用户协议") {
		t.Fatalf("refusal message: %s", r.Body)
	}
	e.Do("POST", "/v1/me/consent", map[string]any{"agreementVersion": 3}, h...).Expect(t, 422, "AGREEMENT_OUTDATED")
	e.Do("POST", "/v1/me/consent", map[string]any{"agreementVersion": 2}).Expect(t, 401, "UNAUTHORIZED")
	e.Do("POST", "/v1/me/consent", map[string]any{"agreementVersion": 2}, h...).Expect(t, 204, "")
	if v := acceptedVersion(t, e, h); v != 2 {
		t.Fatalf("accepted after consenting: %d", v)
	}
	if a := login(t, e, "13900000031", "correct-horse"); a.ConsentRequired || a.AgreementVersion != 2 {
		t.Fatalf("login after consenting: %+v", a)
	}

	// A registration from a page opened before version 2 is refused; with version 2 it goes through.
	body := map[string]any{"phone": "13900000032", "password": "correct-horse", "schoolId": "kmmc", "agreementVersion": 1}
	e.Do("POST", "/v1/auth/register", body).Expect(t, 422, "AGREEMENT_OUTDATED")
	body["agreementVersion"] = 2
	e.Do("POST", "/v1/auth/register", body).Expect(t, 201, "")
	if a := login(t, e, "13900000032", "correct-horse"); a.ConsentRequired {
		t.Fatalf("a fresh registration is asked again: %+v", a)
	}

	// Another school, with its own agreement: switching asks for its consent; kmmc's stays recorded.
	repo := school.Repo{S: e.Deps.Store()}
	if err := repo.Put(ctx, &school.School{ID: "ynu", Name: "云南大学", Prefixes: []string{"YNU"}}); err != nil {
		t.Fatal(err)
	}
	if err := repo.SeedAgreement(ctx, "ynu", "云大协议", "云大政策", e.Deps.Now()); err != nil {
		t.Fatal(err)
	}
	e.Do("PUT", "/v1/me/school", map[string]string{"schoolId": "ynu"}, h...).Expect(t, 204, "")
	if v := acceptedVersion(t, e, h); v != 0 {
		t.Fatalf("ynu accepted before consenting: %d", v)
	}
	if a := login(t, e, "13900000031", "correct-horse"); !a.ConsentRequired || a.AgreementVersion != 1 {
		t.Fatalf("login in ynu: %+v", a)
	}
	e.Do("POST", "/v1/me/consent", map[string]any{"agreementVersion": 1}, h...).Expect(t, 204, "")
	e.Do("PUT", "/v1/me/school", map[string]string{"schoolId": "kmmc"}, h...).Expect(t, 204, "")
	if v := acceptedVersion(t, e, h); v != 2 {
		t.Fatalf("kmmc's acceptance after switching back: %d", v)
	}
}

// An account stored before acceptances were recorded has none: its login asks for consent, and
// consenting records it.
func TestConsentOfAnOlderAccount(t *testing.T) {
	e := newEnv(t)
	access, _ := signup(t, e, "13900000033", "correct-horse")
	h := testkit.Bearer(access)
	var me struct{ UserID string }
	e.Do("GET", "/v1/me", nil, h...).Expect(t, 200, "").Decode(t, &me)
	if err := e.Deps.Store().Update(context.Background(), store.UserKey(me.UserID), "REMOVE agreements", "", nil, nil); err != nil {
		t.Fatal(err)
	}
	if a := login(t, e, "13900000033", "correct-horse"); !a.ConsentRequired || a.AgreementVersion != seed.AgreementVersion {
		t.Fatalf("login of an account without acceptances: %+v", a)
	}
	e.Do("POST", "/v1/me/consent", map[string]any{"agreementVersion": seed.AgreementVersion}, h...).Expect(t, 204, "")
	if v := acceptedVersion(t, e, h); v != seed.AgreementVersion {
		t.Fatalf("accepted: %d", v)
	}
}
