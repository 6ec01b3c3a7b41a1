package reader

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/cards"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/readerrec"
	"onecard/shared/store"
)

// Consumer posts the records of the reader queue to the ledger.
type Consumer struct {
	S   *store.Store
	Now func() time.Time
	Log *slog.Logger
	// Workers is how many cards of a batch are posted at once (default 16).
	Workers int
	// MaxAttempts is the ledger's retry bound per card (default ledger.DefaultMaxAttempts).
	MaxAttempts int
}

// record is one distinct (deviceId, seq) of a batch and the queue messages that carry it (SQS delivers
// at least once, so one batch may hold the same record twice).
type record struct {
	msg *Message
	ids []string
}

// cardGroup is every record of one card in a batch.
type cardGroup struct {
	school, cardNo string
	recs           []*record
}

// Outcome counts what a batch did (for logs, tests and benchmarks).
type Outcome struct {
	Posted, Duplicate, Disputed, Failed, Poison int
}

// Handle is the Lambda handler: it returns the ids of the messages to retry (ReportBatchItemFailures).
// A card whose posting fails fails only the messages that carry its records (the other records of those
// messages come back with them and are duplicates then: posting is idempotent on (deviceId, seq)); a
// malformed message fails alone and reaches the dead-letter queue after the queue's maxReceiveCount.
func (c *Consumer) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	_, resp := c.Process(ctx, ev)
	return resp, nil
}

// Process is Handle with the counts.
func (c *Consumer) Process(ctx context.Context, ev events.SQSEvent) (Outcome, events.SQSEventResponse) {
	var out Outcome
	var failed []string
	byKey := map[string]*record{}
	groups := map[string]*cardGroup{}
	var order []string
	for _, m := range ev.Records {
		msgs, err := DecodeMessage(m.Body)
		if err != nil {
			c.Log.Error("poison message", "messageId", m.MessageId, "receiveCount", m.Attributes["ApproximateReceiveCount"])
			failed = append(failed, m.MessageId)
			out.Poison++
			continue
		}
		for _, msg := range msgs {
			k := msg.Scope() + "#" + msg.Key()
			if r, ok := byKey[k]; ok {
				if !sameRecord(r.msg, msg) {
					c.Log.Warn("one seq, two records: the first is posted", "device", msg.DeviceID, "seq", msg.Seq)
				}
				if !slices.Contains(r.ids, m.MessageId) {
					r.ids = append(r.ids, m.MessageId)
				}
				continue
			}
			r := &record{msg: msg, ids: []string{m.MessageId}}
			byKey[k] = r
			gk := msg.SchoolID + "#" + msg.CardNo
			g := groups[gk]
			if g == nil {
				g = &cardGroup{school: msg.SchoolID, cardNo: msg.CardNo}
				groups[gk] = g
				order = append(order, gk)
			}
			g.recs = append(g.recs, r)
		}
	}

	// One round of reads for the whole batch: the cards, the records' markers, the codes' markers.
	var keys []store.Key
	for _, gk := range order {
		g := groups[gk]
		keys = append(keys, store.CardKey(g.school, g.cardNo))
		for _, r := range g.recs {
			keys = append(keys, store.IdemKey(r.msg.Scope(), r.msg.Key()))
			if r.msg.CodeID != "" {
				keys = append(keys, store.PayCodeKey(r.msg.CodeID))
			}
		}
	}
	state, err := c.S.BatchGet(ctx, keys, "", nil)
	if err != nil {
		c.Log.Error("batch read failed", "err", err.Error())
		for _, r := range byKey {
			failed = append(failed, r.ids...)
		}
		out.Failed += len(byKey)
		return out, response(failed)
	}

	workers := c.Workers
	if workers <= 0 {
		workers = 16
	}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		sem = make(chan struct{}, workers)
	)
	for _, gk := range order {
		g := groups[gk]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			o, err := c.postCard(ctx, g, state)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				c.Log.Error("card not posted; its messages will be retried", "card", g.school+":"+g.cardNo,
					"records", len(g.recs), "err", err.Error())
				for _, r := range g.recs {
					failed = append(failed, r.ids...)
				}
				out.Failed += len(g.recs)
				return
			}
			out.Posted += o.Posted
			out.Duplicate += o.Duplicate
			out.Disputed += o.Disputed
		}()
	}
	wg.Wait()
	c.Log.Info("reader batch", "messages", len(ev.Records), "records", len(byKey), "cards", len(order), "posted", out.Posted,
		"duplicate", out.Duplicate, "disputed", out.Disputed, "failed", out.Failed, "poison", out.Poison)
	return out, response(failed)
}

// A message that carries records of several failed cards is reported once.
func response(failed []string) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	slices.Sort(failed)
	for _, id := range slices.Compact(failed) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	return resp
}

// sameRecord compares what is posted, ignoring when the ingest received each copy.
func sameRecord(a, b *Message) bool {
	x, y := *a, *b
	x.ReceivedAt, y.ReceivedAt = time.Time{}, time.Time{}
	return x == y
}

// Dispute reasons: why a record was kept for staff instead of being charged.
const (
	DisputeCardLost      = "CARD_LOST"         // dated at or after the card's loss report
	DisputeCardCancelled = "CARD_CANCELLED"    // the card was cancelled (replaced); its balance moved on
	DisputeCodeUsed      = "PAYMENT_CODE_USED" // another record already spent this payment code
	// DisputeCodeOverBalance: a payment-code record the balance could not cover when it was posted (two
	// codes issued on one balance, or the balance spent between issue and use). A code is never an
	// overdraft, so it is kept for finance, who charge it once the balance covers it or waive it.
	DisputeCodeOverBalance = "INSUFFICIENT_BALANCE"
)

// postCard posts one card's records: already-posted ones are skipped, those the student must not be
// charged for become disputes, and the rest go through the ledger, one PostAll per day of spending.
func (c *Consumer) postCard(ctx context.Context, g *cardGroup, state map[store.Key]map[string]types.AttributeValue) (Outcome, error) {
	var out Outcome
	if err := ctx.Err(); err != nil {
		return out, err
	}
	raw, ok := state[store.CardKey(g.school, g.cardNo)]
	if !ok {
		return out, errors.New("card not found") // it existed at ingest; cards are never deleted
	}
	var card cards.Card
	if err := attributevalue.UnmarshalMap(raw, &card); err != nil {
		return out, err
	}
	// Oldest first, so that the entries of a card read in the order the student paid.
	sort.Slice(g.recs, func(i, j int) bool {
		a, b := g.recs[i].msg, g.recs[j].msg
		if !a.OccurredAt.Equal(b.OccurredAt) {
			return a.OccurredAt.Before(b.OccurredAt)
		}
		if a.DeviceID != b.DeviceID {
			return a.DeviceID < b.DeviceID
		}
		return a.Seq < b.Seq
	})
	byDay := map[string][]ledger.Movement{}
	msgsByDay := map[string][]*Message{} // the records of byDay, index for index
	var days []string
	codes := map[string]bool{}
	for _, r := range g.recs {
		m := r.msg
		if _, done := state[store.IdemKey(m.Scope(), m.Key())]; done {
			out.Duplicate++
			continue
		}
		reason := ""
		switch {
		case card.Status == cards.Cancelled:
			reason = DisputeCardCancelled
		case card.Status == cards.Lost && !card.LostAt.IsZero() && !m.OccurredAt.Before(card.LostAt):
			reason = DisputeCardLost
		case m.CodeID != "":
			if _, spent := state[store.PayCodeKey(m.CodeID)]; spent || codes[m.CodeID] {
				reason = DisputeCodeUsed
			}
			codes[m.CodeID] = true
		}
		if reason != "" {
			if err := c.dispute(ctx, m, reason); err != nil {
				return out, err
			}
			out.Disputed++
			continue
		}
		mv, err := m.Movement()
		if err != nil {
			return out, err
		}
		day := Day(m.OccurredAt)
		if byDay[day] == nil {
			days = append(days, day)
		}
		byDay[day] = append(byDay[day], mv)
		msgsByDay[day] = append(msgsByDay[day], m)
	}
	for _, day := range days {
		ms := byDay[day]
		l := PostingLedger(c.S, c.Now, day)
		l.MaxAttempts = c.MaxAttempts
		if len(days) == 1 {
			l.Prefetched = state // the batch read holds this card and every record's marker
		}
		res, errs, err := l.PostAll(ctx, ms)
		if err != nil {
			return out, err
		}
		for i, e := range errs {
			switch {
			case e == nil && res[i].Replayed: // another delivery posted it since our read
				out.Duplicate++
			case e == nil:
				out.Posted++
			case fault.Is(e, ledger.ErrInsufficient.Code) && msgsByDay[day][i].CodeID != "":
				// A code is never an overdraft: the record is kept for finance (and the code marked spent).
				if err := c.disputeCode(ctx, msgsByDay[day][i]); err != nil {
					return out, err
				}
				out.Disputed++
			case fault.Is(e, fault.ErrIdemReused.Code):
				// The device used this seq before for another record (or it was disputed): the first counts.
				c.Log.Warn("seq already used for another record", "scope", ms[i].Scope, "seq", ms[i].Key)
				out.Duplicate++
			default:
				return out, e
			}
		}
	}
	return out, nil
}

// PostingLedger is the ledger the consumer posts a card's records of day (YYYY-MM-DD, China time) with:
// the card hook (arrears, blacklist) plus the day's reader spending kept on the card for the daily limit,
// and one BatchGetItem for the markers and the card instead of a GetItem each.
func PostingLedger(s *store.Store, now func() time.Time, day string) *ledger.Ledger {
	return &ledger.Ledger{S: s, Now: now, OnChange: spendHook(day, cards.LedgerHook(now)), BatchReads: true}
}

// Movement is the ledger movement of a record: the card pays the device's merchant, idempotently on
// (deviceId, seq); a payment code is spent with it. A card swipe is posted even into arrears (the
// reader approved it offline); a record paid with a code is not: the ledger refuses it
// (INSUFFICIENT_BALANCE) and the consumer keeps it as a dispute.
func (m *Message) Movement() (ledger.Movement, error) {
	kind := ledger.KindPurchase
	if m.Kind == readerrec.KindHotWater {
		kind = ledger.KindHotWater
	}
	mv := ledger.Movement{Scope: m.Scope(), Key: m.Key(), Postings: []ledger.Posting{{
		Account: cards.AccountID(m.SchoolID, m.CardNo), Item: store.CardKey(m.SchoolID, m.CardNo),
		AmountFen: -m.AmountFen, Kind: kind, Counterparty: "ext:merchant:" + m.DeviceID, Merchant: m.Merchant,
		OccurredAt: m.OccurredAt, AllowNegative: m.CodeID == "",
	}}}
	if m.CodeID != "" {
		// The ledger refuses a second use of the code too: this put fails if another record spent it.
		put, err := m.codeSpentItem()
		if err != nil {
			return mv, err
		}
		mv.Extra = append(mv.Extra, put)
	}
	return mv, nil
}

// codeSpentItem marks m's payment code spent, on condition that no record spent it before.
func (m *Message) codeSpentItem() (types.TransactWriteItem, error) {
	return store.PutItem(codeSpent{Key: store.PayCodeKey(m.CodeID), SpentBy: m.Scope() + "#" + m.Key(),
		TTL: m.CodeExpiresAt + int64(codeMarkerKeep/time.Second)}, "attribute_not_exists(PK)", nil)
}

// disputeCode keeps a code record the balance could not cover, and spends its code in the same
// transaction, so that a second presentation of the code is still refused (PAYMENT_CODE_USED). If
// another record spent the code meanwhile, the transaction fails and the retried message is disputed
// as a second use instead.
func (c *Consumer) disputeCode(ctx context.Context, m *Message) error {
	spent, err := m.codeSpentItem()
	if err != nil {
		return err
	}
	kept, err := KeepDispute(ctx, c.S, m, DisputeCodeOverBalance, c.Now(), spent)
	if kept {
		c.Log.Warn("record disputed", "device", m.DeviceID, "seq", m.Seq, "reason", DisputeCodeOverBalance)
	}
	return err
}

// codeMarkerKeep is how long after its expiry a spent code is remembered: longer than a record may take
// to arrive (readerrec.MaxAge), so that a late second use is still refused.
const codeMarkerKeep = readerrec.MaxAge + 24*time.Hour

// codeSpent marks a payment code as used.
type codeSpent struct {
	store.Key
	SpentBy string `dynamodbav:"spentBy"`
	TTL     int64  `dynamodbav:"ttl"`
}

// spendHook extends the card hook: a card's reader spending on day is kept on the card item, in the
// same transaction as the balance, for the daily limit the ingest checks.
func spendHook(day string, base func(store.Key, int64, int64, map[string]types.AttributeValue) ([]types.TransactWriteItem, ledger.UpdateParts)) func(store.Key, int64, int64, map[string]types.AttributeValue) ([]types.TransactWriteItem, ledger.UpdateParts) {
	return func(item store.Key, before, after int64, st map[string]types.AttributeValue) ([]types.TransactWriteItem, ledger.UpdateParts) {
		items, parts := base(item, before, after, st)
		if !strings.HasPrefix(item.PK, "CARD#") || after >= before {
			return items, parts
		}
		total := before - after
		cur := ""
		if s, ok := st["spentDay"].(*types.AttributeValueMemberS); ok {
			cur = s.Value
		}
		switch {
		case cur > day:
			return items, parts // a late record of an earlier day: today's total is what limits now
		case cur == day:
			if n, ok := st["spentFen"].(*types.AttributeValueMemberN); ok {
				v, _ := strconv.ParseInt(n.Value, 10, 64)
				total += v
			}
		}
		if parts.Values == nil {
			parts.Values = map[string]any{}
		}
		parts.Set = append(parts.Set, "spentDay = :rdSpentDay", "spentFen = :rdSpentFen")
		parts.Values[":rdSpentDay"], parts.Values[":rdSpentFen"] = day, total
		return items, parts
	}
}
