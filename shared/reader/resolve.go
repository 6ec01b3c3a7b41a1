package reader

import (
	"context"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/plaintext"
	"onecard/shared/readerrec"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// What finance staff decide about a dispute.
const (
	DecisionCharge = "charge" // the student pays: the record is posted to the student's card
	DecisionWaive  = "waive"  // the student does not pay
)

// NoteRule is the note staff must give with a decision (it is kept on the dispute and in the audit).
var NoteRule = plaintext.Rule{Max: 200}

var (
	errBadDecision    = fault.Field("BAD_DECISION", "decision 须为 charge（向学生扣款）或 waive（不向学生扣款）")
	errBadNote        = fault.Field("BAD_NOTE", "请填写处理说明（不超过 200 字，不含控制字符）")
	errNoDispute      = fault.E(fault.NotFound, "DISPUTE_NOT_FOUND", "争议记录不存在")
	errResolved       = fault.E(fault.Conflict, "DISPUTE_RESOLVED", "该争议已按另一种方式处理")
	errNoCardToCharge = fault.E(fault.Conflict, "CARD_CANCELLED", "该卡已注销且没有补办的新卡，无法扣款")
)

// ResolveDispute records what finance staff decided about the dispute of (deviceID, seq) in their school.
// Charging posts the record to the student's card (or to the card that replaced it), even below zero as
// the reader approved it (except a code record the balance could not cover: 422 INSUFFICIENT_BALANCE
// until the balance covers it), in the same transaction as the dispute's new status and the audit record;
// waiving moves no money. Repeating a decision answers the dispute as it stands; the other decision on
// a resolved dispute is a conflict.
func ResolveDispute(ctx context.Context, s *store.Store, l *ledger.Ledger, p auth.Principal, deviceID string, seq int64,
	decision, note string, now time.Time) (*DisputeView, error) {
	status := map[string]string{DecisionCharge: DisputeCharged, DecisionWaive: DisputeWaived}[decision]
	if status == "" {
		return nil, errBadDecision
	}
	note, problem := NoteRule.Check(note)
	if problem != plaintext.OK {
		return nil, errBadNote
	}
	d, err := loadDispute(ctx, s, p.School, deviceID, seq)
	if err != nil {
		return nil, err
	}
	if d.Status != DisputeOpen {
		return settled(d, status)
	}
	actor := staff.Actor(p)
	at := now.UTC().Format(time.RFC3339Nano)
	details := map[string]any{"decision": decision, "note": note, "amountFen": d.AmountFen, "cardNo": d.CardNo}

	if decision == DecisionWaive {
		err = s.Transact(ctx, []types.TransactWriteItem{
			store.ResolveDisputeItem(d.Key, status, DisputeOpen, actor.ID, at, note, ""),
			staff.AuditItem(actor, "dispute.waive", disputeTarget(d), details, now),
		}, "")
	} else {
		kind := ledger.KindPurchase
		if d.Kind == readerrec.KindHotWater {
			kind = ledger.KindHotWater
		}
		// The card to charge is decided from a read, and the posting lands only while that card is in
		// the state read (Guard, and the card hook's blv condition): a 补卡 in between makes it decide
		// again, so the charge goes to the card that replaced it, never to a cancelled one.
		for attempt := 1; ; attempt++ {
			var card *cards.Card
			if card, err = chargeableCard(ctx, s, d.SchoolID, d.CardNo); err != nil {
				return nil, err
			}
			details["chargedCard"] = card.CardNo
			lc := *l
			lc.Guard = sameStatus(card)
			_, err = lc.Post(ctx, ledger.Movement{Scope: "dispute:" + d.DeviceID, Key: strconv.FormatInt(d.Seq, 10),
				Postings: ledger.External(ledger.Posting{Account: card.Account, Item: card.Key, AmountFen: -d.AmountFen, Kind: kind,
					Counterparty: "ext:merchant:" + d.DeviceID, Merchant: d.Merchant, OccurredAt: d.OccurredAt,
					AllowNegative: d.Reason != DisputeCodeOverBalance}), // a code is never an overdraft: INSUFFICIENT_BALANCE until recharged
				Extra: []types.TransactWriteItem{
					store.ResolveDisputeItem(d.Key, status, DisputeOpen, actor.ID, at, note, card.CardNo),
					staff.AuditItem(actor, "dispute.charge", disputeTarget(d), details, now),
				}})
			if !fault.Is(err, ledger.ErrStale.Code) || attempt >= 5 {
				break
			}
		}
	}
	if err != nil {
		// Another request may have resolved it meanwhile (our status condition failed): answer from what
		// it is now. Otherwise the error stands (ledger.ErrBusy after its retries, or the store's).
		if again, gerr := loadDispute(ctx, s, p.School, deviceID, seq); gerr == nil && again.Status != DisputeOpen {
			return settled(again, status)
		}
		return nil, err
	}
	d, err = loadDispute(ctx, s, p.School, deviceID, seq)
	if err != nil {
		return nil, err
	}
	v := d.view()
	return &v, nil
}

func disputeTarget(d *Dispute) string {
	return "dispute:" + d.DeviceID + "#" + strconv.FormatInt(d.Seq, 10)
}

// settled answers a request on a dispute that is no longer open.
func settled(d *Dispute, want string) (*DisputeView, error) {
	if d.Status != want {
		return nil, errResolved
	}
	v := d.view()
	return &v, nil
}

// loadDispute reads a dispute of the staff member's school; another school's is not found.
func loadDispute(ctx context.Context, s *store.Store, school, deviceID string, seq int64) (*Dispute, error) {
	var d Dispute
	ok, err := s.Get(ctx, store.DisputeKey(deviceID, seq), &d)
	if err != nil {
		return nil, err
	}
	if !ok || d.SchoolID != school {
		return nil, errNoDispute
	}
	return &d, nil
}

// chargeableCard is the card the student holds now: the record's card, or the card that replaced it
// (补卡 moves the balance on and cancels the old card).
func chargeableCard(ctx context.Context, s *store.Store, school, cardNo string) (*cards.Card, error) {
	repo := cards.Repo{S: s}
	c, err := repo.Get(ctx, school, cardNo)
	for hops := 0; err == nil && c.Status == cards.Cancelled && c.ReplacedBy != "" && hops < 10; hops++ {
		c, err = repo.Get(ctx, school, c.ReplacedBy)
	}
	if err != nil {
		return nil, err
	}
	if c.Status == cards.Cancelled {
		return nil, errNoCardToCharge
	}
	return c, nil
}
