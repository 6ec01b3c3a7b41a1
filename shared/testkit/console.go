package testkit

import (
	"testing"

	"onecard/infra/seed"
	"onecard/shared/auth"
	"onecard/shared/staff"
)

// ConsolePassword is the password of the staff members a Console writes.
const ConsolePassword = "staff-password-1"

// Console is an Env with the demo school and one staff member per role, named "<role>-user": the ground
// the staff-console tests (content, school, staff) stand on.
type Console struct{ *Env }

// NewConsole is a parallel test's Console.
func NewConsole(t *testing.T) *Console {
	t.Parallel()
	c := &Console{WithSchool(t)}
	c.putEveryRole()
	return c
}

// putEveryRole writes a staff member of each role, "<role>-user" with ConsolePassword.
func (c *Console) putEveryRole() {
	c.T.Helper()
	for _, role := range staff.AllRoles {
		c.PutConsoleStaff(role+"-user", seed.SchoolID, role)
	}
}

// PutConsoleStaff writes a staff member with ConsolePassword.
func (c *Console) PutConsoleStaff(username, school string, roles ...string) {
	c.T.Helper()
	c.PutStaff(username, ConsolePassword, school, roles...)
}

// Login signs a staff member with ConsolePassword in and returns the Authorization header pair.
func (c *Console) Login(username string) []string {
	c.T.Helper()
	return c.StaffLogin(username, ConsolePassword)
}

// StaffOf signs in the member of role that NewConsole wrote.
func (c *Console) StaffOf(role string) []string {
	c.T.Helper()
	return c.Login(role + "-user")
}

// Audit returns the newest audit records, as an admin sees them.
func (c *Console) Audit() []map[string]any {
	c.T.Helper()
	var out struct{ Items []map[string]any }
	c.Do("GET", "/v1/admin/audit?limit=200", nil, c.StaffOf(auth.RoleAdmin)...).Expect(c.T, 200, "").Decode(c.T, &out)
	return out.Items
}
