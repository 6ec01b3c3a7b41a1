package cards

import (
	"context"

	"onecard/shared/auth"
	"onecard/shared/cash"
	"onecard/shared/ledger"
	"onecard/shared/staff"
)

// CashTopUpResult is the answer of a cash top-up at the counter.
type CashTopUpResult struct {
	CardNo     string `json:"cardNo"`
	ReceiptNo  string `json:"receiptNo"`
	AmountFen  int64  `json:"amountFen"`
	BalanceFen int64  `json:"balanceFen"`
	Cashier    string `json:"cashier"`
	TxnID      string `json:"txnId"`
	Replayed   bool   `json:"replayed"`
}

// CashTopUp credits cash taken at the counter to cardNo, against the cashier's till (the staff member
// p), under its receipt number: once (a repeat of the same receipt answers the first top-up; the receipt
// used for anything else is RECEIPT_USED), with the audit record in the same transaction.
func (s *Service) CashTopUp(ctx context.Context, p auth.Principal, l *ledger.Ledger, cardNo string, fen int64, receiptNo string) (*CashTopUpResult, error) {
	if err := cash.CheckReceipt(receiptNo); err != nil {
		return nil, err
	}
	sch, err := s.Schools.Get(ctx, p.School)
	if err != nil {
		return nil, err
	}
	if fen <= 0 || fen > sch.MaxRechargeFen {
		return nil, cash.ErrBadAmount
	}
	c, err := s.staffCard(ctx, p, cardNo)
	if err != nil {
		return nil, err
	}
	if c.Status == Cancelled {
		return nil, ErrCancelled
	}
	m := cash.Movement(p.School, p.Subject, receiptNo, c.Account, c.Key, fen, cash.KindTopUp, "现金充值")
	m.Extra = append(m.Extra, staff.AuditItem(staff.Actor(p), "card.cash_topup", "card:"+cardNo,
		map[string]any{"receiptNo": receiptNo, "amountFen": fen}, s.Now()))
	res, err := l.Post(ctx, m)
	if err != nil {
		return nil, cash.Refused(err)
	}
	out := &CashTopUpResult{CardNo: cardNo, ReceiptNo: receiptNo, AmountFen: fen, Cashier: p.Subject, TxnID: res.TxnID, Replayed: res.Replayed}
	if e, ok := res.EntryFor(c.Account); ok {
		out.BalanceFen = e.BalanceAfterFen
	}
	if res.Replayed {
		if fresh, err := s.Cards.Get(ctx, c.SchoolID, cardNo); err == nil {
			out.BalanceFen = fresh.Balance
		}
	}
	return out, nil
}
