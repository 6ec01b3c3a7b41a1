package school_test

import (
	"context"
	"testing"

	"onecard/infra/seed"
	"onecard/shared/staff"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// world is a test environment with the demo school and a staff member per role.
type world struct {
	*testkit.Env
	t *testing.T
}

const staffPassword = "staff-password-1"

func newWorld(t *testing.T) *world {
	t.Parallel()
	e := testkit.New(t)
	if err := seed.School(context.Background(), e.Deps); err != nil {
		t.Fatal(err)
	}
	w := &world{Env: e, t: t}
	for _, role := range staff.AllRoles {
		w.putStaff(role+"-user", seed.SchoolID, role)
	}
	return w
}

func (w *world) putStaff(username, school string, roles ...string) {
	w.t.Helper()
	if err := staff.Put(context.Background(), store.New(w.Deps.DB, w.Deps.Cfg.Table), username, staffPassword, school, roles); err != nil {
		w.t.Fatal(err)
	}
}

// student registers phone in school, logs in and returns the Authorization header.
func (w *world) student(phone, school string) []string {
	w.t.Helper()
	w.Do("POST", "/v1/auth/register", map[string]string{"phone": phone, "password": "password-123", "schoolId": school}).Expect(w.t, 201, "")
	var pair struct{ AccessToken string }
	w.Do("POST", "/v1/auth/login", map[string]string{"phone": phone, "password": "password-123"}).Expect(w.t, 200, "").Decode(w.t, &pair)
	return testkit.Bearer(pair.AccessToken)
}

// login signs a staff member in.
func (w *world) login(username string) []string {
	w.t.Helper()
	var out struct{ Token string }
	w.Do("POST", "/v1/admin/login", map[string]string{"username": username, "password": staffPassword}).Expect(w.t, 200, "").Decode(w.t, &out)
	return testkit.Bearer(out.Token)
}

func (w *world) staff(role string) []string { return w.login(role + "-user") }
