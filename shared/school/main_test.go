package school_test

import (
	"context"
	"testing"

	"onecard/infra/seed"
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

// student registers phone in school, logs in and returns the Authorization header.
func (w *world) student(phone, school string) []string {
	w.t.Helper()
	return w.Student(phone, school)
}

// login signs a staff member in.
func (w *world) login(username string) []string {
	w.t.Helper()
	return w.StaffLogin(username, staffPassword)
}

func (w *world) staff(role string) []string { return w.login(role + "-user") }
