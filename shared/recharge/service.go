package recharge

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/accounts"
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
	o.Key, o.GSI1PK, o.GSI1SK = OrderKey(o.OrderNo), PendingPK, now.Format(time.RFC3339Nano)
	put, err := store.PutItem(o, "attribute_not_exists(PK)", nil)
	if err != nil {
		return nil, err
	}
	items := []types.TransactWriteItem{put}
	if marker != nil {
		marker.OrderNo = o.OrderNo
		m, err := store.PutItem(marker, "attribute_not_exists(PK)", nil)
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
	if err := s.S.Update(ctx, o.Key, "SET payParams = :p", "attribute_exists(PK)", nil, store.Values{":p": params}.AV()); err != nil {
		return nil, err
	}
	o.PayParams = &params
	return o, nil
}

// Credit posts a paid transaction to the order's target once, and marks the order paid in the same
// transaction. It is what both the notification and the reconciler call.
func (s *Service) Credit(ctx context.Context, c *wechatpay.Client, o *Order, tx wechatpay.Transaction) error {
	if err := tx.Matches(c.MchID(), c.AppID(), o.OrderNo, o.AmountFen); err != nil {
		return err
	}
	occurred := tx.SuccessTime
	if occurred.IsZero() {
		occurred = s.Now()
	}
	_, err := s.Ledger.Post(ctx, ledger.Movement{Scope: "wechat", Key: o.OrderNo,
		Input: []any{o.OrderNo, o.Target.Account, o.AmountFen},
		Postings: []ledger.Posting{{Account: o.Target.Account, Item: o.Target.Item(), AmountFen: o.AmountFen,
			Kind: ledger.KindRecharge, Counterparty: "ext:wechat", Merchant: "微信充值", OccurredAt: occurred}},
		Extra: []types.TransactWriteItem{store.UpdateItem(o.Key,
			"SET #st = :paid, paidAt = :at, transactionId = :tx REMOVE GSI1PK, GSI1SK", "attribute_exists(PK)",
			map[string]string{"#st": "status"},
			store.Values{":paid": Paid, ":at": occurred.UTC(), ":tx": tx.TransactionID}.AV())},
	})
	if err == nil {
		httpapi.Log(ctx).Info("recharge credited", "orderNo", o.OrderNo, "amountFen", o.AmountFen, "target", o.Target.Kind)
	}
	return err
}

// ReconcileReport counts what one reconciler run did.
type ReconcileReport struct {
	Checked, Credited, Closed, StillPending, Failed int
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
	in := &dynamodb.QueryInput{IndexName: aws.String(store.GSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :p AND GSI1SK <= :t"),
		ExpressionAttributeValues: store.Values{":p": PendingPK, ":t": now.Add(-olderThan).UTC().Format(time.RFC3339Nano)}.AV()}
	for {
		var page []Order
		last, err := s.S.QueryPage(ctx, in, &page)
		if err != nil {
			return rep, err
		}
		for i := range page {
			rep.Checked++
			switch outcome, err := s.settle(ctx, c, &page[i], now); {
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
		if last == nil {
			return rep, nil
		}
		in.ExclusiveStartKey = last
	}
}

func (s *Service) settle(ctx context.Context, c *wechatpay.Client, o *Order, now time.Time) (string, error) {
	tx, err := c.QueryOrder(ctx, o.OrderNo)
	if wechatpay.IsAPICode(err, "ORDER_NOT_EXIST") {
		if now.After(o.ExpiresAt) {
			return Closed, s.markClosed(ctx, o)
		}
		return Pending, nil
	}
	if err != nil {
		return "", err
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
			return "", err
		}
		return Paid, s.Credit(ctx, c, o, tx)
	}
	if err != nil && !wechatpay.IsAPICode(err, "ORDER_CLOSED") {
		return "", err
	}
	return Closed, s.markClosed(ctx, o)
}

func (s *Service) markClosed(ctx context.Context, o *Order) error {
	err := s.S.Update(ctx, o.Key, "SET #st = :c REMOVE GSI1PK, GSI1SK", "#st = :p", map[string]string{"#st": "status"},
		store.Values{":c": Closed, ":p": Pending}.AV())
	if errors.Is(err, store.ErrConditionFailed) {
		return nil // credited meanwhile
	}
	return err
}
