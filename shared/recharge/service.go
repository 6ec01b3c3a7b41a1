package recharge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/accounts"
	"onecard/shared/cards"
	"onecard/shared/fault"
	"onecard/shared/httpapi"
	"onecard/shared/ledger"
	"onecard/shared/school"
	"onecard/shared/store"
	"onecard/shared/wechatpay"
)

// Service creates orders and credits them.
type Service struct {
	S      *store.Store
	Ledger *ledger.Ledger
	WeChat interface {
		Client(context.Context) (*wechatpay.Client, error)
	}
	Users   accounts.Users
	Schools school.Repo
	Now     func() time.Time
	// beforePost, in tests, runs between Credit's read of the card and its write (export_test.go).
	beforePost func(context.Context, *Order)
}

var (
	ErrBadAmount       = fault.Field("BAD_AMOUNT", "充值金额须为大于 0 的整数（单位：分），且不超过单笔上限")
	ErrWeChatNotBound  = fault.E(fault.Rule, "WECHAT_NOT_BOUND", "请先授权微信登录后再充值")
	ErrPayUnavailable  = fault.E(fault.Unavailable, "PAYMENT_UNAVAILABLE", "微信支付暂时不可用，请稍后再试")
	ErrOrderNotPayable = fault.E(fault.Conflict, "ORDER_NOT_PENDING", "该订单已支付或已关闭")
)

var idemKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// CheckIdemKey validates an Idempotency-Key header value (empty is allowed: no replay protection asked).
func CheckIdemKey(k string) error {
	if k != "" && !idemKeyRE.MatchString(k) {
		return fault.ErrBadIdemKey
	}
	return nil
}

// appMarker remembers which order an Idempotency-Key created.
type appMarker struct {
	store.Key
	Hash    string `dynamodbav:"hash"`
	OrderNo string `dynamodbav:"orderNo"`
}

// Create makes a pending order for target and asks WeChat Pay for a prepay id. With an Idempotency-Key,
// a repeat of the same request returns the same order (and finishes it if the first attempt failed after
// the order was stored); the same key with another request is refused.
func (s *Service) Create(ctx context.Context, u *accounts.User, target Target, amountFen int64, description, idemKey string) (*Order, error) {
	if err := CheckIdemKey(idemKey); err != nil {
		return nil, err
	}
	sch, err := s.Schools.Get(ctx, u.SchoolID)
	if err != nil {
		return nil, err
	}
	if amountFen <= 0 || amountFen > sch.MaxRechargeFen {
		return nil, ErrBadAmount
	}
	if u.OpenID == "" {
		return nil, ErrWeChatNotBound
	}
	var marker *appMarker
	hash := requestHash(target, amountFen)
	if idemKey != "" {
		marker = &appMarker{Key: store.IdemKey("app-order:"+u.UserID, idemKey), Hash: hash}
		var prev appMarker
		ok, err := s.S.Get(ctx, marker.Key, &prev)
		if err != nil {
			return nil, err
		}
		if ok {
			if prev.Hash != hash {
				return nil, fault.ErrIdemReused
			}
			return s.resume(ctx, prev.OrderNo)
		}
	}
	now := s.Now().UTC()
	o := &Order{Type: "order", OrderNo: newOrderNo(now), UserID: u.UserID, SchoolID: u.SchoolID, Target: target,
		AmountFen: amountFen, Status: Pending, OpenID: u.OpenID, Description: description,
		CreatedAt: now, ExpiresAt: now.Add(OrderTTL)}
	o.Key, o.GSI1PK, o.GSI1SK = store.OrderKey(o.OrderNo), PendingPK, now.Format(time.RFC3339Nano)
	o.GSI2PK, o.GSI2SK = store.UserOrdersPK(u.UserID), userOrderSK(now, o.OrderNo)
	put, err := store.PutItem(o, store.IfAbsent, nil)
	if err != nil {
		return nil, err
	}
	items := []types.TransactWriteItem{put}
	if marker != nil {
		marker.OrderNo = o.OrderNo
		m, err := store.PutItem(marker, store.IfAbsent, nil)
		if err != nil {
			return nil, err
		}
		items = append(items, m)
	}
	err = s.S.Transact(ctx, items, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && marker != nil && tc.Failed(1) {
		// The same key raced us: answer as its first request did.
		var prev appMarker
		if _, err := s.S.Get(ctx, marker.Key, &prev); err != nil {
			return nil, err
		}
		if prev.Hash != hash {
			return nil, fault.ErrIdemReused
		}
		return s.resume(ctx, prev.OrderNo)
	}
	if err != nil {
		return nil, err
	}
	return s.prepay(ctx, o)
}

func requestHash(t Target, amount int64) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%s|%d", t.Kind, t.Account, amount)))
	return hex.EncodeToString(h[:])
}

func (s *Service) resume(ctx context.Context, no string) (*Order, error) {
	o, err := Get(ctx, s.S, no)
	if err != nil {
		return nil, err
	}
	if o.PayParams != nil || o.Status != Pending {
		return o, nil
	}
	return s.prepay(ctx, o)
}

// prepay registers the order with WeChat Pay and stores the mini program's payment parameters.
func (s *Service) prepay(ctx context.Context, o *Order) (*Order, error) {
	c, err := s.WeChat.Client(ctx)
	if err != nil {
		return nil, ErrPayUnavailable.Wrap(err)
	}
	prepayID, err := c.CreateJSAPIOrder(ctx, wechatpay.Order{OutTradeNo: o.OrderNo, Description: o.Description,
		AmountFen: o.AmountFen, OpenID: o.OpenID, TimeExpire: o.ExpiresAt})
	if err != nil {
		// The order stays pending without parameters: a retry with the same Idempotency-Key finishes it,
		// and the reconciler closes it once it expires.
		return nil, ErrPayUnavailable.After(5 * time.Second).Wrap(err)
	}
	params, err := c.PayParams(prepayID)
	if err != nil {
		return nil, err
	}
	if err := s.S.SetOrderPayParams(ctx, o.Key, params); err != nil {
		return nil, err
	}
	o.PayParams = &params
	return o, nil
}

// Credit posts a paid transaction once, and marks the order paid (with where the money went) in the
// same transaction. It is what both the notification and the reconciler call.
//
// A card order credits the card the student holds when the money arrives, which is not always the card
// the order was for: a 补卡 may have cancelled it meanwhile (see destination). The choice is made on the
// card state read, and the write is conditioned on that state (the card's blv, which every status change
// bumps), so a 补卡 landing between the read and the write fails the transaction and the next attempt
// decides again from what it reads then. The idempotency input stays the order's own (number, target,
// amount), so a replay answers the first credit wherever it went.
func (s *Service) Credit(ctx context.Context, c *wechatpay.Client, o *Order, tx wechatpay.Transaction) error {
	if err := tx.Matches(c.MchID(), c.AppID(), o.OrderNo, o.AmountFen); err != nil {
		return err
	}
	occurred := tx.SuccessTime
	if occurred.IsZero() {
		occurred = s.Now()
	}
	for attempt := 1; ; attempt++ {
		d, err := s.destination(ctx, o)
		if err != nil {
			return err
		}
		if s.beforePost != nil {
			s.beforePost(ctx, o)
		}
		res, err := s.post(ctx, o, d, tx, occurred)
		if d.guard && fault.Is(err, ledger.ErrBusy.Code) && attempt < creditAttempts {
			// Another writer got in between (a 补卡, a reader posting, the other of notification and
			// reconciler): read again and decide again.
			if werr := backoff(ctx, attempt); werr != nil {
				return werr
			}
			continue
		}
		if err != nil {
			return err
		}
		log := httpapi.Log(ctx)
		switch {
		case res.Replayed:
			log.Info("recharge already credited", "orderNo", o.OrderNo)
		case d.note == NoteCardCancelled:
			// Money the student paid sits on a card nobody can use: finance must refund or move it.
			log.Error("recharge credited to a cancelled card", "orderNo", o.OrderNo, "amountFen", o.AmountFen,
				"cardNo", d.target.CardNo)
		case d.note == NoteReplaced:
			log.Info("recharge credited", "orderNo", o.OrderNo, "amountFen", o.AmountFen, "target", o.Target.Kind,
				"cardNo", o.Target.CardNo, "creditedCardNo", d.target.CardNo, "note", d.note)
		default:
			log.Info("recharge credited", "orderNo", o.OrderNo, "amountFen", o.AmountFen, "target", o.Target.Kind)
		}
		return nil
	}
}

// creditAttempts bounds Credit's read-decide-write rounds; the ledger's own DefaultMaxAttempts is the
// same bound for a plain posting.
const creditAttempts = ledger.DefaultMaxAttempts

func backoff(ctx context.Context, attempt int) error {
	d := time.Duration(5<<min(attempt, 4)) * time.Millisecond
	select {
	case <-time.After(d/2 + time.Duration(rand.Int64N(int64(d/2)+1))):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Where a credit went, when not simply to the order's target (Order.CreditNote).
const (
	NoteReplaced      = "replaced"       // the card was replaced (补卡): credited to the student's current card
	NoteCardCancelled = "card_cancelled" // the card was cancelled with no replacement: credited to it, for finance
)

// dest is where one attempt credits, and the card state the decision rests on.
type dest struct {
	target Target
	note   string
	guard  bool  // condition the write on blv (card targets)
	blv    int64 // the blv read
}

// destination decides where an order's money goes. A dorm order credits its room account (rooms are not
// replaced). A card order credits the order's card unless it is cancelled; then the card that replaced
// it (following replacedBy, as 补卡 leaves it), or else the card the roster names for the student now.
// A card cancelled with no successor keeps the credit (NoteCardCancelled): the money is on the books, on
// a card finance can see, never dropped.
func (s *Service) destination(ctx context.Context, o *Order) (dest, error) {
	if o.Target.Kind != "card" {
		return dest{target: o.Target}, nil
	}
	var c cards.Card
	ok, err := s.S.Get(ctx, o.Target.Item(), &c)
	if err != nil {
		return dest{}, err
	}
	if !ok {
		return dest{}, cards.ErrNoCard
	}
	repo := cards.Repo{S: s.S}
	cur := &c
	for hops := 0; cur.Status == cards.Cancelled && cur.ReplacedBy != "" && hops < maxReplaceHops; hops++ {
		if cur, err = repo.Get(ctx, cur.SchoolID, cur.ReplacedBy); err != nil {
			return dest{}, err
		}
	}
	if cur.Status == cards.Cancelled {
		roster, err := s.rosterCard(ctx, cur)
		if err != nil {
			return dest{}, err
		}
		if roster != nil {
			cur = roster
		}
	}
	d := dest{target: o.Target, guard: true, blv: cur.BLV}
	switch {
	case cur.Status == cards.Cancelled:
		d.target, d.note = CardTarget(cur), NoteCardCancelled
	case cur.CardNo != o.Target.CardNo:
		d.target, d.note = CardTarget(cur), NoteReplaced
	}
	return d, nil
}

// maxReplaceHops bounds the replacedBy chain (a card replaced again and again).
const maxReplaceHops = 10

// rosterCard is the card the school roster names for c's student, if it is another card that is not
// cancelled; nil otherwise.
func (s *Service) rosterCard(ctx context.Context, c *cards.Card) (*cards.Card, error) {
	sch, err := s.Schools.Get(ctx, c.SchoolID)
	if err != nil {
		return nil, err
	}
	bare, err := sch.StudentNumber(c.StudentNo)
	if err != nil {
		return nil, nil // not a roster number: nothing to follow
	}
	var st struct {
		CardNo string `dynamodbav:"cardNo"`
	}
	ok, err := s.S.Get(ctx, store.StudentKey(c.SchoolID, bare), &st)
	if err != nil || !ok || st.CardNo == "" || st.CardNo == c.CardNo {
		return nil, err
	}
	rc, err := cards.Repo{S: s.S}.Get(ctx, c.SchoolID, st.CardNo)
	if fault.Is(err, cards.ErrNoCard.Code) {
		return nil, nil
	}
	if err != nil || rc.Status == cards.Cancelled || rc.StudentNo != c.StudentNo {
		return nil, err
	}
	return rc, nil
}

// post writes one attempt. For a card it uses a one-shot ledger whose Guard refuses the card unless it
// still has the blv read by destination (and the card hook conditions the write on the blv the ledger
// read): any conflict comes back as ErrBusy for Credit to decide again, instead of the ledger retrying
// a decision that may no longer hold.
func (s *Service) post(ctx context.Context, o *Order, d dest, tx wechatpay.Transaction, occurred time.Time) (ledger.Result, error) {
	l := s.Ledger
	if d.guard {
		one := *s.Ledger
		one.MaxAttempts = 1
		item := d.target.Item()
		one.Guard = func(k store.Key, state map[string]types.AttributeValue) error {
			if k != item {
				return nil
			}
			var c struct {
				BLV int64 `dynamodbav:"blv"`
			}
			if err := attributevalue.UnmarshalMap(state, &c); err != nil {
				return err
			}
			if c.BLV != d.blv {
				return ledger.ErrBusy
			}
			return nil
		}
		l = &one
	}
	return l.Post(ctx, ledger.Movement{Scope: "wechat", Key: o.OrderNo,
		Input: []any{o.OrderNo, o.Target.Account, o.AmountFen},
		Postings: ledger.External(ledger.Posting{Account: d.target.Account, Item: d.target.Item(), AmountFen: o.AmountFen,
			Kind: ledger.KindRecharge, Counterparty: "ext:wechat", Merchant: "微信充值", OccurredAt: occurred}),
		Extra: []types.TransactWriteItem{store.OrderPaidItem(o.Key, Paid, occurred.UTC(), tx.TransactionID, d.target, d.note)},
	})
}

// ReconcileReport counts what one reconciler run did.
type ReconcileReport struct {
	Checked, Credited, Closed, StillPending, Failed int
	Refunds                                         RefundReport
}

// Reconcile looks at orders pending for longer than olderThan: credits the paid ones whose notification
// never came, closes the expired unpaid ones. One order's failure does not stop the others.
func (s *Service) Reconcile(ctx context.Context, olderThan time.Duration) (ReconcileReport, error) {
	var rep ReconcileReport
	c, err := s.WeChat.Client(ctx)
	if err != nil {
		return rep, err
	}
	now := s.Now()
	q := store.Query{Index: store.GSI1, PK: PendingPK, To: now.Add(-olderThan).UTC().Format(time.RFC3339Nano)}
	err = store.Each(ctx, s.S, q, func(page []Order) error {
		for i := range page {
			rep.Checked++
			switch outcome, err := s.settle(ctx, c, &page[i], now); {
			case errors.Is(err, errUnverified):
				rep.Failed++
				httpapi.Log(ctx).Error("reconcile order: WeChat Pay answer not verified, order left pending",
					"orderNo", page[i].OrderNo, "err", err.Error())
			case err != nil:
				rep.Failed++
				httpapi.Log(ctx).Error("reconcile order", "orderNo", page[i].OrderNo, "err", err.Error())
			case outcome == Paid:
				rep.Credited++
			case outcome == Closed:
				rep.Closed++
			default:
				rep.StillPending++
			}
		}
		return nil
	})
	return rep, err
}

// settle asks WeChat Pay about one order and acts on the answer. It acts only on what WeChat Pay signed:
// a 2xx answer always is (the client refuses one that does not verify), and an error code counts only
// when its signature verified (wechatpay.IsAPICode). An unverified error answer — a proxy's 502, or a man
// in the middle saying ORDER_NOT_EXIST or ORDER_CLOSED about an order that is paid — leaves the order
// pending for the next run, with an error log line (errUnverified).
func (s *Service) settle(ctx context.Context, c *wechatpay.Client, o *Order, now time.Time) (string, error) {
	tx, err := c.QueryOrder(ctx, o.OrderNo)
	if wechatpay.IsAPICode(err, "ORDER_NOT_EXIST") {
		if now.After(o.ExpiresAt) {
			return Closed, s.markClosed(ctx, o)
		}
		return Pending, nil
	}
	if err != nil {
		return "", unverified(err)
	}
	switch tx.TradeState {
	case wechatpay.TradeStateSuccess:
		return Paid, s.Credit(ctx, c, o, tx)
	case wechatpay.TradeStateClosed, wechatpay.TradeStateRevoked, wechatpay.TradeStatePayError:
		return Closed, s.markClosed(ctx, o)
	}
	if !now.After(o.ExpiresAt) {
		return Pending, nil
	}
	err = c.CloseOrder(ctx, o.OrderNo)
	if wechatpay.IsAPICode(err, "ORDERPAID") {
		// Paid between our query and our close: query again and credit.
		if tx, err = c.QueryOrder(ctx, o.OrderNo); err != nil {
			return "", unverified(err)
		}
		return Paid, s.Credit(ctx, c, o, tx)
	}
	if err != nil && !wechatpay.IsAPICode(err, "ORDER_CLOSED") {
		return "", unverified(err)
	}
	return Closed, s.markClosed(ctx, o)
}

// errUnverified marks an error answer from WeChat Pay whose signature did not verify: nothing was done
// on it, and the order stays pending.
var errUnverified = errors.New("recharge: WeChat Pay error answer not verified (unsigned or bad signature); order left pending")

func unverified(err error) error {
	if wechatpay.IsUnverified(err) {
		return fmt.Errorf("%w: %w", errUnverified, err)
	}
	return err
}

func (s *Service) markClosed(ctx context.Context, o *Order) error {
	err := s.S.CloseOrder(ctx, o.Key, Closed, Pending)
	if errors.Is(err, store.ErrConditionFailed) {
		return nil // credited meanwhile
	}
	return err
}
