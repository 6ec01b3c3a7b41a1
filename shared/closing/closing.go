// Package closing is 销户: a graduate's or leaver's card is closed for good and what is left on it goes
// back to the student, to the WeChat Pay recharges it came from (newest first, within WeChat Pay's refund
// window, never more than each order can still give back), and what no recharge can take is paid out in
// cash at the counter under a receipt. Dorm rooms are not touched: they belong to the room, not the card.
// The graduation batch closes the cards of the students the roster marks graduated (or left), a chunk per
// request, with a report.
package closing

import (
	"context"
	"strconv"
	"strings"
	"time"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/cash"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/recharge"
	"onecard/shared/staff"
	"onecard/shared/store"
	"onecard/shared/wechatpay"
)

// Service closes cards.
type Service struct {
	S        *store.Store
	Ledger   *ledger.Ledger
	Cards    *cards.Service
	Recharge *recharge.Service
	Now      func() time.Time
}

// RefundLine is one refund a closing asked for.
type RefundLine struct {
	OrderNo   string `json:"orderNo"`
	RefundNo  string `json:"refundNo"`
	AmountFen int64  `json:"amountFen"`
	Status    string `json:"status"`
}

// Result is what closing a card did.
type Result struct {
	CardNo        string       `json:"cardNo"`
	StudentNo     string       `json:"studentNo"`
	Status        string       `json:"status"` // the card's: cancelled
	Refunds       []RefundLine `json:"refunds"`
	RefundedFen   int64        `json:"refundedFen"`
	CashPayoutFen int64        `json:"cashPayoutFen"`
	ReceiptNo     string       `json:"receiptNo,omitempty"`
	// CashDueFen is what is still on the card: owed to the student in cash (give a receipt number and
	// close again), or a refund that failed later and came back.
	CashDueFen int64 `json:"cashDueFen"`
	BalanceFen int64 `json:"balanceFen"`
}

// Errors.
var ErrReceiptRequired = fault.E(fault.Rule, "CASH_RECEIPT_REQUIRED", "余额中有无法原路退回的部分，须以现金退还：请填写现金收据号")

// maxScan bounds the card history read for recharges (entries, newest first).
const maxScan = 500

// source is a recharge the balance can go back to.
type source struct {
	orderNo string
	fen     int64 // what the order can still give back
}

// sources lists the WeChat recharges of c (and of the cards it replaced), newest first, that WeChat Pay
// still refunds, with what each can give back.
func (s *Service) sources(ctx context.Context, c *cards.Card) ([]source, error) {
	accts := []string{}
	for _, no := range c.HistoryCards() {
		accts = append(accts, cards.AccountID(c.SchoolID, no))
	}
	var out []source
	seen := map[string]bool{}
	cursor, scanned := "", 0
	for scanned < maxScan {
		page, next, err := s.Ledger.MergedHistory(ctx, accts, 100, cursor, "")
		if err != nil {
			return nil, err
		}
		for _, e := range page {
			scanned++
			if s.Now().Sub(e.OccurredAt) >= wechatpay.RefundWindow {
				return out, nil // older ones are out of the window too
			}
			no, ok := strings.CutPrefix(e.Idem, "wechat#")
			if e.Kind != ledger.KindRecharge || !ok || seen[no] {
				continue
			}
			seen[no] = true
			o, err := recharge.Get(ctx, s.S, no)
			if err != nil {
				continue // not an order of ours (a test's or a seed's credit)
			}
			if left := o.AmountFen - o.RefundedFen; o.Status == recharge.Paid && left > 0 && s.Now().Sub(o.PaidAt) < wechatpay.RefundWindow {
				out = append(out, source{o.OrderNo, left})
			}
		}
		if next == nil {
			break
		}
		cursor = *next
	}
	return out, nil
}

// Close closes cardNo (销户) and gives its balance back: refunds to its recharges, newest first, then the
// rest in cash under receiptNo. Without a receipt, a balance that the recharges cannot take is refused
// before anything changes (ErrReceiptRequired), unless cashDue: then the card is closed, refunded as far
// as WeChat Pay goes, and the rest is reported as CashDueFen (the batch). Repeating it finishes what an
// earlier attempt left: a card already closed is not closed again, and what is on it is given back.
func (s *Service) Close(ctx context.Context, p auth.Principal, cardNo, receiptNo string, cashDue bool) (*Result, error) {
	if receiptNo != "" {
		if err := cash.CheckReceipt(receiptNo); err != nil {
			return nil, err
		}
	}
	c, err := s.Cards.Cards.Get(ctx, p.School, cardNo)
	if err != nil {
		return nil, err
	}
	if c.Status == cards.Cancelled && c.ReplacedBy != "" {
		return nil, cards.ErrCardReplaced
	}
	if c.Balance < 0 {
		return nil, cards.ErrCardArrears
	}
	src, err := s.sources(ctx, c)
	if err != nil {
		return nil, err
	}
	var refundable int64
	for _, x := range src {
		refundable += x.fen
	}
	if c.Balance > refundable && receiptNo == "" && !cashDue {
		return nil, ErrReceiptRequired
	}
	if c, err = s.Cards.CloseCard(ctx, c); err != nil {
		return nil, err
	}
	res := &Result{CardNo: cardNo, StudentNo: c.StudentNo, Status: c.Status, Refunds: []RefundLine{}}
	// Refunds, newest recharge first. The key names the card's state when this attempt began, so a
	// repeat after a crash asks for the same refunds, and one after postings asks afresh.
	remaining := c.Balance
	key := "close-" + cardNo + "-" + strconv.FormatInt(c.Seq, 10)
	for _, x := range src {
		if remaining <= 0 {
			break
		}
		amt := min(remaining, x.fen)
		rf, err := s.Recharge.Refund(ctx, recharge.RefundInput{School: p.School, Actor: staff.Actor(p), OrderNo: x.orderNo,
			AmountFen: amt, Reason: "销户退款", Key: key, Purpose: "close"})
		if err != nil {
			if _, ok := fault.As(err); ok {
				continue // this order cannot give it back now (raced, or refused): the rest goes on
			}
			return nil, err
		}
		res.Refunds = append(res.Refunds, RefundLine{OrderNo: x.orderNo, RefundNo: rf.RefundNo, AmountFen: rf.AmountFen, Status: rf.Status})
		if rf.Status != recharge.RefundFailed {
			res.RefundedFen += rf.AmountFen
			remaining -= rf.AmountFen
		}
	}
	// What is left, in cash.
	if c, err = s.Cards.Cards.Get(ctx, p.School, cardNo); err != nil {
		return nil, err
	}
	if c.Balance > 0 && receiptNo != "" {
		m := cash.Movement(p.School, p.Subject, receiptNo, c.Account, c.Key, -c.Balance, cash.KindPayout, "销户现金退款")
		l := *s.Ledger
		seq := c.Seq
		l.Guard = func(k store.Key, st map[string]typesAV) error { return guardSeq(k, c.Key, st, seq) }
		if _, err := l.Post(ctx, m); err != nil {
			return nil, cash.Refused(err)
		}
		res.CashPayoutFen, res.ReceiptNo = c.Balance, receiptNo
		if c, err = s.Cards.Cards.Get(ctx, p.School, cardNo); err != nil {
			return nil, err
		}
	}
	res.BalanceFen, res.CashDueFen = c.Balance, max(c.Balance, 0)
	if c.Balance == 0 {
		if err := s.Cards.LeaverDone(ctx, c); err != nil {
			return nil, err
		}
	}
	err = staff.Audit(ctx, s.S, staff.Actor(p), "card.close", "card:"+cardNo, map[string]any{"refundedFen": res.RefundedFen,
		"refunds": len(res.Refunds), "cashPayoutFen": res.CashPayoutFen, "receiptNo": receiptNo, "cashDueFen": res.CashDueFen}, s.Now())
	return res, err
}
