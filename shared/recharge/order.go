// Package recharge is 充值 by WeChat Pay: orders for a card (and, through the dorm package, a room's
// utility account), the payment notification, and the reconciler that heals lost notifications. A
// recharge is credited through the ledger the moment WeChat Pay confirms it, exactly once, whichever of
// the notification and the reconciler gets there first: both use the order number as the idempotency key.
package recharge

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"time"

	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/store"
	"onecard/shared/wechatpay"
)

// Order statuses (docs/wechatpay.md).
const (
	Pending = "pending"
	Paid    = "paid"
	Closed  = "closed"
)

// OrderTTL is how long WeChat Pay accepts payment of an order (time_expire).
const OrderTTL = 30 * time.Minute

// PendingPK is the GSI1 partition of orders still waiting for WeChat Pay; the item leaves it when paid
// or closed (a sparse index, so the reconciler reads only what it must).
const PendingPK = store.OrdersPendingPK

// Target is what an order credits.
type Target struct {
	Kind        string `dynamodbav:"kind" json:"kind"` // "card" or "dorm"
	Account     string `dynamodbav:"account" json:"-"`
	PK          string `dynamodbav:"pk" json:"-"`
	SK          string `dynamodbav:"sk" json:"-"`
	CardNo      string `dynamodbav:"cardNo,omitempty" json:"cardNo,omitempty"`
	RoomID      string `dynamodbav:"roomId,omitempty" json:"roomId,omitempty"`
	AccountKind string `dynamodbav:"accountKind,omitempty" json:"accountKind,omitempty"`
	Label       string `dynamodbav:"label,omitempty" json:"label,omitempty"`
}

// Item is the ledger item the target's balance lives on.
func (t Target) Item() store.Key { return store.Key{PK: t.PK, SK: t.SK} }

// Order is a WeChat Pay recharge order; OrderNo is WeChat Pay's out_trade_no.
type Order struct {
	store.Key
	store.InGSI1                       // store.OrdersPendingPK while pending
	store.InGSI2                       // store.UserOrdersPK(UserID) / userOrderSK, for life
	Type          string               `dynamodbav:"type"`
	OrderNo       string               `dynamodbav:"orderNo"`
	UserID        string               `dynamodbav:"userId"`
	SchoolID      string               `dynamodbav:"schoolId"`
	Target        Target               `dynamodbav:"target"`
	AmountFen     int64                `dynamodbav:"amountFen"`
	Status        string               `dynamodbav:"status"`
	OpenID        string               `dynamodbav:"openId"`
	Description   string               `dynamodbav:"description"`
	PayParams     *wechatpay.PayParams `dynamodbav:"payParams,omitempty"`
	CreatedAt     time.Time            `dynamodbav:"createdAt"`
	ExpiresAt     time.Time            `dynamodbav:"expiresAt"`
	PaidAt        time.Time            `dynamodbav:"paidAt,omitempty"`
	TransactionID string               `dynamodbav:"transactionId,omitempty"`
	// CreditedTo is where the money went once paid: Target, or the student's current card when Target's
	// card was replaced (CreditNote says why it differs). Absent on orders credited before it existed.
	CreditedTo *Target `dynamodbav:"creditedTo,omitempty"`
	CreditNote string  `dynamodbav:"creditNote,omitempty"`
	// RefundedFen is what refunds that did not fail (held, processing or done) took back (refund.go).
	RefundedFen int64 `dynamodbav:"refundedFen,omitempty"`
}

// userOrderSK sorts a user's orders by creation: fixed-width UTC microseconds, then the order number
// (two orders of the same microsecond stay distinct and in a stable order).
func userOrderSK(created time.Time, no string) string {
	return created.UTC().Format("2006-01-02T15:04:05.000000Z") + "#" + no
}

// View is GET /v1/orders/{orderNo} and an item of GET /v1/orders.
type View struct {
	OrderNo   string `json:"orderNo"`
	Status    string `json:"status"`
	AmountFen int64  `json:"amountFen"`
	Target    Target `json:"target"`
	// Description is what WeChat Pay shows the payer: 一卡通充值, or the room in words (8栋1006宿舍电费充值).
	Description string `json:"description"`
	CreatedAt   string `json:"createdAt"`
	// ExpiresAt, while pending, is when WeChat Pay stops accepting payment of the order.
	ExpiresAt string `json:"expiresAt,omitempty"`
	PaidAt    string `json:"paidAt,omitempty"`
	// CreditedTo is where a paid order's money went; it differs from Target after a 补卡.
	CreditedTo *Target `json:"creditedTo,omitempty"`
	CreditNote string  `json:"creditNote,omitempty"`
	// RefundedFen is what has been refunded, or is being refunded, to the payer.
	RefundedFen int64 `json:"refundedFen,omitempty"`
}

// View returns the public view.
func (o *Order) View() View {
	v := View{OrderNo: o.OrderNo, Status: o.Status, AmountFen: o.AmountFen, Target: o.Target, Description: o.Description,
		CreatedAt: o.CreatedAt.In(chinatime.Zone).Format(time.RFC3339), CreditedTo: o.CreditedTo, CreditNote: o.CreditNote,
		RefundedFen: o.RefundedFen}
	if o.Status == Pending && !o.ExpiresAt.IsZero() {
		v.ExpiresAt = o.ExpiresAt.In(chinatime.Zone).Format(time.RFC3339)
	}
	if !o.PaidAt.IsZero() {
		v.PaidAt = o.PaidAt.In(chinatime.Zone).Format(time.RFC3339)
	}
	return v
}

// newOrderNo is R + China-time yyyymmddhhmmss + 10 random digits: 25 characters, inside WeChat Pay's
// 6–32 for out_trade_no, sortable by time and unguessable enough that orders cannot be enumerated.
func newOrderNo(now time.Time) string {
	n, err := rand.Int(rand.Reader, big.NewInt(1e10))
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("R%s%010d", now.In(chinatime.Zone).Format("20060102150405"), n.Int64())
}

// validOrderNo checks the shape before any lookup.
func validOrderNo(no string) bool {
	if len(no) != 25 || no[0] != 'R' {
		return false
	}
	for i := 1; i < len(no); i++ {
		if no[i] < '0' || no[i] > '9' {
			return false
		}
	}
	return true
}

var errNoOrder = fault.E(fault.NotFound, "ORDER_NOT_FOUND", "订单不存在")

// Get reads an order.
func Get(ctx context.Context, s *store.Store, no string) (*Order, error) {
	if !validOrderNo(no) {
		return nil, errNoOrder
	}
	var o Order
	ok, err := s.Get(ctx, store.OrderKey(no), &o)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errNoOrder
	}
	return &o, nil
}
