package wechatpay

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Notification constants, as WeChat Pay sends them for a successful payment.
const (
	EventTransactionSuccess = "TRANSACTION.SUCCESS"
	ResourceTypeEncrypted   = "encrypt-resource"
	AlgorithmAEADAES256GCM  = "AEAD_AES_256_GCM"
	OriginalTypeTransaction = "transaction"
)

// MaxNotificationBytes bounds a notification body; real ones are about 1 KB. Callers should cap what they
// read from the request at this size too.
const MaxNotificationBytes = 64 << 10

// Notification is the outer, signed JSON of a payment notification.
type Notification struct {
	ID           string   `json:"id"`
	CreateTime   string   `json:"create_time"`
	EventType    string   `json:"event_type"`
	ResourceType string   `json:"resource_type"`
	Summary      string   `json:"summary"`
	Resource     Resource `json:"resource"`
}

// Resource is the encrypted payload of a Notification.
type Resource struct {
	Algorithm      string `json:"algorithm"`
	Ciphertext     string `json:"ciphertext"` // base64 of ciphertext || 16-byte GCM tag
	Nonce          string `json:"nonce"`      // 12 characters, used as bytes
	AssociatedData string `json:"associated_data"`
	OriginalType   string `json:"original_type"`
}

// ParseNotification authenticates a payment notification and returns the transaction inside it.
//
// header and body must be the request's, untouched (the signature covers the exact bytes). In order, it
// refuses: WeChat Pay's signature probe (ErrSignTestProbe, which is an ErrBadSignature); missing headers
// (ErrBadSignature); a Wechatpay-Serial we do not know (ErrUnknownSerial); a timestamp MaxClockSkew or
// more from our clock (ErrStale); a signature that does not verify (ErrBadSignature); JSON that is not a
// notification (ErrMalformed); an event other than TRANSACTION.SUCCESS (ErrUnsupportedEvent: verified,
// acknowledge it and credit nothing); a resource that does not decrypt with the APIv3 key (ErrDecrypt); a
// decrypted resource that is not a transaction (ErrMalformed).
//
// Success proves WeChat Pay sent it, not that it is ours: call Transaction.Matches before crediting, and
// credit idempotently by out_trade_no, since WeChat Pay resends until it gets a 2xx.
func (c *Client) ParseNotification(header http.Header, body []byte) (Transaction, error) {
	if len(c.keys) == 0 || len(c.cfg.APIv3Key) != 32 {
		return Transaction{}, fmt.Errorf("%w: PlatformKeys and APIv3Key are required to read notifications", ErrConfig)
	}
	if len(body) > MaxNotificationBytes {
		return Transaction{}, fmt.Errorf("%w: notification larger than %d bytes", ErrMalformed, MaxNotificationBytes)
	}
	if err := c.verifySigned(header, body); err != nil {
		return Transaction{}, err
	}

	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return Transaction{}, fmt.Errorf("%w: notification is not JSON: %v", ErrMalformed, err)
	}
	if n.ID == "" || n.EventType == "" {
		return Transaction{}, fmt.Errorf("%w: notification without id or event_type", ErrMalformed)
	}
	if n.EventType != EventTransactionSuccess {
		return Transaction{}, fmt.Errorf("%w: event_type %.64q", ErrUnsupportedEvent, n.EventType)
	}
	r := n.Resource
	if n.ResourceType != ResourceTypeEncrypted || r.Algorithm != AlgorithmAEADAES256GCM ||
		(r.OriginalType != "" && r.OriginalType != OriginalTypeTransaction) {
		return Transaction{}, fmt.Errorf("%w: resource is not an AEAD_AES_256_GCM transaction", ErrMalformed)
	}

	plain, err := gcmOpen(c.cfg.APIv3Key, r.Nonce, r.AssociatedData, r.Ciphertext)
	if err != nil {
		return Transaction{}, err
	}
	var t Transaction
	if err := json.Unmarshal(plain, &t); err != nil {
		// No detail: decoder messages can quote pieces of the decrypted payload.
		return Transaction{}, fmt.Errorf("%w: decrypted resource is not a transaction", ErrMalformed)
	}
	if t.OutTradeNo == "" || t.MchID == "" || t.TradeState == "" {
		return Transaction{}, fmt.Errorf("%w: transaction lacks out_trade_no, mchid or trade_state", ErrMalformed)
	}
	return t, nil
}
