package staff_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"onecard/shared/auth"
	"onecard/shared/fault"
	"onecard/shared/staff"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

type member struct {
	Username    string
	Roles       []string
	Disabled    bool
	LockedUntil *string
	CreatedAt   *string
}

func TestCreateListAndValidate(t *testing.T) {
	w := newWorld(t)
	adm := w.StaffOf("admin")
	var m member
	w.Do("POST", "/v1/admin/staff", map[string]any{"username": "wang.fin", "password": "correct horse battery", "roles": []string{"ops", "finance", "ops"}}, adm...).
		Expect(t, 201, "").Decode(t, &m)
	if m.Username != "wang.fin" || strings.Join(m.Roles, ",") != "finance,ops" || m.Disabled || m.CreatedAt == nil {
		t.Fatalf("create answer: %+v", m)
	}
	w.Clock.Advance(time.Second)
	// The new member can sign in (the username is case-insensitive) and holds exactly those roles.
	var tok struct{ Token string }
	w.Do("POST", "/v1/admin/login", map[string]string{"username": "Wang.Fin", "password": "correct horse battery"}).Expect(t, 200, "").Decode(t, &tok)
	// First the member replaces the password the admin chose (TestFirstLoginForcesAPasswordChange).
	w.Do("PUT", "/v1/admin/password", map[string]string{"oldPassword": "correct horse battery", "newPassword": "wang's own passphrase"},
		testkit.Bearer(tok.Token)...).Expect(t, 200, "").Decode(t, &tok)
	h := testkit.Bearer(tok.Token)
	w.Do("POST", "/v1/admin/news", map[string]any{"kind": "news", "title": "t", "body": "b"}, h...).Expect(t, 201, "")
	w.Do("GET", "/v1/admin/staff", nil, h...).Expect(t, 403, "FORBIDDEN")

	cases := []struct {
		name string
		body any
		code string
	}{
		{"password of 11 characters", map[string]any{"username": "li", "password": "abcdefghijk", "roles": []string{"it"}}, "BAD_USERNAME"},
		{"short password", map[string]any{"username": "lisi", "password": "abcdefghijk", "roles": []string{"it"}}, "WEAK_PASSWORD"},
		{"password equal to the username", map[string]any{"username": "lisi-longname", "password": "lisi-longname", "roles": []string{"it"}}, "WEAK_PASSWORD"},
		{"password equal to the username in capitals", map[string]any{"username": "lisi-longname", "password": " LISI-LONGNAME ", "roles": []string{"it"}}, "WEAK_PASSWORD"},
		{"password with a control character", map[string]any{"username": "lisi", "password": "abcdefghijkl\x07", "roles": []string{"it"}}, "WEAK_PASSWORD"},
		{"password too long", map[string]any{"username": "lisi", "password": strings.Repeat("p", 129), "roles": []string{"it"}}, "WEAK_PASSWORD"},
		{"upper-case username", map[string]any{"username": "LiSi", "password": "abcdefghijkl", "roles": []string{"it"}}, "BAD_USERNAME"},
		{"username with a space", map[string]any{"username": "li si", "password": "abcdefghijkl", "roles": []string{"it"}}, "BAD_USERNAME"},
		{"username starting with a digit", map[string]any{"username": "1lisi", "password": "abcdefghijkl", "roles": []string{"it"}}, "BAD_USERNAME"},
		{"no roles", map[string]any{"username": "lisi", "password": "abcdefghijkl", "roles": []string{}}, "BAD_ROLES"},
		{"unknown role", map[string]any{"username": "lisi", "password": "abcdefghijkl", "roles": []string{"root"}}, "BAD_ROLES"},
		{"unknown field", map[string]any{"username": "lisi", "password": "abcdefghijkl", "roles": []string{"it"}, "school": "x"}, "UNKNOWN_FIELD"},
	}
	for _, c := range cases {
		if r := w.Do("POST", "/v1/admin/staff", c.body, adm...); r.Status != 400 || r.Code() != c.code {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
		}
	}
	w.Do("POST", "/v1/admin/staff", map[string]any{"username": "wang.fin", "password": "another password", "roles": []string{"it"}}, adm...).Expect(t, 409, "STAFF_EXISTS")

	members, _ := testkit.Pages[member](w.Env, "/v1/admin/staff", 2, adm...)
	var names []string
	for _, m := range members {
		names = append(names, m.Username)
	}
	if got := strings.Join(names, ","); got != "admin-user,finance-lead-user,finance-user,it-user,ops-user,wang.fin" {
		t.Fatalf("list: %s", got)
	}
	w.Do("GET", "/v1/admin/staff?cursor=!!", nil, adm...).Expect(t, 400, "BAD_CURSOR")
	w.Do("GET", "/v1/admin/staff?limit=500", nil, adm...).Expect(t, 400, "BAD_LIMIT")

	// The answer and the audit trail never carry a password or its hash.
	list := w.Do("GET", "/v1/admin/staff", nil, adm...).Body
	trail, _ := json.Marshal(w.Audit())
	for _, b := range [][]byte{list, trail} {
		if s := string(b); strings.Contains(s, "correct horse") || strings.Contains(s, "argon2") || strings.Contains(strings.ToLower(s), "passwordhash") {
			t.Fatalf("secret in %s", s)
		}
	}
	var rec map[string]any
	for _, r := range w.Audit() { // the same second as wang.fin's own password: find it by its action
		if r["action"] == "staff.create" && r["target"] == "staff:wang.fin" {
			rec = r
			break
		}
	}
	if _, ok := rec["PK"]; ok {
		t.Fatalf("table keys in the audit answer: %v", rec)
	}
	d := rec["details"].(map[string]any)
	if rec["action"] != "staff.create" || rec["actor"] != "staff:admin-user" || rec["target"] != "staff:wang.fin" || d["before"] != nil {
		t.Fatalf("audit: %v", rec)
	}
	if after := d["after"].(map[string]any); after["disabled"] != false || after["schoolId"] != "kmmc" {
		t.Fatalf("audit after: %v", after)
	}
}

func TestRoleChangesApplyToTokensAlreadyIssued(t *testing.T) {
	w := newWorld(t)
	adm := w.StaffOf("admin")
	ops := w.StaffOf("ops") // signed in as ops before the change
	news := map[string]any{"kind": "news", "title": "t", "body": "b"}
	w.Do("POST", "/v1/admin/news", news, ops...).Expect(t, 201, "")
	w.Clock.Advance(time.Second)

	var m member
	w.Do("PUT", "/v1/admin/staff/ops-user/roles", map[string]any{"roles": []string{"finance"}}, adm...).Expect(t, 200, "").Decode(t, &m)
	if strings.Join(m.Roles, ",") != "finance" {
		t.Fatalf("roles: %v", m.Roles)
	}
	// The same token: ops is gone at once, finance is there at once.
	w.Do("POST", "/v1/admin/news", news, ops...).Expect(t, 403, "FORBIDDEN")
	w.Do("GET", "/v1/admin/reconcile", nil, ops...).Expect(t, 202, "") // no report yet: one is queued

	rec := w.Audit()[0]
	d, _ := json.Marshal(rec["details"])
	if rec["action"] != "staff.roles" || rec["target"] != "staff:ops-user" ||
		!strings.Contains(string(d), `"before":{"disabled":false,"roles":["ops"],"schoolId":"kmmc"}`) ||
		!strings.Contains(string(d), `"after":{"disabled":false,"roles":["finance"],"schoolId":"kmmc"}`) {
		t.Fatalf("audit: %v %s", rec, d)
	}

	// The same roles again: no change, no audit record.
	n := len(w.Audit())
	w.Do("PUT", "/v1/admin/staff/ops-user/roles", map[string]any{"roles": []string{"finance"}}, adm...).Expect(t, 200, "")
	if len(w.Audit()) != n {
		t.Fatal("an unchanged role set was audited")
	}
	w.Do("PUT", "/v1/admin/staff/ops-user/roles", map[string]any{"roles": []string{"boss"}}, adm...).Expect(t, 400, "BAD_ROLES")
	w.Do("PUT", "/v1/admin/staff/nobody/roles", map[string]any{"roles": []string{"it"}}, adm...).Expect(t, 404, "STAFF_NOT_FOUND")
	w.Do("PUT", "/v1/admin/staff/NOT..VALID!/roles", map[string]any{"roles": []string{"it"}}, adm...).Expect(t, 404, "STAFF_NOT_FOUND")
	// An admin cannot take the admin role from themself (the school would risk having no admin left).
	w.Do("PUT", "/v1/admin/staff/admin-user/roles", map[string]any{"roles": []string{"finance"}}, adm...).Expect(t, 422, "CANNOT_CHANGE_SELF")
	w.Do("PUT", "/v1/admin/staff/admin-user/roles", map[string]any{"roles": []string{"admin", "it"}}, adm...).Expect(t, 200, "")
}

func TestDisableRevokesAtOnceAndEnableDoesNotRevive(t *testing.T) {
	w := newWorld(t)
	adm := w.StaffOf("admin")
	it := w.StaffOf("it")
	w.Do("GET", "/v1/admin/audit", nil, it...).Expect(t, 403, "FORBIDDEN") // a live token
	w.Clock.Advance(time.Second)
	w.Do("POST", "/v1/admin/staff/it-user/disable", nil, adm...).Expect(t, 204, "")
	w.Do("POST", "/v1/admin/staff/it-user/disable", nil, adm...).Expect(t, 409, "ALREADY_DISABLED")
	// The token issued before is refused on every staff route, and the password no longer signs in.
	w.Do("POST", "/v1/admin/cards/10000001/unlock", nil, it...).Expect(t, 401, "TOKEN_REVOKED")
	w.Do("POST", "/v1/admin/login", map[string]string{"username": "it-user", "password": staffPassword}).Expect(t, 401, "BAD_CREDENTIALS")
	var list struct{ Items []member }
	w.Do("GET", "/v1/admin/staff", nil, adm...).Expect(t, 200, "").Decode(t, &list)
	for _, m := range list.Items {
		if m.Username == "it-user" && !m.Disabled {
			t.Fatalf("not shown disabled: %+v", m)
		}
	}
	w.Clock.Advance(time.Second)
	w.Do("POST", "/v1/admin/staff/it-user/enable", nil, adm...).Expect(t, 204, "")
	w.Do("POST", "/v1/admin/staff/it-user/enable", nil, adm...).Expect(t, 409, "NOT_DISABLED")
	// Enabled again: the old token stays dead, a new login works.
	w.Do("POST", "/v1/admin/cards/10000001/unlock", nil, it...).Expect(t, 401, "TOKEN_REVOKED")
	w.Do("POST", "/v1/admin/cards/10000001/unlock", nil, w.StaffOf("it")...).Expect(t, 404, "")

	w.Do("POST", "/v1/admin/staff/admin-user/disable", nil, adm...).Expect(t, 422, "CANNOT_CHANGE_SELF")
	w.Do("POST", "/v1/admin/staff/ghost/disable", nil, adm...).Expect(t, 404, "STAFF_NOT_FOUND")
	recs := w.Audit()
	if recs[0]["action"] != "staff.enable" || recs[1]["action"] != "staff.disable" {
		t.Fatalf("audit: %v", recs[:2])
	}
	d, _ := json.Marshal(recs[1]["details"])
	if !strings.Contains(string(d), `"before":{"disabled":false`) || !strings.Contains(string(d), `"after":{"disabled":true`) {
		t.Fatalf("disable record: %s", d)
	}
}

func TestResetPasswordLiftsLockoutAndRevokesTokens(t *testing.T) {
	w := newWorld(t)
	adm := w.StaffOf("admin")
	fin := w.StaffOf("finance")
	for i := 1; i < staff.LoginRule.Max; i++ {
		w.Do("POST", "/v1/admin/login", map[string]string{"username": "finance-user", "password": "wrong-password-1"}).Expect(t, 401, "BAD_CREDENTIALS")
	}
	r := w.Do("POST", "/v1/admin/login", map[string]string{"username": "finance-user", "password": "wrong-password-1"}).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	if r.Header.Get("Retry-After") != "900" {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	w.Do("POST", "/v1/admin/login", map[string]string{"username": "finance-user", "password": staffPassword}).Expect(t, 429, "TOO_MANY_ATTEMPTS")
	var list struct{ Items []member }
	w.Do("GET", "/v1/admin/staff", nil, adm...).Expect(t, 200, "").Decode(t, &list)
	for _, m := range list.Items {
		if (m.Username == "finance-user") != (m.LockedUntil != nil) {
			t.Fatalf("lock shown wrongly: %+v", m)
		}
	}

	w.Do("POST", "/v1/admin/staff/finance-user/reset-password", map[string]string{"newPassword": "short"}, adm...).Expect(t, 400, "WEAK_PASSWORD")
	w.Do("POST", "/v1/admin/staff/finance-user/reset-password", map[string]string{"newPassword": "Finance-User"}, adm...).Expect(t, 400, "WEAK_PASSWORD")
	w.Clock.Advance(time.Second)
	w.Do("POST", "/v1/admin/staff/finance-user/reset-password", map[string]string{"newPassword": "fresh-start-2026"}, adm...).Expect(t, 204, "")
	// The lockout is lifted, the old password is gone, the old token is revoked.
	w.Do("GET", "/v1/admin/reconcile", nil, fin...).Expect(t, 401, "TOKEN_REVOKED")
	w.Do("POST", "/v1/admin/login", map[string]string{"username": "finance-user", "password": staffPassword}).Expect(t, 401, "BAD_CREDENTIALS")
	var tok struct{ Token string }
	w.Do("POST", "/v1/admin/login", map[string]string{"username": "finance-user", "password": "fresh-start-2026"}).Expect(t, 200, "").Decode(t, &tok)
	// The admin chose this password: the member sets their own before anything else.
	w.Do("GET", "/v1/admin/reconcile", nil, testkit.Bearer(tok.Token)...).Expect(t, 403, "PASSWORD_CHANGE_REQUIRED")
	w.Do("PUT", "/v1/admin/password", map[string]string{"oldPassword": "fresh-start-2026", "newPassword": "finance's own words"},
		testkit.Bearer(tok.Token)...).Expect(t, 200, "").Decode(t, &tok)
	w.Do("GET", "/v1/admin/reconcile", nil, testkit.Bearer(tok.Token)...).Expect(t, 202, "") // no report yet: one is queued

	var rec map[string]any
	for _, r := range w.Audit() {
		if r["action"] == "staff.reset_password" {
			rec = r
			break
		}
	}
	d, _ := json.Marshal(rec["details"])
	if rec["action"] != "staff.reset_password" || !strings.Contains(string(d), `"wasLocked":true`) || strings.Contains(string(d), "fresh-start") {
		t.Fatalf("audit: %v %s", rec, d)
	}
}

func TestChangeOwnPassword(t *testing.T) {
	w := newWorld(t)
	ops := w.StaffOf("ops")
	other := w.StaffOf("ops") // a second session of the same member
	w.Do("PUT", "/v1/admin/password", map[string]string{"oldPassword": "wrong-password-9", "newPassword": "brand-new-secret"}, ops...).Expect(t, 422, "WRONG_PASSWORD")
	w.Do("PUT", "/v1/admin/password", map[string]string{"oldPassword": staffPassword, "newPassword": "short-one"}, ops...).Expect(t, 400, "WEAK_PASSWORD")
	w.Do("PUT", "/v1/admin/password", map[string]string{"oldPassword": staffPassword, "newPassword": staffPassword}, ops...).Expect(t, 400, "SAME_PASSWORD")
	w.Clock.Advance(time.Second)
	var tok struct {
		Token     string
		ExpiresIn int
	}
	w.Do("PUT", "/v1/admin/password", map[string]string{"oldPassword": staffPassword, "newPassword": "brand-new-secret"}, ops...).Expect(t, 200, "").Decode(t, &tok)
	if tok.ExpiresIn != 8*3600 {
		t.Fatalf("expiresIn %d", tok.ExpiresIn)
	}
	// The answer's token works; both earlier sessions are over.
	w.Do("GET", "/v1/admin/news", nil, testkit.Bearer(tok.Token)...).Expect(t, 200, "")
	w.Do("GET", "/v1/admin/news", nil, ops...).Expect(t, 401, "TOKEN_REVOKED")
	w.Do("GET", "/v1/admin/news", nil, other...).Expect(t, 401, "TOKEN_REVOKED")
	w.Do("POST", "/v1/admin/login", map[string]string{"username": "ops-user", "password": "brand-new-secret"}).Expect(t, 200, "")
	if rec := w.Audit()[0]; rec["action"] != "staff.change_password" || rec["actor"] != "staff:ops-user" {
		t.Fatalf("audit: %v", rec)
	}
}

// An admin manages only the staff of their own school.
func TestStaffOfAnotherSchoolAreInvisible(t *testing.T) {
	w := newWorld(t)
	w.PutConsoleStaff("ynu-admin", "ynu", "admin")
	adm := w.StaffOf("admin")
	for _, r := range []struct{ method, path string }{
		{"PUT", "/v1/admin/staff/ynu-admin/roles"},
		{"POST", "/v1/admin/staff/ynu-admin/disable"},
		{"POST", "/v1/admin/staff/ynu-admin/enable"},
		{"POST", "/v1/admin/staff/ynu-admin/reset-password"},
	} {
		body := map[string]any{}
		if strings.HasSuffix(r.path, "roles") {
			body["roles"] = []string{"it"}
		}
		if strings.HasSuffix(r.path, "password") {
			body["newPassword"] = "long-enough-pass"
		}
		w.Do(r.method, r.path, body, adm...).Expect(t, 404, "STAFF_NOT_FOUND")
	}
	var list struct{ Items []member }
	w.Do("GET", "/v1/admin/staff", nil, w.Login("ynu-admin")...).Expect(t, 200, "").Decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].Username != "ynu-admin" {
		t.Fatalf("ynu's list: %+v", list.Items)
	}
}

// Two admins changing one member: the second finds it moved on and gets 409 rather than recording a
// "before" that was no longer true.
func TestConcurrentChangeLoses(t *testing.T) {
	w := newWorld(t)
	adm := w.StaffOf("admin")
	db := &testkit.RacingDB{DB: w.Deps.DB}
	svc := &staff.Service{S: store.New(db, w.Deps.Cfg.Table), Now: w.Deps.Now}
	p := auth.Principal{Subject: "admin-user", Kind: auth.KindStaff, School: "kmmc", Roles: []string{"admin"}}
	db.Before = func() {
		w.Do("POST", "/v1/admin/staff/it-user/disable", nil, adm...).Expect(t, 204, "")
	}
	if _, err := svc.SetRoles(context.Background(), p, "it-user", []string{"it", "ops"}); !fault.Is(err, "STAFF_CHANGED") {
		t.Fatalf("late change: %v", err)
	}
	var list struct{ Items []member }
	w.Do("GET", "/v1/admin/staff", nil, adm...).Expect(t, 200, "").Decode(t, &list)
	for _, m := range list.Items {
		if m.Username == "it-user" && (!m.Disabled || strings.Join(m.Roles, ",") != "it") {
			t.Fatalf("it-user: %+v", m)
		}
	}
}

// The audit trail is per school: each school's admin sees the records of its own school's staff and
// none of the other's, whatever cursor it sends.
func TestAuditTrailIsPerSchool(t *testing.T) {
	w := newWorld(t)
	w.PutConsoleStaff("ynu-admin", "ynu", auth.RoleAdmin)
	kmmc, ynu := w.StaffOf(auth.RoleAdmin), w.Login("ynu-admin")
	w.Do("POST", "/v1/admin/staff", map[string]any{"username": "kmmc.ops", "password": "correct horse battery", "roles": []string{"ops"}}, kmmc...).Expect(t, 201, "")
	w.Do("POST", "/v1/admin/staff", map[string]any{"username": "ynu.ops", "password": "correct horse battery", "roles": []string{"ops"}}, ynu...).Expect(t, 201, "")
	w.Clock.Advance(time.Second)
	w.Do("POST", "/v1/admin/staff/ynu.ops/disable", nil, ynu...).Expect(t, 204, "")

	trail := func(h []string) []string {
		var out struct {
			Items []struct{ Actor, Action, Target string }
		}
		w.Do("GET", "/v1/admin/audit?limit=200", nil, h...).Expect(t, 200, "").Decode(t, &out)
		var got []string
		for _, it := range out.Items {
			got = append(got, it.Actor+" "+it.Action+" "+it.Target)
		}
		return got
	}
	if got := strings.Join(trail(kmmc), "; "); got != "staff:admin-user staff.create staff:kmmc.ops" {
		t.Errorf("kmmc's admin sees %q", got)
	}
	if got := strings.Join(trail(ynu), "; "); got != "staff:ynu-admin staff.disable staff:ynu.ops; staff:ynu-admin staff.create staff:ynu.ops" {
		t.Errorf("ynu's admin sees %q", got)
	}
}
