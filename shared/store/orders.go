package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Writes to recharge orders (OrderKey) and their refunds (RefundKey). A pending order or refund is in the
// GSI1 index of open items; it leaves it when it is final.

// SetOrderPayParams stores the WeChat Pay parameters of the order k; the order must exist.
func (s *Store) SetOrderPayParams(ctx context.Context, k Key, params any) error {
	return s.Update(ctx, k, "SET payParams = :p", "attribute_exists(PK)", nil, Values{":p": params}.AV())
}

// OrderPaidItem marks the order k paid (status paid, when, WeChat's transaction id, where the money was
// credited, and note when not empty) and takes it out of the open index; the order must exist.
func OrderPaidItem(k Key, paid string, at time.Time, transactionID string, creditedTo any, note string) types.TransactWriteItem {
	set := "SET #st = :paid, paidAt = :at, transactionId = :tx, creditedTo = :to"
	vals := Values{":paid": paid, ":at": at, ":tx": transactionID, ":to": creditedTo}
	if note != "" {
		set += ", creditNote = :note"
		vals[":note"] = note
	}
	return UpdateItem(k, set+" REMOVE GSI1PK, GSI1SK", "attribute_exists(PK)", map[string]string{"#st": "status"}, vals.AV())
}

// CloseOrder marks the order k closed and takes it out of the open index, only while it is pending
// (else ErrConditionFailed).
func (s *Store) CloseOrder(ctx context.Context, k Key, closed, pending string) error {
	return s.Update(ctx, k, "SET #st = :c REMOVE GSI1PK, GSI1SK", "#st = :p", map[string]string{"#st": "status"},
		Values{":c": closed, ":p": pending}.AV())
}

// HoldOrderRefundItem adds amountFen to what is refunded of the order k, only while the order is paid
// and no more than maxBefore is refunded already (so the total never exceeds what was paid).
func HoldOrderRefundItem(k Key, amountFen int64, paid string, maxBefore int64) types.TransactWriteItem {
	return UpdateItem(k, "ADD refundedFen :a", "#st = :paid AND (attribute_not_exists(refundedFen) OR refundedFen <= :max)",
		map[string]string{"#st": "status"}, Values{":a": amountFen, ":paid": paid, ":max": maxBefore}.AV())
}

// ReleaseOrderRefundItem takes amountFen off what is refunded of the order k (a refund that failed); the
// order must exist.
func ReleaseOrderRefundItem(k Key, amountFen int64) types.TransactWriteItem {
	return UpdateItem(k, "ADD refundedFen :a", "attribute_exists(PK)", nil, Values{":a": -amountFen}.AV())
}

// RefundProcessing records that WeChat Pay accepted the refund k (its state and refund id, the refund's
// status becoming processing), only while the refund is pending (else ErrConditionFailed).
func (s *Store) RefundProcessing(ctx context.Context, k Key, processing, wechatState, refundID, pending string) error {
	return s.Update(ctx, k, "SET #st = :p, wechatState = :w, refundId = :id", "#st = :pending",
		map[string]string{"#st": "status"}, Values{":p": processing, ":w": wechatState, ":id": refundID, ":pending": pending}.AV())
}

// SettleRefundItem makes the refund k final with status, WeChat's state, finishedAt at and its refundId
// when not empty, and takes it out of the open index, only while it is pending or processing. With
// asCode, wechatState is an error code rather than a refund state: it is stored as wechatCode, and
// wechatState empty.
func SettleRefundItem(k Key, status, wechatState string, asCode bool, at time.Time, refundID, pending, processing string) types.TransactWriteItem {
	set := "SET #st = :s, wechatState = :w, finishedAt = :at"
	vals := Values{":s": status, ":w": wechatState, ":at": at, ":pending": pending, ":proc": processing}
	if refundID != "" {
		set += ", refundId = :id"
		vals[":id"] = refundID
	}
	if asCode {
		set += ", wechatCode = :code"
		vals[":code"] = wechatState
		vals[":w"] = ""
	}
	return UpdateItem(k, set+" REMOVE GSI1PK, GSI1SK", "#st IN (:pending, :proc)", map[string]string{"#st": "status"}, vals.AV())
}
