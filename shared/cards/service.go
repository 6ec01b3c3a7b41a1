package cards

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/accounts"
	"onecard/shared/attempts"
	"onecard/shared/auth"
	"onecard/shared/fault"
	"onecard/shared/school"
	"onecard/shared/secret"
	"onecard/shared/store"
)

// Service implements the card routes of a student.
type Service struct {
	S       *store.Store
	Cards   Repo
	Users   accounts.Users
	Schools school.Repo
	Digest  secret.Digester
	Now     func() time.Time
	Tries   attempts.Counter
}

// NewService wires the service.
func NewService(s *store.Store, digest secret.Digester, now func() time.Time) *Service {
	return &Service{S: s, Cards: Repo{s}, Users: accounts.Users{S: s, PII: digest}, Schools: school.Repo{S: s}, Digest: digest, Now: now,
		Tries: attempts.Counter{S: s, Now: now}}
}

// IDDigest is the keyed digest under which an ID number is stored.
func (s *Service) IDDigest(id string) string { return s.Digest.Digest("id-number", id) }

func (s *Service) user(ctx context.Context, p auth.Principal) (*accounts.User, error) {
	u, ok, err := s.Users.Get(ctx, p.Subject)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, accounts.ErrUserGone
	}
	return u, nil
}

// Mine returns the card bound to the caller in their current school.
func (s *Service) Mine(ctx context.Context, p auth.Principal) (*accounts.User, *Card, error) {
	u, err := s.user(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	no := u.CardFor(u.SchoolID)
	if no == "" {
		return u, nil, ErrNotBound
	}
	c, err := s.Cards.Get(ctx, u.SchoolID, no)
	if err != nil {
		return u, nil, err
	}
	if c.BoundUser != u.UserID {
		return u, nil, ErrNotBound
	}
	return u, c, nil
}

// The limits on checks of a card's secrets (docs/security.md). Each try is reserved before the
// comparison (shared/attempts), so no burst gets more comparisons than Max.
var (
	// CardPasswordRule: the owner's wrong card passwords; the try that exhausts it locks the card
	// (readers refuse it until an ID-number unlock or the card center lifts it).
	CardPasswordRule = attempts.Rule{Name: "card-password", Max: MaxPasswordFailures, Window: 24 * time.Hour, Refusal: ErrLocked}
	// CardIDRule: wrong ID numbers given to unlock or reset; once exhausted only the card center helps.
	CardIDRule = attempts.Rule{Name: "card-id", Max: MaxPasswordFailures, Window: 365 * 24 * time.Hour, Refusal: ErrTooManyID}
	// BindAccountRule: bind attempts of one account that did not bind, whatever card they named.
	BindAccountRule = attempts.Rule{Name: "bind-account", Max: 5, Window: 15 * time.Minute, Refusal: ErrBindTooMany}
	// BindCardRule: wrong passwords given to bind one card, from any account. It throttles binding that
	// card only: the card keeps paying and stays off the blacklist.
	BindCardRule = attempts.Rule{Name: "bind-card", Max: 10, Window: time.Hour, Refusal: ErrBindThrottled}
)

func cardSubject(c *Card) string { return c.SchoolID + "#" + c.CardNo }

// checkPassword verifies the owner's card password under CardPasswordRule; the try that exhausts the
// rule locks the card.
func (s *Service) checkPassword(ctx context.Context, c *Card, pw string) error {
	switch c.Status {
	case Cancelled:
		return ErrCancelled
	case Locked:
		return ErrLocked
	}
	norm, err := validCardPassword(pw)
	if err != nil {
		return err
	}
	try, err := s.Tries.Reserve(ctx, CardPasswordRule, cardSubject(c))
	if fault.Is(err, ErrLocked.Code) {
		// Tries are spent but the card is not locked yet (the locking request is still on its way, or
		// failed): lock it here, so the card never stays open without tries.
		return s.lock(ctx, c)
	}
	if err != nil {
		return err
	}
	if secret.CheckPassword(c.PasswordHash, norm) {
		return try.Succeeded(ctx)
	}
	if try.Exhausted() {
		return s.lock(ctx, c)
	}
	return ErrBadPassword.Left(try.Left())
}

// lock locks c after its password tries ran out and answers CARD_LOCKED.
func (s *Service) lock(ctx context.Context, c *Card) error {
	for range 3 {
		if c.Status != Active && c.Status != Lost {
			return ErrLocked
		}
		// A lost card stays lost under the lock: unlocking gives back the status it had (unlockTo).
		err := s.setStatus(ctx, c, Locked, "lockedFrom = :lf", store.Values{":lf": c.Status})
		if err == nil || !fault.Is(err, ErrConcurrentState.Code) {
			if err != nil {
				return err
			}
			return ErrLocked
		}
		fresh, gerr := s.Cards.Get(ctx, c.SchoolID, c.CardNo)
		if gerr != nil {
			return gerr
		}
		*c = *fresh
	}
	return ErrLocked
}

// clearTries forgets the password and ID tries of c (the holder proved who they are); done before the
// card is unlocked, so that an unlocked card never meets spent tries.
func (s *Service) clearTries(ctx context.Context, c *Card) error {
	for _, rule := range []string{CardPasswordRule.Name, CardIDRule.Name} {
		if err := s.S.Delete(ctx, store.AttemptKey(rule, cardSubject(c))); err != nil {
			return err
		}
	}
	return nil
}

// setStatus moves a card to status, keeping the blacklist in step, conditioned on the status it had.
// extraSet adds SET clauses (with their values).
func (s *Service) setStatus(ctx context.Context, c *Card, status, extraSet string, vals store.Values) error {
	now := s.Now()
	wasBlocked := c.Blocked()
	next := *c
	next.Status = status
	isBlocked := next.Blocked()
	var set []string
	if extraSet != "" {
		set = append(set, extraSet)
	}
	if vals == nil {
		vals = store.Values{}
	}
	// blv changes with every status change, listed or not (CardStatusItem), so that a ledger posting that
	// decided the card's arrears listing on the status it read (LedgerHook) fails its blv condition and
	// decides again.
	var remove []string
	var items []types.TransactWriteItem
	if wasBlocked != isBlocked {
		bs, br, bv := blockParts(c.SchoolID, c.CardNo, isBlocked)
		set, remove = append(set, bs...), br
		for k, v := range bv {
			vals[k] = v
		}
		items = append(items, blacklistItem(c.SchoolID, c.CardNo, isBlocked, now, c.BLV+1))
	}
	items = append(items, store.CardStatusItem(c.Key, status, c.Status, c.BLV, set, remove, vals))
	err := s.S.Transact(ctx, items, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return ErrConcurrentState.Wrap(err)
	}
	if err == nil {
		c.Status, c.BLV = status, c.BLV+1
	}
	return err
}

// Bind binds the card of studentNo (any case, any of the school's prefixes) to the caller. A stranger's
// tries count against their account (BindAccountRule) and the card's binding channel (BindCardRule),
// never against the card itself: only its bound owner's wrong passwords lock a card. An unknown student
// number and a wrong password answer alike; a card bound to another account is refused without a
// comparison, whatever password was sent.
func (s *Service) Bind(ctx context.Context, p auth.Principal, studentNo, pw string) (*Card, error) {
	u, err := s.user(ctx, p)
	if err != nil {
		return nil, err
	}
	sch, err := s.Schools.Get(ctx, u.SchoolID)
	if err != nil {
		return nil, err
	}
	bare, err := sch.StudentNumber(studentNo)
	if err != nil {
		return nil, err
	}
	norm, err := validCardPassword(pw)
	if err != nil {
		return nil, err
	}
	if cur := u.CardFor(sch.ID); cur != "" {
		if mine, err := s.Cards.Get(ctx, sch.ID, cur); err == nil && mine.StudentNo == sch.Canonical(bare) && mine.BoundUser == u.UserID {
			// The owner binding again: their own card password, with its lock.
			if err := s.checkPassword(ctx, mine, pw); err != nil {
				return nil, err
			}
			return mine, nil
		}
		return nil, ErrAlreadyBound
	}
	acct, err := s.Tries.Reserve(ctx, BindAccountRule, u.UserID)
	if err != nil {
		return nil, err
	}
	var st student
	ok, err := s.S.Get(ctx, store.StudentKey(sch.ID, bare), &st)
	if err != nil {
		return nil, err
	}
	if !ok {
		secret.BurnPasswordCheck(norm)
		return nil, acct.Failed(ErrBindFailed)
	}
	c, err := s.Cards.Get(ctx, sch.ID, st.CardNo)
	if err != nil {
		return nil, err
	}
	if c.BoundUser != "" && c.BoundUser != u.UserID {
		return nil, ErrBoundElsewhere
	}
	switch c.Status {
	case Cancelled:
		return nil, ErrCancelled
	case Locked:
		return nil, ErrLocked
	}
	channel, err := s.Tries.Reserve(ctx, BindCardRule, cardSubject(c))
	if err != nil {
		return nil, err
	}
	if !secret.CheckPassword(c.PasswordHash, norm) {
		if channel.Exhausted() {
			return nil, ErrBindThrottled.After(channel.RetryAfter())
		}
		return nil, acct.Failed(ErrBindFailed)
	}
	if err := errors.Join(acct.Succeeded(ctx), channel.Succeeded(ctx)); err != nil {
		return nil, err
	}
	// Said only to whoever knows the card password, so that it tells a stranger nothing.
	if st.status() != StudentActive {
		return nil, ErrStudentInactive
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{
		store.BindCardItem(c.Key, u.UserID),
		bindUser(u, sch.ID, c.CardNo),
	}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		if tc.Failed(0) {
			return nil, ErrBoundElsewhere
		}
		return nil, ErrConcurrentState.Wrap(err)
	}
	if err != nil {
		return nil, err
	}
	c.BoundUser = u.UserID
	return c, nil
}

// bindUser records cardNo as u's card in school.
func bindUser(u *accounts.User, school, cardNo string) types.TransactWriteItem {
	if len(u.Cards) == 0 {
		return store.UserCardsItem(u.Key, school, cardNo)
	}
	return store.UserCardItem(u.Key, school, cardNo)
}

// Unbind releases the caller's card (一卡通第三方绑定: 解绑).
func (s *Service) Unbind(ctx context.Context, p auth.Principal) error {
	u, c, err := s.Mine(ctx, p)
	if err != nil {
		return err
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{
		store.UnbindCardItem(c.Key, u.UserID),
		store.UnbindUserCardItem(u.Key, u.SchoolID),
	}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return ErrConcurrentState.Wrap(err)
	}
	return err
}

// OpenVirtual turns on the virtual card (the user agreed to its terms).
func (s *Service) OpenVirtual(ctx context.Context, p auth.Principal) error {
	_, c, err := s.Mine(ctx, p)
	if err != nil {
		return err
	}
	if c.Status == Cancelled {
		return ErrCancelled
	}
	return s.S.OpenVirtualCard(ctx, c.Key)
}

// CloseVirtual turns the virtual card off: no payment code is issued until it is opened again. Codes
// issued before stay valid until they expire (at most a minute): readers check them offline.
func (s *Service) CloseVirtual(ctx context.Context, p auth.Principal) error {
	_, c, err := s.Mine(ctx, p)
	if err != nil {
		return err
	}
	return s.S.CloseVirtualCard(ctx, c.Key)
}

// ReportLoss blocks the card, physical and virtual alike (挂失).
func (s *Service) ReportLoss(ctx context.Context, p auth.Principal, pw string) error {
	_, c, err := s.Mine(ctx, p)
	if err != nil {
		return err
	}
	if err := s.checkPassword(ctx, c, pw); err != nil {
		return err
	}
	if c.Status == Lost {
		return ErrAlreadyLost
	}
	return s.setStatus(ctx, c, Lost, "lostAt = :at", store.Values{":at": s.Now().UTC()})
}

// CancelLoss unblocks a card that was reported lost (解挂).
func (s *Service) CancelLoss(ctx context.Context, p auth.Principal, pw string) error {
	_, c, err := s.Mine(ctx, p)
	if err != nil {
		return err
	}
	if err := s.checkPassword(ctx, c, pw); err != nil {
		return err
	}
	if c.Status != Lost {
		return ErrNotLost
	}
	return s.setStatus(ctx, c, Active, "", nil)
}

// checkID compares an ID number with the card's digest under CardIDRule (five wrong: in person only).
// proven is false when something asked with the ID number (the phone, the student number) did not
// match: the try counts and fails like a wrong ID, so the answer does not tell which part was wrong.
func (s *Service) checkID(ctx context.Context, c *Card, id string, proven bool) error {
	try, err := s.Tries.Reserve(ctx, CardIDRule, cardSubject(c))
	if fault.Is(err, ErrTooManyID.Code) {
		return ErrTooManyID // no Retry-After: only the card center lifts it
	}
	if err != nil {
		return err
	}
	norm, err := NormalID(id)
	if err == nil && s.Digest.Equal(c.IDDigest, "id-number", norm) && proven {
		return try.Succeeded(ctx)
	}
	if try.Exhausted() {
		return ErrTooManyID
	}
	return ErrBadID.Left(try.Left())
}

// Unlock lifts a password lock with the holder's ID number (解锁).
func (s *Service) Unlock(ctx context.Context, p auth.Principal, id string) error {
	_, c, err := s.Mine(ctx, p)
	if err != nil {
		return err
	}
	if c.Status != Locked {
		return ErrNotLocked
	}
	if err := s.checkID(ctx, c, id, true); err != nil {
		return err
	}
	if err := s.clearTries(ctx, c); err != nil {
		return err
	}
	return s.setStatus(ctx, c, unlockTo(c), "lockedFrom = :lf", store.Values{":lf": ""})
}

// unlockTo is the status a locked card goes back to: lost if it was reported lost before the lock (a
// lock never clears a loss report), else active.
func unlockTo(c *Card) string {
	if c.LockedFrom == Lost {
		return Lost
	}
	return Active
}

// ChangePassword changes the card password; the old one is checked like any other.
func (s *Service) ChangePassword(ctx context.Context, p auth.Principal, oldPw, newPw string) error {
	norm, err := validCardPassword(newPw)
	if err != nil {
		return err
	}
	_, c, err := s.Mine(ctx, p)
	if err != nil {
		return err
	}
	if err := s.checkPassword(ctx, c, oldPw); err != nil {
		return err
	}
	hash, err := secret.HashPassword(norm)
	if err != nil {
		return err
	}
	// The old password was right: if it was the initial one and the new one is the same, the password
	// is still the initial one.
	oldNorm, _ := validCardPassword(oldPw)
	changed := c.PwChanged || norm != oldNorm
	return s.S.SetCardPassword(ctx, c.Key, hash, changed)
}

// ResetPassword sets the card password back to the ID's last six, proven by the account's phone, the
// student number and the ID number. It also lifts a password lock.
func (s *Service) ResetPassword(ctx context.Context, p auth.Principal, phone, studentNo, id string) error {
	u, c, err := s.Mine(ctx, p)
	if err != nil {
		return err
	}
	sch, err := s.Schools.Get(ctx, c.SchoolID)
	if err != nil {
		return err
	}
	bare, err := sch.StudentNumber(studentNo)
	if err != nil {
		return err
	}
	if c.Status == Cancelled {
		return ErrCancelled
	}
	if err := s.checkID(ctx, c, id, phone == u.Phone && sch.Canonical(bare) == c.StudentNo); err != nil {
		return err
	}
	norm, _ := NormalID(id)
	return s.resetPassword(ctx, c, norm)
}

// resetPassword sets c's password back to the initial one of the normalised ID number norm, clears its
// failed tries and lifts a password lock: what both 重置密码 paths (the student's and staff's) write.
func (s *Service) resetPassword(ctx context.Context, c *Card, norm string) error {
	hash, err := secret.HashPassword(InitialPassword(norm))
	if err != nil {
		return err
	}
	if err := s.clearTries(ctx, c); err != nil {
		return err
	}
	if c.Status == Locked {
		return s.setStatus(ctx, c, Active, "passwordHash = :h, pwChanged = :f", store.Values{":h": hash, ":f": false})
	}
	return s.S.ResetCardPassword(ctx, c.Key, hash)
}

// ErrLimitsNeedPassword answers a raise of the limits without the card password.
var ErrLimitsNeedPassword = fault.Field("CARD_PASSWORD_REQUIRED", "提高消费额度须输入一卡通密码")

// SetLimits sets the per-transaction and daily limits (消费额度管理) within the school's ceilings, and
// returns the card with the school whose ceilings applied. Raising either limit takes the card password
// (checked, and counted toward the lockout, like every card-password check); lowering them does not, but a
// password that is sent is checked all the same. The write is conditioned on the limits read, so a
// request that was judged a lowering cannot land on limits another request changed meanwhile.
func (s *Service) SetLimits(ctx context.Context, p auth.Principal, perTxn, daily int64, pw string) (*Card, *school.School, error) {
	_, c, err := s.Mine(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	sch, err := s.Schools.Get(ctx, c.SchoolID)
	if err != nil {
		return nil, nil, err
	}
	if perTxn <= 0 || daily <= 0 || perTxn > daily || perTxn > sch.MaxPerTxnFen || daily > sch.MaxDailyFen {
		return nil, sch, ErrBadLimits
	}
	raising := perTxn > c.PerTxnFen || daily > c.DailyFen
	if raising && pw == "" {
		return nil, sch, ErrLimitsNeedPassword
	}
	if pw != "" {
		if err := s.checkPassword(ctx, c, pw); err != nil {
			return nil, sch, err
		}
	}
	err = s.S.SetCardLimits(ctx, c.Key, perTxn, daily, c.PerTxnFen, c.DailyFen)
	if errors.Is(err, store.ErrConditionFailed) {
		return nil, sch, ErrConcurrentState.Wrap(err)
	}
	if err != nil {
		return nil, sch, err
	}
	c.PerTxnFen, c.DailyFen = perTxn, daily
	return c, sch, nil
}
