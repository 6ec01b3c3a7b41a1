package reports

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/cash"
	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/store"
)

// Channel is a way money comes into the books, read from its clearing account, or, with PerCashier,
// from the clearing accounts of each of the school's cashiers (Account + ":<school>:<username>"); money
// it gives back may go through a clearing account of its own (Refunds).
type Channel struct {
	ID         string `json:"id"`
	Label      string `json:"label"`
	Account    string `json:"-"`
	Refunds    string `json:"-"`
	PerCashier bool   `json:"-"`
}

// Channels are the recharge channels the report lists, in its column order. A new rail is one line here.
// WeChat Pay refunds asked by staff or by 销户 are held against ext:wechat-refund (recharge.RefundClearing),
// not ext:wechat. The counter's cash lands on one till per cashier (shared/cash): the channel sums the
// tills of the school's staff, read from the staff list (one query) and each till's day partition.
var Channels = []Channel{
	{ID: "wechat", Label: "微信支付", Account: "ext:wechat", Refunds: "ext:wechat-refund"},
	{ID: "cash", Label: "现金", Account: "ext:cash", PerCashier: true},
}

// Utilities are the clearing accounts of dorm consumption (shared/dorm/meters.go).
var Utilities = []struct{ Kind, Label string }{{"elec", "电费"}, {"water", "水费"}}

// Errors.
var (
	ErrBadRange = fault.Field("BAD_RANGE", "from 与 to 须为 YYYY-MM-DD 格式的日期，from 不晚于 to，最多 62 天")
	ErrBadMonth = fault.Field("BAD_MONTH", "month 须为 YYYY-MM 格式")
	ErrBadDate  = fault.Field("BAD_DATE", "date 须为 YYYY-MM-DD 格式")
)

// MaxDays bounds a recharge report's range.
const MaxDays = 62

// Service reads the reports from the ledger.
type Service struct {
	S   *store.Store
	Now func() time.Time
}

// clearingDay calls f with each clearing entry of account on day (China time) that concerns school:
// its other side (the counterparty, a card or dorm account "card:<school>:…") is the school's.
func (s *Service) clearingDay(ctx context.Context, account, day, school string, f func(ledger.ClearingEntry)) error {
	return (&ledger.Ledger{S: s.S}).EachClearing(ctx, account, day, func(c *ledger.ClearingEntry) {
		if schoolOf(c.Counterparty) == school {
			f(*c)
		}
	})
}

// schoolOf is the school of an account id ("card:kmmc:10000001" → "kmmc").
func schoolOf(account string) string {
	parts := strings.SplitN(account, ":", 3)
	if len(parts) < 3 {
		return ""
	}
	return parts[1]
}

// ChannelDay is one channel's recharges on one day: Count recharges bringing InFen in, Refunds
// bringing RefundsFen back out, NetFen = InFen - RefundsFen.
type ChannelDay struct {
	Channel    string `json:"channel"`
	Count      int    `json:"count"`
	InFen      int64  `json:"inFen"`
	Refunds    int    `json:"refunds"`
	RefundsFen int64  `json:"refundsFen"`
	NetFen     int64  `json:"netFen"`
}

// RechargeDay is one day of the recharge report.
type RechargeDay struct {
	Day      string       `json:"day"`
	Channels []ChannelDay `json:"channels"`
	NetFen   int64        `json:"netFen"`
}

// Days parses a from–to range of China days.
func Days(from, to string) ([]string, error) {
	a, err1 := time.Parse(time.DateOnly, from)
	b, err2 := time.Parse(time.DateOnly, to)
	if err1 != nil || err2 != nil || a.Format(time.DateOnly) != from || b.Format(time.DateOnly) != to || b.Before(a) ||
		b.Sub(a) >= MaxDays*24*time.Hour {
		return nil, ErrBadRange
	}
	var out []string
	for t := a; !t.After(b); t = t.AddDate(0, 0, 1) {
		out = append(out, t.Format(time.DateOnly))
	}
	return out, nil
}

// Recharges is the school's recharges by channel per day, from each channel's clearing entries: money in
// is a negative clearing entry (the outside party paid us), money given back a positive one.
func (s *Service) Recharges(ctx context.Context, school string, days []string) ([]RechargeDay, error) {
	var cashiers []string
	for _, ch := range Channels {
		if ch.PerCashier && cashiers == nil {
			var err error
			if cashiers, err = cash.Cashiers(ctx, s.S, school); err != nil {
				return nil, err
			}
		}
	}
	// One task per day, channel and account (a cashier's till is one account), run by a few workers: the
	// cash channel reads a partition per cashier and day, which one after another would outlast a request.
	type task struct {
		day, ch int
		account string
		refunds bool // the channel's refund clearing account
	}
	var tasks []task
	for di := range days {
		for ci, ch := range Channels {
			if ch.Refunds != "" {
				tasks = append(tasks, task{di, ci, ch.Refunds, true})
			}
			if !ch.PerCashier {
				tasks = append(tasks, task{di, ci, ch.Account, false})
				continue
			}
			for _, who := range cashiers {
				tasks = append(tasks, task{di, ci, cash.Account(school, who), false})
			}
		}
	}
	sums := make([][]ChannelDay, len(days))
	for di := range days {
		sums[di] = make([]ChannelDay, len(Channels))
		for ci, ch := range Channels {
			sums[di][ci].Channel = ch.ID
		}
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
	)
	next := make(chan task)
	for range min(rechargeWorkers, len(tasks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range next {
				var cd ChannelDay
				err := s.clearingDay(ctx, t.account, days[t.day], school, func(c ledger.ClearingEntry) {
					if t.refunds {
						// A refund held from a card is a positive clearing entry (counted on the day it was
						// asked); a failed refund's release is a negative one and takes its amount off that
						// day's refunds.
						if c.AmountFen > 0 {
							cd.Refunds++
						}
						cd.RefundsFen += c.AmountFen
						return
					}
					if c.AmountFen < 0 {
						cd.Count++
						cd.InFen -= c.AmountFen
					} else {
						cd.Refunds++
						cd.RefundsFen += c.AmountFen
					}
				})
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				sum := &sums[t.day][t.ch]
				sum.Count += cd.Count
				sum.InFen += cd.InFen
				sum.Refunds += cd.Refunds
				sum.RefundsFen += cd.RefundsFen
				mu.Unlock()
			}
		}()
	}
	for _, t := range tasks {
		next <- t
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	out := make([]RechargeDay, 0, len(days))
	for di, day := range days {
		rd := RechargeDay{Day: day, Channels: sums[di]}
		for i := range rd.Channels {
			rd.Channels[i].NetFen = rd.Channels[i].InFen - rd.Channels[i].RefundsFen
			rd.NetFen += rd.Channels[i].NetFen
		}
		out = append(out, rd)
	}
	return out, nil
}

// rechargeWorkers is how many partitions the recharge report reads at once.
const rechargeWorkers = 8

// Building is one building's dorm consumption in a month, per utility (elec, water), in fen charged.
type Building struct {
	Building string           `json:"building"`
	Count    int              `json:"count"`
	Fen      map[string]int64 `json:"fen"`
	TotalFen int64            `json:"totalFen"`
}

// MonthDays are the China days of a month (YYYY-MM).
func MonthDays(month string) ([]string, error) {
	start, err := time.Parse("2006-01", month)
	if err != nil || start.Format("2006-01") != month {
		return nil, ErrBadMonth
	}
	var out []string
	for t := start; t.Month() == start.Month(); t = t.AddDate(0, 0, 1) {
		out = append(out, t.Format(time.DateOnly))
	}
	return out, nil
}

// DormConsumption is what the school's dorm accounts were charged in month, per building, from the
// utilities' clearing entries (ext:utility:<kind>), by the day the ledger posted them.
func (s *Service) DormConsumption(ctx context.Context, school, month string) ([]Building, error) {
	days, err := MonthDays(month)
	if err != nil {
		return nil, err
	}
	today := chinatime.Day(s.Now())
	byB := map[string]*Building{}
	for _, day := range days {
		if day > today {
			break
		}
		for _, u := range Utilities {
			err := s.clearingDay(ctx, "ext:utility:"+u.Kind, day, school, func(c ledger.ClearingEntry) {
				// dorm:<school>:<roomId>:<kind>; the room id names its building (WH-8D-1006 → 8).
				parts := strings.Split(c.Counterparty, ":")
				b := "?"
				if len(parts) == 4 {
					if bl, _, ok := parseRoom(parts[2]); ok {
						b = bl
					}
				}
				if byB[b] == nil {
					byB[b] = &Building{Building: b, Fen: map[string]int64{}}
				}
				byB[b].Count++
				byB[b].Fen[u.Kind] += c.AmountFen
				byB[b].TotalFen += c.AmountFen
			})
			if err != nil {
				return nil, err
			}
		}
	}
	out := make([]Building, 0, len(byB))
	for _, b := range byB {
		for _, u := range Utilities {
			b.Fen[u.Kind] += 0
		}
		out = append(out, *b)
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i].Building) != len(out[j].Building) {
			return len(out[i].Building) < len(out[j].Building)
		}
		return out[i].Building < out[j].Building
	})
	return out, nil
}

// parseRoom reads the building of a room id WH-<building>D-<room>.
func parseRoom(id string) (building, room string, ok bool) {
	rest, found := strings.CutPrefix(id, "WH-")
	if !found {
		return "", "", false
	}
	b, r, found := strings.Cut(rest, "D-")
	if !found || b == "" || r == "" {
		return "", "", false
	}
	return b, r, true
}

// Liability is what the school owes its card holders (and dorm accounts) at the end of a day.
type Liability struct {
	Date         string `json:"date"`
	AsOf         string `json:"asOf"` // the instant: the end of Date, China time
	Cards        int    `json:"cards"`
	CardsFen     int64  `json:"cardsFen"`
	Negative     int    `json:"negativeCards"` // cards in arrears (counted in CardsFen)
	DormAccounts int    `json:"dormAccounts"`
	DormFen      int64  `json:"dormFen"`
	Entries      int    `json:"entriesRead"`
}

// LiabilityAt sums, over every card and dorm account of school, the balance after its last entry
// posted before the end of date (China time): the outstanding balance then. It scans the table's ledger
// entries (docs/staff-console.md, "Reports": cost) — a staff action, never a hot path.
func (s *Service) LiabilityAt(ctx context.Context, school, date string) (*Liability, error) {
	d, err := time.ParseInLocation(time.DateOnly, date, chinatime.Zone)
	if err != nil || d.Format(time.DateOnly) != date {
		return nil, ErrBadDate
	}
	end := d.AddDate(0, 0, 1)
	type last struct {
		seq, bal int64
	}
	latest := map[string]last{}
	rep := &Liability{Date: date, AsOf: end.Format(time.RFC3339)}
	sc := store.Scan{Filter: "#t = :e AND (begins_with(#a, :c) OR begins_with(#a, :d))",
		FilterNames:  map[string]string{"#t": "type", "#a": "account"},
		FilterValues: store.Values{":e": "entry", ":c": "card:" + school + ":", ":d": "dorm:" + school + ":"},
		Project:      []string{"account", "seq", "balanceAfter", "postedAt"}}
	err = s.S.ScanEach(ctx, sc, func(items []map[string]types.AttributeValue) error {
		var page []ledger.Entry
		if err := attributevalue.UnmarshalListOfMaps(items, &page); err != nil {
			return err
		}
		for _, e := range page {
			rep.Entries++
			if !e.PostedAt.Before(end) {
				continue
			}
			if l, ok := latest[e.Account]; !ok || e.Seq > l.seq {
				latest[e.Account] = last{e.Seq, e.BalanceAfter}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for acct, l := range latest {
		if strings.HasPrefix(acct, "card:") {
			rep.Cards++
			rep.CardsFen += l.bal
			if l.bal < 0 {
				rep.Negative++
			}
		} else {
			rep.DormAccounts++
			rep.DormFen += l.bal
		}
	}
	return rep, nil
}
