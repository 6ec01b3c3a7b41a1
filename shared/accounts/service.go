// Package accounts is the 一信通 account: registration, login with throttling, rotating refresh tokens,
// the profile (phone, email, school, WeChat openid) and password reset by an emailed code.
package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/attempts"
	"onecard/shared/auth"
	"onecard/shared/fault"
	"onecard/shared/school"
	"onecard/shared/secret"
	"onecard/shared/store"
)

// Mailer sends one plain-text email.
type Mailer interface {
	Send(ctx context.Context, to, subject, text string) error
}

// OpenIDs exchanges a mini-program login code for the user's openid (WeChat code2session).
type OpenIDs interface {
	Code2Session(ctx context.Context, jsCode string) (string, error)
}

// Code rules.
const (
	CodeTTL      = 10 * time.Minute
	CodeCooldown = 60 * time.Second
	MaxCodeTries = 5 // per code
)

// The limits on checks of an account's secrets (docs/security.md). A try is reserved before the
// comparison (shared/attempts), so concurrent requests cannot get more comparisons than Max.
var (
	// LoginRule counts tries of a login password per phone, known or not, so the refusal reveals
	// nothing: login, and the password asked by a password, phone or email change.
	LoginRule = attempts.Rule{Name: "login", Max: 5, Window: 15 * time.Minute, Refusal: ErrLoginLocked}
	// CodeSendRule caps the codes mailed to one account a day, per purpose.
	CodeSendRule = attempts.Rule{Name: "code-send", Max: 5, Window: 24 * time.Hour, Refusal: ErrCodeDailyCap}
	// CodeTryRule caps the wrong codes one account may enter a day, per purpose, over all its codes.
	CodeTryRule = attempts.Rule{Name: "code-try", Max: 10, Window: 24 * time.Hour, Refusal: ErrCodeTriesCap}
)

// Service implements the account routes.
type Service struct {
	S          *store.Store
	Users      Users
	Schools    school.Repo
	Tokens     *auth.Tokens
	Digest     secret.Digester
	Mail       Mailer
	WeChat     OpenIDs
	Now        func() time.Time
	RefreshTTL time.Duration
	Tries      attempts.Counter
	refreshKey []byte
}

// NewService wires the service. refreshKey signs refresh tokens (derived from the JWT key).
func NewService(s *store.Store, tokens *auth.Tokens, digest secret.Digester, mail Mailer, wx OpenIDs,
	now func() time.Time, refreshTTL time.Duration, refreshKey []byte) *Service {
	return &Service{S: s, Users: Users{S: s, PII: digest}, Schools: school.Repo{S: s}, Tokens: tokens, Digest: digest,
		Mail: mail, WeChat: wx, Now: now, RefreshTTL: refreshTTL, Tries: attempts.Counter{S: s, Now: now}, refreshKey: refreshKey}
}

var (
	ErrPhoneTaken     = fault.E(fault.Conflict, "PHONE_TAKEN", "该手机号已注册")
	ErrEmailTaken     = fault.E(fault.Conflict, "EMAIL_TAKEN", "该邮箱已绑定其他账号")
	ErrBadCredentials = fault.E(fault.Unauthenticated, "BAD_CREDENTIALS", "手机号或密码错误")
	// ErrBadPassword is a wrong login password inside a signed-in request (changing the password, phone
	// or email): 422, not 401, so that a client keeps its session.
	ErrBadPassword  = fault.E(fault.Rule, "WRONG_PASSWORD", "登录密码错误")
	ErrLoginLocked  = fault.E(fault.TooMany, "TOO_MANY_ATTEMPTS", "密码错误次数过多，请稍后再试")
	ErrCodeDailyCap = fault.E(fault.TooMany, "CODE_DAILY_LIMIT", "今日验证码发送次数已达上限，请明天再试")
	ErrCodeTriesCap = fault.E(fault.TooMany, "TOO_MANY_ATTEMPTS", "验证码错误次数过多，请明天再试")
	ErrBadRefresh   = fault.E(fault.Unauthenticated, "BAD_REFRESH_TOKEN", "登录已失效，请重新登录")
	ErrBadCode      = fault.E(fault.Invalid, "BAD_CODE", "验证码错误或已失效")
	ErrCodeCooldown = fault.E(fault.TooMany, "CODE_COOLDOWN", "验证码发送过于频繁，请稍后再试")
	ErrSamePhone    = fault.Field("SAME_PHONE", "新手机号与当前手机号相同")
	ErrUserGone     = fault.E(fault.Unauthenticated, "TOKEN_INVALID", "账号不存在，请重新登录")
	ErrNoEmail      = fault.E(fault.Rule, "EMAIL_NOT_BOUND", "该账号未绑定邮箱")
	ErrBadJSCode    = fault.E(fault.Invalid, "BAD_JS_CODE", "微信登录凭证无效，请重新进入小程序")
)

// ErrAgreementOutdated refuses an acceptance of another version than the school's current user
// agreement (it changed while the page was open, or the client sent a stale one).
var ErrAgreementOutdated = fault.E(fault.Rule, "AGREEMENT_OUTDATED", "用户协议和隐私政策已更新，请阅读并同意最新版本后重试")

// errNoAgreement is a registration that does not say which agreement version it accepts.
var errNoAgreement = fault.Field("MISSING_FIELD", "缺少字段 agreementVersion（请阅读并同意用户协议和隐私政策）")

// Register creates an account with a unique phone. agreementVersion is the version of the school's user
// agreement and privacy policy the user accepted (the 已阅读并同意用户协议 box): required, and it must be
// the school's current one (0 while the school has published none).
func (s *Service) Register(ctx context.Context, phone, password, schoolID string, agreementVersion *int64) (string, error) {
	if err := validPhone(phone); err != nil {
		return "", err
	}
	if err := validPassword(password); err != nil {
		return "", err
	}
	if _, err := s.Schools.Get(ctx, schoolID); err != nil {
		return "", err
	}
	if agreementVersion == nil {
		return "", errNoAgreement
	}
	current, err := s.Schools.AgreementVersion(ctx, schoolID)
	if err != nil {
		return "", err
	}
	if *agreementVersion != current {
		return "", ErrAgreementOutdated
	}
	hash, err := secret.HashPassword(password)
	if err != nil {
		return "", err
	}
	u := User{UserID: "u_" + secret.Token(12), PhoneDigest: s.Users.PhoneDigest(phone), PhoneSealed: s.Digest.Seal(piiPhone, phone),
		PasswordHash: hash, SchoolID: schoolID, Agreements: map[string]int64{schoolID: current}, CreatedAt: s.Now().UTC()}
	u.Key = store.UserKey(u.UserID)
	putUser, err := store.PutItem(u, store.IfAbsent, nil)
	if err != nil {
		return "", err
	}
	putPhone, err := store.PutItem(marker{store.PhoneKey(u.PhoneDigest), u.UserID}, store.IfAbsent, nil)
	if err != nil {
		return "", err
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{putUser, putPhone}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(1) {
		return "", ErrPhoneTaken
	}
	return u.UserID, err
}

// TokenPair is the answer of login and refresh.
type TokenPair struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken"`
	ExpiresIn    int64  `json:"expiresIn"`
}

// LoginAnswer is the answer of login: the tokens, and whether the user must accept the current version
// of their school's user agreement (published after they last accepted one). The session is open either
// way; the client shows the texts (GET /v1/agreement) and sends POST /v1/me/consent.
type LoginAnswer struct {
	TokenPair
	ConsentRequired  bool  `json:"consentRequired"`
	AgreementVersion int64 `json:"agreementVersion"` // the school's current version
}

// Login checks the password under the per-phone limit, opens a session and says whether the user's
// consent to a newer agreement is needed.
func (s *Service) Login(ctx context.Context, phone, password string) (*LoginAnswer, error) {
	pair, u, err := s.login(ctx, phone, password)
	if err != nil {
		return nil, err
	}
	current, err := s.Schools.AgreementVersion(ctx, u.SchoolID)
	if err != nil {
		return nil, err
	}
	return &LoginAnswer{TokenPair: *pair, ConsentRequired: u.Agreements[u.SchoolID] < current, AgreementVersion: current}, nil
}

func (s *Service) login(ctx context.Context, phone, password string) (*TokenPair, *User, error) {
	if validPhone(phone) != nil || password == "" || len(password) > 256 {
		return nil, nil, ErrBadCredentials
	}
	try, err := s.Tries.Reserve(ctx, LoginRule, s.Users.PhoneDigest(phone))
	if err != nil {
		return nil, nil, err
	}
	u, ok, err := s.Users.ByPhone(ctx, phone)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		secret.BurnPasswordCheck(password)
		return nil, nil, try.Failed(ErrBadCredentials)
	}
	if !secret.CheckPassword(u.PasswordHash, password) {
		return nil, nil, try.Failed(ErrBadCredentials)
	}
	if err := try.Succeeded(ctx); err != nil {
		return nil, nil, err
	}
	pair, err := s.openSession(ctx, u)
	return pair, u, err
}

// checkOwnPassword checks the login password of a signed-in user under the login limit, so that a
// session does not give a thief unlimited guesses.
func (s *Service) checkOwnPassword(ctx context.Context, u *User, password string) error {
	if password == "" || len(password) > 256 {
		return ErrBadPassword
	}
	try, err := s.Tries.Reserve(ctx, LoginRule, u.PhoneDigest)
	if err != nil {
		return err
	}
	if !secret.CheckPassword(u.PasswordHash, password) {
		return try.Failed(ErrBadPassword)
	}
	return try.Succeeded(ctx)
}

// session is one refresh-token family; Gen counts rotations and only the newest token is valid.
type session struct {
	store.Key
	UserID    string    `dynamodbav:"userId"`
	Family    string    `dynamodbav:"family"`
	Gen       int64     `dynamodbav:"gen"`
	TokenHash string    `dynamodbav:"tokenHash"`
	Revoked   bool      `dynamodbav:"revoked"`
	ExpiresAt time.Time `dynamodbav:"expiresAt"`
	TTL       int64     `dynamodbav:"ttl"`
}

func (s *Service) openSession(ctx context.Context, u *User) (*TokenPair, error) {
	family := secret.Token(12)
	sess := session{Key: store.SessionKey(u.UserID, family), UserID: u.UserID, Family: family, Gen: 1,
		ExpiresAt: s.Now().Add(s.RefreshTTL).UTC()}
	sess.TTL = store.TTL(sess.ExpiresAt.Add(24 * time.Hour))
	refresh := s.refreshToken(u.UserID, family, 1)
	sess.TokenHash = s.Digest.Digest("refresh", refresh)
	put, err := store.PutItem(sess, store.IfAbsent, nil)
	if err != nil {
		return nil, err
	}
	// The session opens only if the password it was opened with is still the account's: a login that
	// raced a password reset either lands before the reset (and the reset revokes it) or fails here.
	err = s.S.Transact(ctx, []types.TransactWriteItem{put, {ConditionCheck: &types.ConditionCheck{
		Key: u.Key.AV(), ConditionExpression: aws.String("passwordHash = :h"),
		ExpressionAttributeValues: store.Values{":h": u.PasswordHash}.AV()}}}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return nil, ErrBadCredentials.Wrap(err)
	}
	if err != nil {
		return nil, err
	}
	return s.pair(u, family, refresh)
}

func (s *Service) pair(u *User, family, refresh string) (*TokenPair, error) {
	access, err := s.Tokens.Issue(auth.Principal{Subject: u.UserID, Kind: auth.KindUser, School: u.SchoolID, Family: family})
	if err != nil {
		return nil, err
	}
	return &TokenPair{AccessToken: access, RefreshToken: refresh, ExpiresIn: int64(s.Tokens.TTL().Seconds())}, nil
}

// Refresh tokens read rt1.<userId>.<family>.<gen>.<random>.<mac>: the MAC lets us tell a stolen, already
// rotated token (reuse: revoke the family) from garbage (just refuse).
func (s *Service) refreshToken(userID, family string, gen int64) string {
	body := fmt.Sprintf("rt1.%s.%s.%d.%s", userID, family, gen, secret.Token(16))
	return body + "." + s.refreshMAC(body)
}

func (s *Service) refreshMAC(body string) string {
	m := hmac.New(sha256.New, s.refreshKey)
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Service) parseRefresh(tok string) (userID, family string, gen int64, ok bool) {
	if len(tok) > 512 {
		return "", "", 0, false
	}
	i := strings.LastIndexByte(tok, '.')
	if i < 0 || !hmac.Equal([]byte(tok[i+1:]), []byte(s.refreshMAC(tok[:i]))) {
		return "", "", 0, false
	}
	parts := strings.Split(tok[:i], ".")
	if len(parts) != 5 || parts[0] != "rt1" {
		return "", "", 0, false
	}
	gen, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || gen < 1 {
		return "", "", 0, false
	}
	return parts[1], parts[2], gen, true
}

// Refresh rotates a refresh token. Presenting a token that was already rotated revokes the whole family:
// either the user or a thief holds an old copy, and we cannot tell which.
func (s *Service) Refresh(ctx context.Context, tok string) (*TokenPair, error) {
	userID, family, gen, ok := s.parseRefresh(tok)
	if !ok {
		return nil, ErrBadRefresh
	}
	var sess session
	found, err := s.S.Get(ctx, store.SessionKey(userID, family), &sess)
	if err != nil {
		return nil, err
	}
	if !found || sess.Revoked || !s.Now().Before(sess.ExpiresAt) {
		return nil, ErrBadRefresh
	}
	if gen != sess.Gen || !s.Digest.Equal(sess.TokenHash, "refresh", tok) {
		if gen < sess.Gen {
			if err := s.revoke(ctx, userID, family); err != nil {
				return nil, err
			}
			return nil, fault.E(fault.Unauthenticated, "REFRESH_TOKEN_REUSED", "登录凭证已被使用，为安全起见已退出登录，请重新登录")
		}
		return nil, ErrBadRefresh
	}
	u, ok, err := s.Users.Get(ctx, userID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBadRefresh
	}
	next := s.refreshToken(userID, family, gen+1)
	err = s.S.RotateSession(ctx, sess.Key, gen, gen+1, s.Digest.Digest("refresh", next))
	if errors.Is(err, store.ErrConditionFailed) {
		// Two refreshes raced with the same token: the loser is a reuse.
		if err := s.revoke(ctx, userID, family); err != nil {
			return nil, err
		}
		return nil, ErrBadRefresh
	}
	if err != nil {
		return nil, err
	}
	return s.pair(u, family, next)
}

func (s *Service) revoke(ctx context.Context, userID, family string) error {
	err := s.S.RevokeSession(ctx, store.SessionKey(userID, family))
	if errors.Is(err, store.ErrConditionFailed) {
		return nil
	}
	return err
}

// Logout revokes the caller's session.
func (s *Service) Logout(ctx context.Context, p auth.Principal) error {
	if p.Family == "" {
		return nil
	}
	return s.revoke(ctx, p.Subject, p.Family)
}

// revokeAll ends every session of a user but keep ("" for none): after a password reset, every
// session; after a password change, the other devices' sessions.
func (s *Service) revokeAll(ctx context.Context, userID, keep string) error {
	all := store.SessionKey(userID, "") // its SK, "SESSION#", begins every session's
	q := store.Query{PK: all.PK, Prefix: all.SK, Project: []string{"family"},
		Consistent: true} // sees every session opened before the password changed
	return store.Each(ctx, s.S, q, func(page []session) error {
		for _, ss := range page {
			if ss.Family == keep {
				continue
			}
			if err := s.revoke(ctx, userID, ss.Family); err != nil {
				return err
			}
		}
		return nil
	})
}

// Me returns the caller's account.
func (s *Service) Me(ctx context.Context, p auth.Principal) (*User, error) {
	u, ok, err := s.Users.Get(ctx, p.Subject)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrUserGone
	}
	return u, nil
}

// ChangePassword needs the old password.
func (s *Service) ChangePassword(ctx context.Context, p auth.Principal, oldPw, newPw string) error {
	if err := validPassword(newPw); err != nil {
		return err
	}
	u, err := s.Me(ctx, p)
	if err != nil {
		return err
	}
	if err := s.checkOwnPassword(ctx, u, oldPw); err != nil {
		return err
	}
	if err := s.setPassword(ctx, u.UserID, newPw); err != nil {
		return err
	}
	// Whoever else was signed in with the old password is signed out; this device stays.
	return s.revokeAll(ctx, u.UserID, p.Family)
}

func (s *Service) setPassword(ctx context.Context, userID, pw string) error {
	hash, err := secret.HashPassword(pw)
	if err != nil {
		return err
	}
	return s.S.SetUserPassword(ctx, userID, hash)
}

// ChangePhone moves the login to a new, unused phone number.
func (s *Service) ChangePhone(ctx context.Context, p auth.Principal, newPhone, password string) error {
	if err := validPhone(newPhone); err != nil {
		return err
	}
	u, err := s.Me(ctx, p)
	if err != nil {
		return err
	}
	if u.Phone == newPhone {
		return ErrSamePhone
	}
	if err := s.checkOwnPassword(ctx, u, password); err != nil {
		return err
	}
	if u.Phone == newPhone {
		return ErrSamePhone
	}
	newDigest := s.Users.PhoneDigest(newPhone)
	putNew, err := store.PutItem(marker{store.PhoneKey(newDigest), u.UserID}, store.IfAbsent, nil)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		putNew,
		store.DeleteItem(store.PhoneKey(u.PhoneDigest), "userId = :u", store.Values{":u": u.UserID}.AV()),
		store.ChangeUserPhone(u.Key, u.PhoneDigest, newDigest, s.Digest.Seal(piiPhone, newPhone)),
	}
	err = s.S.Transact(ctx, items, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		if tc.Failed(0) {
			return ErrPhoneTaken
		}
		return fault.E(fault.Conflict, "CONCURRENT_CHANGE", "账号信息已被修改，请刷新后重试").Wrap(err)
	}
	return err
}

// Consent records that the caller accepted version of their current school's user agreement and
// privacy policy; it must be the current one. The acceptance is kept per school (切换学校 asks again
// for the new school's).
func (s *Service) Consent(ctx context.Context, p auth.Principal, version *int64) error {
	if version == nil {
		return fault.Field("MISSING_FIELD", "缺少字段 agreementVersion")
	}
	u, err := s.Me(ctx, p)
	if err != nil {
		return err
	}
	current, err := s.Schools.AgreementVersion(ctx, u.SchoolID)
	if err != nil {
		return err
	}
	if *version != current {
		return ErrAgreementOutdated
	}
	// The map exists on every account registered since acceptances are recorded; an older one gets it.
	err = s.S.SetUserAgreement(ctx, u.Key, u.SchoolID, current)
	if errors.Is(err, store.ErrConditionFailed) {
		err = s.S.InitUserAgreements(ctx, u.Key, u.SchoolID, current)
	}
	if errors.Is(err, store.ErrConditionFailed) {
		return fault.E(fault.Conflict, "CONCURRENT_CHANGE", "账号信息已被修改，请刷新后重试").Wrap(err)
	}
	return err
}

// SwitchSchool changes the school the account works in (切换学校).
func (s *Service) SwitchSchool(ctx context.Context, p auth.Principal, schoolID string) error {
	if _, err := s.Schools.Get(ctx, schoolID); err != nil {
		return err
	}
	return s.S.SetUserSchool(ctx, p.Subject, schoolID)
}

// BindWeChat stores the openid that WeChat Pay needs as the payer.
func (s *Service) BindWeChat(ctx context.Context, p auth.Principal, jsCode string) error {
	if jsCode == "" || len(jsCode) > 128 {
		return ErrBadJSCode
	}
	if s.WeChat == nil {
		return fault.E(fault.Internal, "WECHAT_UNCONFIGURED", "微信登录暂不可用")
	}
	openID, err := s.WeChat.Code2Session(ctx, jsCode)
	if err != nil {
		return err // the caller tells a refused code from an unreachable WeChat
	}
	return s.S.SetUserOpenID(ctx, p.Subject, openID)
}
