// Package wxbill matches WeChat Pay's daily trade bill (交易账单) with our books, line by line: every
// payment (and refund) WeChat Pay lists for a day against the ledger's clearing entries of ext:wechat for
// the movements that happened that day. It reports what is missing on our side (WeChat Pay took money we
// never credited), missing on theirs (we credited money WeChat Pay does not list) and amounts that
// differ. The scheduled function WeChatBillMatcher matches yesterday every morning, after WeChat Pay has
// made the bill (10:00 China time); staff read the report (GET /v1/admin/wechat-bills/{day}).
package wxbill

import (
	"context"
	"log/slog"
	"sort"
	"strings"
	"time"

	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/store"
	"onecard/shared/wechatpay"
)

// Kinds of line.
const (
	Payment = "payment"
	Refund  = "refund"
)

// Item is one line that did not match.
type Item struct {
	Kind      string    `json:"kind" dynamodbav:"kind"`
	No        string    `json:"no" dynamodbav:"no"` // out_trade_no of a payment, out_refund_no of a refund
	AmountFen int64     `json:"amountFen" dynamodbav:"amountFen"`
	At        time.Time `json:"at" dynamodbav:"at"`
	School    string    `json:"school,omitempty" dynamodbav:"school,omitempty"` // ours: the school of the account
}

// Diff is a line both sides list with different amounts.
type Diff struct {
	Kind      string `json:"kind" dynamodbav:"kind"`
	No        string `json:"no" dynamodbav:"no"`
	OursFen   int64  `json:"oursFen" dynamodbav:"oursFen"`
	TheirsFen int64  `json:"theirsFen" dynamodbav:"theirsFen"`
	School    string `json:"school,omitempty" dynamodbav:"school,omitempty"`
}

// Report is one day's matching, as stored (overwritten by each run) and answered.
type Report struct {
	store.Key      `json:"-"`
	Day            string    `json:"day" dynamodbav:"day"`
	MatchedAt      time.Time `json:"matchedAt" dynamodbav:"matchedAt"`
	OK             bool      `json:"ok" dynamodbav:"ok"`
	BillLines      int       `json:"billLines" dynamodbav:"billLines"`
	BillSettleFen  int64     `json:"billSettleFen" dynamodbav:"billSettleFen"`
	BillRefundFen  int64     `json:"billRefundFen" dynamodbav:"billRefundFen"`
	OurLines       int       `json:"ourLines" dynamodbav:"ourLines"`
	Matched        int       `json:"matched" dynamodbav:"matched"`
	MissingOurs    []Item    `json:"missingOnOurSide" dynamodbav:"missingOurs"`
	MissingTheirs  []Item    `json:"missingOnTheirSide" dynamodbav:"missingTheirs"`
	AmountsDiffer  []Diff    `json:"amountsDiffer" dynamodbav:"amountsDiffer"`
	Type           string    `json:"-" dynamodbav:"type"` // "wxbill"
	DiscrepancyCnt int       `json:"discrepancies" dynamodbav:"discrepancies"`
}

// Errors.
var (
	ErrBadDay     = fault.Field("BAD_DAY", "日期须为 YYYY-MM-DD 格式")
	ErrNotMatched = fault.E(fault.NotFound, "BILL_NOT_MATCHED", "该日的微信支付账单尚未核对（每日 10:30 后核对前一日）")
)

// maxListed caps each list a stored report keeps (an item holds 400 KB).
const maxListed = 500

// Service matches bills.
type Service struct {
	S      *store.Store
	Now    func() time.Time
	WeChat func(context.Context) (*wechatpay.Client, error)
	Log    *slog.Logger
}

type ours struct {
	kind   string
	fen    int64
	at     time.Time
	school string
}

// ourSide is what the ledger holds for day: the clearing entries of ext:wechat posted that day or the
// next (a payment at 23:59 may be credited after midnight) whose movement happened on day. Money in (a
// payment) is a negative clearing entry; money back (a refund) a positive one. A credit posted more than
// a day late shows as missing on our side until the day is matched again.
func (s *Service) ourSide(ctx context.Context, day string) (map[string]ours, error) {
	d, _ := time.ParseInLocation(time.DateOnly, day, chinatime.Zone)
	out := map[string]ours{}
	for _, pd := range []string{day, d.AddDate(0, 0, 1).Format(time.DateOnly)} {
		err := (&ledger.Ledger{S: s.S}).EachClearing(ctx, "ext:wechat", pd, func(c *ledger.ClearingEntry) {
			if chinatime.Day(c.OccurredAt) != day {
				return
			}
			_, no, _ := strings.Cut(c.Idem, "#")
			kind := Payment
			fen := -c.AmountFen
			if c.AmountFen > 0 {
				kind, fen = Refund, c.AmountFen
			}
			school := ""
			if parts := strings.SplitN(c.Counterparty, ":", 3); len(parts) == 3 {
				school = parts[1]
			}
			out[kind+"#"+no] = ours{kind: kind, fen: fen, at: c.OccurredAt, school: school}
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Match downloads day's trade bill (hash-checked), matches it with the ledger and stores the report.
// Matching a day again replaces its report.
func (s *Service) Match(ctx context.Context, day string) (*Report, error) {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return nil, ErrBadDay
	}
	c, err := s.WeChat(ctx)
	if err != nil {
		return nil, err
	}
	bill, err := c.FetchTradeBill(ctx, day)
	if err != nil {
		return nil, err
	}
	mine, err := s.ourSide(ctx, day)
	if err != nil {
		return nil, err
	}
	rep := &Report{Key: store.WeChatBillKey(day), Day: day, MatchedAt: s.Now().UTC(), BillLines: len(bill.Rows),
		BillSettleFen: bill.SettleFen, BillRefundFen: bill.RefundFen, OurLines: len(mine),
		MissingOurs: []Item{}, MissingTheirs: []Item{}, AmountsDiffer: []Diff{}, Type: "wxbill"}
	seen := map[string]bool{}
	for _, r := range bill.Rows {
		kind, no, fen := Payment, r.OutTradeNo, r.AmountFen
		if r.TradeState == "REFUND" {
			kind, no, fen = Refund, r.OutRefundNo, r.RefundFen
		}
		k := kind + "#" + no
		seen[k] = true
		o, ok := mine[k]
		switch {
		case !ok:
			rep.MissingOurs = append(rep.MissingOurs, Item{Kind: kind, No: no, AmountFen: fen, At: r.TradeTime.UTC()})
		case o.fen != fen:
			rep.AmountsDiffer = append(rep.AmountsDiffer, Diff{Kind: kind, No: no, OursFen: o.fen, TheirsFen: fen, School: o.school})
		default:
			rep.Matched++
		}
	}
	for k, o := range mine {
		if !seen[k] {
			_, no, _ := strings.Cut(k, "#")
			rep.MissingTheirs = append(rep.MissingTheirs, Item{Kind: o.kind, No: no, AmountFen: o.fen, At: o.at.UTC(), School: o.school})
		}
	}
	sort.Slice(rep.MissingTheirs, func(i, j int) bool { return rep.MissingTheirs[i].No < rep.MissingTheirs[j].No })
	rep.DiscrepancyCnt = len(rep.MissingOurs) + len(rep.MissingTheirs) + len(rep.AmountsDiffer)
	rep.OK = rep.DiscrepancyCnt == 0
	rep.MissingOurs = rep.MissingOurs[:min(len(rep.MissingOurs), maxListed)]
	rep.MissingTheirs = rep.MissingTheirs[:min(len(rep.MissingTheirs), maxListed)]
	rep.AmountsDiffer = rep.AmountsDiffer[:min(len(rep.AmountsDiffer), maxListed)]
	if err := s.S.Put(ctx, rep, "", nil); err != nil {
		return nil, err
	}
	if s.Log != nil {
		s.Log.Info("wechat bill matched", "day", day, "ok", rep.OK, "billLines", rep.BillLines, "matched", rep.Matched,
			"missingOurs", len(rep.MissingOurs), "missingTheirs", len(rep.MissingTheirs), "differ", len(rep.AmountsDiffer))
	}
	return rep, nil
}

// MatchDue matches yesterday unless its report exists already: what a schedule that runs more often
// than once a day (make dev's, which also runs it at start so the demo day has its report) calls. It
// returns the report it made, or nil when there was nothing to do.
func (s *Service) MatchDue(ctx context.Context) (*Report, error) {
	day := Yesterday(s.Now())
	var have struct{ Day string }
	if ok, err := s.S.Get(ctx, store.WeChatBillKey(day), &have); err != nil || ok {
		return nil, err
	}
	return s.Match(ctx, day)
}

// Yesterday is the day before now, China time.
func Yesterday(now time.Time) string {
	return now.In(chinatime.Zone).AddDate(0, 0, -1).Format(time.DateOnly)
}

// Get is day's report as a school's staff see it: the bill's totals, and of the lines that did not
// match, those of the school's accounts and those no school claims (WeChat Pay's lines we do not hold).
func (s *Service) Get(ctx context.Context, school, day string) (*Report, error) {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return nil, ErrBadDay
	}
	var rep Report
	ok, err := s.S.Get(ctx, store.WeChatBillKey(day), &rep)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotMatched
	}
	keep := func(sch string) bool { return sch == "" || sch == school }
	var mt []Item
	for _, it := range rep.MissingTheirs {
		if keep(it.School) {
			mt = append(mt, it)
		}
	}
	var ad []Diff
	for _, d := range rep.AmountsDiffer {
		if keep(d.School) {
			ad = append(ad, d)
		}
	}
	rep.MissingTheirs, rep.AmountsDiffer = append([]Item{}, mt...), append([]Diff{}, ad...)
	if rep.MissingOurs == nil {
		rep.MissingOurs = []Item{}
	}
	return &rep, nil
}
