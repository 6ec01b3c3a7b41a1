package cards

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/accounts"
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
}

// NewService wires the service.
func NewService(s *store.Store, digest secret.Digester, now func() time.Time) *Service {
	return &Service{S: s, Cards: Repo{s}, Users: accounts.Users{S: s}, Schools: school.Repo{S: s}, Digest: digest, Now: now}
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

// checkPassword verifies a card password; every check counts, and the fifth wrong one in a row locks.
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
	if secret.CheckPassword(c.PasswordHash, norm) {
		if c.FailedPw > 0 {
			return s.S.Update(ctx, c.Key, "SET failedPw = :z", "", nil, store.Values{":z": 0}.AV())
		}
		return nil
	}
	fails := c.FailedPw + 1
	if fails < MaxPasswordFailures {
		err := s.S.Update(ctx, c.Key, "SET failedPw = :f", "failedPw = :o", nil, store.Values{":f": fails, ":o": c.FailedPw}.AV())
		if err != nil && !errors.Is(err, store.ErrConditionFailed) {
			return err
		}
		return ErrBadPassword
	}
	if err := s.setStatus(ctx, c, Locked, "failedPw = :f", store.Values{":f": fails}); err != nil {
		return err
	}
	return ErrLocked
}

// setStatus moves a card to status, keeping the blacklist in step, conditioned on the status it had.
// extraSet adds SET clauses (with their values).
func (s *Service) setStatus(ctx context.Context, c *Card, status, extraSet string, vals store.Values) error {
	now := s.Now()
	wasBlocked := c.Blocked()
	next := *c
	next.Status = status
	isBlocked := next.Blocked()
	set := []string{"#st = :st"}
	if extraSet != "" {
		set = append(set, extraSet)
	}
	if vals == nil {
		vals = store.Values{}
	}
	vals[":st"], vals[":old"], vals[":oblv"] = status, c.Status, c.BLV
	// blv changes with every status change, listed or not, so that a ledger posting that decided the
	// card's arrears listing on the status it read (LedgerHook) fails its blv condition and decides again.
	set = append(set, "blv = :blv")
	vals[":blv"] = c.BLV + 1
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
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	items = append(items, store.UpdateItem(c.Key, expr, "#st = :old AND blv = :oblv", map[string]string{"#st": "status"}, vals.AV()))
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

// Bind binds the card of studentNo (any case, any of the school's prefixes) to the caller.
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
	var st student
	ok, err := s.S.Get(ctx, store.StudentKey(sch.ID, bare), &st)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNoCard
	}
	c, err := s.Cards.Get(ctx, sch.ID, st.CardNo)
	if err != nil {
		return nil, err
	}
	if err := s.checkPassword(ctx, c, pw); err != nil {
		return nil, err
	}
	if c.BoundUser == u.UserID && u.CardFor(sch.ID) == c.CardNo {
		return c, nil
	}
	if c.BoundUser != "" && c.BoundUser != u.UserID {
		return nil, ErrBoundElsewhere
	}
	if cur := u.CardFor(sch.ID); cur != "" && cur != c.CardNo {
		return nil, ErrAlreadyBound
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{
		store.UpdateItem(c.Key, "SET boundUser = :u", "attribute_not_exists(boundUser) OR boundUser = :u", nil,
			store.Values{":u": u.UserID}.AV()),
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
		return store.UpdateItem(u.Key, "SET cards = :m", "attribute_exists(PK)", nil,
			store.Values{":m": map[string]string{school: cardNo}}.AV())
	}
	return store.UpdateItem(u.Key, "SET cards.#s = :c", "attribute_exists(PK)", map[string]string{"#s": school},
		store.Values{":c": cardNo}.AV())
}

// Unbind releases the caller's card (一卡通第三方绑定: 解绑).
func (s *Service) Unbind(ctx context.Context, p auth.Principal) error {
	u, c, err := s.Mine(ctx, p)
	if err != nil {
		return err
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{
		store.UpdateItem(c.Key, "REMOVE boundUser", "boundUser = :u", nil, store.Values{":u": u.UserID}.AV()),
		store.UpdateItem(u.Key, "REMOVE cards.#s", "attribute_exists(PK)", map[string]string{"#s": u.SchoolID}, nil),
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
	return s.S.Update(ctx, c.Key, "SET virtualCard = :t", "", nil, store.Values{":t": true}.AV())
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

// checkID compares an ID number with the card's digest, counting failures (5 → in person only).
func (s *Service) checkID(ctx context.Context, c *Card, id string) error {
	if c.FailedID >= MaxPasswordFailures {
		return ErrTooManyID
	}
	norm, err := NormalID(id)
	if err == nil && s.Digest.Equal(c.IDDigest, "id-number", norm) {
		return nil
	}
	if uerr := s.S.Update(ctx, c.Key, "SET failedId = failedId + :one", "", nil, store.Values{":one": 1}.AV()); uerr != nil {
		return uerr
	}
	if c.FailedID+1 >= MaxPasswordFailures {
		return ErrTooManyID
	}
	return ErrBadID
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
	if err := s.checkID(ctx, c, id); err != nil {
		return err
	}
	return s.setStatus(ctx, c, Active, "failedPw = :z, failedId = :z", store.Values{":z": 0})
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
	return s.S.Update(ctx, c.Key, "SET passwordHash = :h", "", nil, store.Values{":h": hash}.AV())
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
	if phone != u.Phone || sch.Canonical(bare) != c.StudentNo {
		return ErrBadID
	}
	if err := s.checkID(ctx, c, id); err != nil {
		return err
	}
	norm, _ := NormalID(id)
	hash, err := secret.HashPassword(InitialPassword(norm))
	if err != nil {
		return err
	}
	if c.Status == Locked {
		return s.setStatus(ctx, c, Active, "passwordHash = :h, failedPw = :z, failedId = :z", store.Values{":h": hash, ":z": 0})
	}
	return s.S.Update(ctx, c.Key, "SET passwordHash = :h, failedPw = :z, failedId = :z", "", nil, store.Values{":h": hash, ":z": 0}.AV())
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
	err = s.S.Update(ctx, c.Key, "SET perTxnFen = :p, dailyFen = :d", "perTxnFen = :op AND dailyFen = :od", nil,
		store.Values{":p": perTxn, ":d": daily, ":op": c.PerTxnFen, ":od": c.DailyFen}.AV())
	if errors.Is(err, store.ErrConditionFailed) {
		return nil, sch, ErrConcurrentState.Wrap(err)
	}
	if err != nil {
		return nil, sch, err
	}
	c.PerTxnFen, c.DailyFen = perTxn, daily
	return c, sch, nil
}
