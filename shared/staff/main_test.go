package staff_test

import (
	"context"
	"testing"

	"onecard/infra/seed"
	"onecard/shared/auth"
	"onecard/shared/staff"
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
	w.PutStaff(username, staffPassword, school, roles...)
}

// login signs a staff member in.
func (w *world) login(username string) []string {
	w.t.Helper()
	return w.StaffLogin(username, staffPassword)
}

func (w *world) staff(role string) []string { return w.login(role + "-user") }

// audit returns the newest audit records (admin view).
func (w *world) audit() []map[string]any {
	w.t.Helper()
	var out struct{ Items []map[string]any }
	w.Do("GET", "/v1/admin/audit?limit=200", nil, w.staff(auth.RoleAdmin)...).Expect(w.t, 200, "").Decode(w.t, &out)
	return out.Items
}
