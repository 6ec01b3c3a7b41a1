// Package auth issues and checks the short-lived access tokens (JWT, HS256) of students and staff, and
// carries the verified caller through a request's context.
package auth

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"onecard/shared/fault"
)

// Kinds of caller.
const (
	KindUser  = "user"
	KindStaff = "staff"
)

// Staff roles (docs/staff-console.md). admin may do everything.
const (
	RoleFinance = "finance"
	RoleIT      = "it"
	RoleOps     = "ops"
	RoleAdmin   = "admin"
	// RoleFinanceLead (财务负责人) approves corrections above the school's correctionLeadFen; a lead holds
	// finance as well (the role adds a power, it does not replace finance's routes).
	RoleFinanceLead = "finance-lead"
)

const issuer = "onecard"

// Principal is the verified caller of a request.
type Principal struct {
	Subject string   // userId or staff username
	Kind    string   // KindUser or KindStaff
	School  string   // the school the token was issued for
	Roles   []string // staff only
	Family  string   // refresh-token family of a user session
	// IssuedAt is when the token was signed (whole seconds).
	IssuedAt time.Time
	// Gen is a staff token's generation (staff.Member.TokenGen): a token of an older generation than
	// the member's is refused by the staff check in fn.
	Gen int64
}

// HasRole reports whether a staff principal holds one of roles (admin holds all).
func (p Principal) HasRole(roles ...string) bool {
	if p.Kind != KindStaff {
		return false
	}
	if slices.Contains(p.Roles, RoleAdmin) {
		return true
	}
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

type claims struct {
	jwt.RegisteredClaims
	Kind   string   `json:"knd"`
	School string   `json:"sch,omitempty"`
	Roles  []string `json:"roles,omitempty"`
	Family string   `json:"fam,omitempty"`
	Gen    int64    `json:"gen,omitempty"`
}

// Tokens signs and verifies access tokens.
type Tokens struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewTokens returns a signer with the given key, lifetime and clock.
func NewTokens(key []byte, ttl time.Duration, now func() time.Time) *Tokens {
	return &Tokens{key: key, ttl: ttl, now: now}
}

// TTL is the lifetime of an access token.
func (t *Tokens) TTL() time.Duration { return t.ttl }

// Issue signs an access token for p.
func (t *Tokens) Issue(p Principal) (string, error) {
	now := t.now()
	c := claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   p.Subject,
			Audience:  jwt.ClaimStrings{p.Kind},
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
			ExpiresAt: jwt.NewNumericDate(now.Add(t.ttl)),
		},
		Kind: p.Kind, School: p.School, Roles: p.Roles, Family: p.Family, Gen: p.Gen,
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.key)
}

// Verify checks signature, algorithm, issuer, audience and expiry and returns the caller.
func (t *Tokens) Verify(token, wantKind string) (Principal, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(issuer),
		jwt.WithAudience(wantKind),
		jwt.WithTimeFunc(t.now),
		jwt.WithExpirationRequired(),
	)
	if err != nil {
		if errors.Is(err, jwt.ErrTokenExpired) {
			return Principal{}, fault.E(fault.Unauthenticated, "TOKEN_EXPIRED", "登录已过期，请重新登录").Wrap(err)
		}
		return Principal{}, fault.ErrTokenInvalid.Wrap(err)
	}
	if c.Kind != wantKind || c.Subject == "" {
		return Principal{}, fault.ErrTokenInvalid
	}
	p := Principal{Subject: c.Subject, Kind: c.Kind, School: c.School, Roles: c.Roles, Family: c.Family, Gen: c.Gen}
	if c.IssuedAt != nil {
		p.IssuedAt = c.IssuedAt.Time
	}
	return p, nil
}

type principalKey struct{}

// With stores the caller in ctx.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the caller stored by the access check.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Must returns the caller; handlers behind an access check can rely on it.
func Must(ctx context.Context) Principal {
	p, ok := From(ctx)
	if !ok {
		panic("auth: handler reached without an access check")
	}
	return p
}
