package staff

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/secret"
	"onecard/shared/store"
)

// Password rules for staff (stricter than students': a staff account moves money and unlocks cards).
const (
	MinPassword = 12
	MaxPassword = 128
)

// AllRoles in the order they are shown and stored.
var AllRoles = []string{auth.RoleFinance, auth.RoleFinanceLead, auth.RoleIT, auth.RoleOps, auth.RoleAdmin}

var (
	ErrBadUsername  = fault.Field("BAD_USERNAME", "用户名须为 3–32 位小写字母、数字、点、下划线或连字符，以字母开头")
	ErrWeakPassword = fault.Field("WEAK_PASSWORD", "密码须为 12–128 个字符，不能含控制字符，且不能与用户名相同")
	ErrBadRoles     = fault.Field("BAD_ROLES", "角色须为 finance、finance-lead、it、ops、admin 中的一个或多个")
	ErrExists       = fault.E(fault.Conflict, "STAFF_EXISTS", "该用户名已被使用")
	ErrNoMember     = fault.E(fault.NotFound, "STAFF_NOT_FOUND", "该工作人员不存在")
	ErrChanged      = fault.E(fault.Conflict, "STAFF_CHANGED", "该工作人员的信息刚被修改，请刷新后重试")
	ErrSelf         = fault.E(fault.Rule, "CANNOT_CHANGE_SELF", "不能停用自己或取消自己的管理员角色")
	ErrAlreadyOff   = fault.E(fault.Conflict, "ALREADY_DISABLED", "该账号已停用")
	ErrNotOff       = fault.E(fault.Conflict, "NOT_DISABLED", "该账号未停用")
	errBadCursor    = fault.Field("BAD_CURSOR", "分页游标无效")
)

// ValidUsername: 3–32 of a-z 0-9 . _ -, starting with a letter.
func ValidUsername(u string) bool {
	if len(u) < 3 || len(u) > 32 || u[0] < 'a' || u[0] > 'z' {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// CheckPassword applies the staff password rules: 12–128 characters, no control characters, and not
// the username (in any case). A username inside a longer password is allowed: with usernames as short
// as "ops", refusing every password that contains one would refuse "stops" and "topsoil".
func CheckPassword(username, pw string) error {
	n := utf8.RuneCountInString(pw)
	if !utf8.ValidString(pw) || n < MinPassword || n > MaxPassword {
		return ErrWeakPassword
	}
	for _, r := range pw {
		if unicode.IsControl(r) {
			return ErrWeakPassword
		}
	}
	if strings.EqualFold(strings.TrimSpace(pw), username) {
		return ErrWeakPassword
	}
	return nil
}

// NormalRoles checks roles and returns them deduplicated in AllRoles order.
func NormalRoles(roles []string) ([]string, error) {
	if len(roles) == 0 || len(roles) > len(AllRoles) {
		return nil, ErrBadRoles
	}
	for _, r := range roles {
		if !slices.Contains(AllRoles, r) {
			return nil, ErrBadRoles
		}
	}
	out := []string{}
	for _, r := range AllRoles {
		if slices.Contains(roles, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

func newMember(username, password, school string, roles []string, now time.Time) (Member, error) {
	if !ValidUsername(username) {
		return Member{}, ErrBadUsername
	}
	if err := CheckPassword(username, password); err != nil {
		return Member{}, err
	}
	roles, err := NormalRoles(roles)
	if err != nil {
		return Member{}, err
	}
	hash, err := secret.HashPassword(password)
	if err != nil {
		return Member{}, err
	}
	return Member{Key: store.StaffKey(username), InGSI1: store.InGSI1{GSI1PK: store.StaffListPK(school), GSI1SK: username},
		Username: username, PasswordHash: hash, Roles: roles, SchoolID: school, CreatedAt: now.UTC()}, nil
}

// View is a staff member as the console shows it: never a hash.
type View struct {
	Username string   `json:"username"`
	Roles    []string `json:"roles"`
	Disabled bool     `json:"disabled"`
	// MustChangePassword: the member has not yet replaced the password an admin set.
	MustChangePassword bool    `json:"mustChangePassword"`
	LockedUntil        *string `json:"lockedUntil"` // set while failed logins lock the account
	CreatedAt          *string `json:"createdAt"`
}

// View returns the console's view of m at now.
func (m *Member) View(now time.Time) View {
	v := View{Username: m.Username, Roles: m.Roles, Disabled: m.Disabled, MustChangePassword: m.MustChange}
	if v.Roles == nil {
		v.Roles = []string{}
	}
	if now.Before(m.LockedUntil) {
		s := m.LockedUntil.In(chinatime.Zone).Format(time.RFC3339)
		v.LockedUntil = &s
	}
	if !m.CreatedAt.IsZero() {
		s := m.CreatedAt.In(chinatime.Zone).Format(time.RFC3339)
		v.CreatedAt = &s
	}
	return v
}

// state is what an audit record shows before and after a change (never a password or hash).
func (m *Member) state() map[string]any {
	return map[string]any{"roles": m.Roles, "disabled": m.Disabled, "schoolId": m.SchoolID}
}

// Service manages the staff of the caller's school.
type Service struct {
	S      *store.Store
	Tokens *auth.Tokens // staff tokens (a password change answers a fresh one)
	Now    func() time.Time
}

// Create adds a member to the caller's school.
func (s *Service) Create(ctx context.Context, p auth.Principal, username, password string, roles []string) (*View, error) {
	now := s.Now()
	m, err := newMember(username, password, p.School, roles, now)
	if err != nil {
		return nil, err
	}
	m.MustChange = true // the admin chose the password: the member sets their own first
	put, err := store.PutItem(m, store.IfAbsent, nil)
	if err != nil {
		return nil, err
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{put,
		AuditItem(Actor(p), "staff.create", "staff:"+username, map[string]any{"before": nil, "after": m.state()}, now)}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(0) {
		return nil, ErrExists
	}
	if err != nil {
		return nil, err
	}
	v := m.View(now)
	return &v, nil
}

// member reads a member of the caller's school; members of other schools do not exist for the caller.
func (s *Service) member(ctx context.Context, p auth.Principal, username string) (*Member, error) {
	if !ValidUsername(username) {
		return nil, ErrNoMember
	}
	var m Member
	ok, err := s.S.Get(ctx, store.StaffKey(username), &m)
	if err != nil {
		return nil, err
	}
	if !ok || m.SchoolID != p.School {
		return nil, ErrNoMember
	}
	return &m, nil
}

// change applies one update to a member that is still at the revision that was read, in one
// transaction with its audit record, so the record's before is exactly what the change replaced. up is
// the member's update (a store.Staff…Item, conditioned on m's school and revision).
func (s *Service) change(ctx context.Context, p auth.Principal, m *Member, action string, up types.TransactWriteItem, after map[string]any, extra map[string]any) error {
	details := map[string]any{"before": m.state(), "after": after}
	for k, v := range extra {
		details[k] = v
	}
	err := s.S.Transact(ctx, []types.TransactWriteItem{up, AuditItem(Actor(p), action, "staff:"+m.Username, details, s.Now())}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(0) {
		return ErrChanged
	}
	return err
}

// SetRoles replaces a member's roles; an admin cannot take the admin role from themself (so a school
// always keeps the admin who is making changes).
func (s *Service) SetRoles(ctx context.Context, p auth.Principal, username string, roles []string) (*View, error) {
	roles, err := NormalRoles(roles)
	if err != nil {
		return nil, err
	}
	m, err := s.member(ctx, p, username)
	if err != nil {
		return nil, err
	}
	if m.Username == p.Subject && !slices.Contains(roles, auth.RoleAdmin) {
		return nil, ErrSelf
	}
	if !slices.Equal(roles, m.Roles) {
		after := m.state()
		after["roles"] = roles
		if err := s.change(ctx, p, m, "staff.roles", store.StaffRolesItem(m.Key, p.School, m.Rev, roles), after, nil); err != nil {
			return nil, err
		}
		m.Roles = roles
	}
	v := m.View(s.Now())
	return &v, nil
}

// SetDisabled disables (revoking every token the member holds) or re-enables a member.
func (s *Service) SetDisabled(ctx context.Context, p auth.Principal, username string, off bool) error {
	m, err := s.member(ctx, p, username)
	if err != nil {
		return err
	}
	if m.Username == p.Subject {
		return ErrSelf
	}
	if m.Disabled == off {
		if off {
			return ErrAlreadyOff
		}
		return ErrNotOff
	}
	after := m.state()
	after["disabled"] = off
	action, up := "staff.enable", store.StaffEnableItem(m.Key, p.School, m.Rev)
	if off {
		// Tokens issued before the disable stay dead even if the member is enabled again.
		action, up = "staff.disable", store.StaffDisableItem(m.Key, p.School, m.Rev, m.TokenGen+1)
	}
	return s.change(ctx, p, m, action, up, after, nil)
}

// ResetPassword sets a new password chosen by an admin (handed over in person), lifts a lockout and
// revokes the member's tokens. The audit record says that it happened, never what the password is.
func (s *Service) ResetPassword(ctx context.Context, p auth.Principal, username, password string) error {
	m, err := s.member(ctx, p, username)
	if err != nil {
		return err
	}
	if err := CheckPassword(m.Username, password); err != nil {
		return err
	}
	hash, err := secret.HashPassword(password)
	if err != nil {
		return err
	}
	now := s.Now()
	if err := s.change(ctx, p, m, "staff.reset_password",
		store.StaffResetPasswordItem(m.Key, p.School, m.Rev, hash, m.TokenGen+1), m.state(),
		map[string]any{"passwordChanged": true, "tokensRevoked": true, "wasLocked": now.Before(m.LockedUntil)}); err != nil {
		return err
	}
	// The admin saw the member in person: the failed logins no longer count.
	return s.S.Delete(ctx, store.AttemptKey(LoginRule.Name, m.Username))
}

// ChangeOwnPassword lets any staff member replace their password. A wrong old password counts as a
// failed login (the same lockout applies), so a stolen token cannot be used to guess the password.
// Other sessions of the member are revoked; the answer is a fresh token for this one.
func (s *Service) ChangeOwnPassword(ctx context.Context, p auth.Principal, oldPw, newPw string) (string, error) {
	if _, err := checkLogin(ctx, s.S, s.Now(), p.Subject, oldPw, errWrongPassword); err != nil {
		return "", err
	}
	m, err := s.member(ctx, p, p.Subject)
	if err != nil {
		return "", err
	}
	if err := CheckPassword(m.Username, newPw); err != nil {
		return "", err
	}
	if secret.CheckPassword(m.PasswordHash, newPw) {
		return "", fault.Field("SAME_PASSWORD", "新密码不能与旧密码相同")
	}
	hash, err := secret.HashPassword(newPw)
	if err != nil {
		return "", err
	}
	if err := s.change(ctx, p, m, "staff.change_password",
		store.StaffChangePasswordItem(m.Key, p.School, m.Rev, hash, m.TokenGen+1), m.state(), map[string]any{"passwordChanged": true}); err != nil {
		return "", err
	}
	m.TokenGen++ // change is conditioned on the revision read, so this is the generation now stored
	return s.Tokens.Issue(m.principal())
}

// Page is one page of the staff list.
type Page struct {
	Items      []View  `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

// List returns the caller's school's staff by username.
func (s *Service) List(ctx context.Context, p auth.Principal, limit int, cursor string) (*Page, error) {
	q := store.Query{Index: store.GSI1, PK: store.StaffListPK(p.School), Limit: limit}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !ValidUsername(string(b)) {
			return nil, errBadCursor
		}
		u := string(b)
		start := store.StaffKey(u)
		q.Start, q.StartSK = &start, u
	}
	var ms []Member
	last, err := s.S.Page(ctx, q, &ms)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out := &Page{Items: []View{}}
	for i := range ms {
		out.Items = append(out.Items, ms[i].View(now))
	}
	if last != nil && len(ms) > 0 {
		c := base64.RawURLEncoding.EncodeToString([]byte(ms[len(ms)-1].Username))
		out.NextCursor = &c
	}
	return out, nil
}
