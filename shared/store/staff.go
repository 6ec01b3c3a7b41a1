package store

import (
	"context"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Writes to staff members (StaffKey). A console change of a member is conditioned on the member's
// school and on the revision (rev) that was read, and moves rev to the next one.

// SetStaffLockedUntil records until when failed logins lock the member k (shown in the staff list; the
// attempt counter is what enforces it). Unconditional.
func (s *Store) SetStaffLockedUntil(ctx context.Context, k Key, until time.Time) error {
	return s.Update(ctx, k, "SET lockedUntil = :u", "", nil, Values{":u": until}.AV())
}

// StaffRolesItem replaces the roles of the member k of school at revision rev.
func StaffRolesItem(k Key, school string, rev int64, roles []string) types.TransactWriteItem {
	return staffChange(k, school, rev, "SET #roles = :r", Values{":r": roles})
}

// StaffEnableItem re-enables the member k of school at revision rev.
func StaffEnableItem(k Key, school string, rev int64) types.TransactWriteItem {
	return staffChange(k, school, rev, "SET #disabled = :d", Values{":d": false})
}

// StaffDisableItem disables the member k of school at revision rev and moves its token generation to
// tokenGen, so that the tokens issued before stay dead.
func StaffDisableItem(k Key, school string, rev, tokenGen int64) types.TransactWriteItem {
	return staffChange(k, school, rev, "SET #disabled = :d, tokenGen = :g", Values{":d": true, ":g": tokenGen})
}

// StaffResetPasswordItem sets the password hash of the member k of school at revision rev, lifts its
// lock, moves its token generation to tokenGen and makes it change the password at the next login.
func StaffResetPasswordItem(k Key, school string, rev int64, hash string, tokenGen int64) types.TransactWriteItem {
	return staffChange(k, school, rev, "SET passwordHash = :h, lockedUntil = :zt, tokenGen = :g, mustChangePassword = :mc",
		Values{":h": hash, ":zt": time.Time{}, ":g": tokenGen, ":mc": true})
}

// StaffChangePasswordItem sets the password hash the member k of school at revision rev chose, and
// moves its token generation to tokenGen.
func StaffChangePasswordItem(k Key, school string, rev int64, hash string, tokenGen int64) types.TransactWriteItem {
	return staffChange(k, school, rev, "SET passwordHash = :h, tokenGen = :g, mustChangePassword = :mc",
		Values{":h": hash, ":g": tokenGen, ":mc": false})
}

// staffChange is set on the member k, conditioned on its school and on revision rev, moving rev on.
func staffChange(k Key, school string, rev int64, set string, vals Values) types.TransactWriteItem {
	vals[":rev"], vals[":next"], vals[":school"] = rev, rev+1, school
	// Attribute names go through #names: roles (and others) are DynamoDB reserved words.
	names := map[string]string{"#roles": "roles", "#disabled": "disabled", "#rev": "rev", "#school": "schoolId"}
	for n := range names {
		if !strings.Contains(set, n) && n != "#rev" && n != "#school" {
			delete(names, n)
		}
	}
	return UpdateItem(k, set+", #rev = :next", "#school = :school AND (attribute_not_exists(#rev) OR #rev = :rev)",
		names, vals.AV())
}
