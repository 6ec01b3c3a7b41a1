package ledger

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/chinatime"
	"onecard/shared/store"
)

// Discrepancy is one thing reconcile found wrong.
type Discrepancy struct {
	Account  string `json:"account"`
	Problem  string `json:"problem"`
	Expected int64  `json:"expected"`
	Actual   int64  `json:"actual"`
}

// Report is the outcome of a reconcile.
type Report struct {
	OK          bool  `json:"ok"`
	Accounts    int   `json:"accounts"`
	Entries     int   `json:"entries"`
	InFen       int64 `json:"inFen"`       // money in from outside (recharges)
	OutFen      int64 `json:"outFen"`      // money out to outside (merchants, utilities), positive
	BalancesFen int64 `json:"balancesFen"` // sum of every balance we hold
	// ClearingFen is the sum of every clearing entry: the outside parties' side, -BalancesFen when the
	// books balance. Clearing lists it per clearing account (a reader's sales, WeChat Pay's recharges).
	ClearingFen     int64           `json:"clearingFen"`
	ClearingEntries int             `json:"clearingEntries"`
	Clearing        []ClearingTotal `json:"clearing"`
	Days            int             `json:"days"`          // days (China time) with postings, each checked to sum to zero
	Discrepancies   []Discrepancy   `json:"discrepancies"` // empty when OK
}

// ClearingTotal is what the clearing entries of one account add up to.
type ClearingTotal struct {
	Account string `json:"account"`
	Entries int    `json:"entries"`
	Fen     int64  `json:"fen"`
}

// Reconcile reads every balance and entry and proves the books: each balance equals the sum of its
// entries, entries are numbered 1..seq without gaps and carry the running balance, every movement
// (its entries and its clearing entry) sums to zero, so does every day's postings, money in minus money
// out equals the sum of all balances, and the clearing accounts hold its opposite.
//
// It scans the table (a staff action, not a hot path). Balances and entries are read in one pass, so
// run it when no postings are in flight for an exact answer; a posting racing the scan shows up as a
// discrepancy that vanishes on the next run.
func (l *Ledger) Reconcile(ctx context.Context) (*Report, error) {
	type acct struct {
		balance, seq int64
		hasItem      bool
		entries      []Entry
	}
	accts := map[string]*acct{}
	get := func(id string) *acct {
		if accts[id] == nil {
			accts[id] = &acct{}
		}
		return accts[id]
	}
	txns := map[string]int64{} // per movement
	days := map[string]int64{} // per day posted, China time
	clearing := map[string]*ClearingTotal{}
	rep := &Report{Discrepancies: []Discrepancy{}, Clearing: []ClearingTotal{}}
	err := l.S.ScanEach(ctx, store.Scan{Consistent: true}, func(items []map[string]types.AttributeValue) error {
		for _, raw := range items {
			var probe struct {
				Type string `dynamodbav:"type"`
				Acct string `dynamodbav:"acct"`
			}
			if err := attributevalue.UnmarshalMap(raw, &probe); err != nil {
				return err
			}
			switch {
			case probe.Type == "entry":
				var e Entry
				if err := attributevalue.UnmarshalMap(raw, &e); err != nil {
					return err
				}
				a := get(e.Account)
				a.entries = append(a.entries, e)
				rep.Entries++
				if strings.HasPrefix(e.Counterparty, "ext:") {
					if e.AmountFen > 0 {
						rep.InFen += e.AmountFen
					} else {
						rep.OutFen -= e.AmountFen
					}
				}
				txns[e.TxnID] += e.AmountFen
				days[chinatime.Day(e.PostedAt)] += e.AmountFen
			case probe.Type == "clearing":
				var c ClearingEntry
				if err := attributevalue.UnmarshalMap(raw, &c); err != nil {
					return err
				}
				rep.ClearingEntries++
				rep.ClearingFen += c.AmountFen
				if clearing[c.Account] == nil {
					clearing[c.Account] = &ClearingTotal{Account: c.Account}
				}
				clearing[c.Account].Entries++
				clearing[c.Account].Fen += c.AmountFen
				txns[c.TxnID] += c.AmountFen
				days[c.Day] += c.AmountFen
			case probe.Acct != "":
				var b Balance
				if err := attributevalue.UnmarshalMap(raw, &b); err != nil {
					return err
				}
				a := get(b.Account)
				a.balance, a.seq, a.hasItem = b.Balance, b.Seq, true
				rep.BalancesFen += b.Balance
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(accts))
	for id := range accts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	add := func(account, problem string, want, got int64) {
		rep.Discrepancies = append(rep.Discrepancies, Discrepancy{account, problem, want, got})
	}
	for _, id := range ids {
		a := accts[id]
		rep.Accounts++
		if !a.hasItem {
			add(id, "entries without a balance item", 0, int64(len(a.entries)))
			continue
		}
		sort.Slice(a.entries, func(i, j int) bool { return a.entries[i].Seq < a.entries[j].Seq })
		var sum int64
		for i, e := range a.entries {
			if e.Seq != int64(i+1) {
				add(id, fmt.Sprintf("entry sequence gap at %d", i+1), int64(i+1), e.Seq)
				break
			}
			sum += e.AmountFen
			if e.BalanceAfter != sum {
				add(id, fmt.Sprintf("entry %d balanceAfter differs from the running sum", e.Seq), sum, e.BalanceAfter)
			}
		}
		if int64(len(a.entries)) != a.seq {
			add(id, "entry count differs from seq", a.seq, int64(len(a.entries)))
		}
		if sum != a.balance {
			add(id, "balance differs from the sum of its entries", sum, a.balance)
		}
	}
	for _, t := range nonZero(txns) {
		add("txn:"+t, "movement does not sum to zero", 0, txns[t])
	}
	rep.Days = len(days)
	for _, d := range nonZero(days) {
		add("day:"+d, "the day's postings do not sum to zero", 0, days[d])
	}
	for _, c := range clearing {
		rep.Clearing = append(rep.Clearing, *c)
	}
	sort.Slice(rep.Clearing, func(i, j int) bool { return rep.Clearing[i].Account < rep.Clearing[j].Account })
	if rep.InFen-rep.OutFen != rep.BalancesFen {
		add("books", "money in minus money out differs from the sum of balances", rep.InFen-rep.OutFen, rep.BalancesFen)
	}
	if rep.ClearingFen != -rep.BalancesFen {
		add("clearing", "the clearing accounts do not hold the opposite of the balances", -rep.BalancesFen, rep.ClearingFen)
	}
	rep.OK = len(rep.Discrepancies) == 0
	return rep, nil
}

// nonZero is the keys of m whose value is not zero, sorted.
func nonZero(m map[string]int64) []string {
	var ks []string
	for k, v := range m {
		if v != 0 {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// ClearingDay adds up the clearing entries of account posted on day (YYYY-MM-DD, China time): what the
// outside party brought into the books (negative: WeChat Pay's recharges) or took out of them (positive:
// a reader's sales) that day. A query of one partition, for settlement; the day is closed once it is
// over (entries are dated by the ledger's clock when posted, not by when the sale happened).
func (l *Ledger) ClearingDay(ctx context.Context, account, day string) (ClearingTotal, error) {
	t := ClearingTotal{Account: account}
	err := l.EachClearing(ctx, account, day, func(e *ClearingEntry) {
		t.Entries++
		t.Fen += e.AmountFen
	})
	return t, err
}

// EachClearing calls f with every clearing entry of account posted on day (YYYY-MM-DD, China time), shard
// by shard (store.ClearingShards), in no particular order. Settlement, reports and the WeChat bill match
// read a day through it.
func (l *Ledger) EachClearing(ctx context.Context, account, day string, f func(*ClearingEntry)) error {
	for shard := range store.ClearingShards {
		q := store.Query{PK: store.ClearingPK(account, day, shard), Consistent: true}
		err := store.Each(ctx, l.S, q, func(page []ClearingEntry) error {
			for i := range page {
				f(&page[i])
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
