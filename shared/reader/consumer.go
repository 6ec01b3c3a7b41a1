package reader

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/cards"
	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/queue"
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
	// done: posted, kept as a dispute or found posted; outcome says which (set once).
	done    bool
	outcome Outcome
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
//
// On the FIFO queue (docs/decisions/0013) a failed message also fails every later message of its group
// in the batch (queue.HoldGroups), so that a group is never deleted out of order; their records come back
// in order and those already posted are duplicates then.
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
	state, err := c.readBatch(ctx, keys)
	if err != nil {
		c.Log.Error("batch read failed", "err", err.Error())
		for _, r := range byKey {
			failed = append(failed, r.ids...)
		}
		out.Failed += len(byKey)
		return out, response(ev, failed)
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
			err := c.postCard(ctx, g, state)
			o := g.outcome()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				c.Log.Error("card not posted; its messages will be retried", "card", g.school+":"+g.cardNo,
					"records", o.Failed, "err", err.Error())
				for _, r := range g.recs {
					if !r.done {
						failed = append(failed, r.ids...)
					}
				}
			}
			out.Posted += o.Posted
			out.Duplicate += o.Duplicate
			out.Disputed += o.Disputed
			out.Failed += o.Failed
		}()
	}
	wg.Wait()
	c.Log.Info("reader batch", "messages", len(ev.Records), "records", len(byKey), "cards", len(order), "posted", out.Posted,
		"duplicate", out.Duplicate, "disputed", out.Disputed, "failed", out.Failed, "poison", out.Poison)
	return out, response(ev, failed)
}

// readBatch is the batch's one round of reads, tried again after a transient fault as long as the
// invocation has time (a failed read would fail every message of the batch).
func (c *Consumer) readBatch(ctx context.Context, keys []store.Key) (map[store.Key]map[string]types.AttributeValue, error) {
	limit := c.MaxAttempts
	if limit <= 0 {
		limit = ledger.DefaultMaxAttempts
	}
	for attempt := 1; ; attempt++ {
		state, err := c.S.BatchGet(ctx, keys, "", nil)
		if err == nil || !store.Transient(err) || attempt >= limit || !retryLeft(ctx, attempt) {
			return state, err
		}
		if !sleep(ctx, backoff(attempt)) {
			return nil, ctx.Err()
		}
	}
}

// A message that carries records of several failed cards is reported once; the later messages of a
// failed message's group fail with it.
func response(ev events.SQSEvent, failed []string) events.SQSEventResponse {
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	slices.Sort(failed)
	for _, id := range slices.Compact(failed) {
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
	}
	resp.BatchItemFailures = queue.HoldGroups(ev, resp.BatchItemFailures)
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
//
// What happens to a record is decided from a read of the card, and every write is conditioned on that
// read (the card's blv and seq), so a record is never posted on a decision the card has left behind: when
// another writer got in between (a 补卡, a loss report, another consumer), or DynamoDB throttled or
// failed for a moment, the records not yet done are read and decided again, with jittered backoff,
// up to MaxAttempts and while the invocation has time left (retryLeft). Only then does the card fail
// its messages.
func (c *Consumer) postCard(ctx context.Context, g *cardGroup, state map[store.Key]map[string]types.AttributeValue) error {
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
	limit := c.MaxAttempts
	if limit <= 0 {
		limit = ledger.DefaultMaxAttempts
	}
	st := state
	for attempt := 1; ; attempt++ {
		err := ctx.Err()
		if err == nil && st == nil {
			st, err = c.readCard(ctx, g)
		}
		if err == nil {
			err = c.tryCard(ctx, g, st)
		}
		if err == nil && g.pending() == 0 {
			return nil
		}
		if err == nil {
			err = ledger.ErrBusy // some records met a changed card: decide them again
		}
		if !retryable(err) || attempt >= limit || !retryLeft(ctx, attempt) {
			return err
		}
		st = nil
		if !sleep(ctx, backoff(attempt)) {
			return ctx.Err()
		}
	}
}

// pending counts the records of g not yet posted, kept or found done.
func (g *cardGroup) pending() int {
	n := 0
	for _, r := range g.recs {
		if !r.done {
			n++
		}
	}
	return n
}

// readCard reads g's card and the markers of its records not yet done (one BatchGetItem).
func (c *Consumer) readCard(ctx context.Context, g *cardGroup) (map[store.Key]map[string]types.AttributeValue, error) {
	keys := []store.Key{store.CardKey(g.school, g.cardNo)}
	for _, r := range g.recs {
		if r.done {
			continue
		}
		keys = append(keys, store.IdemKey(r.msg.Scope(), r.msg.Key()))
		if r.msg.CodeID != "" {
			keys = append(keys, store.PayCodeKey(r.msg.CodeID))
		}
	}
	return c.S.BatchGet(ctx, keys, "", nil)
}

// tryCard is one attempt at g's records not yet done, decided from st. A record it posts, keeps as a
// dispute or finds done is marked done; one that met a card changed since st stays pending.
func (c *Consumer) tryCard(ctx context.Context, g *cardGroup, st map[store.Key]map[string]types.AttributeValue) (err error) {
	raw, ok := st[store.CardKey(g.school, g.cardNo)]
	if !ok {
		return errors.New("card not found") // it existed at ingest; cards are never deleted
	}
	var card cards.Card
	if err := attributevalue.UnmarshalMap(raw, &card); err != nil {
		return err
	}
	// Where this card's records are charged: the card itself, or the student's current card when this
	// one was replaced (nil: none, the records become disputes).
	// pre is what the ledger posts on: the cards and markers this decision read.
	pre := map[store.Key]map[string]types.AttributeValue{card.Key: raw}
	target, err := currentCard(ctx, c.S, &card, st, pre)
	if err != nil {
		return err
	}
	type dayPosts struct {
		ms   []ledger.Movement
		recs []*record
	}
	byDay := map[string]*dayPosts{}
	var days []string
	codes := map[string]bool{}
	for _, r := range g.recs {
		if r.done {
			continue
		}
		m := r.msg
		mk := store.IdemKey(m.Scope(), m.Key())
		if _, done := st[mk]; done {
			r.finish(Outcome{Duplicate: 1})
			continue
		}
		reason := Decide(&card, target, m.OccurredAt)
		if reason == "" && m.CodeID != "" {
			if _, spent := st[store.PayCodeKey(m.CodeID)]; spent || codes[m.CodeID] {
				reason = DisputeCodeUsed
			}
			codes[m.CodeID] = true
		}
		if reason != "" {
			// Conditioned on the card as read: a dispute decided on a status the card has left is
			// decided again.
			check := cards.Unchanged(card.Key, raw)
			kept, err := keepDispute(ctx, c.S, m, reason, c.Now(), &check)
			if errors.Is(err, ledger.ErrStale) {
				continue
			}
			if err != nil {
				return err
			}
			if kept {
				c.Log.Warn("record disputed", "device", m.DeviceID, "seq", m.Seq, "reason", reason)
				r.finish(Outcome{Disputed: 1})
			} else {
				r.finish(Outcome{Duplicate: 1})
			}
			continue
		}
		mv, err := m.Movement()
		if err != nil {
			return err
		}
		if target.CardNo != card.CardNo {
			mv.Postings[0].Account, mv.Postings[0].Item = target.Account, target.Key
			mv.Postings[1].Counterparty = target.Account // the reader's clearing side names the card charged
		}
		day := chinatime.Day(m.OccurredAt)
		if byDay[day] == nil {
			byDay[day] = &dayPosts{}
			days = append(days, day)
		}
		byDay[day].ms = append(byDay[day].ms, mv)
		byDay[day].recs = append(byDay[day].recs, r)
	}
	for _, day := range days {
		d := byDay[day]
		// The card hook keeps the day's reader spending on the card (cards.ReaderScope); one
		// BatchGetItem reads the markers and the card.
		l := ledger.New(c.S, c.Now)
		l.BatchReads = true
		// One try per decision: a conflict, or a card no longer in the state the records were decided
		// on (Guard, for the reads after the first), sends them back to be decided again.
		l.MaxAttempts = 1
		l.Prefetched = pre
		l.Guard = sameStatus(target)
		res, errs, err := l.PostAll(ctx, d.ms)
		if err != nil {
			return err
		}
		for i, e := range errs {
			r := d.recs[i]
			switch {
			case e == nil && res[i].Replayed: // another delivery posted it since our read
				r.finish(Outcome{Duplicate: 1})
			case e == nil:
				r.finish(Outcome{Posted: 1})
			case fault.Is(e, ledger.ErrInsufficient.Code) && r.msg.CodeID != "":
				// A code is never an overdraft: the record is kept for finance (and the code marked spent).
				kept, err := c.disputeCode(ctx, r.msg)
				if err != nil {
					return err
				}
				if kept {
					r.finish(Outcome{Disputed: 1})
				} else {
					r.finish(Outcome{Duplicate: 1})
				}
			case fault.Is(e, fault.ErrIdemReused.Code):
				// The device used this seq before for another record (or it was disputed): the first counts.
				c.Log.Warn("seq already used for another record", "scope", d.ms[i].Scope, "seq", d.ms[i].Key)
				r.finish(Outcome{Duplicate: 1})
			case fault.Is(e, ledger.ErrBusy.Code), fault.Is(e, ledger.ErrStale.Code):
				// decided again on the next attempt
			default:
				return e
			}
		}
		// The next day's read must be fresh: this day's write changed the card.
		pre = nil
	}
	return nil
}

// finish marks r done with what happened to it.
func (r *record) finish(o Outcome) { r.done, r.outcome = true, o }

// outcome sums what happened to g's records; those not done are Failed.
func (g *cardGroup) outcome() Outcome {
	var o Outcome
	for _, r := range g.recs {
		if !r.done {
			o.Failed++
			continue
		}
		o.Posted += r.outcome.Posted
		o.Duplicate += r.outcome.Duplicate
		o.Disputed += r.outcome.Disputed
	}
	return o
}

// Decide is the rule for a record of card dated at, given target, the card the student holds now
// (currentCard): "" charges it to target, otherwise it is kept as a dispute for that reason.
//   - A card replaced by 补卡 (cancelled, with CutoffAt): a record dated before the cutoff is the
//     holder's spending, approved before the card stopped being theirs, and is charged to the current
//     card; one dated at or after it is a dispute (CARD_CANCELLED), as is any record of a card cancelled
//     without a replacement, or whose replacement chain ends at no usable card.
//   - A lost card: a record dated at or after the loss report is a dispute (CARD_LOST).
func Decide(card, target *cards.Card, at time.Time) string {
	switch {
	case card.Status == cards.Cancelled:
		if target == nil || card.CutoffAt.IsZero() || !at.Before(card.CutoffAt) {
			return DisputeCardCancelled
		}
	case card.Status == cards.Lost && !card.LostAt.IsZero() && !at.Before(card.LostAt):
		return DisputeCardLost
	}
	return ""
}

// currentCard is the card a record of card is charged to: card itself unless it was cancelled, else
// the card that replaced it (following replacements); nil when the chain ends at a cancelled card. The
// cards it reads (from st when there) are added to pre, so that the ledger posts on the read the
// decision was taken on.
func currentCard(ctx context.Context, s *store.Store, card *cards.Card, st, pre map[store.Key]map[string]types.AttributeValue) (*cards.Card, error) {
	cur := card
	for hops := 0; cur.Status == cards.Cancelled; hops++ {
		if cur.ReplacedBy == "" || hops >= 10 {
			return nil, nil
		}
		k := store.CardKey(cur.SchoolID, cur.ReplacedBy)
		raw, ok := st[k]
		if !ok {
			var c cards.Card
			found, err := s.GetRaw(ctx, k, &c, &raw)
			if err != nil {
				return nil, err
			}
			if !found {
				return nil, nil
			}
		}
		pre[k] = raw
		next := &cards.Card{}
		if err := attributevalue.UnmarshalMap(raw, next); err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// sameStatus refuses (ErrStale) a posting to target when a read finds its status changed since the
// decision: a record decided on an active card is not charged to a card that was lost or replaced since.
func sameStatus(target *cards.Card) func(store.Key, map[string]types.AttributeValue) error {
	return func(k store.Key, st map[string]types.AttributeValue) error {
		if k != target.Key {
			return nil
		}
		if s, _ := st["status"].(*types.AttributeValueMemberS); s == nil || s.Value != target.Status {
			return ledger.ErrStale
		}
		return nil
	}
}

// retryable reports whether a card's posting may be tried again within the invocation.
func retryable(err error) bool {
	return store.Transient(err) || fault.Is(err, ledger.ErrBusy.Code) || fault.Is(err, ledger.ErrStale.Code)
}

// retryMargin is the time an invocation keeps for itself after its last retry: to answer which
// messages failed before the function's timeout.
const retryMargin = 3 * time.Second

// retryLeft reports whether another attempt fits before the invocation's deadline.
func retryLeft(ctx context.Context, attempt int) bool {
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > retryMargin+backoff(attempt)
}

// backoff is the wait before attempt+1: exponential from 10 ms, capped at 320 ms.
func backoff(attempt int) time.Duration { return time.Duration(10<<min(attempt, 5)) * time.Millisecond }

// sleep waits about d (between d/2 and d: jitter, so that writers that collided do not collide again);
// false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d/2 + time.Duration(rand.Int64N(int64(d/2)+1)))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
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
	mv := ledger.Movement{Scope: m.Scope(), Key: m.Key(), Postings: ledger.External(ledger.Posting{
		Account: cards.AccountID(m.SchoolID, m.CardNo), Item: store.CardKey(m.SchoolID, m.CardNo),
		AmountFen: -m.AmountFen, Kind: kind, Counterparty: "ext:merchant:" + m.DeviceID, Merchant: m.Merchant,
		OccurredAt: m.OccurredAt, AllowNegative: m.CodeID == "",
	})}
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
		TTL: m.CodeExpiresAt + int64(codeMarkerKeep/time.Second)}, store.IfAbsent, nil)
}

// disputeCode keeps a code record the balance could not cover, and spends its code in the same
// transaction, so that a second presentation of the code is still refused (PAYMENT_CODE_USED). If
// another record spent the code meanwhile, the transaction fails and the retried message is disputed
// as a second use instead.
func (c *Consumer) disputeCode(ctx context.Context, m *Message) (bool, error) {
	spent, err := m.codeSpentItem()
	if err != nil {
		return false, err
	}
	kept, err := KeepDispute(ctx, c.S, m, DisputeCodeOverBalance, c.Now(), spent)
	if kept {
		c.Log.Warn("record disputed", "device", m.DeviceID, "seq", m.Seq, "reason", DisputeCodeOverBalance)
	}
	return kept, err
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
