package ledger

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
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
	OK            bool          `json:"ok"`
	Accounts      int           `json:"accounts"`
	Entries       int           `json:"entries"`
	InFen         int64         `json:"inFen"`         // money in from outside (recharges)
	OutFen        int64         `json:"outFen"`        // money out to outside (merchants, utilities), positive
	BalancesFen   int64         `json:"balancesFen"`   // sum of every balance we hold
	Discrepancies []Discrepancy `json:"discrepancies"` // empty when OK
}

// Reconcile reads every balance and entry and proves the books: each balance equals the sum of its
// entries, entries are numbered 1..seq without gaps and carry the running balance, every internal
// transaction sums to zero, and money in minus money out equals the sum of all balances.
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
	internal := map[string]int64{}
	rep := &Report{Discrepancies: []Discrepancy{}}
	in := &dynamodb.ScanInput{TableName: &l.S.Table, ConsistentRead: aws.Bool(true)}
	for {
		res, err := l.S.DB.Scan(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, raw := range res.Items {
			var probe struct {
				Type string `dynamodbav:"type"`
				Acct string `dynamodbav:"acct"`
			}
			if err := attributevalue.UnmarshalMap(raw, &probe); err != nil {
				return nil, err
			}
			switch {
			case probe.Type == "entry":
				var e Entry
				if err := attributevalue.UnmarshalMap(raw, &e); err != nil {
					return nil, err
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
				} else {
					internal[e.TxnID] += e.AmountFen
				}
			case probe.Acct != "":
				var b Balance
				if err := attributevalue.UnmarshalMap(raw, &b); err != nil {
					return nil, err
				}
				a := get(b.Account)
				a.balance, a.seq, a.hasItem = b.Balance, b.Seq, true
				rep.BalancesFen += b.Balance
			}
		}
		if res.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
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
	txns := make([]string, 0, len(internal))
	for t, v := range internal {
		if v != 0 {
			txns = append(txns, t)
		}
	}
	sort.Strings(txns)
	for _, t := range txns {
		add("txn:"+t, "internal transfer does not sum to zero", 0, internal[t])
	}
	if rep.InFen-rep.OutFen != rep.BalancesFen {
		add("books", "money in minus money out differs from the sum of balances", rep.InFen-rep.OutFen, rep.BalancesFen)
	}
	rep.OK = len(rep.Discrepancies) == 0
	return rep, nil
}
