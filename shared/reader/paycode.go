package reader

import (
	"context"
	"errors"
	"time"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/paycode"
)

// Errors of POST /v1/card/payment-code beyond the card's own (VIRTUAL_CARD_OFF, CARD_LOST, ...).
var (
	ErrInArrears     = fault.E(fault.Rule, "CARD_IN_ARREARS", "一卡通已欠费，请先充值后再使用付款码")
	ErrDailyLimitHit = fault.E(fault.Rule, "DAILY_LIMIT_REACHED", "今日消费已达日限额")
	ErrNoBalance     = fault.E(fault.Rule, "INSUFFICIENT_BALANCE", "一卡通余额为零，请先充值后再使用付款码")
)

// CodeValidity is how long a payment code is valid (the format allows at most 60 s).
const CodeValidity = paycode.MaxValidity

// IssuedCode is the answer of POST /v1/card/payment-code.
type IssuedCode struct {
	Code      string `json:"code"`
	ExpiresAt string `json:"expiresAt"`
	AmountFen int64  `json:"amountFen"`
	// PerTxnFen repeats AmountFen under the name the answer had before codes were bounded by the balance.
	PerTxnFen int64 `json:"perTxnFen"`
}

// IssueCode signs a payment code for the caller's card. The code authorises the most the card can pay
// now: min(balance, per-transaction limit, what is left of the daily limit), the limits taken no higher
// than the school's ceilings (a ceiling lowered by staff binds cards whose limits were set before).
// Nothing is reserved: two codes issued on one balance may each authorise all of it; the consumer
// refuses to post a code record below zero (it becomes a dispute, see Message.Movement), so a code is
// never an overdraft.
func IssueCode(ctx context.Context, svc *cards.Service, keys *Keys, p auth.Principal, now time.Time) (*IssuedCode, error) {
	_, c, err := svc.Mine(ctx, p)
	if err != nil {
		return nil, err
	}
	switch {
	case !c.Virtual:
		return nil, cards.ErrVirtualOff
	case c.Status == cards.Cancelled:
		return nil, cards.ErrCancelled
	case c.Status == cards.Lost:
		return nil, cards.ErrLost
	case c.Status == cards.Locked:
		return nil, cards.ErrLocked
	case c.Arrears || c.Balance < 0:
		return nil, ErrInArrears
	case c.Balance == 0:
		return nil, ErrNoBalance
	}
	sch, err := svc.Schools.Get(ctx, c.SchoolID)
	if err != nil {
		return nil, err
	}
	perTxn, daily := sch.MaxPerTxnFen, sch.MaxDailyFen
	if c.PerTxnFen > 0 {
		perTxn = min(perTxn, c.PerTxnFen)
	}
	if c.DailyFen > 0 {
		daily = min(daily, c.DailyFen)
	}
	left := daily - c.SpentOn(chinatime.Day(now))
	if left <= 0 {
		return nil, ErrDailyLimitHit
	}
	amount := min(c.Balance, perTxn, left, ledger.MaxAmountFen)
	if keys.Signer.Priv == nil {
		return nil, errors.New("reader: no payment-code signing key configured")
	}
	nonce, err := paycode.NewNonce()
	if err != nil {
		return nil, err
	}
	iss := now.Truncate(time.Second)
	exp := iss.Add(CodeValidity)
	code, err := paycode.Issue(keys.Signer, paycode.Claims{School: c.SchoolID, CardNo: c.CardNo, AmountFen: amount,
		IssuedAt: iss, ExpiresAt: exp, Nonce: nonce})
	if err != nil {
		return nil, err
	}
	return &IssuedCode{Code: code, ExpiresAt: exp.In(chinatime.Zone).Format(time.RFC3339), AmountFen: amount, PerTxnFen: amount}, nil
}
