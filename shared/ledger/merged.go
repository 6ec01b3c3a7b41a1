package ledger

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"time"

	"onecard/shared/chinatime"
	"onecard/shared/store"
)

// This file reads the histories of several accounts as one: a student's cards after 补卡 (the current
// card and the ones it replaced). Each account's entries are read newest first by seq, as History does;
// the merge interleaves them by posting time. The cursor holds every account's position, so a page never
// skips or repeats an entry, whatever the interleaving.

// monthSlack bounds how long before a month an entry of that month can have been posted: none can (an
// entry's occurredAt is at most readerrec.MaxFuture, 10 minutes, after its posting), so a week is a wide
// margin for clock skew between writers. Reading an account newest first for a month, the first entry
// of another month posted more than monthSlack before the month starts means no older entry is in it.
const monthSlack = 7 * 24 * time.Hour

// mergeCursorMax bounds the size of a decoded cursor (a student has a handful of cards).
const mergeCursorMax = 2048

// stream is one account's part of a merged read.
type stream struct {
	account string
	bound   int64 // read only seq < bound; 0: from the newest; 1: nothing left
	items   []Entry
	done    bool // no entry beyond items
}

// monthRange is [start, end) of month (YYYY-MM, China time); zero times when month is "".
func monthRange(month string) (time.Time, time.Time, error) {
	if month == "" {
		return time.Time{}, time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01", month, chinatime.Zone)
	if err != nil {
		return time.Time{}, time.Time{}, errBadMonth
	}
	return t, t.AddDate(0, 1, 0), nil
}

// readEntries fetches up to n entries of account with seq < bound (all when bound is 0), newest first, of month
// only when month is set. done reports that the account has nothing more (for that month) beyond them.
func (l *Ledger) readEntries(ctx context.Context, account string, bound int64, n int, month string, monthStart time.Time) (entries []Entry, done bool, err error) {
	if bound == 1 {
		return nil, true, nil
	}
	q := store.Query{PK: store.LedgerPK(account), Prefix: store.EntrySKPrefix, Newest: true, Limit: n}
	if bound > 1 {
		q.Prefix, q.From, q.To = "", store.EntrySKPrefix, store.EntrySK(bound-1)
	}
	if month != "" {
		// The entries of the month, and those posted well before it: the first of these ends the read.
		q.Filter = "#m = :m OR postedAt < :floor"
		q.FilterNames = map[string]string{"#m": "month"}
		q.FilterValues = store.Values{":m": month, ":floor": monthStart.Add(-monthSlack).UTC().Format(time.RFC3339Nano)}
		q.Limit = max(n, 100)
	}
	for {
		var page []Entry
		next, err := l.S.Page(ctx, q, &page)
		if err != nil {
			return nil, false, err
		}
		for _, e := range page {
			if month != "" && e.Month != month {
				return entries, true, nil // posted before the month began: nothing older is in it
			}
			if len(entries) == n {
				return entries, false, nil
			}
			entries = append(entries, e)
		}
		if next == nil {
			return entries, true, nil
		}
		if len(entries) == n {
			return entries, false, nil
		}
		q.Start = &next.Key
	}
}

// newer orders the heads of two streams: later posting first, then the earlier account of the list
// (the current card), then the higher seq.
func newer(a Entry, ai int, b Entry, bi int) bool {
	if !a.PostedAt.Equal(b.PostedAt) {
		return a.PostedAt.After(b.PostedAt)
	}
	if ai != bi {
		return ai < bi
	}
	return a.Seq > b.Seq
}

// MergedHistory is one page of the histories of accounts merged newest first (by posting time), with
// month (YYYY-MM, China time) keeping only the entries that happened in it. The cursor is opaque: every
// account's position after this page; nil when nothing is left.
func (l *Ledger) MergedHistory(ctx context.Context, accounts []string, limit int, cursor, month string) ([]Entry, *string, error) {
	start, _, err := monthRange(month)
	if err != nil {
		return nil, nil, err
	}
	bounds, err := decodeMergeCursor(cursor, accounts)
	if err != nil {
		return nil, nil, err
	}
	streams := make([]*stream, len(accounts))
	for i, a := range accounts {
		s := &stream{account: a, bound: bounds[a]}
		if s.items, s.done, err = l.readEntries(ctx, a, s.bound, limit, month, start); err != nil {
			return nil, nil, err
		}
		streams[i] = s
	}
	out := make([]Entry, 0, limit)
	taken := make([]int, len(streams))
	for len(out) < limit {
		best := -1
		for i, s := range streams {
			if taken[i] < len(s.items) && (best < 0 || newer(s.items[taken[i]], i, streams[best].items[taken[best]], best)) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out = append(out, streams[best].items[taken[best]])
		taken[best]++
	}
	next := map[string]int64{}
	more := false
	for i, s := range streams {
		b := s.bound
		if taken[i] > 0 {
			b = s.items[taken[i]-1].Seq
		}
		if taken[i] == len(s.items) && s.done {
			b = 1
		}
		if b != 0 {
			next[s.account] = b
		}
		more = more || b != 1
	}
	if !more {
		return out, nil, nil
	}
	raw, err := json.Marshal(next)
	if err != nil {
		return nil, nil, err
	}
	c := base64.RawURLEncoding.EncodeToString(raw)
	return out, &c, nil
}

// decodeMergeCursor reads the positions of a merged cursor; an account it does not name starts from its
// newest entry. A cursor naming an account outside accounts is refused.
func decodeMergeCursor(cursor string, accounts []string) (map[string]int64, error) {
	bounds := map[string]int64{}
	if cursor == "" {
		return bounds, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(raw) > mergeCursorMax || json.Unmarshal(raw, &bounds) != nil || len(bounds) == 0 {
		return nil, errBadCursor
	}
	known := map[string]bool{}
	for _, a := range accounts {
		known[a] = true
	}
	for a, b := range bounds {
		if !known[a] || b < 1 {
			return nil, errBadCursor
		}
	}
	return bounds, nil
}

// Totals are an account set's money in and out over a month.
type Totals struct {
	InFen  int64 `json:"inFen"`  // the sum of the credits
	OutFen int64 `json:"outFen"` // the sum of the debits, as a positive number
	Count  int   `json:"count"`  // the number of entries
}

// MonthTotals sums the entries of accounts that happened in month (YYYY-MM, China time): exactly the
// entries MergedHistory lists for that month.
func (l *Ledger) MonthTotals(ctx context.Context, accounts []string, month string) (Totals, error) {
	var t Totals
	start, _, err := monthRange(month)
	if err != nil {
		return t, err
	}
	if month == "" {
		return t, errBadMonth
	}
	for _, a := range accounts {
		for bound := int64(0); bound != 1; {
			entries, done, err := l.readEntries(ctx, a, bound, 500, month, start)
			if err != nil {
				return t, err
			}
			for _, e := range entries {
				if e.AmountFen > 0 {
					t.InFen += e.AmountFen
				} else {
					t.OutFen -= e.AmountFen
				}
				t.Count++
			}
			if done || len(entries) == 0 {
				break
			}
			bound = entries[len(entries)-1].Seq
		}
	}
	return t, nil
}

// EntryOf reads one entry of account by seq; ok is false when there is none.
func (l *Ledger) EntryOf(ctx context.Context, account string, seq int64) (*Entry, bool, error) {
	var e Entry
	ok, err := l.S.Get(ctx, store.EntryKey(account, seq), &e)
	if err != nil || !ok {
		return nil, false, err
	}
	return &e, true, nil
}

// View is the history line of e.
func (e *Entry) View() TxnView {
	return TxnView{TxnID: e.TxnID, Kind: e.Kind, AmountFen: e.AmountFen, BalanceAfterFen: e.BalanceAfter,
		Merchant: e.Merchant, OccurredAt: e.OccurredAt.In(chinatime.Zone).Format(time.RFC3339), Status: e.Status, Usage: e.Usage.View()}
}
