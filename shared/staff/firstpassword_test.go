package staff_test

import (
	"testing"

	"onecard/shared/testkit"
)

// A member an admin created, or whose password an admin reset, must set their own password before
// anything else: every other staff route answers 403 PASSWORD_CHANGE_REQUIRED until they do.
func TestFirstLoginForcesAPasswordChange(t *testing.T) {
	w := newWorld(t)
	admin := w.StaffOf("admin")
	w.Do("POST", "/v1/admin/staff", map[string]any{"username": "li.kuaiji", "password": "chosen-by-admin-1", "roles": []string{"finance"}}, admin...).Expect(t, 201, "")

	var login struct {
		Token                  string `json:"token"`
		PasswordChangeRequired bool   `json:"passwordChangeRequired"`
	}
	w.Do("POST", "/v1/admin/login", map[string]string{"username": "li.kuaiji", "password": "chosen-by-admin-1"}).Expect(t, 200, "").Decode(t, &login)
	if !login.PasswordChangeRequired {
		t.Fatal("a new member's login does not ask for a password change")
	}
	h := testkit.Bearer(login.Token)
	w.Do("GET", "/v1/admin/disputes", nil, h...).Expect(t, 403, "PASSWORD_CHANGE_REQUIRED")
	var changed struct{ Token string }
	w.Do("PUT", "/v1/admin/password", map[string]string{"oldPassword": "chosen-by-admin-1", "newPassword": "my-own-password-22"}, h...).
		Expect(t, 200, "").Decode(t, &changed)
	h = testkit.Bearer(changed.Token)
	w.Do("GET", "/v1/admin/disputes", nil, h...).Expect(t, 200, "")
	w.Do("POST", "/v1/admin/login", map[string]string{"username": "li.kuaiji", "password": "my-own-password-22"}).Expect(t, 200, "").Decode(t, &login)
	if login.PasswordChangeRequired {
		t.Fatal("still asked after the change")
	}

	// An admin's reset asks again.
	w.Do("POST", "/v1/admin/staff/li.kuaiji/reset-password", map[string]string{"newPassword": "reset-by-admin-333"}, admin...).Expect(t, 204, "")
	w.Do("POST", "/v1/admin/login", map[string]string{"username": "li.kuaiji", "password": "reset-by-admin-333"}).Expect(t, 200, "").Decode(t, &login)
	if !login.PasswordChangeRequired {
		t.Fatal("a reset password does not ask for a change")
	}
	w.Do("GET", "/v1/admin/disputes", nil, testkit.Bearer(login.Token)...).Expect(t, 403, "PASSWORD_CHANGE_REQUIRED")
}
