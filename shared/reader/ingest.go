// Package reader is the card-reader side of the one-card: the signed ingest of the records readers
// approved (POST /v1/reader/transactions), the queue consumer that posts them to the ledger, the
// blacklist and payment-code keys readers keep offline, the payment codes students show, and the
// disputes staff resolve. docs/reader-protocol.md is the vendor's view of the same.
//
// The path of a record: the ingest checks the device's signature (shared/devices), each record
// (shared/readerrec, shared/paycode), the card and its limits, and answers per record; accepted records
// go to the reader queue (SQS FIFO, up to ten records of one card shard per message, one message group
// per shard: docs/decisions/0013). The consumer (an SQS-triggered Lambda, batches of ten messages)
// groups a batch by card and posts each card's records through the ledger in as few transactions as
// fit, idempotently on (deviceId, seq), reporting partial batch failures per card and holding the rest
// of a failed message's group.
package reader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"onecard/shared/chinatime"
	"onecard/shared/devices"
	"onecard/shared/fault"
	"onecard/shared/httpapi"
	"onecard/shared/ledger"
	"onecard/shared/paycode"
	"onecard/shared/queue"
	"onecard/shared/readerrec"
	"onecard/shared/store"
)

// Per-record reasons beyond readerrec's format checks and paycode's verification (UNKNOWN_KEY,
// BAD_PAYMENT_CODE, PAYMENT_CODE_EXPIRED).
const (
	ReasonKindNotAllowed = "KIND_NOT_ALLOWED"  // a hot-water reader posting purchases, or the reverse
	ReasonWrongSchool    = "WRONG_SCHOOL"      // a payment code of another school
	ReasonCardNotFound   = "CARD_NOT_FOUND"    // no such card in the device's school
	ReasonCodeUsed       = "PAYMENT_CODE_USED" // the payment code was already spent (or twice in this batch)
	ReasonOverTxnLimit   = "OVER_TXN_LIMIT"    // above the card's per-transaction limit or the amount the code authorises
	ReasonOverDailyLimit = "OVER_DAILY_LIMIT"  // the card's daily limit would be exceeded
)

// ErrQueueUnavailable answers a batch that could not be enqueued in full: nothing in it is answered
// accepted, and the reader resends it (records already enqueued come back duplicate or are de-duplicated
// by the consumer).
var ErrQueueUnavailable = fault.E(fault.Unavailable, "QUEUE_UNAVAILABLE", "暂时无法接收记录，请稍后重发").After(5 * time.Second)

// Sender is the part of the SQS client the ingest calls (the same as queue.Sender).
type Sender interface {
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// Ingest checks and enqueues reader batches.
type Ingest struct {
	S        *store.Store
	SQS      Sender
	QueueURL func() string
	Keys     *Keys
	Now      func() time.Time
	// SendAttempts bounds the tries per SendMessageBatch entry (default 5).
	SendAttempts int
}

// pending is a record that passed the checks that need no I/O.
type pending struct {
	i      int
	rec    *readerrec.Record
	cardNo string
	code   *paycode.Code
}

// Handle answers one batch of dev's records; err is a whole-request refusal (400 for a malformed
// batch, 503 when the queue did not take every accepted record).
func (in *Ingest) Handle(ctx context.Context, dev *devices.Device, body []byte) ([]readerrec.Result, error) {
	recs, err := readerrec.DecodeBatch(body)
	if err != nil {
		return nil, err
	}
	now := in.Now()
	reasons := readerrec.ValidateBatch(recs, now, ledger.MaxAmountFen)
	results := make([]readerrec.Result, len(recs))
	var todo []pending
	for i := range recs {
		r := &recs[i]
		results[i] = readerrec.Result{Seq: r.Seq, Status: readerrec.StatusRejected, Reason: reasons[i]}
		if reasons[i] != "" {
			continue
		}
		if (r.Kind == readerrec.KindHotWater) != (dev.Category == devices.CategoryHotWater) {
			results[i].Reason = ReasonKindNotAllowed
			continue
		}
		p := pending{i: i, rec: r, cardNo: r.CardNo}
		if r.PaymentCode != "" {
			code, err := paycode.Parse(r.PaymentCode)
			if err == nil {
				err = code.Verify(in.Keys.Verify, r.OccurredAt)
			}
			if err != nil {
				fe, ok := fault.As(err)
				if !ok {
					return nil, err // a misconfigured key
				}
				results[i].Reason = fe.Code
				continue
			}
			if code.School != dev.SchoolID {
				results[i].Reason = ReasonWrongSchool
				continue
			}
			if r.AmountFen > code.AmountFen {
				results[i].Reason = ReasonOverTxnLimit
				continue
			}
			p.cardNo, p.code = code.CardNo, &code
		}
		todo = append(todo, p)
	}

	// One round of reads: the records' idempotency markers and spent codes, and the cards.
	var markerKeys, cardKeys []store.Key
	for _, p := range todo {
		markerKeys = append(markerKeys, store.IdemKey(Scope(dev.DeviceID), strconv.FormatInt(p.rec.Seq, 10)))
		if p.code != nil {
			markerKeys = append(markerKeys, store.PayCodeKey(p.code.NonceID()))
		}
		cardKeys = append(cardKeys, store.CardKey(dev.SchoolID, p.cardNo))
	}
	var (
		mk, ck     map[store.Key]map[string]types.AttributeValue
		merr, cerr error
		wg         sync.WaitGroup
	)
	wg.Add(2)
	go func() { defer wg.Done(); mk, merr = in.S.BatchGet(ctx, markerKeys, "", nil) }()
	go func() { defer wg.Done(); ck, cerr = in.S.BatchGet(ctx, cardKeys, cardProjection, cardNames) }()
	wg.Wait()
	if err := errors.Join(merr, cerr); err != nil {
		return nil, err
	}

	// Business checks in order; an accepted record counts against the limits of the ones after it.
	type dayKey struct{ card, day string }
	spent := map[dayKey]int64{}
	codeUsed := map[string]bool{}
	cardsByNo := map[string]*cardLimits{}
	var ok []queuedRecord
	var accepted []int
	for _, p := range todo {
		r := p.rec
		res := &results[p.i]
		if _, dup := mk[store.IdemKey(Scope(dev.DeviceID), strconv.FormatInt(r.Seq, 10))]; dup {
			res.Status, res.Reason = readerrec.StatusDuplicate, ""
			continue
		}
		c := cardsByNo[p.cardNo]
		if c == nil {
			raw, ok := ck[store.CardKey(dev.SchoolID, p.cardNo)]
			if !ok {
				res.Reason = ReasonCardNotFound
				continue
			}
			c = limitsOf(raw)
			cardsByNo[p.cardNo] = c
		}
		var codeID string
		if p.code != nil {
			codeID = p.code.NonceID()
			if _, spentBefore := mk[store.PayCodeKey(codeID)]; spentBefore || codeUsed[codeID] {
				res.Reason = ReasonCodeUsed
				continue
			}
		}
		if c.PerTxnFen > 0 && r.AmountFen > c.PerTxnFen {
			res.Reason = ReasonOverTxnLimit
			continue
		}
		dk := dayKey{p.cardNo, chinatime.Day(r.OccurredAt)}
		if c.DailyFen > 0 && c.SpentOn(dk.day)+spent[dk]+r.AmountFen > c.DailyFen {
			res.Reason = ReasonOverDailyLimit
			continue
		}
		spent[dk] += r.AmountFen
		if codeID != "" {
			codeUsed[codeID] = true
		}
		var codeExp int64
		if p.code != nil {
			codeExp = p.code.ExpiresAt.Unix()
		}
		ok = append(ok, queuedRecord{r, p.cardNo, codeID, codeExp})
		accepted = append(accepted, p.i)
	}
	if len(ok) > 0 {
		msgs, err := packMessages(dev, ok, now)
		if err != nil {
			return nil, err
		}
		if err := in.enqueue(ctx, msgs); err != nil {
			return nil, err
		}
	}
	for _, i := range accepted {
		results[i].Status, results[i].Reason = readerrec.StatusAccepted, ""
	}
	return results, nil
}

// cardLimits is what the ingest needs of a card.
type cardLimits struct {
	PerTxnFen, DailyFen int64
	SpentDay            string
	SpentFen            int64
}

// SpentOn is what the card spent at readers on day, as far as posted.
func (c *cardLimits) SpentOn(day string) int64 {
	if c.SpentDay == day {
		return c.SpentFen
	}
	return 0
}

// limitsOf reads a card item's limits without reflection (the ingest reads up to 500 cards a request).
func limitsOf(item map[string]types.AttributeValue) *cardLimits {
	num := func(k string) int64 {
		if n, ok := item[k].(*types.AttributeValueMemberN); ok {
			v, _ := strconv.ParseInt(n.Value, 10, 64)
			return v
		}
		return 0
	}
	c := &cardLimits{PerTxnFen: num("perTxnFen"), DailyFen: num("dailyFen"), SpentFen: num("spentFen")}
	if s, ok := item["spentDay"].(*types.AttributeValueMemberS); ok {
		c.SpentDay = s.Value
	}
	return c
}

// queuedRecord is an accepted record with what the ingest learned about it.
type queuedRecord struct {
	r       *readerrec.Record
	cardNo  string
	codeID  string
	codeExp int64
}

// packMessages writes the accepted records as TypeRecords queue messages of up to RecordsPerMessage
// records each (DecodeMessage reads them). A message holds the records of one message group (Group: the
// school and the card's shard), in the request's order, so that one card's records are never in two
// batches at once (docs/decisions/0013). The device's part is written once per message by encoding/json;
// the records are written without reflection: their strings are digits or checked tokens, so they need
// no escaping.
func packMessages(dev *devices.Device, recs []queuedRecord, now time.Time) ([]queue.Message, error) {
	head, err := json.Marshal(struct {
		Type       string    `json:"type"`
		DeviceID   string    `json:"deviceId"`
		SchoolID   string    `json:"schoolId"`
		Merchant   string    `json:"merchant"`
		ReceivedAt time.Time `json:"receivedAt"`
	}{TypeRecords, dev.DeviceID, dev.SchoolID, dev.Merchant, now.UTC()})
	if err != nil {
		return nil, err
	}
	head = append(head[:len(head)-1], `,"records":[`...) // without the closing brace
	var byShard [Shards][]queuedRecord
	var order []int
	for _, q := range recs {
		sh := Shard(q.cardNo)
		if byShard[sh] == nil {
			order = append(order, sh)
		}
		byShard[sh] = append(byShard[sh], q)
	}
	msgs := make([]queue.Message, 0, len(order)+len(recs)/RecordsPerMessage)
	for _, sh := range order {
		group := group(dev.SchoolID, sh)
		all := byShard[sh]
		for start := 0; start < len(all); start += RecordsPerMessage {
			chunk := all[start:min(start+RecordsPerMessage, len(all))]
			b := make([]byte, 0, len(head)+len(chunk)*160+2)
			b = append(b, head...)
			for i, q := range chunk {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendRecord(b, q)
			}
			msgs = append(msgs, queue.Message{Body: append(b, "]}"...), Group: group, Dedup: dedupID(dev.DeviceID, chunk)})
		}
	}
	return msgs, nil
}

// Shards is how many message groups a school's cards are spread over on the reader queue: up to Shards
// batches of one school are posted at once, each holding its cards alone (docs/decisions/0013).
const Shards = 16

// Shard is the message group of a card within its school: FNV-1a of the card number, mod Shards.
func Shard(cardNo string) int {
	h := uint32(2166136261)
	for i := 0; i < len(cardNo); i++ {
		h ^= uint32(cardNo[i])
		h *= 16777619
	}
	return int(h % Shards)
}

// Group is the reader queue's message group of a card's records.
func Group(school, cardNo string) string { return group(school, Shard(cardNo)) }

func group(school string, shard int) string { return school + ":" + strconv.Itoa(shard) }

// dedupID names a message by its records, (deviceId, seq): a reader that sends the same records again
// (no answer reached it) makes the same messages, and SQS drops them within its five-minute
// deduplication window; later copies are duplicates for the consumer (their markers exist).
func dedupID(device string, chunk []queuedRecord) string {
	h := sha256.New()
	b := append(make([]byte, 0, 64+len(chunk)*12), device...)
	for _, q := range chunk {
		b = append(b, ',')
		b = strconv.AppendInt(b, q.r.Seq, 10)
	}
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

func appendRecord(b []byte, q queuedRecord) []byte {
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, q.r.Seq, 10)
	b = append(b, `,"occurredAt":"`...)
	b = q.r.OccurredAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","kind":"`...)
	b = append(b, q.r.Kind...)
	b = append(b, `","amountFen":`...)
	b = strconv.AppendInt(b, q.r.AmountFen, 10)
	b = append(b, `,"cardNo":"`...)
	b = append(b, q.cardNo...)
	b = append(b, '"')
	if q.codeID != "" {
		b = append(b, `,"codeId":"`...)
		b = append(b, q.codeID...)
		b = append(b, `","codeExpiresAt":`...)
		b = strconv.AppendInt(b, q.codeExp, 10)
	}
	return append(b, '}')
}

// cardProjection is what the ingest reads of a card.
const cardProjection = "acct, schoolId, cardNo, #st, perTxnFen, dailyFen, spentDay, spentFen"

var cardNames = map[string]string{"#st": "status"}

// enqueue puts every message on the queue (shared/queue: ten per call, failed entries retried); it
// returns nil only when the queue took every message.
func (in *Ingest) enqueue(ctx context.Context, msgs []queue.Message) error {
	url := in.QueueURL()
	if url == "" {
		return errors.New("reader: READER_QUEUE_URL is not configured")
	}
	if err := queue.Send(ctx, in.SQS, url, msgs, in.SendAttempts); err != nil {
		httpapi.Log(ctx).Error("enqueue failed", "err", err.Error(), "messages", len(msgs))
		return ErrQueueUnavailable.Wrap(err)
	}
	return nil
}
