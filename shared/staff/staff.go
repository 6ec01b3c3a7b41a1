// Package staff is the console side: staff accounts with roles, their login with lockout, and the audit
// trail that every staff action writes.
package staff

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/attempts"
	"onecard/shared/auth"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
	"onecard/shared/secret"
	"onecard/shared/store"
)

// Member is a staff account. fn reads roles, schoolId, disabled and tokenGen on every staff request.
type Member struct {
	store.Key
	store.InGSI1          // StaffListPK(school) / username: the school's staff list
	Username     string   `dynamodbav:"username"`
	PasswordHash string   `dynamodbav:"passwordHash"`
	Roles        []string `dynamodbav:"roles"`
	SchoolID     string   `dynamodbav:"schoolId"`
	Disabled     bool     `dynamodbav:"disabled"`
	// LockedUntil shows the console that failed logins lock the member; LoginRule's counter enforces it.
	LockedUntil time.Time `dynamodbav:"lockedUntil"`
	// TokenGen is the generation of the member's tokens: a password change or reset and a disable add
	// one, and a token of another generation is refused (the token carries it), however little time
	// passed between its signing and the change.
	TokenGen int64 `dynamodbav:"tokenGen"`
	// MustChange is set when an admin chose the password (Create, ResetPassword) and cleared when the
	// member sets their own: until then only PUT /v1/admin/password is allowed (fn.HTTP.OwnPassword).
	MustChange bool      `dynamodbav:"mustChangePassword"`
	CreatedAt  time.Time `dynamodbav:"createdAt"`
	Rev        int64     `dynamodbav:"rev"` // bumped by every console change (optimistic concurrency)
}

// LoginRule limits staff password tries per username, known or not (docs/security.md).
var LoginRule = attempts.Rule{Name: "staff-login", Max: 5, Window: 15 * time.Minute, Refusal: errLocked}

var (
	errBadLogin = fault.E(fault.Unauthenticated, "BAD_CREDENTIALS", "用户名或密码错误")
	errLocked   = fault.E(fault.TooMany, "TOO_MANY_ATTEMPTS", "登录失败次数过多，请稍后再试")
	// errWrongPassword is a wrong old password when changing one's own: 422, the session stays.
	errWrongPassword = fault.E(fault.Rule, "WRONG_PASSWORD", "原密码错误")
)

// Put creates or replaces a staff member (seeding and tests; the console uses Service.Create). The
// username, password and roles must pass the same rules as the console's.
func Put(ctx context.Context, s *store.Store, username, password, school string, roles []string) error {
	m, err := newMember(username, password, school, roles, time.Now())
	if err != nil {
		return err
	}
	return s.Put(ctx, m, "", nil)
}

// Login checks a staff password, its try reserved first under LoginRule, and issues a staff token.
// The second result says whether the member must set their own password first.
func Login(ctx context.Context, s *store.Store, tokens *auth.Tokens, now time.Time, username, password string) (string, bool, error) {
	m, err := checkLogin(ctx, s, now, username, password, errBadLogin)
	if err != nil {
		return "", false, err
	}
	tok, err := tokens.Issue(m.principal())
	return tok, m.MustChange, err
}

// checkLogin is Login without the token: the member whose password matched, or wrong (with the tries
// left), or LoginRule's refusal.
func checkLogin(ctx context.Context, s *store.Store, now time.Time, username, password string, wrong *fault.Error) (*Member, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	if username == "" || len(username) > 64 || password == "" || len(password) > 256 {
		return nil, wrong
	}
	try, err := attempts.Counter{S: s, Now: func() time.Time { return now }}.Reserve(ctx, LoginRule, username)
	if err != nil {
		return nil, err
	}
	var m Member
	ok, err := s.Get(ctx, store.StaffKey(username), &m)
	if err != nil {
		return nil, err
	}
	if !ok {
		secret.BurnPasswordCheck(password)
		return nil, try.Failed(wrong)
	}
	if m.Disabled || !secret.CheckPassword(m.PasswordHash, password) {
		if try.Exhausted() {
			// Shown in the staff list; the counter is what enforces the lock.
			if err := s.SetStaffLockedUntil(ctx, m.Key, now.Add(try.RetryAfter()).UTC()); err != nil {
				return nil, err
			}
		}
		return nil, try.Failed(wrong)
	}
	return &m, try.Succeeded(ctx)
}

// principal is who a token of m speaks for.
func (m *Member) principal() auth.Principal {
	return auth.Principal{Subject: m.Username, Kind: auth.KindStaff, School: m.SchoolID, Roles: m.Roles, Gen: m.TokenGen}
}

// Event is one audit record.
type Event struct {
	store.Key `json:"-"`     // the audit route shows records, not table keys
	Actor     string         `dynamodbav:"actor" json:"actor"`
	Action    string         `dynamodbav:"action" json:"action"`
	Target    string         `dynamodbav:"target" json:"target"`
	At        time.Time      `dynamodbav:"at" json:"-"`
	Details   map[string]any `dynamodbav:"details,omitempty" json:"details,omitempty"`
}

// AuditItem is the transaction item that records an action; put it in the same transaction as the
// action whenever the action is one transaction.
func AuditItem(actor Who, action, target string, details map[string]any, now time.Time) types.TransactWriteItem {
	it, _ := store.PutItem(event(actor, action, target, details, now), "", nil)
	return it
}

// event files the record under the actor's school: one school's trail is one partition, which an admin
// of another school cannot reach (AdminAudit queries only the caller's school).
func event(actor Who, action, target string, details map[string]any, now time.Time) Event {
	return Event{Key: store.AuditEventKey(actor.School, now, secret.Token(6)),
		Actor: actor.ID, Action: action, Target: target, At: now.UTC(), Details: details}
}

// Audit records an action on its own (when the action spans several writes).
func Audit(ctx context.Context, s *store.Store, actor Who, action, target string, details map[string]any, now time.Time) error {
	return s.Put(ctx, event(actor, action, target, details, now), "", nil)
}

// LoginFn is POST /v1/admin/login.
var AdminLogin = fn.HTTP{Name: "AdminLogin", Route: "POST /v1/admin/login", Access: fn.Public,
	Actions: []string{iam.GetItem, iam.UpdateItem},
	Build: func(d *platform.Deps) httpapi.Handler {
		s := d.Store()
		tokens := auth.NewTokens(d.Cfg.JWTKey, TokenTTL, d.Now)
		return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}) (map[string]any, error) {
			tok, mustChange, err := Login(r.Context(), s, tokens, d.Now(), in.Username, in.Password)
			if err != nil {
				return nil, err
			}
			return map[string]any{"token": tok, "expiresIn": int64(tokens.TTL().Seconds()),
				"passwordChangeRequired": mustChange}, nil
		})
	}}

// AdminAudit is GET /v1/admin/audit: newest first, cursor paginated, filtered on the server (AuditQuery).
var AdminAudit = fn.HTTP{Name: "AdminAudit", Route: "GET /v1/admin/audit", Access: fn.Staff, Roles: []string{auth.RoleAdmin},
	Actions: []string{iam.Query},
	Build: func(d *platform.Deps) httpapi.Handler {
		s := d.Store()
		return func(w http.ResponseWriter, r *http.Request) error {
			limit, err := httpapi.Limit(r, 50, 200)
			if err != nil {
				return err
			}
			f, err := ParseAuditFilter(r.URL.Query())
			if err != nil {
				return err
			}
			// The caller's own school only: the school comes from the checked staff token, never the request.
			page, err := AuditQuery(r.Context(), s, auth.Must(r.Context()).School, f, limit, r.URL.Query().Get("cursor"))
			if err != nil {
				return err
			}
			return httpapi.JSON(w, http.StatusOK, page)
		}
	}}

// MarshalDetails is a helper for audit details from a struct.
func MarshalDetails(v any) map[string]any {
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// Who is the staff member an audit record names ("staff:<username>") and the school whose trail the
// record goes into. Stored or shown, it is just the name (resolvedBy of a dispute, say).
type Who struct {
	ID     string // "staff:<username>"
	School string
}

// Actor names the caller in audit records; the school is the one of the checked staff token.
func Actor(p auth.Principal) Who {
	return Who{ID: "staff:" + strings.TrimSpace(p.Subject), School: p.School}
}

func (w Who) String() string { return w.ID }

// MarshalDynamoDBAttributeValue stores the name alone.
func (w Who) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return &types.AttributeValueMemberS{Value: w.ID}, nil
}

// MarshalJSON shows the name alone.
func (w Who) MarshalJSON() ([]byte, error) { return json.Marshal(w.ID) }
