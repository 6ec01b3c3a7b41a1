// Package readerrec decodes and checks the batches that card readers post to POST /v1/reader/transactions
// and meter gateways post to POST /v1/meter/readings (docs/reader-protocol.md).
//
// Checking happens at two levels:
//
//   - The batch (DecodeBatch, DecodeReadings): the body must be at most 1 MiB of strict JSON (no unknown or
//     repeated fields, every value of the right JSON type, one document) with 1–500 entries. Otherwise the
//     whole request is refused with a *fault.Error of kind Invalid (400) and nothing is recorded.
//   - Each entry (ValidateBatch / Validate, ValidateReadings / ValidateReading): a value of the right JSON
//     type that is still wrong (seq 0, amount 1.5, a date 40 days old, both cardNo and paymentCode...) only
//     rejects that entry, with a reason code, so that one bad record never blocks the rest of a reader's
//     queue.
//
// The line between the two: a string where a number belongs (`"amountFen":"100"`) is a broken client and
// fails the batch (WRONG_TYPE); a number that is not a whole number (`1.5`, `1e3`) or out of range is a bad
// record (BAD_AMOUNT). A missing or null field is a bad record too.
package readerrec

import (
	"strings"
	"time"

	"onecard/shared/devicesig"
	"onecard/shared/fault"
	"onecard/shared/paycode"
	"onecard/shared/plaintext"
)

// Limits.
const (
	MaxBodyBytes = 1 << 20 // device routes
	MaxEntries   = 500     // records or readings per batch
	MaxSeq       = 1 << 53 // largest seq, so that any JSON client reads it exactly
	MaxFuture    = 10 * time.Minute
	MaxAge       = 30 * 24 * time.Hour
	MaxReading   = 1_000_000_000_000 // hundredths of a kWh or m³
	MinCardLen   = 4
	MaxCardLen   = 20
	MaxMeterID   = 64
	maxTimeLen   = 64
)

// Record kinds and meter kinds.
const (
	KindPurchase = "purchase"
	KindHotWater = "hot_water"
	MeterElec    = "elec"
	MeterWater   = "water"
)

// Per-entry reasons (the `reason` of a rejected result).
const (
	ReasonBadSeq           = "BAD_SEQ"            // seq missing, not an integer, < 1 or > 2^53
	ReasonBadKind          = "BAD_KIND"           // kind not purchase / hot_water (readings: elec / water)
	ReasonBadAmount        = "BAD_AMOUNT"         // amountFen missing, not an integer, < 1 or over the maximum
	ReasonBadTime          = "BAD_TIME"           // not RFC 3339, > 10 min in the future or > 30 days old
	ReasonCardOrCode       = "CARD_OR_CODE"       // not exactly one of cardNo, paymentCode
	ReasonBadCardNo        = "BAD_CARD_NO"        // cardNo not 4–20 digits
	ReasonBadPaymentCode   = "BAD_PAYMENT_CODE"   // paymentCode not a well-formed code (docs/payment-code.md)
	ReasonDuplicateInBatch = "DUPLICATE_IN_BATCH" // an earlier entry of the same batch has the same seq
	ReasonBadMeterID       = "BAD_METER_ID"       // meterId not 1–64 of [A-Za-z0-9_-]
	ReasonBadReading       = "BAD_READING"        // reading missing, not an integer, < 0 or > 10^12
)

// Result statuses.
const (
	StatusAccepted  = "accepted"
	StatusDuplicate = "duplicate"
	StatusRejected  = "rejected"
)

// Result is one entry of the answer to POST /v1/reader/transactions, in the order of the records.
type Result struct {
	Seq    int64  `json:"seq"`
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Record is one reader record. DecodeBatch fills it; a value that was present but unusable (a fractional
// amount, an unparseable time) leaves the field zero and is remembered so that Validate names it.
type Record struct {
	Seq         int64
	OccurredAt  time.Time
	Kind        string
	AmountFen   int64
	CardNo      string
	PaymentCode string

	badSeq, badAmount, badTime bool
}

// Batch-level errors.
var (
	ErrBodyTooLarge   = fault.E(fault.TooLarge, "BODY_TOO_LARGE", "请求体不能超过 1 MiB")
	ErrNoRecords      = fault.E(fault.Invalid, "NO_RECORDS", "records 至少要有一条记录")
	ErrTooManyRecords = fault.E(fault.Invalid, "TOO_MANY_RECORDS", "每批最多 500 条记录")
	ErrNoReadings     = fault.E(fault.Invalid, "NO_RECORDS", "readings 至少要有一条读数")
	ErrTooManyReading = fault.E(fault.Invalid, "TOO_MANY_RECORDS", "每批最多 500 条读数")
)

// DecodeBatch decodes the body of POST /v1/reader/transactions: {"records":[...]}. Every error is a
// *fault.Error: BODY_TOO_LARGE (kind TooLarge), or of kind Invalid MALFORMED_JSON, UNKNOWN_FIELD, WRONG_TYPE, NO_RECORDS or
// TOO_MANY_RECORDS. Records are not validated; see ValidateBatch.
func DecodeBatch(body []byte) ([]Record, error) { return decodeBatch(newWalker(body), len(body)) }

func decodeBatch(w *walker, size int) ([]Record, error) {
	return decodeList(w, size, "records", ErrTooManyRecords, ErrNoRecords, decodeRecord)
}

// decodeList reads {"<field>":[...]} with each element read by item: the one shape both device uploads
// have. At most MaxEntries elements (tooMany beyond), at least one (none otherwise).
func decodeList[T any](w *walker, size int, field string, tooMany, none error, item func(*walker, string) (T, error)) ([]T, error) {
	if size > MaxBodyBytes {
		return nil, ErrBodyTooLarge
	}
	var out []T
	err := w.object("", func(key string) error {
		if key != field {
			return unknownField(key)
		}
		_, err := w.array(field, func(i int) error {
			if i >= MaxEntries {
				return tooMany
			}
			v, err := item(w, index(field, i))
			out = append(out, v)
			return err
		})
		return err
	})
	if err == nil {
		err = w.end()
	}
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, none
	}
	return out, nil
}

func decodeRecord(w *walker, path string) (Record, error) {
	r := Record{badSeq: true, badAmount: true, badTime: true} // until seen
	err := w.object(path, func(key string) error {
		p := join(path, key)
		switch key {
		case "seq":
			return w.intField(p, &r.Seq, &r.badSeq)
		case "amountFen":
			return w.intField(p, &r.AmountFen, &r.badAmount)
		case "occurredAt":
			return w.timeField(p, &r.OccurredAt, &r.badTime)
		case "kind":
			return w.strField(p, &r.Kind)
		case "cardNo":
			return w.strField(p, &r.CardNo)
		case "paymentCode":
			return w.strField(p, &r.PaymentCode)
		default:
			return unknownField(p)
		}
	})
	if r.badSeq {
		r.Seq = 0
	}
	if r.badAmount {
		r.AmountFen = 0
	}
	if r.badTime {
		r.OccurredAt = time.Time{}
	}
	return r, err
}

// Validate checks one record at the server's time now, with amounts allowed up to maxAmountFen, and
// returns "" or the first reason in this order: BAD_SEQ, BAD_KIND, BAD_AMOUNT, BAD_TIME, CARD_OR_CODE,
// BAD_CARD_NO, BAD_PAYMENT_CODE. An empty cardNo or paymentCode counts as absent. The payment code is
// checked for structure only; its signature, expiry and single use are the caller's (shared/paycode).
func Validate(r Record, now time.Time, maxAmountFen int64) string {
	switch {
	case r.badSeq || r.Seq < 1 || r.Seq > MaxSeq:
		return ReasonBadSeq
	case r.Kind != KindPurchase && r.Kind != KindHotWater:
		return ReasonBadKind
	case r.badAmount || r.AmountFen < 1 || r.AmountFen > maxAmountFen:
		return ReasonBadAmount
	case r.badTime || !inWindow(r.OccurredAt, now):
		return ReasonBadTime
	case (r.CardNo == "") == (r.PaymentCode == ""):
		return ReasonCardOrCode
	case r.CardNo != "" && !plaintext.Digits(r.CardNo, MinCardLen, MaxCardLen):
		return ReasonBadCardNo
	case r.PaymentCode != "":
		if _, err := paycode.Parse(r.PaymentCode); err != nil {
			return ReasonBadPaymentCode
		}
	}
	return ""
}

// ValidateBatch validates every record and returns their reasons in order ("" for a good record). The first
// record with a given seq is judged on its own; any later record of the batch with that seq is
// DUPLICATE_IN_BATCH whatever else it holds.
func ValidateBatch(recs []Record, now time.Time, maxAmountFen int64) []string {
	reasons := make([]string, len(recs))
	seen := make(map[int64]bool, len(recs))
	for i, r := range recs {
		reasons[i] = Validate(r, now, maxAmountFen)
		if reasons[i] == ReasonBadSeq {
			continue
		}
		if seen[r.Seq] {
			reasons[i] = ReasonDuplicateInBatch
		}
		seen[r.Seq] = true
	}
	return reasons
}

// Reading is one meter reading: the meter's cumulative count in hundredths (0.01 kWh or 0.01 m³).
type Reading struct {
	MeterID string
	Kind    string
	Reading int64
	ReadAt  time.Time

	badReading, badTime bool
}

// ReadingResult is one entry of the answer to POST /v1/meter/readings, in the order of the readings.
type ReadingResult struct {
	Index   int    `json:"index"`
	MeterID string `json:"meterId"`
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
}

// DecodeReadings decodes the body of POST /v1/meter/readings: {"readings":[...]}, with the same rules and
// error codes as DecodeBatch.
func DecodeReadings(body []byte) ([]Reading, error) {
	return decodeReadings(newWalker(body), len(body))
}

func decodeReadings(w *walker, size int) ([]Reading, error) {
	return decodeList(w, size, "readings", ErrTooManyReading, ErrNoReadings, decodeReading)
}

func decodeReading(w *walker, path string) (Reading, error) {
	r := Reading{badReading: true, badTime: true}
	err := w.object(path, func(key string) error {
		p := join(path, key)
		switch key {
		case "meterId":
			return w.strField(p, &r.MeterID)
		case "kind":
			return w.strField(p, &r.Kind)
		case "reading":
			return w.intField(p, &r.Reading, &r.badReading)
		case "readAt":
			return w.timeField(p, &r.ReadAt, &r.badTime)
		default:
			return unknownField(p)
		}
	})
	if r.badReading {
		r.Reading = 0
	}
	if r.badTime {
		r.ReadAt = time.Time{}
	}
	return r, err
}

// ValidateReading checks one reading at the server's time now and returns "" or the first reason in this
// order: BAD_METER_ID, BAD_KIND, BAD_READING, BAD_TIME (same window as records: at most 10 min ahead, at
// most 30 days old).
func ValidateReading(r Reading, now time.Time) string {
	switch {
	case !devicesig.Token(r.MeterID, 1, MaxMeterID):
		return ReasonBadMeterID
	case r.Kind != MeterElec && r.Kind != MeterWater:
		return ReasonBadKind
	case r.badReading || r.Reading < 0 || r.Reading > MaxReading:
		return ReasonBadReading
	case r.badTime || !inWindow(r.ReadAt, now):
		return ReasonBadTime
	}
	return ""
}

// ValidateReadings validates every reading and returns their reasons in order. A later reading of the same
// meter, kind and instant as an earlier one in the batch is DUPLICATE_IN_BATCH.
func ValidateReadings(rs []Reading, now time.Time) []string {
	type key struct {
		meter, kind string
		at          int64
	}
	reasons := make([]string, len(rs))
	seen := make(map[key]bool, len(rs))
	for i, r := range rs {
		reasons[i] = ValidateReading(r, now)
		if reasons[i] == ReasonBadMeterID || reasons[i] == ReasonBadKind || reasons[i] == ReasonBadTime {
			continue
		}
		k := key{r.MeterID, r.Kind, r.ReadAt.UnixNano()}
		if seen[k] {
			reasons[i] = ReasonDuplicateInBatch
		}
		seen[k] = true
	}
	return reasons
}

// parseTime reads an RFC 3339 time with any offset (fractional seconds allowed).
func parseTime(s string) (time.Time, bool) {
	if len(s) > maxTimeLen || strings.ContainsAny(s, ", \t\r\n") { // Go also takes a comma before the fraction
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

func inWindow(t, now time.Time) bool {
	return !t.IsZero() && !t.After(now.Add(MaxFuture)) && !t.Before(now.Add(-MaxAge))
}
