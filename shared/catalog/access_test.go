package catalog_test

import (
	"slices"
	"strings"
	"testing"

	"onecard/infra/seed"
	"onecard/shared/auth"
	"onecard/shared/catalog"
	"onecard/shared/fn"
	"onecard/shared/staff"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// samplePath fills a route's path parameters with a value that names nothing.
func samplePath(f fn.HTTP) string {
	path := f.Path()
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") {
			path = strings.Replace(path, seg, "x1", 1)
		}
	}
	return path
}

// accessRefusals are the codes of fn's access check; an allowed caller never gets one.
var accessRefusals = []string{"UNAUTHORIZED", "TOKEN_INVALID", "TOKEN_EXPIRED", "TOKEN_REVOKED", "FORBIDDEN"}

// TestEveryStaffRouteRefusesEveryoneItShould walks the whole catalog: for every staff route, each role
// it does not allow gets 403, a student token and no token get 401, a disabled member's token gets
// 401, and each role it allows gets past the access check. Every user route refuses staff tokens and
// the tokens of a session that logged out, and lets a live session through.
// A route added later is covered without touching this test.
func TestEveryStaffRouteRefusesEveryoneItShould(t *testing.T) {
	e := testkit.WithSchool(t)
	const pw = "staff-password-1"
	tokens := map[string][]string{}
	for _, role := range staff.AllRoles {
		tokens[role] = e.StaffAs(role+"-user", pw, seed.SchoolID, role)
	}
	// A member with every role, disabled after signing in.
	gone := e.StaffAs("gone-user", pw, seed.SchoolID, staff.AllRoles...)
	e.Do("POST", "/v1/admin/staff/gone-user/disable", nil, tokens[auth.RoleAdmin]...).Expect(t, 204, "")

	e.Do("POST", "/v1/auth/register", map[string]any{"phone": "13800000001", "password": "password-123", "schoolId": "kmmc", "agreementVersion": seed.AgreementVersion}).Expect(t, 201, "")
	var pair struct{ AccessToken string }
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13800000001", "password": "password-123"}).Expect(t, 200, "").Decode(t, &pair)
	student := testkit.Bearer(pair.AccessToken)
	studentLogin := func() []string {
		var p struct{ AccessToken string }
		e.Do("POST", "/v1/auth/login", map[string]string{"phone": "13800000001", "password": "password-123"}).Expect(t, 200, "").Decode(t, &p)
		return testkit.Bearer(p.AccessToken)
	}
	loggedOut := studentLogin()
	e.Do("POST", "/v1/auth/logout", nil, loggedOut...).Expect(t, 204, "")

	staffRoutes := 0
	for _, f := range catalog.HTTP {
		path := samplePath(f)
		switch f.Access {
		case fn.User, fn.SchoolOrUser:
			if f.Access == fn.SchoolOrUser {
				// What a school shows before login: a request that names the school needs no token, and
				// the token it may carry is not looked at (no session read); a school that does not
				// exist is a 400, and without a school the route is a user route.
				if r := e.Do(f.Method(), path+"?schoolId="+seed.SchoolID, nil); slices.Contains(accessRefusals, r.Code()) || r.Status >= 500 {
					t.Errorf("%s naming its school, without a token: %d %s", f.Route, r.Status, r.Body)
				}
				if r := e.Do(f.Method(), path+"?schoolId="+seed.SchoolID, nil, loggedOut...); slices.Contains(accessRefusals, r.Code()) || r.Status >= 500 {
					t.Errorf("%s naming its school, with a dead token: %d %s", f.Route, r.Status, r.Body)
				}
				e.Do(f.Method(), path+"?schoolId=nowhere", nil).Expect(t, 400, "BAD_SCHOOL")
				e.Do(f.Method(), path, nil).Expect(t, 401, "UNAUTHORIZED")
			}
			if r := e.Do(f.Method(), path, "{}", tokens[auth.RoleAdmin]...); r.Status != 401 || r.Code() != "TOKEN_INVALID" {
				t.Errorf("%s with a staff token: %d %s", f.Route, r.Status, r.Body)
			}
			if r := e.Do(f.Method(), path, "{}", loggedOut...); r.Status != 401 || r.Code() != "TOKEN_REVOKED" {
				t.Errorf("%s with the token of a session that logged out: %d %s", f.Route, r.Status, r.Body)
			}
			if !slices.Contains(f.IAM(), "dynamodb:GetItem") {
				t.Errorf("%s: IAM %v lacks the GetItem of the session check", f.Route, f.IAM())
			}
			// A live session gets past the check (a fresh one each time: one of these routes is logout).
			if r := e.Do(f.Method(), path, "{}", studentLogin()...); slices.Contains(accessRefusals, r.Code()) || r.Status >= 500 {
				t.Errorf("%s with a live session: %d %s", f.Route, r.Status, r.Body)
			}
			continue
		case fn.Staff:
		default:
			continue
		}
		staffRoutes++
		t.Run(f.Name, func(t *testing.T) {
			for _, r := range f.Roles {
				if !slices.Contains(staff.AllRoles, r) {
					t.Fatalf("unknown role %q", r)
				}
			}
			if !slices.Contains(f.IAM(), "dynamodb:GetItem") {
				t.Errorf("IAM %v lacks the GetItem of the staff check", f.IAM())
			}
			e.Do(f.Method(), path, "{}").Expect(t, 401, "UNAUTHORIZED")
			e.Do(f.Method(), path, "{}", student...).Expect(t, 401, "TOKEN_INVALID")
			e.Do(f.Method(), path, "{}", "Authorization", "Bearer "+strings.Repeat("x", 40)).Expect(t, 401, "TOKEN_INVALID")
			e.Do(f.Method(), path, "{}", gone...).Expect(t, 401, "TOKEN_REVOKED")
			for _, role := range staff.AllRoles {
				allowed := role == auth.RoleAdmin || slices.Contains(f.Roles, role)
				r := e.Do(f.Method(), path, "{}", tokens[role]...)
				switch {
				case !allowed:
					r.Expect(t, 403, "FORBIDDEN")
				case slices.Contains(accessRefusals, r.Code()):
					t.Errorf("%s is allowed but got %d %s", role, r.Status, r.Body)
				case r.Status >= 500:
					t.Errorf("%s: %d %s", role, r.Status, r.Body)
				}
			}
		})
	}
	if staffRoutes == 0 {
		t.Fatal("no staff routes in the catalog")
	}
}
