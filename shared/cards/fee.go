package cards

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/cash"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/staff"
)

// The 补卡 fee (school setting replaceFeeFen) is taken from the card's balance or paid in cash at the
// counter. Paid in cash, it is two movements on the new card: the cash in (against the cashier's till,
// under the receipt) and the fee out, so the till, the card's history and the fee account each show it.
const (
	FeeFromBalance = "balance"
	FeeFromCash    = "cash"
)

// KindCardFee is the ledger kind of a fee charged to a card; FeeClearing the fees' clearing account.
const KindCardFee = "card_fee"

// FeeClearing is the clearing account of a school's card fees (the school's income).
func FeeClearing(school string) string { return "ext:fee:" + school }

// Fee is how a 补卡 fee is paid.
type Fee struct {
	From      string `json:"feeFrom"`
	ReceiptNo string `json:"receiptNo"`
}

var (
	ErrFeeFrom        = fault.Field("FEE_FROM_REQUIRED", "请选择补卡费的收取方式：余额（balance）或现金（cash，须填收据号）")
	ErrFeeBalance     = fault.E(fault.Rule, "INSUFFICIENT_BALANCE", "卡内余额不足以支付补卡费，请改收现金")
	ErrFeeReceiptUsed = cash.ErrReceiptUsed
)

// ReplaceWithFee is Replace with the school's 补卡 fee charged to the new card, once per replaced card.
// The fee's way is checked before anything changes; a balance that cannot pay it is refused up front.
func (s *Service) ReplaceWithFee(ctx context.Context, p auth.Principal, l *ledger.Ledger, cardNo, newCardNo string, keepBinding bool, fee Fee) (*ReplaceResult, error) {
	sch, err := s.Schools.Get(ctx, p.School)
	if err != nil {
		return nil, err
	}
	amount := sch.ReplaceFeeFen
	if amount > 0 {
		switch fee.From {
		case FeeFromBalance:
			old, err := s.staffCard(ctx, p, cardNo)
			if err != nil {
				return nil, err
			}
			if old.ReplacedBy == "" && old.Balance < amount {
				return nil, ErrFeeBalance
			}
		case FeeFromCash:
			if err := cash.CheckReceipt(fee.ReceiptNo); err != nil {
				return nil, err
			}
		default:
			return nil, ErrFeeFrom
		}
	}
	res, err := s.Replace(ctx, p, l, cardNo, newCardNo, keepBinding)
	if err != nil || amount == 0 {
		return res, err
	}
	nc, err := s.Cards.Get(ctx, p.School, newCardNo)
	if err != nil {
		return nil, err
	}
	if fee.From == FeeFromCash {
		m := cash.Movement(p.School, p.Subject, fee.ReceiptNo, nc.Account, nc.Key, amount, cash.KindTopUp, "现金缴补卡费")
		if _, err := l.Post(ctx, m); err != nil {
			return nil, cash.Refused(err)
		}
	}
	_, err = l.Post(ctx, ledger.Movement{Scope: "staff", Key: "replace-fee:" + p.School + ":" + cardNo,
		Input: []any{"replace-fee", cardNo, newCardNo, amount},
		Postings: ledger.External(ledger.Posting{Account: nc.Account, Item: nc.Key, AmountFen: -amount, Kind: KindCardFee,
			Counterparty: FeeClearing(p.School), Merchant: "补卡费", AllowNegative: fee.From == FeeFromCash}),
		Extra: []types.TransactWriteItem{staff.AuditItem(staff.Actor(p), "card.replace_fee", "card:"+newCardNo,
			map[string]any{"feeFen": amount, "feeFrom": fee.From, "receiptNo": fee.ReceiptNo, "oldCardNo": cardNo}, s.Now())},
	})
	if err != nil {
		if fault.Is(err, ledger.ErrInsufficient.Code) {
			return nil, ErrFeeBalance
		}
		return nil, err
	}
	fresh, err := s.Cards.Get(ctx, p.School, newCardNo)
	if err != nil {
		return nil, err
	}
	res.FeeFen, res.FeeFrom, res.ReceiptNo, res.BalanceFen = amount, fee.From, fee.ReceiptNo, fresh.Balance
	return res, nil
}
