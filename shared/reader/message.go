package reader

import (
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"onecard/shared/cards"
	"onecard/shared/devices"
	"onecard/shared/ledger"
	"onecard/shared/plaintext"
	"onecard/shared/readerrec"
)

// Queue message types of the reader side. The ingest writes TypeRecords: one message carries up to
// RecordsPerMessage accepted records of one request (docs/decisions/0006). TypeRecord, one record per
// message, is what the ingest wrote before; the consumer still reads it, so messages queued before a
// deploy are posted after it.
const (
	TypeRecord  = "reader_record"
	TypeRecords = "reader_records"
)

// RecordsPerMessage is how many records the ingest puts in one queue message: ten messages of ten make a
// 100-record batch one SendMessageBatch call. maxRecordsPerMessage is what the consumer accepts.
const (
	RecordsPerMessage    = 10
	maxRecordsPerMessage = 100
	maxMessageBytes      = 64 << 10
)

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
func Scope(deviceID string) string { return cards.ReaderScope + deviceID }

var errBadMessage = errors.New("reader: malformed queue message")

// DecodeMessage reads a queue message body of either type and returns its records. Unknown fields are
// ignored (a newer ingest may add some during a deploy); a missing or out-of-range value anywhere makes
// the whole message an error, so a poison message is retried until it reaches the dead-letter queue
// instead of being posted wrong.
func DecodeMessage(body string) ([]*Message, error) {
	if len(body) > maxMessageBytes {
		return nil, errBadMessage
	}
	var env struct {
		Message
		Records []struct {
			Seq           int64     `json:"seq"`
			OccurredAt    time.Time `json:"occurredAt"`
			Kind          string    `json:"kind"`
			AmountFen     int64     `json:"amountFen"`
			CardNo        string    `json:"cardNo"`
			CodeID        string    `json:"codeId"`
			CodeExpiresAt int64     `json:"codeExpiresAt"`
		} `json:"records"`
	}
	if json.Unmarshal([]byte(body), &env) != nil {
		return nil, errBadMessage
	}
	var out []*Message
	switch env.Type {
	case TypeRecord:
		if env.Records != nil {
			return nil, errBadMessage
		}
		m := env.Message
		out = []*Message{&m}
	case TypeRecords:
		if len(env.Records) == 0 || len(env.Records) > maxRecordsPerMessage {
			return nil, errBadMessage
		}
		out = make([]*Message, len(env.Records))
		for i, r := range env.Records {
			m := env.Message // the request's part: device, school, merchant, receivedAt
			m.Type = TypeRecord
			m.Seq, m.OccurredAt, m.Kind, m.AmountFen, m.CardNo = r.Seq, r.OccurredAt, r.Kind, r.AmountFen, r.CardNo
			m.CodeID, m.CodeExpiresAt = r.CodeID, r.CodeExpiresAt
			out[i] = &m
		}
	default:
		return nil, errBadMessage
	}
	for _, m := range out {
		if !postable(m) {
			return nil, errBadMessage
		}
	}
	return out, nil
}

// postable checks every field the consumer relies on.
func postable(m *Message) bool {
	switch {
	case !devices.ValidID(m.DeviceID), !token(m.SchoolID, 1, 32), m.Merchant == "" || len(m.Merchant) > 200,
		m.Seq < 1 || m.Seq > readerrec.MaxSeq,
		m.OccurredAt.IsZero(),
		m.Kind != readerrec.KindPurchase && m.Kind != readerrec.KindHotWater,
		m.AmountFen < 1 || m.AmountFen > ledger.MaxAmountFen,
		!plaintext.Digits(m.CardNo, readerrec.MinCardLen, readerrec.MaxCardLen),
		len(m.CodeID) > 80, m.CodeID != "" && m.CodeExpiresAt <= 0:
		return false
	}
	return true
}

func token(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	return devices.ValidID(s)
}
