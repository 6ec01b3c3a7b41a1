package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Writes to cards (CardKey) and to roster entries (StudentKey) about their cards.

// CardStatusItem moves the card k from status from at blv to status, only while it is still there. It
// bumps blv (to blv+1), so that a ledger posting decided on the card as it was read fails its blv
// condition and decides again. set and remove are further assignments ("name = :value") and attribute
// names for the same update, with their values in vals.
func CardStatusItem(k Key, status, from string, blv int64, set, remove []string, vals Values) types.TransactWriteItem {
	if vals == nil {
		vals = Values{}
	}
	vals[":st"], vals[":old"], vals[":oblv"], vals[":blv"] = status, from, blv, blv+1
	all := append([]string{"#st = :st", "blv = :blv"}, set...)
	return UpdateItem(k, setRemove(all, remove), "#st = :old AND blv = :oblv", map[string]string{"#st": "status"}, vals.AV())
}

// BindCardItem binds the card k to userID, unless it is bound to someone else.
func BindCardItem(k Key, userID string) types.TransactWriteItem {
	return UpdateItem(k, "SET boundUser = :u", "attribute_not_exists(boundUser) OR boundUser = :u", nil,
		Values{":u": userID}.AV())
}

// UnbindCardItem takes the binding off the card k, only while it is bound to userID.
func UnbindCardItem(k Key, userID string) types.TransactWriteItem {
	return UpdateItem(k, "REMOVE boundUser", "boundUser = :u", nil, Values{":u": userID}.AV())
}

// UnbindCard is UnbindCardItem on its own (ErrConditionFailed when the card is not bound to userID).
func (s *Store) UnbindCard(ctx context.Context, k Key, userID string) error {
	return s.Update(ctx, k, "REMOVE boundUser", "boundUser = :u", nil, Values{":u": userID}.AV())
}

// OpenVirtualCard turns the virtual card of k on. Unconditional.
func (s *Store) OpenVirtualCard(ctx context.Context, k Key) error {
	return s.Update(ctx, k, "SET virtualCard = :t", "", nil, Values{":t": true}.AV())
}

// CloseVirtualCard turns the virtual card of k off. Unconditional.
func (s *Store) CloseVirtualCard(ctx context.Context, k Key) error {
	return s.Update(ctx, k, "SET virtualCard = :f", "", nil, Values{":f": false}.AV())
}

// SetCardPassword sets the password hash of the card k, and whether it is no longer the initial one
// (changed). Unconditional.
func (s *Store) SetCardPassword(ctx context.Context, k Key, hash string, changed bool) error {
	return s.Update(ctx, k, "SET passwordHash = :h, pwChanged = :c", "", nil, Values{":h": hash, ":c": changed}.AV())
}

// ResetCardPassword sets the password hash of the card k to an initial password. Unconditional.
func (s *Store) ResetCardPassword(ctx context.Context, k Key, hash string) error {
	return s.Update(ctx, k, "SET passwordHash = :h, pwChanged = :f", "", nil, Values{":h": hash, ":f": false}.AV())
}

// SetCardLimits sets the per-transaction and daily limits of the card k, only while they are still
// oldPerTxn and oldDaily (else ErrConditionFailed).
func (s *Store) SetCardLimits(ctx context.Context, k Key, perTxn, daily, oldPerTxn, oldDaily int64) error {
	return s.Update(ctx, k, "SET perTxnFen = :p, dailyFen = :d", "perTxnFen = :op AND dailyFen = :od", nil,
		Values{":p": perTxn, ":d": daily, ":op": oldPerTxn, ":od": oldDaily}.AV())
}

// SetStudentCardNo points the roster entry k at cardNo (补卡); the entry must exist.
func (s *Store) SetStudentCardNo(ctx context.Context, k Key, cardNo string) error {
	return s.Update(ctx, k, "SET cardNo = :n", "attribute_exists(PK)", nil, Values{":n": cardNo}.AV())
}

// StudentCardClosed takes the roster entry k out of the leavers index and records when its card was
// closed, only while the entry names cardNo (else ErrConditionFailed).
func (s *Store) StudentCardClosed(ctx context.Context, k Key, cardNo string, at time.Time) error {
	return s.Update(ctx, k, "REMOVE GSI2PK, GSI2SK SET cardClosedAt = :at", "cardNo = :c", nil,
		Values{":c": cardNo, ":at": at}.AV())
}

// CardHolderItem renames the holder of the card k (the roster import changed the student's name); the
// card must exist.
func CardHolderItem(k Key, name string) types.TransactWriteItem {
	return UpdateItem(k, "SET holderName = :n", "attribute_exists(PK)", nil, Values{":n": name}.AV())
}
