package wechatpay

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Refund states (status in answers, refund_status in notifications).
const (
	RefundSuccess    = "SUCCESS"    // the money is back with the payer
	RefundClosed     = "CLOSED"     // closed: nothing was refunded
	RefundProcessing = "PROCESSING" // accepted, not finished
	RefundAbnormal   = "ABNORMAL"   // failed (the payer's account or card is gone): nothing was refunded
)

// Refund notification events; the resource's original_type is "refund".
const (
	EventRefundSuccess  = "REFUND.SUCCESS"
	EventRefundAbnormal = "REFUND.ABNORMAL"
	EventRefundClosed   = "REFUND.CLOSED"
	OriginalTypeRefund  = "refund"
)

// RefundWindow is how long after payment WeChat Pay accepts a refund (交易时间超过一年的订单无法提交退款).
const RefundWindow = 365 * 24 * time.Hour

// RefundRequest is what CreateRefund needs. OutRefundNo is the idempotency key: WeChat Pay refunds one
// out_refund_no once, so a timed-out request is retried with the same number (never a new one).
type RefundRequest struct {
	OutTradeNo  string // the paid order
	OutRefundNo string // 1–64 of [0-9A-Za-z_-|*@], unique per merchant
	Reason      string // optional, at most 80 characters, shown to the payer
	RefundFen   int64  // > 0, at most TotalFen minus earlier refunds
	TotalFen    int64  // the order's amount
}

var outRefundNoRE = regexp.MustCompile(`^[0-9A-Za-z_\-|*@]{1,64}$`)

// ValidOutRefundNo reports whether s is acceptable to WeChat Pay as an out_refund_no.
func ValidOutRefundNo(s string) bool { return outRefundNoRE.MatchString(s) }

func (r RefundRequest) validate() error {
	switch {
	case !ValidOutTradeNo(r.OutTradeNo):
		return fmt.Errorf("%w: out_trade_no must be 6-32 of [0-9A-Za-z_-|*]", ErrInvalidArgument)
	case !ValidOutRefundNo(r.OutRefundNo):
		return fmt.Errorf("%w: out_refund_no must be 1-64 of [0-9A-Za-z_-|*@]", ErrInvalidArgument)
	case r.RefundFen <= 0 || r.TotalFen <= 0 || r.RefundFen > r.TotalFen:
		return fmt.Errorf("%w: refund must be positive and at most the total", ErrInvalidArgument)
	case utf8.RuneCountInString(r.Reason) > 80:
		return fmt.Errorf("%w: reason is at most 80 characters", ErrInvalidArgument)
	}
	return nil
}

// RefundAmount is a refund's amounts in fen.
type RefundAmount struct {
	Total       int64  `json:"total"`
	Refund      int64  `json:"refund"`
	PayerTotal  int64  `json:"payer_total,omitempty"`
	PayerRefund int64  `json:"payer_refund,omitempty"`
	Currency    string `json:"currency,omitempty"`
}

// Refund is WeChat Pay's view of one refund: the answer to CreateRefund and QueryRefund, or the decrypted
// resource of a refund notification (which names the state refund_status, and carries mchid).
type Refund struct {
	MchID               string       `json:"mchid,omitempty"`
	RefundID            string       `json:"refund_id"`
	OutRefundNo         string       `json:"out_refund_no"`
	TransactionID       string       `json:"transaction_id,omitempty"`
	OutTradeNo          string       `json:"out_trade_no"`
	Channel             string       `json:"channel,omitempty"`
	UserReceivedAccount string       `json:"user_received_account,omitempty"`
	SuccessTime         string       `json:"success_time,omitempty"`
	CreateTime          string       `json:"create_time,omitempty"`
	Status              string       `json:"status,omitempty"`
	RefundStatus        string       `json:"refund_status,omitempty"`
	Amount              RefundAmount `json:"amount"`
}

// State is the refund's state, from status (answers) or refund_status (notifications).
func (r Refund) State() string {
	if r.Status != "" {
		return r.Status
	}
	return r.RefundStatus
}

// Final reports whether the refund will not change any more.
func (r Refund) Final() bool {
	s := r.State()
	return s == RefundSuccess || s == RefundClosed || s == RefundAbnormal
}

// Matches checks a (verified) refund against ours before anything is settled on it: same merchant (when
// the message names one), same order, same refund number, same amounts.
func (r Refund) Matches(mchID, outTradeNo, outRefundNo string, refundFen, totalFen int64) error {
	switch {
	case r.MchID != "" && r.MchID != mchID:
		return fmt.Errorf("%w: mchid %q, want %q", ErrMismatch, r.MchID, mchID)
	case r.OutTradeNo != outTradeNo:
		return fmt.Errorf("%w: out_trade_no %q, want %q", ErrMismatch, r.OutTradeNo, outTradeNo)
	case r.OutRefundNo != outRefundNo:
		return fmt.Errorf("%w: out_refund_no %q, want %q", ErrMismatch, r.OutRefundNo, outRefundNo)
	case r.Amount.Refund != refundFen || r.Amount.Total != totalFen:
		return fmt.Errorf("%w: amount %d of %d, want %d of %d", ErrMismatch, r.Amount.Refund, r.Amount.Total, refundFen, totalFen)
	case r.Amount.Currency != "" && r.Amount.Currency != "CNY":
		return fmt.Errorf("%w: currency %q, want CNY", ErrMismatch, r.Amount.Currency)
	}
	return nil
}

type refundRequestJSON struct {
	OutTradeNo  string `json:"out_trade_no"`
	OutRefundNo string `json:"out_refund_no"`
	Reason      string `json:"reason,omitempty"`
	NotifyURL   string `json:"notify_url,omitempty"`
	Amount      struct {
		Refund   int64  `json:"refund"`
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

// RefundNotifyURL is where refund notifications go: the payment notify URL with its last segment
// "notify" replaced by "refund-notify" (…/v1/payments/wechat/refund-notify).
func (c *Client) RefundNotifyURL() string {
	if base, ok := strings.CutSuffix(c.cfg.NotifyURL, "/notify"); ok {
		return base + "/refund-notify"
	}
	return ""
}

// CreateRefund asks WeChat Pay to refund part or all of a paid order (POST /v3/refund/domestic/refunds).
// The answer only says the refund was accepted (usually PROCESSING); its outcome comes by notification or
// QueryRefund. Business refusals are *APIError (INVALID_REQUEST, NOT_ENOUGH, USER_ACCOUNT_ABNORMAL,
// RESOURCE_NOT_EXISTS, …); on a temporary error retry with the same request.
func (c *Client) CreateRefund(ctx context.Context, r RefundRequest) (Refund, error) {
	if err := r.validate(); err != nil {
		return Refund{}, err
	}
	in := refundRequestJSON{OutTradeNo: r.OutTradeNo, OutRefundNo: r.OutRefundNo, Reason: r.Reason, NotifyURL: c.RefundNotifyURL()}
	in.Amount.Refund, in.Amount.Total, in.Amount.Currency = r.RefundFen, r.TotalFen, "CNY"
	body, err := c.call(ctx, http.MethodPost, "/v3/refund/domestic/refunds", nil, in, http.StatusOK)
	if err != nil {
		return Refund{}, err
	}
	return decodeRefund(body, r.OutRefundNo)
}

// QueryRefund asks WeChat Pay for a refund by our out_refund_no (GET
// /v3/refund/domestic/refunds/{out_refund_no}). One it never accepted is an *APIError coded
// RESOURCE_NOT_EXISTS.
func (c *Client) QueryRefund(ctx context.Context, outRefundNo string) (Refund, error) {
	if !ValidOutRefundNo(outRefundNo) {
		return Refund{}, fmt.Errorf("%w: bad out_refund_no", ErrInvalidArgument)
	}
	body, err := c.call(ctx, http.MethodGet, "/v3/refund/domestic/refunds/"+url.PathEscape(outRefundNo), nil, nil, http.StatusOK)
	if err != nil {
		return Refund{}, err
	}
	return decodeRefund(body, outRefundNo)
}

func decodeRefund(body []byte, outRefundNo string) (Refund, error) {
	var r Refund
	if err := json.Unmarshal(body, &r); err != nil {
		return Refund{}, fmt.Errorf("%w: refund answer is not a refund", ErrMalformed)
	}
	if r.OutRefundNo != outRefundNo || r.State() == "" {
		return Refund{}, fmt.Errorf("%w: refund answer is for another refund or has no status", ErrMalformed)
	}
	return r, nil
}

// ParseRefundNotification authenticates a refund notification (REFUND.SUCCESS, REFUND.ABNORMAL,
// REFUND.CLOSED) and returns the refund inside it. The checks and their errors are ParseNotification's;
// an event that is not a refund's is ErrUnsupportedEvent.
func (c *Client) ParseRefundNotification(header http.Header, body []byte) (Refund, error) {
	if len(c.keys) == 0 || len(c.cfg.APIv3Key) != 32 {
		return Refund{}, fmt.Errorf("%w: PlatformKeys and APIv3Key are required to read notifications", ErrConfig)
	}
	if len(body) > MaxNotificationBytes {
		return Refund{}, fmt.Errorf("%w: notification larger than %d bytes", ErrMalformed, MaxNotificationBytes)
	}
	if err := c.verifySigned(header, body); err != nil {
		return Refund{}, err
	}
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return Refund{}, fmt.Errorf("%w: notification is not JSON", ErrMalformed)
	}
	if n.ID == "" || n.EventType == "" {
		return Refund{}, fmt.Errorf("%w: notification without id or event_type", ErrMalformed)
	}
	switch n.EventType {
	case EventRefundSuccess, EventRefundAbnormal, EventRefundClosed:
	default:
		return Refund{}, fmt.Errorf("%w: event_type %.64q", ErrUnsupportedEvent, n.EventType)
	}
	rs := n.Resource
	if n.ResourceType != ResourceTypeEncrypted || rs.Algorithm != AlgorithmAEADAES256GCM ||
		(rs.OriginalType != "" && rs.OriginalType != OriginalTypeRefund) {
		return Refund{}, fmt.Errorf("%w: resource is not an AEAD_AES_256_GCM refund", ErrMalformed)
	}
	plain, err := gcmOpen(c.cfg.APIv3Key, rs.Nonce, rs.AssociatedData, rs.Ciphertext)
	if err != nil {
		return Refund{}, err
	}
	var r Refund
	if err := json.Unmarshal(plain, &r); err != nil {
		return Refund{}, fmt.Errorf("%w: decrypted resource is not a refund", ErrMalformed)
	}
	if r.OutRefundNo == "" || r.OutTradeNo == "" || r.State() == "" {
		return Refund{}, fmt.Errorf("%w: refund lacks out_refund_no, out_trade_no or refund_status", ErrMalformed)
	}
	if want := map[string]string{EventRefundSuccess: RefundSuccess, EventRefundAbnormal: RefundAbnormal, EventRefundClosed: RefundClosed}[n.EventType]; r.State() != want {
		return Refund{}, fmt.Errorf("%w: event %s carries refund_status %.16q", ErrMalformed, n.EventType, r.State())
	}
	return r, nil
}
