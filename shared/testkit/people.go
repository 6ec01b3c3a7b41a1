package testkit

import (
	"context"

	"onecard/shared/staff"
)

// StudentPassword is the login password of every account Student registers.
const StudentPassword = "password-123"

// AgreementVersion is the current version of school's user agreement, as the registration page reads it
// before anyone signs in.
func (e *Env) AgreementVersion(school string) int64 {
	e.T.Helper()
	var a struct{ Version int64 }
	e.Do("GET", "/v1/agreement?schoolId="+school, nil).Expect(e.T, 200, "").Decode(e.T, &a)
	return a.Version
}

// Student registers phone in school (accepting its current user agreement), logs in and returns the
// Authorization header pair.
func (e *Env) Student(phone, school string) []string {
	e.T.Helper()
	e.Do("POST", "/v1/auth/register", map[string]any{"phone": phone, "password": StudentPassword, "schoolId": school,
		"agreementVersion": e.AgreementVersion(school)}).Expect(e.T, 201, "")
	var pair struct{ AccessToken string }
	e.Do("POST", "/v1/auth/login", map[string]string{"phone": phone, "password": StudentPassword}).Expect(e.T, 200, "").Decode(e.T, &pair)
	if pair.AccessToken == "" {
		e.T.Fatal("login returned no access token")
	}
	return Bearer(pair.AccessToken)
}

// PutStaff writes a staff member straight into the table.
func (e *Env) PutStaff(username, password, school string, roles ...string) {
	e.T.Helper()
	if err := staff.Put(context.Background(), e.Deps.Store(), username, password, school, roles); err != nil {
		e.T.Fatal(err)
	}
}

// StaffLogin signs a staff member in through the API and returns the Authorization header pair.
func (e *Env) StaffLogin(username, password string) []string {
	e.T.Helper()
	var out struct{ Token string }
	e.Do("POST", "/v1/admin/login", map[string]string{"username": username, "password": password}).Expect(e.T, 200, "").Decode(e.T, &out)
	return Bearer(out.Token)
}
