// Package cash is the counter's till (现金): cash taken in (a top-up, a fee paid in cash) and paid out (what
// is left on a closed card when WeChat Pay can no longer refund it). Each cashier has a clearing account of
// their own, ext:cash:<school>:<username>, so that a day's entries of one cashier are one partition: the
// day's cash report is read from the ledger's clearing entries, not kept beside them, and matches the
// till by construction. Every receipt number is used once per school: it is the idempotency key of its
// movement (scope "cash:<school>"), so a retry of the same receipt is the same movement and another
// movement under the same receipt is refused.
package cash

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"time"

	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/store"
)

// Entry kinds of cash movements.
const (
	KindTopUp  = "cash_topup"  // cash in at the counter → card
	KindPayout = "cash_payout" // card → cash paid out at the counter (销户)
)

// Account is the clearing account of a cashier's till.
func Account(school, cashier string) string { return "ext:cash:" + school + ":" + cashier }

// Scope is the idempotency scope of a school's receipts.
func Scope(school string) string { return "cash:" + school }

var receiptRE = regexp.MustCompile(`^[A-Za-z0-9-]{4,32}$`)

// Errors.
var (
	ErrBadReceipt  = fault.Field("BAD_RECEIPT_NO", "收据号须为 4–32 位字母、数字或 -")
	ErrReceiptUsed = fault.E(fault.Conflict, "RECEIPT_USED", "该收据号已用于另一笔现金业务")
	ErrBadAmount   = fault.Field("BAD_AMOUNT", "金额须为大于 0 的整数（单位：分），且不超过单笔上限")
	ErrBadDay      = fault.Field("BAD_DAY", "日期格式须为 YYYY-MM-DD")
)

// CheckReceipt validates a receipt number.
func CheckReceipt(no string) error {
	if !receiptRE.MatchString(no) {
		return ErrBadReceipt
	}
	return nil
}

// Movement is the movement of one receipt: fen into (positive) or out of (negative) the account on item,
// against the cashier's till. The input hashed for idempotency names the receipt, the cashier, the account
// and the amount: the same receipt for anything else is ErrReceiptUsed (see Refused).
func Movement(school, cashier, receiptNo, account string, item store.Key, fen int64, kind, label string) ledger.Movement {
	return ledger.Movement{Scope: Scope(school), Key: receiptNo, Input: []any{"cash", receiptNo, cashier, account, fen, kind},
		Postings: ledger.External(ledger.Posting{Account: account, Item: item, AmountFen: fen, Kind: kind,
			Counterparty: Account(school, cashier), Merchant: label})}
}

// Refused maps the ledger's answer for a reused key to the receipt's error.
func Refused(err error) error {
	if fault.Is(err, fault.ErrIdemReused.Code) {
		return ErrReceiptUsed
	}
	return err
}

// Line is one receipt of a day's report.
type Line struct {
	ReceiptNo string    `json:"receiptNo"`
	Kind      string    `json:"kind"`
	AmountFen int64     `json:"amountFen"` // into the till (positive) or out of it (negative)
	Account   string    `json:"-"`
	CardNo    string    `json:"cardNo,omitempty"`
	At        time.Time `json:"at"`
}

// Cashier is one cashier's day.
type Cashier struct {
	Cashier  string `json:"cashier"`
	Count    int    `json:"count"`
	InFen    int64  `json:"inFen"`
	OutFen   int64  `json:"outFen"`
	NetFen   int64  `json:"netFen"` // what the till should hold more at the end of the day than at its start
	Receipts []Line `json:"receipts"`
}

// Report is a school's cash for one day (China time), per cashier.
type Report struct {
	Day      string    `json:"day"`
	Count    int       `json:"count"`
	NetFen   int64     `json:"netFen"`
	Cashiers []Cashier `json:"cashiers"`
}

// DayReport reads the cash entries of school's cashiers on day (YYYY-MM-DD, China time): one query of
// each cashier's clearing partition of the day. Cashiers are the school's staff (staff are disabled, never
// deleted, so a former cashier's day stays readable); members with no entry that day are left out.
func DayReport(ctx context.Context, s *store.Store, school, day string, cashiers []string) (*Report, error) {
	if _, err := time.ParseInLocation(time.DateOnly, day, chinatime.Zone); err != nil {
		return nil, ErrBadDay
	}
	rep := &Report{Day: day, Cashiers: []Cashier{}}
	for _, who := range cashiers {
		c := Cashier{Cashier: who, Receipts: []Line{}}
		err := (&ledger.Ledger{S: s}).EachClearing(ctx, Account(school, who), day, func(e *ledger.ClearingEntry) {
			// The till's side is the opposite of the clearing account's: a top-up debits ext:cash
			// (the money came from outside) and the till holds it.
			fen := -e.AmountFen
			_, receipt, _ := strings.Cut(e.Idem, "#")
			l := Line{ReceiptNo: receipt, Kind: e.Kind, AmountFen: fen, Account: e.Counterparty, At: e.PostedAt}
			if parts := strings.Split(e.Counterparty, ":"); len(parts) == 3 && parts[0] == "card" {
				l.CardNo = parts[2]
			}
			c.Receipts = append(c.Receipts, l)
			c.Count++
			if fen > 0 {
				c.InFen += fen
			} else {
				c.OutFen -= fen
			}
			c.NetFen += fen
		})
		if err != nil {
			return nil, err
		}
		if c.Count == 0 {
			continue
		}
		sort.Slice(c.Receipts, func(i, j int) bool {
			a, b := c.Receipts[i], c.Receipts[j]
			return a.At.Before(b.At) || a.At.Equal(b.At) && a.ReceiptNo < b.ReceiptNo
		})
		rep.Cashiers = append(rep.Cashiers, c)
		rep.Count += c.Count
		rep.NetFen += c.NetFen
	}
	return rep, nil
}
