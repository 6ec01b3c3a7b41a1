// Package ledger is the only way a balance changes. A movement moves integer fen between accounts; each
// posting updates its account's balance item and writes an immutable entry carrying the balance after it,
// and the movement's idempotency marker goes in the same TransactWriteItems. Replaying a movement returns
// the first result; the same key with different inputs is refused.
//
// Accounts that hold balances live on their own items (a card, a dorm account): they carry `balance` and
// `seq` (the number of entries posted), and every update is conditioned on the seq it read, so concurrent
// writers never lose an update.
//
// Every movement sums to zero: two postings, each the other's counterparty. Money that enters or leaves
// the books posts against the clearing account of its rail, an account named `ext:…` (ext:wechat,
// ext:merchant:<deviceId>, ext:utility:<kind>); External builds the pair. A clearing account has no
// balance item: its posting is a write-once clearing entry on the account's partition of the day
// (store.ClearingKey), so no shared item is written per transaction, and its balance is derived by summing
// (ClearingDay, Reconcile) (docs/decisions/0010).
//
// New is the only way to build a ledger that posts. Each account kind (the account id's prefix before
// its first colon: "card", "dorm") has one hook, registered by the package that owns its items
// (Register); a posting to a kind without one is refused, and what a hook returns is checked: it may
// keep its own attributes in step, never write the balance, the sequence or an account's item
// (docs/decisions/0009).
package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/store"
)

// Entry kinds.
const (
	KindRecharge     = "recharge"      // WeChat Pay → card or dorm account
	KindPurchase     = "purchase"      // card → merchant (canteen, shop)
	KindHotWater     = "hot_water"     // card → hot-water merchant
	KindDormTransfer = "dorm_recharge" // card → dorm account
	KindMeterCharge  = "meter_charge"  // dorm account → utility
	KindReplace      = "card_replace"  // old card → new card (补卡)
	KindAdjustment   = "adjustment"    // staff correction, always with an audit entry
)

// MaxAmountFen bounds any single posting (100,000.00 元): larger numbers are input errors.
const MaxAmountFen int64 = 10_000_000

// Posting is one side of a movement on an account with a balance item.
type Posting struct {
	Account      string    // account id, e.g. "card:kmmc:10000001", or a clearing account "ext:wechat"
	Item         store.Key // the item holding balance and seq (none for a clearing account)
	AmountFen    int64     // signed: negative takes money out
	Kind         string
	Counterparty string // "ext:wechat", "ext:merchant:POS-CANTEEN-01", or another account id
	Merchant     string // shown to the student (食堂一号窗口)
	OccurredAt   time.Time
	// AllowNegative lets a debit take the balance below zero (a reader approved it offline). Otherwise a
	// debit beyond the balance is refused with INSUFFICIENT_BALANCE.
	AllowNegative bool
	Status        string // "posted" (default) or "disputed"
	// Usage, on a meter charge, is what was consumed and at what tariff (kept on the entry, shown in the
	// history).
	Usage *Usage
}

// Usage is the consumption a meter charge bills: Quantity in hundredths of Unit ("kWh", "m³"), priced
// at TariffFen fen per unit.
type Usage struct {
	Quantity  int64  `dynamodbav:"qty"`
	Unit      string `dynamodbav:"unit"`
	TariffFen int64  `dynamodbav:"tariffFen"`
}

// Movement is one idempotent money movement: two postings that sum to zero, each naming the other's
// account as its counterparty. Money from or to the outside world posts against a clearing account
// (External).
type Movement struct {
	Scope    string // idempotency scope: "reader:<deviceId>", "wechat", "app:<userId>", "staff"
	Key      string // idempotency key within the scope
	Postings []Posting
	// Extra items written in the same transaction (an order marked paid, a payment code spent).
	Extra []types.TransactWriteItem
	// Input is what the caller considers the request (hashed to detect key reuse); defaults to Postings.
	Input any
}

// EntryResult is what one posting did.
type EntryResult struct {
	Account         string `json:"account" dynamodbav:"account"`
	Seq             int64  `json:"seq" dynamodbav:"seq"`
	BalanceAfterFen int64  `json:"balanceAfterFen" dynamodbav:"balanceAfter"`
	BalanceBefore   int64  `json:"-" dynamodbav:"balanceBefore"`
}

// Result is the outcome of a movement; Replayed is true when the key had been posted before.
type Result struct {
	TxnID    string        `dynamodbav:"txnId"`
	Entries  []EntryResult `dynamodbav:"entries"`
	Replayed bool          `dynamodbav:"-"`
}

// Errors.
var (
	ErrInsufficient = fault.E(fault.Rule, "INSUFFICIENT_BALANCE", "余额不足")
	ErrBadAmount    = fault.Field("BAD_AMOUNT", "金额必须是大于 0 的整数（单位：分）且不超过上限")
	ErrNoAccount    = fault.E(fault.NotFound, "ACCOUNT_NOT_FOUND", "账户不存在")
	ErrBusy         = fault.E(fault.Conflict, "ACCOUNT_BUSY", "账户繁忙，请稍后重试")
	// ErrStale is what a Guard answers when the account is no longer in the state the postings were
	// decided on: decide again from a fresh read.
	ErrStale = fault.E(fault.Conflict, "ACCOUNT_CHANGED", "账户状态已变化，请稍后重试")
)

// Clearing is the kind of the clearing accounts ("ext:wechat"): the outside parties' side of the books.
const Clearing = "ext"

// IsClearing tells whether account is a clearing account.
func IsClearing(account string) bool { return AccountKind(account) == Clearing }

// External is p, a posting against an outside party (its Counterparty a clearing account, "ext:wechat"),
// with the clearing account's posting that mirrors it: the two postings of a movement that brings money
// into the books or takes it out.
func External(p Posting) []Posting {
	c := Posting{Account: p.Counterparty, AmountFen: -p.AmountFen, Kind: p.Kind, Counterparty: p.Account,
		Merchant: p.Merchant, OccurredAt: p.OccurredAt, AllowNegative: true, Status: p.Status}
	return []Posting{p, c}
}

// ErrUnbalanced refuses a movement whose postings do not sum to zero between two accounts: a
// programming error, never a request's.
var ErrUnbalanced = errors.New("ledger: a movement is two postings that sum to zero, each the other's counterparty")

// ClearingEntry is the posting of a movement on a clearing account: write-once, keyed by the account,
// the day it was posted (China time) and the transaction, never numbered (numbering would need a
// counter, the shared item a clearing account must not have).
type ClearingEntry struct {
	store.Key
	TxnID        string    `dynamodbav:"txnId"`
	Account      string    `dynamodbav:"account"`
	Kind         string    `dynamodbav:"kind"`
	AmountFen    int64     `dynamodbav:"amount"`
	Counterparty string    `dynamodbav:"counterparty"`
	Merchant     string    `dynamodbav:"merchant,omitempty"`
	Status       string    `dynamodbav:"status"`
	Idem         string    `dynamodbav:"idem"`
	OccurredAt   time.Time `dynamodbav:"occurredAt"`
	PostedAt     time.Time `dynamodbav:"postedAt"`
	Day          string    `dynamodbav:"day"`  // YYYY-MM-DD in China time, of PostedAt
	EntityType   string    `dynamodbav:"type"` // "clearing"
}

// Entry is the immutable ledger item.
type Entry struct {
	store.Key
	TxnID        string    `dynamodbav:"txnId"`
	Account      string    `dynamodbav:"account"`
	Seq          int64     `dynamodbav:"seq"`
	Kind         string    `dynamodbav:"kind"`
	AmountFen    int64     `dynamodbav:"amount"`
	BalanceAfter int64     `dynamodbav:"balanceAfter"`
	Counterparty string    `dynamodbav:"counterparty"`
	Merchant     string    `dynamodbav:"merchant,omitempty"`
	Status       string    `dynamodbav:"status"`
	Idem         string    `dynamodbav:"idem"`
	OccurredAt   time.Time `dynamodbav:"occurredAt"`
	PostedAt     time.Time `dynamodbav:"postedAt"`
	Month        string    `dynamodbav:"month"` // YYYY-MM in China time, for the month filter
	EntityType   string    `dynamodbav:"type"`  // "entry"
	Usage        *Usage    `dynamodbav:"usage,omitempty"`
}

// marker records that a movement was posted, with its input hash and result.
type marker struct {
	store.Key
	Hash     string        `dynamodbav:"hash"`
	TxnID    string        `dynamodbav:"txnId"`
	Entries  []EntryResult `dynamodbav:"entries"`
	PostedAt time.Time     `dynamodbav:"postedAt"`
}

// Balance is the money state of an account item.
type Balance struct {
	Account string `dynamodbav:"acct"`
	Balance int64  `dynamodbav:"balance"`
	Seq     int64  `dynamodbav:"seq"`
}

// Ledger posts movements. Build it with New: the hooks of each account kind are registered there and
// cannot be chosen per call (a Ledger not built by New has none, and refuses every posting). The
// exported fields tune how it posts, never what a posting writes; copying a built Ledger to set them
// for one call keeps its hooks.
type Ledger struct {
	S   *store.Store
	Now func() time.Time
	// hooks are the account kinds this ledger posts to, each with its hook (New).
	hooks map[string]Hook
	// MaxAttempts overrides DefaultMaxAttempts.
	MaxAttempts int
	// BatchReads reads a chunk's markers and balances with one BatchGetItem (strongly consistent)
	// instead of a GetItem each. The caller's function must be granted dynamodb:BatchGetItem.
	BatchReads bool
	// Prefetched stands in for the first read of PostAll's first chunk: the caller read every marker
	// and balance item of the movements just before (a key absent from it does not exist), usually to
	// decide the movements from it. A stale entry costs one retry: every write is conditioned on what
	// was read. Retries read afresh (one BatchGetItem with BatchReads, else a GetItem each).
	Prefetched map[store.Key]map[string]types.AttributeValue
	// Guard, if set, sees every account item the ledger reads (prefetched or not, on every attempt and
	// chunk) before anything is computed from it. An error refuses, with that error and without a retry,
	// the movements that post to that account: the caller decided its postings from an earlier read of
	// the account (a card's status), finds that read no longer holds, and decides again (ErrStale).
	// Together with a condition on what was read (a hook's UpdateParts.Cond), nothing is written on
	// a decision taken from a state the account has left.
	Guard func(item store.Key, state map[string]types.AttributeValue) error
}

// Change is what a hook sees of one account in one transaction: its balance item as read, the balance
// before and after, and the postings the transaction makes to it, in order.
type Change struct {
	Item          store.Key
	Account       string
	Before, After int64
	State         map[string]types.AttributeValue
	Postings      []Posted
}

// Posted is a posting with the scope of its movement.
type Posted struct {
	Posting
	Scope string
}

// Hook adds items to the transaction of a posting to an account of its kind (the card's blacklist
// change) and clauses to the account's balance update (its arrears flag, a condition on what it read).
// It cannot change the balance, the sequence or the account's identity, nor write the balance item of
// any account in the transaction otherwise than through UpdateParts: the ledger checks what it returns
// and refuses the movements (ErrHookWrites).
type Hook func(Change) ([]types.TransactWriteItem, UpdateParts)

// HookItems is how many items a hook may add to a transaction per account (the card's blacklist change):
// the ledger keeps room for them when it sizes its transactions, and refuses more (ErrHookWrites).
const HookItems = 1

// NoHook is the hook of a kind whose balance item has nothing to keep in step with its balance.
func NoHook(Change) ([]types.TransactWriteItem, UpdateParts) { return nil, UpdateParts{} }

// registry holds, per account kind (the account id's prefix before its first colon: "card" for
// "card:kmmc:10000001"), what builds its hook.
var registry = struct {
	sync.RWMutex
	m map[string]func(now func() time.Time) Hook
}{m: map[string]func(now func() time.Time) Hook{}}

// Register names the hook of an account kind; the package that owns the kind's balance items calls it
// from its init (cards: "card", power: "dorm"). A kind registers once; NoHook when there is nothing to
// keep in step. A ledger refuses postings to a kind nobody registered (ErrNoHook).
func Register(kind string, hook func(now func() time.Time) Hook) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.m[kind]; dup || kind == "" || strings.Contains(kind, ":") || hook == nil {
		panic("ledger: bad or second registration of account kind " + kind)
	}
	registry.m[kind] = hook
}

// New is the only way to build a Ledger that posts: every registered account kind with its hook.
func New(s *store.Store, now func() time.Time) *Ledger {
	registry.RLock()
	defer registry.RUnlock()
	hs := make(map[string]Hook, len(registry.m))
	for k, h := range registry.m {
		hs[k] = h(now)
	}
	return &Ledger{S: s, Now: now, hooks: hs}
}

// AccountKind is the kind of an account id: its prefix before the first colon.
func AccountKind(account string) string {
	k, _, _ := strings.Cut(account, ":")
	return k
}

// ErrNoHook refuses a posting to an account kind the ledger has no hook for; ErrHookWrites refuses a
// movement whose hook tried to write what only the ledger writes. Both are programming errors.
var (
	ErrNoHook     = errors.New("ledger: no hook registered for the account kind")
	ErrHookWrites = errors.New("ledger: a hook may not write the balance, the sequence or an account's item")
)

// UpdateParts adds SET clauses to an account's balance update, and conditions (ANDed to the seq
// condition) on what the hook read; a condition that fails makes the ledger read again and recompute.
type UpdateParts struct {
	Set    []string
	Remove []string
	Cond   []string
	Values map[string]any
}

// TxnID is derived from the idempotency key, so a replay names the same transaction.
func TxnID(scope, key string) string {
	h := sha256.Sum256([]byte(scope + "\x00" + key))
	return "t" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:])[:20])
}

func inputHash(m Movement) (string, error) {
	in := m.Input
	if in == nil {
		type p struct {
			A, K, C string
			F       int64
			T       int64
		}
		var ps []p
		for _, x := range m.Postings {
			// The clearing side mirrors the other: leaving it out keeps the hash of a movement the same
			// as when it was posted with one posting, before clearing accounts (a replay still matches).
			if IsClearing(x.Account) {
				continue
			}
			ps = append(ps, p{x.Account, x.Kind, x.Counterparty, x.AmountFen, x.OccurredAt.Unix()})
		}
		in = ps
	}
	b, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

func validate(m Movement) error {
	if m.Scope == "" || m.Key == "" || len(m.Key) > 128 {
		return fault.ErrBadIdemKey
	}
	if len(m.Postings) != 2 {
		return fmt.Errorf("%w: %d postings", ErrUnbalanced, len(m.Postings))
	}
	for _, p := range m.Postings {
		if p.AmountFen == 0 || p.AmountFen > MaxAmountFen || p.AmountFen < -MaxAmountFen {
			return ErrBadAmount
		}
		if p.Account == "" || p.Kind == "" || p.Counterparty == "" {
			return fmt.Errorf("ledger: posting without account, kind or counterparty")
		}
	}
	a, b := m.Postings[0], m.Postings[1]
	switch {
	case a.AmountFen+b.AmountFen != 0:
		return fmt.Errorf("%w: %d + %d fen", ErrUnbalanced, a.AmountFen, b.AmountFen)
	case a.Account == b.Account || a.Counterparty != b.Account || b.Counterparty != a.Account:
		return fmt.Errorf("%w: %s and %s are not each other's counterparty", ErrUnbalanced, a.Account, b.Account)
	case IsClearing(a.Account) && IsClearing(b.Account):
		return fmt.Errorf("%w: both %s and %s are clearing accounts", ErrUnbalanced, a.Account, b.Account)
	}
	return nil
}

// DefaultMaxAttempts bounds the retries when another writer moved an account between our read and our
// write. Contention on one card is rare (one student, a few readers), but a burst must still land.
const DefaultMaxAttempts = 30

// Post applies one movement exactly once.
func (l *Ledger) Post(ctx context.Context, m Movement) (Result, error) {
	res, errs, err := l.PostAll(ctx, []Movement{m})
	if err != nil {
		return Result{}, err
	}
	if errs[0] != nil {
		return Result{}, errs[0]
	}
	return res[0], nil
}

// PostAll applies movements in order in as few transactions as fit (DynamoDB allows 100 items), each
// account's balance item written once per transaction. A movement refused on its own (insufficient
// balance, key reused with other inputs) gets its error in errs and does not stop the others; err is a
// failure of the whole call (nothing it reports as done was left undone).
func (l *Ledger) PostAll(ctx context.Context, ms []Movement) (results []Result, errs []error, err error) {
	results = make([]Result, len(ms))
	errs = make([]error, len(ms))
	hashes := make([]string, len(ms))
	for i, m := range ms {
		if errs[i] = validate(m); errs[i] != nil {
			continue
		}
		for _, p := range m.Postings {
			if _, ok := l.hooks[AccountKind(p.Account)]; !ok && !IsClearing(p.Account) && errs[i] == nil {
				errs[i] = fmt.Errorf("%w: %q (account %s)", ErrNoHook, AccountKind(p.Account), p.Account)
			}
		}
		if errs[i] != nil {
			continue
		}
		if hashes[i], err = inputHash(m); err != nil {
			return nil, nil, err
		}
	}
	// Chunk so a transaction stays within 100 items: per movement an entry per posting (a clearing entry
	// for a clearing account) and a marker, plus its extras, plus per distinct account its update and
	// the one item its hook may add (HookItems).
	start := 0
	for start < len(ms) {
		end, items, accts := start, 0, map[string]bool{}
		for end < len(ms) {
			m := ms[end]
			need := 1 + len(m.Postings) + len(m.Extra)
			for _, p := range m.Postings {
				if !accts[p.Account] && !IsClearing(p.Account) {
					need += 1 + HookItems
				}
			}
			if items+need > 100 && end > start {
				break
			}
			items += need
			for _, p := range m.Postings {
				accts[p.Account] = true
			}
			end++
		}
		var pre map[store.Key]map[string]types.AttributeValue
		if start == 0 {
			pre = l.Prefetched
		}
		if err := l.postChunk(ctx, ms[start:end], hashes[start:end], results[start:end], errs[start:end], pre); err != nil {
			return nil, nil, err
		}
		start = end
	}
	return results, errs, nil
}

func (l *Ledger) postChunk(ctx context.Context, ms []Movement, hashes []string, results []Result, errs []error, pre map[store.Key]map[string]types.AttributeValue) error {
	for attempt := 1; ; attempt++ {
		retry, err := l.tryChunk(ctx, ms, hashes, results, errs, pre)
		pre = nil // a retry reads afresh
		if err != nil || !retry {
			return err
		}
		limit := l.MaxAttempts
		if limit == 0 {
			limit = DefaultMaxAttempts
		}
		if attempt >= limit {
			for i := range ms {
				if errs[i] == nil && results[i].TxnID == "" {
					errs[i] = ErrBusy
				}
			}
			return nil
		}
		d := time.Duration(5<<min(attempt, 4)) * time.Millisecond
		select {
		case <-time.After(d/2 + time.Duration(rand.Int64N(int64(d/2)+1))):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// tryChunk reads markers and balances, computes the postings and writes them in one transaction. It
// reports retry=true when another writer got in between (the caller reads again and recomputes).
func (l *Ledger) tryChunk(ctx context.Context, ms []Movement, hashes []string, results []Result, errs []error, pre map[store.Key]map[string]types.AttributeValue) (retry bool, err error) {
	now := l.Now().UTC()
	if l.BatchReads && pre == nil {
		if pre, err = l.prefetch(ctx, ms, errs, results); err != nil {
			return false, err
		}
	}
	// 1. Movements already posted are answered from their markers.
	pending := []int{}
	for i, m := range ms {
		if errs[i] != nil || results[i].TxnID != "" {
			continue
		}
		var mk marker
		ok, err := l.read(ctx, pre, store.IdemKey(m.Scope, m.Key), &mk, nil)
		if err != nil {
			return false, err
		}
		if ok {
			if mk.Hash != hashes[i] {
				errs[i] = fault.ErrIdemReused
			} else {
				results[i] = Result{TxnID: mk.TxnID, Entries: mk.Entries, Replayed: true}
			}
			continue
		}
		pending = append(pending, i)
	}
	if len(pending) == 0 {
		return false, nil
	}
	// 2. Current balances.
	type acct struct {
		key         store.Key
		before, bal int64
		seq0, seq   int64
		state       map[string]types.AttributeValue
		posted      []Posted
	}
	accts := map[string]*acct{}
	order := []string{}
	guarded := map[string]error{}
	for _, i := range pending {
		for _, p := range ms[i].Postings {
			if _, ok := accts[p.Account]; ok || IsClearing(p.Account) {
				continue
			}
			var raw map[string]types.AttributeValue
			var b Balance
			ok, err := l.read(ctx, pre, p.Item, &b, &raw)
			if err != nil {
				return false, err
			}
			if !ok {
				return false, ErrNoAccount
			}
			if b.Account != p.Account {
				return false, fmt.Errorf("ledger: the item %s holds account %s, not %s", p.Item, b.Account, p.Account)
			}
			accts[p.Account] = &acct{key: p.Item, before: b.Balance, bal: b.Balance, seq0: b.Seq, seq: b.Seq, state: raw}
			order = append(order, p.Account)
			if l.Guard != nil {
				if gerr := l.Guard(p.Item, raw); gerr != nil {
					guarded[p.Account] = gerr
				}
			}
		}
	}
	// 3. Apply in order; a movement that would overdraw is refused alone.
	var items []types.TransactWriteItem
	markerIdx := map[int]int{} // transaction item index → movement index
	posted := []int{}
	for _, i := range pending {
		m := ms[i]
		ok := true
		for _, p := range m.Postings {
			if gerr := guarded[p.Account]; gerr != nil && errs[i] == nil {
				errs[i] = gerr
			}
		}
		if errs[i] != nil {
			continue
		}
		for _, p := range m.Postings {
			if a := accts[p.Account]; a != nil && p.AmountFen < 0 && !p.AllowNegative && a.bal+p.AmountFen < 0 {
				ok = false
			}
		}
		if !ok {
			errs[i] = ErrInsufficient
			continue
		}
		txn := TxnID(m.Scope, m.Key)
		var ers []EntryResult
		for _, p := range m.Postings {
			status := p.Status
			if status == "" {
				status = "posted"
			}
			occurred := p.OccurredAt
			if occurred.IsZero() {
				occurred = now
			}
			if IsClearing(p.Account) {
				day := chinatime.Day(now)
				c := ClearingEntry{Key: store.ClearingKey(p.Account, day, txn), TxnID: txn, Account: p.Account, Kind: p.Kind,
					AmountFen: p.AmountFen, Counterparty: p.Counterparty, Merchant: p.Merchant, Status: status,
					Idem: m.Scope + "#" + m.Key, OccurredAt: occurred.UTC(), PostedAt: now, Day: day, EntityType: "clearing"}
				put, err := store.PutItem(c, store.IfAbsent, nil)
				if err != nil {
					return false, err
				}
				items = append(items, put)
				continue
			}
			a := accts[p.Account]
			before := a.bal
			a.bal += p.AmountFen
			a.seq++
			a.posted = append(a.posted, Posted{Posting: p, Scope: m.Scope})
			e := Entry{Key: store.EntryKey(p.Account, a.seq), TxnID: txn, Account: p.Account, Seq: a.seq, Kind: p.Kind,
				AmountFen: p.AmountFen, BalanceAfter: a.bal, Counterparty: p.Counterparty, Merchant: p.Merchant,
				Status: status, Idem: m.Scope + "#" + m.Key, OccurredAt: occurred.UTC(), PostedAt: now,
				Month: occurred.In(chinatime.Zone).Format("2006-01"), EntityType: "entry", Usage: p.Usage}
			put, err := store.PutItem(e, store.IfAbsent, nil)
			if err != nil {
				return false, err
			}
			items = append(items, put)
			ers = append(ers, EntryResult{Account: p.Account, Seq: a.seq, BalanceAfterFen: a.bal, BalanceBefore: before})
		}
		mk := marker{Key: store.IdemKey(m.Scope, m.Key), Hash: hashes[i], TxnID: txn, Entries: ers, PostedAt: now}
		put, err := store.PutItem(mk, store.IfAbsent, nil)
		if err != nil {
			return false, err
		}
		markerIdx[len(items)] = i
		items = append(items, put)
		items = append(items, m.Extra...)
		results[i] = Result{TxnID: txn, Entries: ers}
		posted = append(posted, i)
	}
	if len(posted) == 0 {
		return false, nil
	}
	// 4. One conditional update per account, with its kind's hook.
	written := map[store.Key]bool{}
	for _, a := range accts {
		written[a.key] = true
	}
	for _, id := range order {
		a := accts[id]
		if a.seq == a.seq0 {
			continue
		}
		set := []string{"balance = :b", "seq = :n"}
		var remove []string
		cond := "seq = :s"
		vals := store.Values{":b": a.bal, ":n": a.seq, ":s": a.seq0}
		extra, parts := l.hooks[AccountKind(id)](Change{Item: a.key, Account: id, Before: a.before, After: a.bal, State: a.state, Postings: a.posted})
		if err := checkHook(id, extra, parts, vals, written); err != nil {
			return false, err
		}
		items = append(items, extra...)
		set = append(set, parts.Set...)
		remove = append(remove, parts.Remove...)
		for _, c := range parts.Cond {
			cond += " AND " + c
		}
		for k, v := range parts.Values {
			vals[k] = v
		}
		items = append(items, store.SetRemoveItem(a.key, set, remove, cond, nil, vals.AV()))
	}
	if len(items) > 100 {
		return false, fmt.Errorf("ledger: %d items exceed one transaction", len(items))
	}
	err = l.S.Transact(ctx, items, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		// Someone else wrote one of our accounts or posted one of our keys: forget and recompute.
		for _, i := range posted {
			results[i] = Result{}
		}
		return true, nil
	}
	return false, err
}

// prefetch reads, in one BatchGetItem, the markers of the movements not yet answered and the balance
// items of their postings.
func (l *Ledger) prefetch(ctx context.Context, ms []Movement, errs []error, results []Result) (map[store.Key]map[string]types.AttributeValue, error) {
	var keys []store.Key
	for i, m := range ms {
		if errs[i] != nil || results[i].TxnID != "" {
			continue
		}
		keys = append(keys, store.IdemKey(m.Scope, m.Key))
		for _, p := range m.Postings {
			if !IsClearing(p.Account) {
				keys = append(keys, p.Item)
			}
		}
	}
	return l.S.BatchGet(ctx, keys, "", nil)
}

// read is Get (or GetRaw when raw is set) from the prefetched items when there are some.
func (l *Ledger) read(ctx context.Context, pre map[store.Key]map[string]types.AttributeValue, k store.Key, out any, raw *map[string]types.AttributeValue) (bool, error) {
	if pre == nil {
		if raw != nil {
			return l.S.GetRaw(ctx, k, out, raw)
		}
		return l.S.Get(ctx, k, out)
	}
	item, ok := pre[k]
	if !ok {
		return false, nil
	}
	if raw != nil {
		*raw = item
	}
	return true, attributevalue.UnmarshalMap(item, out)
}

// EntryFor returns the entry of r on account.
func (r Result) EntryFor(account string) (EntryResult, bool) {
	for _, e := range r.Entries {
		if e.Account == account {
			return e, true
		}
	}
	return EntryResult{}, false
}

// reserved are the attributes of a balance item only the ledger writes.
var reserved = map[string]bool{"balance": true, "seq": true, "acct": true, "PK": true, "SK": true}

// checkHook refuses what a hook may not do: SET or REMOVE a reserved attribute, bind one of the
// ledger's own placeholders (own), or write (put, update, delete) the balance item of an account of
// the transaction (written) in an extra item.
func checkHook(account string, extra []types.TransactWriteItem, parts UpdateParts, own store.Values, written map[store.Key]bool) error {
	if len(extra) > HookItems {
		return fmt.Errorf("%w: the hook of %s adds %d items, more than %d", ErrHookWrites, account, len(extra), HookItems)
	}
	for _, clause := range parts.Set {
		for _, c := range splitTop(clause) {
			lhs, _, _ := strings.Cut(c, "=")
			if name := strings.TrimSpace(lhs); reserved[name] {
				return fmt.Errorf("%w: the hook of %s sets %s", ErrHookWrites, account, name)
			}
		}
	}
	for _, clause := range parts.Remove {
		for _, c := range splitTop(clause) {
			if name := strings.TrimSpace(c); reserved[name] {
				return fmt.Errorf("%w: the hook of %s removes %s", ErrHookWrites, account, name)
			}
		}
	}
	for k := range parts.Values {
		if _, ok := own[k]; ok {
			return fmt.Errorf("%w: the hook of %s binds the ledger's placeholder %s", ErrHookWrites, account, k)
		}
	}
	for _, it := range extra {
		var key map[string]types.AttributeValue
		switch {
		case it.Put != nil:
			key = it.Put.Item
		case it.Update != nil:
			key = it.Update.Key
		case it.Delete != nil:
			key = it.Delete.Key
		default:
			continue
		}
		var k store.Key
		if err := attributevalue.UnmarshalMap(key, &k); err != nil {
			return err
		}
		if written[k] {
			return fmt.Errorf("%w: the hook of %s writes the item %s", ErrHookWrites, account, k)
		}
	}
	return nil
}

// splitTop splits an update clause list at its top-level commas (not those inside a function call).
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}
