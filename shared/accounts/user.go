package accounts

import (
	"context"
	"fmt"
	"strings"
	"time"

	"onecard/shared/secret"
	"onecard/shared/store"
)

// User is a 一信通 account: the phone is its login.
type User struct {
	store.Key
	UserID string `dynamodbav:"userId"`
	// The phone and the email are stored as a keyed digest (their uniqueness markers' key) and sealed
	// with the PII key; Users opens them into Phone and Email (docs/security.md).
	PhoneDigest  string            `dynamodbav:"phoneDigest"`
	PhoneSealed  string            `dynamodbav:"phoneSealed"`
	EmailDigest  string            `dynamodbav:"emailDigest,omitempty"`
	EmailSealed  string            `dynamodbav:"emailSealed,omitempty"`
	Phone        string            `dynamodbav:"-"`
	Email        string            `dynamodbav:"-"`
	PasswordHash string            `dynamodbav:"passwordHash"`
	SchoolID     string            `dynamodbav:"schoolId"`
	OpenID       string            `dynamodbav:"openId,omitempty"`
	Cards        map[string]string `dynamodbav:"cards,omitempty"` // schoolId → bound card number
	// Agreements is the version of each school's user agreement and privacy policy the user accepted
	// (schoolId → version; 0 when the school had published none).
	Agreements map[string]int64 `dynamodbav:"agreements,omitempty"`
	CreatedAt  time.Time        `dynamodbav:"createdAt"`
}

// CardFor returns the card bound for school, if any.
func (u *User) CardFor(school string) string { return u.Cards[school] }

// marker is a uniqueness item (phone or email) pointing at its user.
type marker struct {
	store.Key
	UserID string `dynamodbav:"userId"`
}

// Users reads users by id and by phone. With PII (the PII key) it opens the phone and email; without,
// they stay empty (a caller that needs neither need not hold the key).
type Users struct {
	S   *store.Store
	PII secret.Digester
}

// Sealing purposes, also the digests' purposes.
const (
	piiPhone = "phone"
	piiEmail = "email"
)

// PhoneDigest is the keyed digest under which phone is looked up.
func (u Users) PhoneDigest(phone string) string { return u.PII.Digest(piiPhone, phone) }

// EmailDigest is the keyed digest under which a (normalised, lower-case) email is looked up.
func (u Users) EmailDigest(email string) string {
	return u.PII.Digest(piiEmail, strings.ToLower(email))
}

// Get returns the user or ok=false.
func (u Users) Get(ctx context.Context, id string) (*User, bool, error) {
	var usr User
	ok, err := u.S.Get(ctx, store.UserKey(id), &usr)
	if err != nil || !ok {
		return nil, ok, err
	}
	if u.PII.Keyed() {
		if usr.Phone, err = u.PII.Open(piiPhone, usr.PhoneSealed); err != nil {
			return nil, false, fmt.Errorf("accounts: phone of %s: %w", id, err)
		}
		if usr.EmailSealed != "" {
			if usr.Email, err = u.PII.Open(piiEmail, usr.EmailSealed); err != nil {
				return nil, false, fmt.Errorf("accounts: email of %s: %w", id, err)
			}
		}
	}
	return &usr, true, nil
}

// ByPhone returns the user that owns phone.
func (u Users) ByPhone(ctx context.Context, phone string) (*User, bool, error) {
	var m marker
	ok, err := u.S.Get(ctx, store.PhoneKey(u.PhoneDigest(phone)), &m)
	if err != nil || !ok {
		return nil, ok, err
	}
	return u.Get(ctx, m.UserID)
}
