package wechatpay

import (
	"encoding/json"
	"fmt"
	"time"

	"onecard/shared/chinatime"
)

// Trade states (trade_state).
const (
	TradeStateSuccess    = "SUCCESS"    // paid
	TradeStateNotPay     = "NOTPAY"     // not paid yet
	TradeStateClosed     = "CLOSED"     // closed by the merchant (or expired and closed)
	TradeStateRefund     = "REFUND"     // paid, then (partly) refunded
	TradeStateRevoked    = "REVOKED"    // payment-code orders only
	TradeStateUserPaying = "USERPAYING" // payment-code orders only
	TradeStatePayError   = "PAYERROR"   // the payment failed (e.g. bank refused)
)

// Transaction is WeChat Pay's view of one order: the decrypted resource of a payment notification, or
// the answer to QueryOrder. JSON names are WeChat's, so it round-trips through encoding/json.
type Transaction struct {
	AppID          string    `json:"appid"`
	MchID          string    `json:"mchid"`
	OutTradeNo     string    `json:"out_trade_no"`
	TransactionID  string    `json:"transaction_id,omitempty"` // WeChat's id, set once paid
	TradeType      string    `json:"trade_type,omitempty"`     // JSAPI for mini program payments
	TradeState     string    `json:"trade_state"`
	TradeStateDesc string    `json:"trade_state_desc,omitempty"`
	BankType       string    `json:"bank_type,omitempty"`
	Attach         string    `json:"attach,omitempty"` // echoed from the order
	SuccessTime    time.Time `json:"-"`                // success_time; zero until paid
	Payer          Payer     `json:"payer"`
	Amount         Amount    `json:"amount"`
}

// Payer identifies who paid, as an openid under the order's appid.
type Payer struct {
	OpenID string `json:"openid,omitempty"`
}

// Amount is in fen (分). Total is what the order asked; PayerTotal is what the user paid after coupons.
type Amount struct {
	Total         int64  `json:"total"`
	PayerTotal    int64  `json:"payer_total,omitempty"`
	Currency      string `json:"currency,omitempty"`
	PayerCurrency string `json:"payer_currency,omitempty"`
}

// transactionJSON carries success_time as text: WeChat omits it (or sends "") before payment, which
// time.Time's own decoder would refuse.
type transactionJSON struct {
	transactionAlias
	SuccessTime string `json:"success_time,omitempty"`
}

type transactionAlias Transaction

// UnmarshalJSON reads WeChat's JSON, parsing success_time as RFC 3339.
func (t *Transaction) UnmarshalJSON(data []byte) error {
	var w transactionJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*t = Transaction(w.transactionAlias)
	if w.SuccessTime != "" {
		st, err := time.Parse(time.RFC3339, w.SuccessTime)
		if err != nil {
			return fmt.Errorf("success_time %q is not RFC 3339", w.SuccessTime)
		}
		t.SuccessTime = st
	}
	return nil
}

// MarshalJSON writes WeChat's JSON, success_time in China time as WeChat Pay writes it.
func (t Transaction) MarshalJSON() ([]byte, error) {
	w := transactionJSON{transactionAlias: transactionAlias(t)}
	if !t.SuccessTime.IsZero() {
		w.SuccessTime = FormatTime(t.SuccessTime)
	}
	return json.Marshal(w)
}

// Paid reports whether WeChat Pay says the money was taken.
func (t Transaction) Paid() bool { return t.TradeState == TradeStateSuccess }

// Matches checks a (verified) transaction against our own order before anything is credited: same
// merchant, same app, same out_trade_no, same amount in CNY, and paid. A notification signed by WeChat
// Pay can still be for another merchant's order or another amount if our configuration or a caller mixes
// things up; this is the last gate. Errors wrap ErrMismatch (never credit; investigate) or ErrNotPaid
// (nothing to do yet).
func (t Transaction) Matches(mchID, appID, outTradeNo string, amountFen int64) error {
	switch {
	case t.MchID != mchID:
		return fmt.Errorf("%w: mchid %q, want %q", ErrMismatch, t.MchID, mchID)
	case t.AppID != appID:
		return fmt.Errorf("%w: appid %q, want %q", ErrMismatch, t.AppID, appID)
	case t.OutTradeNo != outTradeNo:
		return fmt.Errorf("%w: out_trade_no %q, want %q", ErrMismatch, t.OutTradeNo, outTradeNo)
	case t.Amount.Total != amountFen:
		return fmt.Errorf("%w: amount.total %d, want %d", ErrMismatch, t.Amount.Total, amountFen)
	case t.Amount.Currency != "" && t.Amount.Currency != "CNY":
		return fmt.Errorf("%w: currency %q, want CNY", ErrMismatch, t.Amount.Currency)
	case t.TradeState != TradeStateSuccess:
		return fmt.Errorf("%w: trade_state %s", ErrNotPaid, t.TradeState)
	case t.TransactionID == "":
		return fmt.Errorf("%w: paid transaction without transaction_id", ErrMismatch)
	}
	return nil
}

// FormatTime writes t as WeChat Pay wants times (time_expire, success_time): RFC 3339 with a numeric
// +08:00 offset, seconds precision (never "Z", which WeChat Pay's parser has been known to refuse).
func FormatTime(t time.Time) string {
	return t.In(chinatime.Zone).Format("2006-01-02T15:04:05-07:00")
}
