package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/attempts"
	"onecard/shared/auth"
	"onecard/shared/fault"
	"onecard/shared/httpapi"
	"onecard/shared/secret"
	"onecard/shared/store"
)

// code is a pending emailed code. Only its keyed digest is stored; DynamoDB's TTL removes it eventually,
// and ExpiresAt is checked here because TTL deletes late (and never in DynamoDB Local).
type code struct {
	store.Key
	Email     string    `dynamodbav:"emailDigest"` // the address's keyed digest
	Digest    string    `dynamodbav:"digest"`
	SentAt    time.Time `dynamodbav:"sentAt"`
	ExpiresAt time.Time `dynamodbav:"expiresAt"`
	Tries     int       `dynamodbav:"tries"`
	TTL       int64     `dynamodbav:"ttl"`
}

const (
	purposeEmail = "email"
	purposeReset = "reset"
)

// The digest binds the code to its user and address, so a code cannot be replayed for another.
func (s *Service) codeDigest(purpose, userID, email, c string) string {
	return s.Digest.Digest("code:"+purpose, userID+"|"+email+"|"+c)
}

// issueCode stores a new code unless one was sent within the cooldown, and mails it.
func (s *Service) issueCode(ctx context.Context, purpose, userID, email, subject, text string) error {
	now := s.Now()
	c, err := secret.Code(6)
	if err != nil {
		return err
	}
	// The daily cap is reserved first; a code that does not leave (cooldown, mail failure) gives its
	// slot back, so only mailed codes count.
	slot, err := s.Tries.Reserve(ctx, CodeSendRule, purpose+"#"+userID)
	if err != nil {
		return err
	}
	item := code{Key: store.CodeKey(userID, purpose), Email: s.Users.EmailDigest(email), Digest: s.codeDigest(purpose, userID, email, c),
		SentAt: now.UTC(), ExpiresAt: now.Add(CodeTTL).UTC(), TTL: store.TTL(now.Add(CodeTTL + time.Hour))}
	err = s.S.Put(ctx, item, store.IfAbsent+" OR sentAt <= :cut",
		store.Values{":cut": now.Add(-CodeCooldown).UTC()}.AV())
	if errors.Is(err, store.ErrConditionFailed) {
		if err := slot.Succeeded(ctx); err != nil {
			return err
		}
		var prev code
		if _, gerr := s.S.Get(ctx, item.Key, &prev); gerr == nil && !prev.SentAt.IsZero() {
			return ErrCodeCooldown.After(prev.SentAt.Add(CodeCooldown).Sub(now))
		}
		return ErrCodeCooldown.After(CodeCooldown)
	}
	if err != nil {
		return err
	}
	if err := s.Mail.Send(ctx, email, subject, fmt.Sprintf(text, c)); err != nil {
		// Let the user ask again at once rather than wait out a cooldown for a mail that never left.
		_ = s.S.Delete(ctx, item.Key)
		_ = slot.Succeeded(ctx)
		return err
	}
	httpapi.Log(ctx).Info("code sent", "purpose", purpose)
	return nil
}

// useCode checks c against the pending code, counting the try first twice over (five per code, and
// CodeTryRule's daily cap per account) so that no timing of requests gets more guesses, and returns the
// item (the caller deletes it in its own transaction).
func (s *Service) useCode(ctx context.Context, try *attempts.Try, purpose, userID, email, c string) (*code, error) {
	item, err := s.compareCode(ctx, purpose, userID, email, c)
	if err != nil {
		if fault.Is(err, ErrBadCode.Code) {
			return nil, try.Failed(ErrBadCode)
		}
		return nil, err
	}
	return item, try.Succeeded(ctx)
}

func (s *Service) compareCode(ctx context.Context, purpose, userID, email, c string) (*code, error) {
	if validCode(c) != nil {
		return nil, ErrBadCode
	}
	var item code
	k := store.CodeKey(userID, purpose)
	ok, err := s.S.Get(ctx, k, &item)
	if err != nil {
		return nil, err
	}
	if !ok || !s.Now().Before(item.ExpiresAt) || item.Tries >= MaxCodeTries {
		return nil, ErrBadCode
	}
	err = s.S.CountCodeTry(ctx, k, item.Tries, item.Digest)
	if errors.Is(err, store.ErrConditionFailed) {
		return nil, ErrBadCode // a concurrent try or a new code: count this as a miss
	}
	if err != nil {
		return nil, err
	}
	if item.Email != s.Users.EmailDigest(email) || !s.Digest.Equal(item.Digest, "code:"+purpose, userID+"|"+email+"|"+c) {
		return nil, ErrBadCode
	}
	item.Tries++
	return &item, nil
}

// consumeCode is the transaction item that deletes a code exactly once.
func consumeCode(item *code) types.TransactWriteItem {
	return store.DeleteItem(item.Key, "digest = :d AND tries = :t", store.Values{":d": item.Digest, ":t": item.Tries}.AV())
}

// SendEmailCode mails a code that proves the caller owns email.
func (s *Service) SendEmailCode(ctx context.Context, p auth.Principal, email string) error {
	e, err := normalEmail(email)
	if err != nil {
		return err
	}
	var m marker
	ok, err := s.S.Get(ctx, store.EmailKey(s.Users.EmailDigest(e)), &m)
	if err != nil {
		return err
	}
	if ok && m.UserID != p.Subject {
		return ErrEmailTaken
	}
	return s.issueCode(ctx, purposeEmail, p.Subject, e, "【校园一信通】邮箱绑定验证码",
		"您正在绑定邮箱，验证码：%s，10 分钟内有效。如非本人操作，请忽略本邮件。")
}

// BindEmail binds email once the code proves it and the login password proves the account holder (the
// email is where password resets go, so a borrowed session must not be able to move it); the address is
// unique across accounts.
func (s *Service) BindEmail(ctx context.Context, p auth.Principal, email, c, password string) error {
	e, err := normalEmail(email)
	if err != nil {
		return err
	}
	u, err := s.Me(ctx, p)
	if err != nil {
		return err
	}
	if err := s.checkOwnPassword(ctx, u, password); err != nil {
		return err
	}
	try, err := s.Tries.Reserve(ctx, CodeTryRule, purposeEmail+"#"+u.UserID)
	if err != nil {
		return err
	}
	item, err := s.useCode(ctx, try, purposeEmail, u.UserID, e, c)
	if err != nil {
		return err
	}
	digest := s.Users.EmailDigest(e)
	putMarker, err := store.PutItem(marker{store.EmailKey(digest), u.UserID}, store.IfAbsent+" OR userId = :u",
		store.Values{":u": u.UserID}.AV())
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{
		putMarker,
		consumeCode(item),
		store.UserEmailItem(u.Key, digest, s.Digest.Seal(piiEmail, e)),
	}
	if u.EmailDigest != "" && u.EmailDigest != digest {
		items = append(items, store.DeleteItem(store.EmailKey(u.EmailDigest), "userId = :u", store.Values{":u": u.UserID}.AV()))
	}
	err = s.S.Transact(ctx, items, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		if tc.Failed(0) {
			return ErrEmailTaken
		}
		return ErrBadCode.Wrap(err)
	}
	return err
}

// SendResetCode mails a reset code to the account's email. Whether the phone exists, has an email or is
// in its cooldown, the caller sees the same answer.
func (s *Service) SendResetCode(ctx context.Context, phone string) error {
	if err := validPhone(phone); err != nil {
		return err
	}
	u, ok, err := s.Users.ByPhone(ctx, phone)
	if err != nil || !ok || u.Email == "" {
		return err
	}
	err = s.issueCode(ctx, purposeReset, u.UserID, u.Email, "【校园一信通】重置登录密码验证码",
		"您正在重置一信通登录密码，验证码：%s，10 分钟内有效。如非本人操作，请忽略本邮件并尽快修改密码。")
	if fault.Is(err, ErrCodeCooldown.Code) || fault.Is(err, ErrCodeDailyCap.Code) {
		return nil // the same 202 as for an unknown phone
	}
	return err
}

// ResetPassword sets a new password with an emailed code and signs out every session.
func (s *Service) ResetPassword(ctx context.Context, phone, c, newPw string) error {
	if err := validPhone(phone); err != nil {
		return err
	}
	if err := validPassword(newPw); err != nil {
		return err
	}
	// Counted per phone, known or not, so that the daily cap does not tell which phones have accounts.
	phoneDigest := s.Users.PhoneDigest(phone)
	try, err := s.Tries.Reserve(ctx, CodeTryRule, purposeReset+"#"+phoneDigest)
	if err != nil {
		return err
	}
	u, ok, err := s.Users.ByPhone(ctx, phone)
	if err != nil {
		return err
	}
	if !ok || u.Email == "" {
		return try.Failed(ErrBadCode)
	}
	item, err := s.useCode(ctx, try, purposeReset, u.UserID, u.Email, c)
	if err != nil {
		return err
	}
	hash, err := secret.HashPassword(newPw)
	if err != nil {
		return err
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{
		consumeCode(item),
		store.UserPasswordItem(u.Key, hash),
		// The holder proved the account by email: a login lock from guesses no longer applies.
		store.DeleteItem(store.AttemptKey(LoginRule.Name, phoneDigest), "", nil),
	}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return ErrBadCode.Wrap(err)
	}
	if err != nil {
		return err
	}
	return s.revokeAll(ctx, u.UserID, "")
}
