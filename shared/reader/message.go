package reader

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"onecard/shared/devices"
	"onecard/shared/ledger"
	"onecard/shared/readerrec"
)

// TypeRecord is the type of a queue message that carries one accepted reader record.
const TypeRecord = "reader_record"

// Message is one accepted record on the reader queue: everything the consumer needs to post it without
// reading the device again. The ingest writes it; the consumer trusts nothing in it that it can check.
type Message struct {
	Type       string    `json:"type"`
	DeviceID   string    `json:"deviceId"`
	SchoolID   string    `json:"schoolId"`
	Merchant   string    `json:"merchant"`
	Seq        int64     `json:"seq"`
	OccurredAt time.Time `json:"occurredAt"`
	Kind       string    `json:"kind"`
	AmountFen  int64     `json:"amountFen"`
	CardNo     string    `json:"cardNo"`
	// Set when the record was paid with a payment code: its single-use id (school:cardNo:hex(nonce)) and
	// its expiry (unix seconds), which bounds how long the spent marker must be kept.
	CodeID        string    `json:"codeId,omitempty"`
	CodeExpiresAt int64     `json:"codeExpiresAt,omitempty"`
	ReceivedAt    time.Time `json:"receivedAt"`
}

// Scope and Key are the record's ledger idempotency key: (deviceId, seq).
func (m *Message) Scope() string { return Scope(m.DeviceID) }
func (m *Message) Key() string   { return strconv.FormatInt(m.Seq, 10) }

// Scope is the idempotency scope of a device's records.
func Scope(deviceID string) string { return "reader:" + deviceID }

var errBadMessage = errors.New("reader: malformed queue message")

// DecodeMessage reads a queue message body. Unknown fields are ignored (a newer ingest may add some
// during a deploy); missing or out-of-range values are an error, so a poison message is retried until
// it reaches the dead-letter queue instead of being posted wrong.
func DecodeMessage(body string) (*Message, error) {
	var m Message
	if len(body) > 4096 || json.Unmarshal([]byte(body), &m) != nil {
		return nil, errBadMessage
	}
	switch {
	case m.Type != TypeRecord,
		!devices.ValidID(m.DeviceID), !token(m.SchoolID, 1, 32), m.Merchant == "" || len(m.Merchant) > 200,
		m.Seq < 1 || m.Seq > readerrec.MaxSeq,
		m.OccurredAt.IsZero(),
		m.Kind != readerrec.KindPurchase && m.Kind != readerrec.KindHotWater,
		m.AmountFen < 1 || m.AmountFen > ledger.MaxAmountFen,
		!digits(m.CardNo, readerrec.MinCardLen, readerrec.MaxCardLen),
		len(m.CodeID) > 80, m.CodeID != "" && m.CodeExpiresAt <= 0:
		return nil, errBadMessage
	}
	return &m, nil
}

func token(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	return devices.ValidID(s)
}

func digits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
