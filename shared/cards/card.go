// Package cards is the 一卡通 itself: the roster imported by staff, binding to an account, the card
// password with its lockout, loss reports, limits, the virtual card, replacement, and the blacklist that
// readers keep offline. A card item also holds its wallet's balance; only the ledger changes it.
package cards

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/store"
)

// Card statuses.
const (
	Active    = "active"
	Lost      = "lost"
	Locked    = "locked"
	Cancelled = "cancelled"
)

// MaxPasswordFailures wrong card passwords in a row lock the card.
const MaxPasswordFailures = 5

// Card is a card item.
type Card struct {
	store.Key
	store.InGSI2           // BlockedPK(school), the card number, while blocked (sparse)
	Type         string    `dynamodbav:"type"`
	Account      string    `dynamodbav:"acct"`
	SchoolID     string    `dynamodbav:"schoolId"`
	CardNo       string    `dynamodbav:"cardNo"`
	StudentNo    string    `dynamodbav:"studentNo"` // canonical, CUIK20230001
	HolderName   string    `dynamodbav:"holderName"`
	IDDigest     string    `dynamodbav:"idDigest"`
	PasswordHash string    `dynamodbav:"passwordHash"`
	Status       string    `dynamodbav:"status"`
	Balance      int64     `dynamodbav:"balance"`
	Seq          int64     `dynamodbav:"seq"`
	Arrears      bool      `dynamodbav:"arrears"`
	PerTxnFen    int64     `dynamodbav:"perTxnFen"`
	DailyFen     int64     `dynamodbav:"dailyFen"`
	Virtual      bool      `dynamodbav:"virtualCard"`
	BoundUser    string    `dynamodbav:"boundUser,omitempty"`
	LostAt       time.Time `dynamodbav:"lostAt,omitempty"`
	LockedFrom   string    `dynamodbav:"lockedFrom,omitempty"` // while locked: the status before the lock (lost or active)
	ReplacedBy   string    `dynamodbav:"replacedBy,omitempty"`
	// Replaces are the cards this one replaced (补卡), oldest first: the cards whose history is the
	// holder's too (HistoryCards). Absent on cards issued by import, and on replacements made before it
	// existed (their old cards' entries stay on those cards, out of the student's list).
	Replaces []string `dynamodbav:"replaces,omitempty"`
	// CutoffAt, on a card cancelled by 补卡, is when it stopped being its holder's: the loss report if
	// it was lost when replaced, else the replacement. A reader record dated before it is the holder's
	// spending and is charged to the card that replaced it; one dated at or after it is a dispute.
	CutoffAt  time.Time `dynamodbav:"cutoffAt,omitempty"`
	BLV       int64     `dynamodbav:"blv"` // number of blacklist changes: orders changes within one microsecond
	CreatedAt time.Time `dynamodbav:"createdAt"`
	// Spending at readers on SpentDay (YYYY-MM-DD, China time), for the daily limit. shared/reader keeps
	// it in the ledger transaction that posts the records.
	SpentDay string `dynamodbav:"spentDay,omitempty"`
	SpentFen int64  `dynamodbav:"spentFen,omitempty"`

	// PwChanged: the holder set a card password of their own. False (or absent) while the password is
	// the initial one: after the roster import, after a reset with the ID number (student or staff),
	// and on cards written before the flag existed (they are asked to change it; docs/data-model.md).
	PwChanged bool `dynamodbav:"pwChanged,omitempty"`
}

// ErrCardPut refuses to marshal a Card for the table: a DynamoDB Put replaces the whole item, so a Put
// of a Card read before a posting would set its wallet (balance, seq) back, or drop it if left out. A
// card item is created with NewItem (an empty wallet, on condition that the item does not exist) and
// changed with update expressions that never name balance or seq; only the ledger writes those.
var ErrCardPut = errors.New("cards: a Card is not written whole (its wallet is the ledger's): create it with NewItem, change it with an update")

// MarshalDynamoDBAttributeValue refuses (ErrCardPut): see NewItem.
func (c Card) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) { return nil, ErrCardPut }

// NewItem is the item of a new card: c with an empty wallet (balance 0, seq 0). Write it only on
// condition that the item does not exist (attribute_not_exists(PK)).
func (c Card) NewItem() attributevalue.Marshaler { return newCard(c) }

type newCard Card

func (n newCard) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	type plain Card // without Card's marshaller
	c := plain(n)
	c.Balance, c.Seq = 0, 0
	return attributevalue.Marshal(c)
}

// SpentOn is what the card spent at readers on day (YYYY-MM-DD, China time), as far as posted.
func (c *Card) SpentOn(day string) int64 {
	if c.SpentDay == day {
		return c.SpentFen
	}
	return 0
}

// AccountID names a card's wallet in the ledger.
func AccountID(school, cardNo string) string { return AccountKind + ":" + school + ":" + cardNo }

// HistoryCards are the card numbers whose entries make up the holder's history: c, then the cards it
// replaced, newest first.
func (c *Card) HistoryCards() []string {
	out := []string{c.CardNo}
	for i := len(c.Replaces) - 1; i >= 0; i-- {
		out = append(out, c.Replaces[i])
	}
	return out
}

// Blocked reports whether readers must refuse the card.
func (c *Card) Blocked() bool { return c.Status != Active || c.Arrears }

// student maps a bare student number to its current card.
type student struct {
	store.Key
	SchoolID  string `dynamodbav:"schoolId"`
	StudentNo string `dynamodbav:"studentNo"`
	CardNo    string `dynamodbav:"cardNo"`
	Name      string `dynamodbav:"name"`
	IDDigest  string `dynamodbav:"idDigest"`
	Class     string `dynamodbav:"class,omitempty"`
	Status    string `dynamodbav:"status,omitempty"` // StudentActive when empty (entries written before it)
	// The staff lookup by name (GSI1: store.StudentNamePK / the student number); entries imported before
	// it existed get it when the roster is imported again.
	store.InGSI1
	// The leavers index (GSI2: LeaversPK), while the student is not active and their card not closed
	// (close.go).
	store.InGSI2
}

func (st *student) status() string {
	if st.Status == "" {
		return StudentActive
	}
	return st.Status
}

// newStudent is the roster entry of a student, indexed by name.
func newStudent(school, bare, canonical, cardNo, name, idDigest string) student {
	return student{Key: store.StudentKey(school, bare), SchoolID: school, StudentNo: canonical, CardNo: cardNo,
		Name: name, IDDigest: idDigest, InGSI1: store.InGSI1{GSI1PK: store.StudentNamePK(school, name), GSI1SK: canonical}}
}

// Errors a student may see.
var (
	ErrNoCard          = fault.E(fault.NotFound, "CARD_NOT_FOUND", "未找到该一卡通")
	ErrStudentInactive = fault.E(fault.Rule, "STUDENT_INACTIVE", "该学号已毕业或离校，不能绑定一卡通；如有疑问请到一卡通服务中心办理")
	ErrNotBound        = fault.E(fault.Rule, "CARD_NOT_BOUND", "请先绑定一卡通")
	ErrBadPassword     = fault.E(fault.Rule, "BAD_CARD_PASSWORD", "一卡通密码错误")
	ErrLocked          = fault.E(fault.Locked, "CARD_LOCKED", "密码错误次数过多，一卡通已锁定，请凭身份证号解锁")
	ErrCancelled       = fault.E(fault.Rule, "CARD_CANCELLED", "该一卡通已注销")
	ErrLost            = fault.E(fault.Rule, "CARD_LOST", "该一卡通已挂失")
	ErrBoundElsewhere  = fault.E(fault.Conflict, "CARD_BOUND_ELSEWHERE", "该一卡通已绑定其他账号，如非本人操作请到图文信息中心办理")
	ErrAlreadyBound    = fault.E(fault.Conflict, "ALREADY_BOUND", "当前账号已绑定一卡通，请先解绑")
	ErrAlreadyLost     = fault.E(fault.Conflict, "ALREADY_LOST", "该一卡通已处于挂失状态")
	ErrNotLost         = fault.E(fault.Conflict, "NOT_LOST", "该一卡通未挂失")
	ErrNotLocked       = fault.E(fault.Conflict, "NOT_LOCKED", "该一卡通未锁定")
	ErrBadID           = fault.E(fault.Rule, "BAD_ID_NUMBER", "身份证号与一卡通信息不符")
	ErrBindFailed      = fault.E(fault.Rule, "BIND_FAILED", "学号或一卡通密码错误")
	ErrBindTooMany     = fault.E(fault.TooMany, "TOO_MANY_ATTEMPTS", "绑定失败次数过多，请 15 分钟后再试")
	ErrBindThrottled   = fault.E(fault.TooMany, "BIND_THROTTLED", "该一卡通绑定尝试过多，已暂停绑定，请稍后再试或到图文信息中心办理")
	ErrTooManyID       = fault.E(fault.TooMany, "TOO_MANY_ATTEMPTS", "身份验证失败次数过多，请携带身份证到图文信息中心办理")
	ErrVirtualOff      = fault.E(fault.Rule, "VIRTUAL_CARD_OFF", "请先开通虚拟卡")
	ErrBadLimits       = fault.Field("BAD_LIMITS", "消费额度须为正整数（分），单笔额度不超过日额度，且不超过学校上限")
	ErrConcurrentState = fault.E(fault.Conflict, "CONCURRENT_CHANGE", "一卡通状态已变化，请刷新后重试")
)

// blacklistChange is one entry of a school's blacklist log: a card became blocked or stopped being blocked.
type blacklistChange struct {
	store.Key
	CardNo  string `dynamodbav:"cardNo"`
	Blocked bool   `dynamodbav:"blocked"`
	Version int64  `dynamodbav:"version"`
	TTL     int64  `dynamodbav:"ttl"`
}

// BlacklistRetention is how long a change stays in the log. A reader that has not synchronised for
// longer than the reader package's FullAfter (7 days) gets the whole list instead of changes, so older
// changes are never read; TTL removes them so the log does not grow forever.
const BlacklistRetention = 30 * 24 * time.Hour

// blacklistItem writes a change to the log. Versions are microseconds since the epoch: no shared counter
// is written, and readers ask for changes since a version with a small overlap (see docs/reader-protocol.md).
func blacklistItem(school, cardNo string, blocked bool, at time.Time, n int64) types.TransactWriteItem {
	v := at.UnixMicro()
	it, _ := store.PutItem(blacklistChange{
		Key:    store.Key{PK: store.BlacklistPK(school), SK: store.BlacklistChangeSK(v, cardNo, n)},
		CardNo: cardNo, Blocked: blocked, Version: v, TTL: store.TTL(at.Add(BlacklistRetention)),
	}, "", nil)
	return it
}

// blockParts returns the update clauses that keep the sparse BLOCKED index in step.
func blockParts(school, cardNo string, blocked bool) (set []string, remove []string, vals map[string]any) {
	if blocked {
		return store.GSI2Parts("b", store.BlockedPK(school), cardNo)
	}
	return store.GSI2Parts("b", "", "")
}

// LedgerHook is the hook of card wallets (account kind "card"). It keeps a card's arrears flag and the
// blacklist in step with its balance, and its reader spending of the day (SpentDay, SpentFen) for the
// daily limit, inside the ledger's own transaction. Every posting to a card is conditioned on the card's
// blv as read (a status change bumps it, setStatus), so a posting decided on a card that was lost,
// replaced or cancelled since it was read fails and is decided again; it never lands on a state it did
// not see.
func LedgerHook(now func() time.Time) ledger.Hook {
	return func(c ledger.Change) ([]types.TransactWriteItem, ledger.UpdateParts) {
		items, parts := listingParts(now, c.Before, c.After, c.State)
		spendParts(&parts, c)
		return items, parts
	}
}

// AccountKind is the ledger's account kind of card wallets.
const AccountKind = "card"

func init() { ledger.Register(AccountKind, LedgerHook) }

// ReaderScope prefixes the idempotency scope of the movements that post reader records
// ("reader:<deviceId>"): their spending counts toward the card's daily limit.
const ReaderScope = "reader:"

// spendParts keeps the card's reader spending on the day of the records this transaction posts (one
// day per transaction: the reader consumer posts a card's records day by day). Records of an earlier
// day than the one kept change nothing: today's total is what limits now.
func spendParts(parts *ledger.UpdateParts, c ledger.Change) {
	day, spent := "", int64(0)
	for _, p := range c.Postings {
		if !strings.HasPrefix(p.Scope, ReaderScope) || p.AmountFen >= 0 {
			continue
		}
		d := chinatime.Day(p.OccurredAt)
		if d > day {
			day, spent = d, 0
		}
		if d == day {
			spent -= p.AmountFen
		}
	}
	if spent == 0 {
		return
	}
	cur := attr(c.State, "spentDay")
	switch {
	case cur > day:
		return
	case cur == day:
		spent += num(c.State, "spentFen")
	}
	if parts.Values == nil {
		parts.Values = map[string]any{}
	}
	parts.Set = append(parts.Set, "spentDay = :rdSpentDay", "spentFen = :rdSpentFen")
	parts.Values[":rdSpentDay"], parts.Values[":rdSpentFen"] = day, spent
}

// listingParts is the arrears flag and the blacklist (LedgerHook).
func listingParts(now func() time.Time, before, after int64, state map[string]types.AttributeValue) ([]types.TransactWriteItem, ledger.UpdateParts) {
	{
		cond, vals := blvCond(state)
		parts := ledger.UpdateParts{Cond: []string{cond}, Values: vals}
		if (before < 0) == (after < 0) {
			return nil, parts
		}
		school, cardNo := attr(state, "schoolId"), attr(state, "cardNo")
		arrears := after < 0
		// Every arrears change bumps blv, as status changes do (setStatus): a loss report or its
		// cancellation racing this posting makes one of the two retry, so the blacklist never keeps a
		// decision taken on a stale status or arrears flag.
		n := num(state, "blv") + 1
		parts.Set = []string{"arrears = :arr", "blv = :blv"}
		parts.Values[":arr"], parts.Values[":blv"] = arrears, n
		if attr(state, "status") != Active {
			return nil, parts // blocked either way: the blacklist does not change
		}
		set, remove, bv := blockParts(school, cardNo, arrears)
		parts.Set = append(parts.Set, set...)
		parts.Remove = append(parts.Remove, remove...)
		for k, v := range bv {
			parts.Values[k] = v
		}
		return []types.TransactWriteItem{blacklistItem(school, cardNo, arrears, now(), n)}, parts
	}
}

// blvCond is the condition that a card's blv is still what state read (absent on a card that never
// changed its listing).
func blvCond(state map[string]types.AttributeValue) (string, map[string]any) {
	if _, ok := state["blv"]; !ok {
		return "attribute_not_exists(blv)", map[string]any{}
	}
	return "blv = :oblv", map[string]any{":oblv": num(state, "blv")}
}

// Unchanged is a transaction item that holds only while the card item is as state read it: the
// same blv (so the same status, listing and arrears flag) and the same seq (no posting since).
func Unchanged(key store.Key, state map[string]types.AttributeValue) types.TransactWriteItem {
	cond, vals := blvCond(state)
	cond += " AND seq = :oseq"
	vals[":oseq"] = num(state, "seq")
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{Key: key.AV(), ConditionExpression: &cond,
		ExpressionAttributeValues: store.Values(vals).AV()}}
}

func num(m map[string]types.AttributeValue, k string) int64 {
	if n, ok := m[k].(*types.AttributeValueMemberN); ok {
		v, _ := strconv.ParseInt(n.Value, 10, 64)
		return v
	}
	return 0
}

func attr(m map[string]types.AttributeValue, k string) string {
	if s, ok := m[k].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// Repo reads cards.
type Repo struct{ S *store.Store }

// Get returns a card or ErrNoCard.
func (r Repo) Get(ctx context.Context, school, cardNo string) (*Card, error) {
	var c Card
	ok, err := r.S.Get(ctx, store.CardKey(school, cardNo), &c)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNoCard
	}
	return &c, nil
}
