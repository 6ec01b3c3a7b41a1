// Package corrections is the finance office's manual adjustment (调账) of a card or a dorm account:
// proposed by one staff member with a reason, approved or rejected by another (two-person rule: the
// proposer cannot decide), and above the school's correctionLeadFen approved only by a finance lead
// (role finance-lead). Nothing moves until approval. The approval posts the movement against the
// clearing account ext:correction, with the correction's status change and its audit record in the same
// transaction; the movement is idempotent on the correction, so approving twice moves once.
package corrections

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/dorm"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/plaintext"
	"onecard/shared/school"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// ClearingAccount is the other side of every correction.
const ClearingAccount = "ext:correction"

// Statuses.
const (
	Pending  = "pending"
	Approved = "approved"
	Rejected = "rejected"
)

// Targets.
const (
	TargetCard = "card"
	TargetDorm = "dorm"
)

// Correction is one proposed adjustment, as stored and answered.
type Correction struct {
	store.Key    `json:"-"`
	ID           string     `dynamodbav:"id" json:"id"`
	SchoolID     string     `dynamodbav:"schoolId" json:"-"`
	Target       string     `dynamodbav:"target" json:"target"`
	CardNo       string     `dynamodbav:"cardNo,omitempty" json:"cardNo,omitempty"`
	RoomID       string     `dynamodbav:"roomId,omitempty" json:"roomId,omitempty"`
	AccountKind  string     `dynamodbav:"accountKind,omitempty" json:"accountKind,omitempty"`
	Account      string     `dynamodbav:"account" json:"account"`
	AmountFen    int64      `dynamodbav:"amountFen" json:"amountFen"`
	Reason       string     `dynamodbav:"reason" json:"reason"`
	Status       string     `dynamodbav:"status" json:"status"`
	ProposedBy   string     `dynamodbav:"proposedBy" json:"proposedBy"`
	ProposedAt   time.Time  `dynamodbav:"proposedAt" json:"proposedAt"`
	DecidedBy    string     `dynamodbav:"decidedBy,omitempty" json:"decidedBy,omitempty"`
	DecidedAt    *time.Time `dynamodbav:"decidedAt,omitempty" json:"decidedAt,omitempty"`
	RejectReason string     `dynamodbav:"rejectReason,omitempty" json:"rejectReason,omitempty"`
	TxnID        string     `dynamodbav:"txnId,omitempty" json:"txnId,omitempty"`
	Hash         string     `dynamodbav:"hash" json:"-"` // of the proposal, for Idempotency-Key replays
	Type         string     `dynamodbav:"type" json:"-"` // "correction"
}

// Proposal is the body of POST /v1/admin/corrections.
type Proposal struct {
	Target      string `json:"target"`
	CardNo      string `json:"cardNo"`
	RoomID      string `json:"roomId"`
	AccountKind string `json:"accountKind"`
	AmountFen   int64  `json:"amountFen"`
	Reason      string `json:"reason"`
}

// Errors.
var (
	ErrBadTarget  = fault.Field("BAD_TARGET", "target 须为 card（填 cardNo）或 dorm（填 roomId 与 accountKind）")
	ErrBadAmount  = fault.Field("BAD_AMOUNT", "调账金额须为非零整数（分），正数调增、负数调减，绝对值不超过 10000000")
	ErrBadReason  = fault.Field("BAD_REASON", "调账原因须为 2–200 个字符的纯文本")
	ErrNoAccount  = fault.E(fault.NotFound, "ACCOUNT_NOT_FOUND", "账户不存在")
	ErrNotFound   = fault.E(fault.NotFound, "CORRECTION_NOT_FOUND", "调账申请不存在")
	ErrSamePerson = fault.E(fault.Forbidden, "SAME_PERSON", "调账须由另一位工作人员审批：提出人不能审批或驳回自己的申请")
	ErrNeedsLead  = fault.E(fault.Forbidden, "LEAD_REQUIRED", "该笔调账金额超过学校设定的额度，须由财务负责人审批")
	ErrDecided    = fault.E(fault.Conflict, "CORRECTION_DECIDED", "该调账申请已被处理")
	ErrBadStatus  = fault.Field("BAD_STATUS", "status 须为 pending、approved 或 rejected")
	errBadKey     = fault.ErrBadIdemKey
)

var reasonRule = plaintext.Rule{Max: 200}

var idemKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Service proposes, decides and lists corrections.
type Service struct {
	S      *store.Store
	Now    func() time.Time
	Ledger *ledger.Ledger
}

// New builds the service on s.
func New(s *store.Store, now func() time.Time) *Service {
	return &Service{S: s, Now: now, Ledger: ledger.New(s, now)}
}

// account checks the proposal's target and names its ledger account and balance item.
func (s *Service) account(ctx context.Context, school string, in *Proposal) (string, store.Key, error) {
	var acct string
	var item store.Key
	switch in.Target {
	case TargetCard:
		if in.CardNo == "" || len(in.CardNo) > 32 || in.RoomID != "" || in.AccountKind != "" {
			return "", item, ErrBadTarget
		}
		acct, item = cards.AccountID(school, in.CardNo), store.CardKey(school, in.CardNo)
	case TargetDorm:
		if in.RoomID == "" || len(in.RoomID) > 32 || in.CardNo != "" ||
			(in.AccountKind != dorm.ElecWater && in.AccountKind != dorm.Elec && in.AccountKind != dorm.Water) {
			return "", item, ErrBadTarget
		}
		acct, item = dorm.AccountID(school, in.RoomID, in.AccountKind), store.AccountKey(school, in.RoomID, in.AccountKind)
	default:
		return "", item, ErrBadTarget
	}
	var b ledger.Balance
	ok, err := s.S.Get(ctx, item, &b)
	if err != nil {
		return "", item, err
	}
	if !ok || b.Account != acct {
		return "", item, ErrNoAccount
	}
	return acct, item, nil
}

// Propose records a pending correction with its audit record; nothing moves. With an Idempotency-Key
// the same proposal again answers the first (created false); the same key with another proposal is
// IDEMPOTENCY_KEY_REUSED.
func (s *Service) Propose(ctx context.Context, p auth.Principal, in Proposal, idemKey string) (*Correction, bool, error) {
	if idemKey != "" && !idemKeyRE.MatchString(idemKey) {
		return nil, false, errBadKey
	}
	if in.AmountFen == 0 || in.AmountFen > ledger.MaxAmountFen || in.AmountFen < -ledger.MaxAmountFen {
		return nil, false, ErrBadAmount
	}
	reason, bad := reasonRule.Check(in.Reason)
	if bad != plaintext.OK || len([]rune(reason)) < 2 {
		return nil, false, ErrBadReason
	}
	in.Reason = reason
	acct, _, err := s.account(ctx, p.School, &in)
	if err != nil {
		return nil, false, err
	}
	h := sha256.Sum256([]byte(in.Target + "\x00" + in.CardNo + "\x00" + in.RoomID + "\x00" + in.AccountKind + "\x00" +
		reason + "\x00" + strconv.FormatInt(in.AmountFen, 10)))
	hash := hex.EncodeToString(h[:])
	var id string
	if idemKey != "" {
		k := sha256.Sum256([]byte(p.School + "\x00" + p.Subject + "\x00" + idemKey))
		id = "c" + hex.EncodeToString(k[:8])
	} else {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = "c" + hex.EncodeToString(b)
	}
	now := s.Now().UTC()
	c := Correction{Key: store.CorrectionKey(p.School, id), ID: id, SchoolID: p.School, Target: in.Target, CardNo: in.CardNo,
		RoomID: in.RoomID, AccountKind: in.AccountKind, Account: acct, AmountFen: in.AmountFen, Reason: reason, Status: Pending,
		ProposedBy: staff.Actor(p).ID, ProposedAt: now, Hash: hash, Type: "correction"}
	put, err := store.PutItem(c, store.IfAbsent, nil)
	if err != nil {
		return nil, false, err
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{put, staff.AuditItem(staff.Actor(p), "correction.propose", "correction:"+id,
		map[string]any{"account": acct, "amountFen": in.AmountFen, "reason": reason}, now)}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(0) {
		cur, gerr := s.Get(ctx, p.School, id)
		if gerr != nil {
			return nil, false, gerr
		}
		if cur.Hash != hash {
			return nil, false, fault.ErrIdemReused
		}
		return cur, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return &c, true, nil
}

// Get returns a correction of school.
func (s *Service) Get(ctx context.Context, school, id string) (*Correction, error) {
	if id == "" || len(id) > 40 {
		return nil, ErrNotFound
	}
	var c Correction
	ok, err := s.S.Get(ctx, store.CorrectionKey(school, id), &c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return &c, nil
}

// List returns the school's corrections with status (all when empty), oldest first.
func (s *Service) List(ctx context.Context, school, status string) ([]Correction, error) {
	if status != "" && status != Pending && status != Approved && status != Rejected {
		return nil, ErrBadStatus
	}
	q := store.Query{PK: store.CorrectionsPK(school)}
	if status != "" {
		q.Equal = map[string]any{"status": status}
	}
	return store.All[Correction](ctx, s.S, q)
}

// decidable reads a correction and checks that p may decide it: not the proposer. done is true when
// it is already in the state asked for (answer it as is).
func (s *Service) decidable(ctx context.Context, p auth.Principal, id, want string) (*Correction, bool, error) {
	c, err := s.Get(ctx, p.School, id)
	if err != nil {
		return nil, false, err
	}
	if c.ProposedBy == staff.Actor(p).ID {
		return nil, false, ErrSamePerson
	}
	switch c.Status {
	case want:
		return c, true, nil
	case Pending:
		return c, false, nil
	}
	return nil, false, ErrDecided
}

// LeadFen is the school's correctionLeadFen: a correction of more than it (either way) needs a finance lead.
func (s *Service) LeadFen(ctx context.Context, schoolID string) (int64, error) {
	sch, err := school.Repo{S: s.S}.Get(ctx, schoolID)
	if err != nil {
		return 0, err
	}
	return sch.CorrectionLeadFen, nil
}

// Approve posts a pending correction: the account moves by its amount against ext:correction, and the
// correction becomes approved, with the audit record, in that one transaction. The proposer cannot
// approve (SAME_PERSON); above the school's correctionLeadFen only a finance lead can (LEAD_REQUIRED).
// Approving an approved correction answers it and moves nothing; a rejected one is CORRECTION_DECIDED.
func (s *Service) Approve(ctx context.Context, p auth.Principal, id string) (*Correction, error) {
	c, done, err := s.decidable(ctx, p, id, Approved)
	if err != nil || done {
		return c, err
	}
	sch, err := school.Repo{S: s.S}.Get(ctx, p.School)
	if err != nil {
		return nil, err
	}
	if abs(c.AmountFen) > sch.CorrectionLeadFen && !p.HasRole(auth.RoleFinanceLead) {
		return nil, ErrNeedsLead
	}
	var item store.Key
	if c.Target == TargetCard {
		item = store.CardKey(p.School, c.CardNo)
	} else {
		item = store.AccountKey(p.School, c.RoomID, c.AccountKind)
	}
	now := s.Now().UTC()
	who := staff.Actor(p)
	mv := ledger.Movement{Scope: "correction", Key: p.School + ":" + c.ID,
		Postings: ledger.External(ledger.Posting{Account: c.Account, Item: item, AmountFen: c.AmountFen, Kind: ledger.KindAdjustment,
			Counterparty: ClearingAccount, Merchant: "调账", OccurredAt: now}),
		// Whoever approves, it is the same movement: its hash names the correction, not the approver.
		Input: map[string]any{"correction": c.ID, "account": c.Account, "amountFen": c.AmountFen}}
	mv.Extra = []types.TransactWriteItem{
		store.ApproveCorrectionItem(c.Key, Approved, Pending, who.ID, now, ledger.TxnID(mv.Scope, mv.Key)),
		staff.AuditItem(who, "correction.approve", "correction:"+c.ID,
			map[string]any{"account": c.Account, "amountFen": c.AmountFen, "proposedBy": c.ProposedBy}, now),
	}
	one := *s.Ledger
	one.MaxAttempts = 5
	_, err = one.Post(ctx, mv)
	if err != nil && !errors.Is(err, ledger.ErrBusy) {
		return nil, err
	}
	// Posted, replayed, or lost to another decision: the correction as it stands says which.
	cur, gerr := s.Get(ctx, p.School, id)
	if gerr != nil {
		return nil, gerr
	}
	switch {
	case cur.Status == Approved:
		return cur, nil
	case cur.Status == Rejected:
		return nil, ErrDecided
	case err != nil:
		return nil, err
	}
	return nil, ledger.ErrBusy
}

// Reject closes a pending correction without moving anything, with the audit record. Rejecting a
// rejected one answers it; an approved one is CORRECTION_DECIDED.
func (s *Service) Reject(ctx context.Context, p auth.Principal, id, reason string) (*Correction, error) {
	reason, bad := reasonRule.Check(reason)
	if bad != plaintext.OK || len([]rune(reason)) < 2 {
		return nil, ErrBadReason
	}
	c, done, err := s.decidable(ctx, p, id, Rejected)
	if err != nil || done {
		return c, err
	}
	now := s.Now().UTC()
	who := staff.Actor(p)
	err = s.S.Transact(ctx, []types.TransactWriteItem{
		store.RejectCorrectionItem(c.Key, Rejected, Pending, who.ID, now, reason),
		staff.AuditItem(who, "correction.reject", "correction:"+c.ID, map[string]any{"reason": reason}, now),
	}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		cur, gerr := s.Get(ctx, p.School, id)
		if gerr != nil {
			return nil, gerr
		}
		if cur.Status == Rejected {
			return cur, nil
		}
		return nil, ErrDecided
	}
	if err != nil {
		return nil, err
	}
	c.Status, c.DecidedBy, c.DecidedAt, c.RejectReason = Rejected, who.ID, &now, reason
	return c, nil
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
