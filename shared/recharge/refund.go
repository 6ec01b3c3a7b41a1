package recharge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/cards"
	"onecard/shared/fault"
	"onecard/shared/httpapi"
	"onecard/shared/ledger"
	"onecard/shared/plaintext"
	"onecard/shared/staff"
	"onecard/shared/store"
	"onecard/shared/wechatpay"
)

// Refunds of WeChat Pay recharges (docs/wechatpay.md, "Refunds"). A refund holds its amount the moment it
// is asked for: the card is debited against the clearing account RefundClearing, in the transaction that
// writes the refund and adds its amount to the order's refundedFen (conditioned so that the order's
// refunds never pass its amount). WeChat Pay is asked afterwards; a refund it closes or cannot pay
// (CLOSED, ABNORMAL, or a signed refusal) gives the amount back to the card by the opposite movement. A
// refund that succeeds moves nothing more: the money left the books when it was held.

// Refund statuses.
const (
	RefundPending    = "pending"    // held on our books; WeChat Pay has not (knowingly) accepted it yet
	RefundProcessing = "processing" // WeChat Pay accepted it
	RefundSucceeded  = "success"    // the money is back with the payer
	RefundFailed     = "failed"     // closed, abnormal or refused: the amount went back to the card
)

// RefundClearing is the clearing account of refunds paid out through WeChat Pay.
const RefundClearing = "ext:wechat-refund"

// Ledger entry kinds of refunds.
const (
	KindRefund        = "refund"         // card → WeChat Pay (held when asked)
	KindRefundRelease = "refund_release" // a failed refund's amount back to the card
)

// RefundsPendingPK is the GSI1 partition of refunds not yet final (the reconciler's worklist).
const RefundsPendingPK = store.RefundsPendingPK

// RefundReasonRule bounds the reason (WeChat Pay shows it to the payer, at most 80 characters).
var RefundReasonRule = plaintext.Rule{Max: 80, AllowEmpty: true}

// Refund is one refund of a recharge order; RefundNo is WeChat Pay's out_refund_no.
type Refund struct {
	store.Key
	// RefundsPendingPK / created time, until final (the reconciler's worklist).
	store.InGSI1
	Type        string    `dynamodbav:"type" json:"-"`
	RefundNo    string    `dynamodbav:"refundNo" json:"refundNo"`
	OrderNo     string    `dynamodbav:"orderNo" json:"orderNo"`
	SchoolID    string    `dynamodbav:"schoolId" json:"-"`
	CardNo      string    `dynamodbav:"cardNo" json:"cardNo"` // the card the amount was taken from
	Account     string    `dynamodbav:"account" json:"-"`
	PK2         string    `dynamodbav:"itemPk" json:"-"`
	SK2         string    `dynamodbav:"itemSk" json:"-"`
	AmountFen   int64     `dynamodbav:"amountFen" json:"amountFen"`
	TotalFen    int64     `dynamodbav:"totalFen" json:"totalFen"`
	Reason      string    `dynamodbav:"reason,omitempty" json:"reason,omitempty"`
	Purpose     string    `dynamodbav:"purpose" json:"purpose"` // "staff" or "close" (销户)
	Status      string    `dynamodbav:"status" json:"status"`
	WeChatState string    `dynamodbav:"wechatState,omitempty" json:"wechatState,omitempty"` // PROCESSING, SUCCESS, CLOSED, ABNORMAL
	WeChatCode  string    `dynamodbav:"wechatCode,omitempty" json:"wechatCode,omitempty"`   // a refusal's code
	RefundID    string    `dynamodbav:"refundId,omitempty" json:"refundId,omitempty"`
	RequestedBy string    `dynamodbav:"requestedBy" json:"requestedBy"`
	CreatedAt   time.Time `dynamodbav:"createdAt" json:"createdAt"`
	FinishedAt  time.Time `dynamodbav:"finishedAt,omitempty" json:"finishedAt,omitzero"`
}

func (r *Refund) item() store.Key { return store.Key{PK: r.PK2, SK: r.SK2} }

// refundNo is the out_refund_no of the refund of order asked for under key: "F", the order number's 24
// digits, "-", 8 hex digits of the key. The same request always names the same refund (a retry is
// answered by it, and WeChat Pay refunds one number once).
func refundNo(orderNo, key string) string {
	h := sha256.Sum256([]byte(orderNo + "\x00" + key))
	return "F" + orderNo[1:] + "-" + hex.EncodeToString(h[:4])
}

// RefundNoFor is the out_refund_no that Refund gives the refund of orderNo asked for under key.
func RefundNoFor(orderNo, key string) string { return refundNo(orderNo, key) }

// Errors of refunds.
var (
	ErrRefundNotPaid   = fault.E(fault.Conflict, "ORDER_NOT_PAID", "订单未支付，不能退款")
	ErrRefundDorm      = fault.E(fault.Rule, "REFUND_NOT_SUPPORTED", "宿舍水电充值暂不支持原路退款")
	ErrRefundWindow    = fault.E(fault.Rule, "REFUND_WINDOW_PASSED", "该订单支付已超过一年，微信支付不再受理退款")
	ErrRefundExceeds   = fault.E(fault.Conflict, "REFUND_EXCEEDS_PAYMENT", "退款金额超过该订单可退金额（订单金额减去已退和退款中的金额）")
	ErrRefundBalance   = fault.E(fault.Conflict, "REFUND_EXCEEDS_BALANCE", "退款金额超过卡内余额")
	ErrRefundAmount    = fault.Field("BAD_AMOUNT", "退款金额须为大于 0 的整数（单位：分）")
	ErrRefundReason    = fault.Field("BAD_REASON", "退款原因不超过 80 个字，不含控制字符")
	ErrRefundKey       = fault.Field("IDEMPOTENCY_KEY_REQUIRED", "请在请求头 Idempotency-Key 中给出本次退款的幂等键")
	ErrNoRefund        = fault.E(fault.NotFound, "REFUND_NOT_FOUND", "退款单不存在")
	ErrRefundCardMoved = fault.E(fault.Conflict, "REFUND_CARD_BUSY", "该卡正在变动，请稍后重试")
)

// RefundInput is one refund request.
type RefundInput struct {
	School    string
	Actor     staff.Who
	OrderNo   string
	AmountFen int64
	Reason    string
	Key       string // the request's idempotency key
	Purpose   string // "staff" (default) or "close"
}

// Refund holds and asks for a refund of a paid card recharge, once per (order, key): a repeat answers
// the same refund (and asks WeChat Pay again while it is pending). The amount is never more than the
// order's amount minus its refunds that did not fail, nor than the card can give (no overdraft); within
// WeChat Pay's refund window.
func (s *Service) Refund(ctx context.Context, in RefundInput) (*Refund, error) {
	if in.Key == "" {
		return nil, ErrRefundKey
	}
	if err := CheckIdemKey(in.Key); err != nil {
		return nil, err
	}
	if in.AmountFen <= 0 || in.AmountFen > ledger.MaxAmountFen {
		return nil, ErrRefundAmount
	}
	reason, problem := RefundReasonRule.Check(in.Reason)
	if problem != plaintext.OK {
		return nil, ErrRefundReason
	}
	if in.Purpose == "" {
		in.Purpose = "staff"
	}
	o, err := Get(ctx, s.S, in.OrderNo)
	if err != nil {
		return nil, err
	}
	if o.SchoolID != in.School {
		return nil, errNoOrder
	}
	no := refundNo(o.OrderNo, in.Key)
	if r, ok, err := s.getRefund(ctx, no); err != nil {
		return nil, err
	} else if ok {
		if r.AmountFen != in.AmountFen || r.OrderNo != o.OrderNo {
			return nil, fault.ErrIdemReused
		}
		return s.submit(ctx, r)
	}
	switch {
	case o.Status != Paid:
		return nil, ErrRefundNotPaid
	case o.Target.Kind != "card":
		return nil, ErrRefundDorm
	case s.Now().Sub(o.PaidAt) >= wechatpay.RefundWindow:
		return nil, ErrRefundWindow
	}
	for attempt := 1; ; attempt++ {
		if o.RefundedFen+in.AmountFen > o.AmountFen {
			return nil, ErrRefundExceeds
		}
		holder, err := s.holder(ctx, o)
		if err != nil {
			return nil, err
		}
		now := s.Now().UTC()
		r := &Refund{Key: store.RefundKey(no), InGSI1: store.InGSI1{GSI1PK: RefundsPendingPK, GSI1SK: now.Format(time.RFC3339Nano)}, Type: "refund",
			RefundNo: no, OrderNo: o.OrderNo, SchoolID: o.SchoolID, CardNo: holder.CardNo, Account: holder.Account,
			PK2: holder.PK, SK2: holder.SK, AmountFen: in.AmountFen, TotalFen: o.AmountFen, Reason: reason, Purpose: in.Purpose,
			Status: RefundPending, RequestedBy: in.Actor.ID, CreatedAt: now}
		res, err := s.hold(ctx, o, r, in.Actor)
		switch {
		case err == nil && res.Replayed:
			// The same request, concurrently: answer with the refund it wrote.
			r, ok, err := s.getRefund(ctx, no)
			if err != nil || !ok {
				return nil, errors.Join(err, ErrNoRefund)
			}
			return s.submit(ctx, r)
		case err == nil:
			return s.submit(ctx, r)
		case errors.Is(err, ledger.ErrInsufficient):
			return nil, ErrRefundBalance
		case fault.Is(err, ledger.ErrBusy.Code) && attempt < creditAttempts:
			// Another refund of the order, or a posting to the card, got in between: decide again.
			if werr := backoff(ctx, attempt); werr != nil {
				return nil, werr
			}
			if o, err = Get(ctx, s.S, in.OrderNo); err != nil {
				return nil, err
			}
			continue
		default:
			return nil, err
		}
	}
}

// hold posts the refund's debit with the refund item, the order's refundedFen and the audit record in one
// transaction (a one-shot ledger: any conflict is the caller's to decide again).
func (s *Service) hold(ctx context.Context, o *Order, r *Refund, actor staff.Who) (ledger.Result, error) {
	put, err := store.PutItem(r, store.IfAbsent, nil)
	if err != nil {
		return ledger.Result{}, err
	}
	one := *s.Ledger
	one.MaxAttempts = 1
	return one.Post(ctx, ledger.Movement{Scope: "refund", Key: r.RefundNo, Input: []any{r.RefundNo, r.OrderNo, r.AmountFen},
		Postings: ledger.External(ledger.Posting{Account: r.Account, Item: r.item(), AmountFen: -r.AmountFen, Kind: KindRefund,
			Counterparty: RefundClearing, Merchant: "微信退款"}),
		Extra: []types.TransactWriteItem{put,
			store.HoldOrderRefundItem(o.Key, r.AmountFen, Paid, o.AmountFen-r.AmountFen),
			staff.AuditItem(actor, "order.refund", "order:"+r.OrderNo,
				map[string]any{"refundNo": r.RefundNo, "amountFen": r.AmountFen, "cardNo": r.CardNo, "reason": r.Reason, "purpose": r.Purpose}, s.Now()),
		}})
}

// holder is the card that holds a card order's money now: where it was credited, or the card that
// replaced it (a closed card with no successor holds it itself).
func (s *Service) holder(ctx context.Context, o *Order) (*cards.Card, error) {
	t := o.Target
	if o.CreditedTo != nil {
		t = *o.CreditedTo
	}
	return s.current(ctx, o.SchoolID, t.CardNo)
}

// current is card cardNo of school or, if it was cancelled and replaced, the card that replaced it
// (following replacedBy at most maxReplaceHops times).
func (s *Service) current(ctx context.Context, school, cardNo string) (*cards.Card, error) {
	repo := cards.Repo{S: s.S}
	c, err := repo.Get(ctx, school, cardNo)
	if err != nil {
		return nil, err
	}
	for hops := 0; c.Status == cards.Cancelled && c.ReplacedBy != "" && hops < maxReplaceHops; hops++ {
		if c, err = repo.Get(ctx, c.SchoolID, c.ReplacedBy); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (s *Service) getRefund(ctx context.Context, no string) (*Refund, bool, error) {
	var r Refund
	ok, err := s.S.Get(ctx, store.RefundKey(no), &r)
	if err != nil || !ok {
		return nil, ok, err
	}
	return &r, true, nil
}

// GetRefund reads a refund of school.
func (s *Service) GetRefund(ctx context.Context, school, no string) (*Refund, error) {
	if !wechatpay.ValidOutRefundNo(no) {
		return nil, ErrNoRefund
	}
	r, ok, err := s.getRefund(ctx, no)
	if err != nil {
		return nil, err
	}
	if !ok || r.SchoolID != school {
		return nil, ErrNoRefund
	}
	return r, nil
}

// submit asks WeChat Pay for a pending refund and acts on a signed answer: accepted (processing, or
// already final), or refused (the amount goes back). An answer that is not signed, or a temporary
// failure, leaves it pending for the reconciler, which asks again with the same out_refund_no.
func (s *Service) submit(ctx context.Context, r *Refund) (*Refund, error) {
	if r.Status != RefundPending {
		return r, nil
	}
	c, err := s.WeChat.Client(ctx)
	if err != nil {
		httpapi.Log(ctx).Error("refund left pending: WeChat Pay not configured", "refundNo", r.RefundNo, "err", err.Error())
		return r, nil
	}
	wr, err := c.CreateRefund(ctx, wechatpay.RefundRequest{OutTradeNo: r.OrderNo, OutRefundNo: r.RefundNo, Reason: r.Reason,
		RefundFen: r.AmountFen, TotalFen: r.TotalFen})
	var ae *wechatpay.APIError
	switch {
	case errors.As(err, &ae) && ae.Verified && !ae.Temporary():
		httpapi.Log(ctx).Warn("refund refused by WeChat Pay", "refundNo", r.RefundNo, "code", ae.Code)
		return s.settleRefund(ctx, r, "", ae.Code, RefundFailed)
	case err != nil:
		httpapi.Log(ctx).Warn("refund left pending", "refundNo", r.RefundNo, "err", err.Error())
		return r, nil
	}
	return s.applyWeChat(ctx, c, r, wr)
}

// applyWeChat settles r on what WeChat Pay says about it (an answer or a notification, verified).
func (s *Service) applyWeChat(ctx context.Context, c *wechatpay.Client, r *Refund, wr wechatpay.Refund) (*Refund, error) {
	if err := wr.Matches(c.MchID(), r.OrderNo, r.RefundNo, r.AmountFen, r.TotalFen); err != nil {
		return nil, err
	}
	switch wr.State() {
	case wechatpay.RefundSuccess:
		return s.settleRefund(ctx, r, wr.RefundID, wr.State(), RefundSucceeded)
	case wechatpay.RefundClosed, wechatpay.RefundAbnormal:
		return s.settleRefund(ctx, r, wr.RefundID, wr.State(), RefundFailed)
	default:
		if r.Status == RefundPending {
			err := s.S.RefundProcessing(ctx, r.Key, RefundProcessing, wr.State(), wr.RefundID, RefundPending)
			if err != nil && !errors.Is(err, store.ErrConditionFailed) {
				return nil, err
			}
		}
		return s.reread(ctx, r)
	}
}

func (s *Service) reread(ctx context.Context, r *Refund) (*Refund, error) {
	fresh, ok, err := s.getRefund(ctx, r.RefundNo)
	if err != nil || !ok {
		return nil, errors.Join(err, ErrNoRefund)
	}
	return fresh, nil
}

// settleRefund makes r final. A success only marks it; a failure gives the amount back to the card that
// holds the card's money now, with the refund marked failed and the order's refundedFen lowered in the
// same transaction (once: the release's idempotency key is the refund number).
func (s *Service) settleRefund(ctx context.Context, r *Refund, refundID, wxState, status string) (*Refund, error) {
	now := s.Now().UTC()
	// A failure that is not one of WeChat Pay's refund states is an error code (wechatCode).
	asCode := status == RefundFailed && wxState != wechatpay.RefundClosed && wxState != wechatpay.RefundAbnormal
	upd := store.SettleRefundItem(r.Key, status, wxState, asCode, now, refundID, RefundPending, RefundProcessing)
	if status == RefundSucceeded {
		err := s.S.Transact(ctx, []types.TransactWriteItem{upd}, "")
		var tc *store.TxCanceled
		if err != nil && !errors.As(err, &tc) {
			return nil, err
		}
		return s.reread(ctx, r)
	}
	to, err := s.releaseTo(ctx, r)
	if err != nil {
		return nil, err
	}
	_, err = s.Ledger.Post(ctx, ledger.Movement{Scope: "refund-release", Key: r.RefundNo, Input: []any{r.RefundNo, r.AmountFen},
		Postings: ledger.External(ledger.Posting{Account: to.Account, Item: to.Key, AmountFen: r.AmountFen, Kind: KindRefundRelease,
			Counterparty: RefundClearing, Merchant: "微信退款未成功，退回"}),
		Extra: []types.TransactWriteItem{upd,
			store.ReleaseOrderRefundItem(store.OrderKey(r.OrderNo), r.AmountFen)},
	})
	if err != nil {
		if fault.Is(err, ledger.ErrBusy.Code) {
			// Settled by the other path (notification or reconciler) meanwhile, or the card kept moving:
			// what is stored says which.
			if fresh, rerr := s.reread(ctx, r); rerr == nil && fresh.Status != RefundPending && fresh.Status != RefundProcessing {
				return fresh, nil
			}
		}
		return nil, err
	}
	httpapi.Log(ctx).Info("refund failed; amount given back", "refundNo", r.RefundNo, "amountFen", r.AmountFen, "state", wxState)
	return s.reread(ctx, r)
}

// releaseTo is the card a failed refund's amount goes back to: the card it was taken from, or the card
// that replaced it since.
func (s *Service) releaseTo(ctx context.Context, r *Refund) (*cards.Card, error) {
	return s.current(ctx, r.SchoolID, r.CardNo)
}

// RefreshRefund asks WeChat Pay about a refund that is not final and settles it on a signed answer: the
// path that heals a lost notification (the reconciler, and GET /v1/admin/refunds/{refundNo}). A refund
// WeChat Pay never accepted (signed RESOURCE_NOT_EXISTS) is asked for again with the same number.
func (s *Service) RefreshRefund(ctx context.Context, r *Refund) (*Refund, error) {
	if r.Status != RefundPending && r.Status != RefundProcessing {
		return r, nil
	}
	c, err := s.WeChat.Client(ctx)
	if err != nil {
		return nil, ErrPayUnavailable.Wrap(err)
	}
	wr, err := c.QueryRefund(ctx, r.RefundNo)
	switch {
	case wechatpay.IsAPICode(err, "RESOURCE_NOT_EXISTS"):
		if r.Status == RefundProcessing {
			return nil, errors.New("recharge: WeChat Pay does not know a refund it accepted")
		}
		return s.submit(ctx, r)
	case err != nil:
		return nil, unverified(err)
	}
	return s.applyWeChat(ctx, c, r, wr)
}

// RefundReport counts what one reconciler run did with refunds.
type RefundReport struct {
	Checked, Succeeded, Failed, StillOpen, Errors int
}

// RefundReconcileAfter is how long a refund waits for its notification before the reconciler asks.
const RefundReconcileAfter = 2 * time.Minute

// ReconcileRefunds settles the refunds not final for longer than olderThan (lost notifications, a submit
// that never got an answer).
func (s *Service) ReconcileRefunds(ctx context.Context, olderThan time.Duration) (RefundReport, error) {
	var rep RefundReport
	q := store.Query{Index: store.GSI1, PK: RefundsPendingPK, To: s.Now().Add(-olderThan).UTC().Format(time.RFC3339Nano)}
	err := store.Each(ctx, s.S, q, func(page []Refund) error {
		for i := range page {
			rep.Checked++
			r, err := s.RefreshRefund(ctx, &page[i])
			switch {
			case err != nil:
				rep.Errors++
				httpapi.Log(ctx).Error("reconcile refund", "refundNo", page[i].RefundNo, "err", err.Error())
			case r.Status == RefundSucceeded:
				rep.Succeeded++
			case r.Status == RefundFailed:
				rep.Failed++
			default:
				rep.StillOpen++
			}
		}
		return nil
	})
	return rep, err
}
