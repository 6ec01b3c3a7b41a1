package accounts

import (
	"context"
	"time"

	"onecard/shared/store"
)

// User is a 一信通 account: the phone is its login.
type User struct {
	store.Key
	UserID       string            `dynamodbav:"userId"`
	Phone        string            `dynamodbav:"phone"`
	PasswordHash string            `dynamodbav:"passwordHash"`
	Email        string            `dynamodbav:"email,omitempty"`
	SchoolID     string            `dynamodbav:"schoolId"`
	OpenID       string            `dynamodbav:"openId,omitempty"`
	Cards        map[string]string `dynamodbav:"cards,omitempty"` // schoolId → bound card number
	CreatedAt    time.Time         `dynamodbav:"createdAt"`
}

// CardFor returns the card bound for school, if any.
func (u *User) CardFor(school string) string { return u.Cards[school] }

// marker is a uniqueness item (phone or email) pointing at its user.
type marker struct {
	store.Key
	UserID string `dynamodbav:"userId"`
}

// Users reads users by id and by phone.
type Users struct{ S *store.Store }

// Get returns the user or ok=false.
func (u Users) Get(ctx context.Context, id string) (*User, bool, error) {
	var usr User
	ok, err := u.S.Get(ctx, store.UserKey(id), &usr)
	if err != nil || !ok {
		return nil, ok, err
	}
	return &usr, true, nil
}

// ByPhone returns the user that owns phone.
func (u Users) ByPhone(ctx context.Context, phone string) (*User, bool, error) {
	var m marker
	ok, err := u.S.Get(ctx, store.PhoneKey(phone), &m)
	if err != nil || !ok {
		return nil, ok, err
	}
	return u.Get(ctx, m.UserID)
}
