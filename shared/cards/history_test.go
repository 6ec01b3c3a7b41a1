package cards_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"onecard/shared/cards"
	"onecard/shared/ledger"
	"onecard/shared/store"
)

var cst = time.FixedZone("CST", 8*3600)

// postAt posts fen (a credit, or a canteen purchase when negative) on cardNo as if posted at `at`,
// having happened at occurred (at when zero).
func (w *world) postAt(cardNo string, fen int64, key string, at, occurred time.Time) {
	w.T.Helper()
	l := ledger.New(store.New(w.Deps.DB, w.Deps.Cfg.Table), func() time.Time { return at })
	p := ledger.Posting{Account: cards.AccountID("kmmc", cardNo), Item: store.CardKey("kmmc", cardNo), AmountFen: fen,
		Kind: ledger.KindRecharge, Counterparty: "ext:wechat", Merchant: "微信充值", OccurredAt: occurred}
	if fen < 0 {
		p.Kind, p.Counterparty, p.Merchant = ledger.KindPurchase, "ext:merchant:POS-CANTEEN-01", "食堂一号窗口"
	}
	if _, err := l.Post(context.Background(), ledger.Movement{Scope: "test", Key: key, Postings: ledger.External(p)}); err != nil {
		w.T.Fatal(err)
	}
}

type txnLine struct {
	ID, CardNo, TxnID, Kind, Merchant, OccurredAt, Status string
	AmountFen, BalanceAfterFen                            int64
}

// lines walks GET /v1/card/transactions page by page (limit per page) and returns every line.
func (w *world) lines(h []string, limit int, month string) []txnLine {
	w.T.Helper()
	var all []txnLine
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 20 {
			w.T.Fatal("paging does not end")
		}
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		if month != "" {
			q.Set("month", month)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items      []txnLine
			NextCursor *string
		}
		w.Do("GET", "/v1/card/transactions?"+q.Encode(), nil, h...).Expect(w.T, 200, "").Decode(w.T, &page)
		if len(page.Items) > limit {
			w.T.Fatalf("%d items on a page of %d", len(page.Items), limit)
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			return all
		}
		cursor = *page.NextCursor
	}
}

type monthSummary struct {
	Month         string
	InFen, OutFen int64
	Count         int
}

func (w *world) summary(h []string, month string) monthSummary {
	w.T.Helper()
	var s monthSummary
	path := "/v1/card/transactions/summary"
	if month != "" {
		path += "?month=" + month
	}
	w.Do("GET", path, nil, h...).Expect(w.T, 200, "").Decode(w.T, &s)
	return s
}

// After 补卡 the student's history still shows the old card's lines, merged newest first with the new
// card's, paged without a gap or a repeat; the month filter and the month's totals follow when each line
// happened (China time), and the totals are the sum of the month's lines.
func TestHistorySpansReplacedCardsWithMonthTotals(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000041", "CUIK20230001", "011237")
	day := func(d, hh, mm int) time.Time { return time.Date(2026, 11, d, hh, mm, 0, 0, cst) }
	w.postAt("10000001", 10000, "h1", day(1, 10, 0), time.Time{})
	w.postAt("10000001", -1250, "h2", day(2, 12, 0), time.Time{})
	// A reader record of 31 October, 23:59, reaching the books three days late.
	w.postAt("10000001", -300, "h3", day(3, 9, 0), time.Date(2026, 10, 31, 23, 59, 0, 0, cst))
	// 补卡 at the clock's now (25 November, 12:00): 84.50 元 move to the new card.
	w.Do("POST", "/v1/admin/cards/10000001/replace", map[string]any{"newCardNo": "10000099", "keepBinding": true},
		w.StaffOf("finance")...).Expect(t, 200, "")
	w.postAt("10000099", 2000, "h4", day(25, 12, 30), time.Time{})
	w.postAt("10000099", -800, "h5", day(25, 13, 0), time.Time{})
	w.postAt("10000099", 500, "h6", time.Date(2026, 12, 2, 8, 0, 0, 0, cst), time.Time{})

	all := w.lines(h, 3, "")
	var amounts, cardNos, ids []string
	for _, l := range all {
		amounts = append(amounts, fmt.Sprint(l.AmountFen))
		cardNos = append(cardNos, l.CardNo)
		ids = append(ids, l.ID)
	}
	if got := fmt.Sprint(amounts); got != "[500 -800 2000 8450 -8450 -300 -1250 10000]" {
		t.Fatalf("amounts newest first: %s", got)
	}
	if got := fmt.Sprint(cardNos); got != "[10000099 10000099 10000099 10000099 10000001 10000001 10000001 10000001]" {
		t.Fatalf("cards: %s", got)
	}
	if got := fmt.Sprint(ids); got != "[10000099-4 10000099-3 10000099-2 10000099-1 10000001-4 10000001-3 10000001-2 10000001-1]" {
		t.Fatalf("ids: %s", got)
	}
	if all[4].Kind != "card_replace" || all[4].BalanceAfterFen != 0 || all[3].BalanceAfterFen != 8450 {
		t.Fatalf("the 补卡 lines: %+v %+v", all[3], all[4])
	}
	// Any page size gives the same lines.
	for _, limit := range []int{1, 2, 8, 100} {
		var again []string
		for _, l := range w.lines(h, limit, "") {
			again = append(again, l.ID)
		}
		if fmt.Sprint(again) != fmt.Sprint(ids) {
			t.Fatalf("limit %d: %v", limit, again)
		}
	}

	// Months: the late record is October's; the totals are the sums of the month's lines.
	want := map[string]string{"2026-10": "[-300]", "2026-11": "[-800 2000 8450 -8450 -1250 10000]", "2026-12": "[500]", "2026-09": "[]"}
	for month, lines := range want {
		got := w.lines(h, 2, month)
		var am []int64
		var sum monthSummary
		for _, l := range got {
			am = append(am, l.AmountFen)
			if l.AmountFen > 0 {
				sum.InFen += l.AmountFen
			} else {
				sum.OutFen -= l.AmountFen
			}
			sum.Count++
		}
		if fmt.Sprint(am) != lines && !(lines == "[]" && len(am) == 0) {
			t.Fatalf("%s: lines %v, want %s", month, am, lines)
		}
		sum.Month = month
		if s := w.summary(h, month); s != sum {
			t.Fatalf("%s: summary %+v, lines sum to %+v", month, s, sum)
		}
	}
	if s := w.summary(h, ""); s.Month != "2026-11" || s.Count != 6 || s.InFen != 20450 || s.OutFen != 10500 {
		t.Fatalf("this month: %+v", s)
	}
	for _, bad := range []string{"2026-13", "11-2026", "2026-1"} {
		w.Do("GET", "/v1/card/transactions/summary?month="+bad, nil, h...).Expect(t, 400, "BAD_MONTH")
	}

	// One line by id: the old card's transfer names the new card; the purchase its reader.
	var d struct {
		ID, CardNo, Kind, OtherCardNo, DeviceID, PostedAt, OccurredAt string
		AmountFen                                                     int64
	}
	w.Do("GET", "/v1/card/transactions/10000001-4", nil, h...).Expect(t, 200, "").Decode(t, &d)
	if d.CardNo != "10000001" || d.Kind != "card_replace" || d.OtherCardNo != "10000099" || d.AmountFen != -8450 {
		t.Fatalf("transfer line: %+v", d)
	}
	d = struct {
		ID, CardNo, Kind, OtherCardNo, DeviceID, PostedAt, OccurredAt string
		AmountFen                                                     int64
	}{}
	w.Do("GET", "/v1/card/transactions/10000001-3", nil, h...).Expect(t, 200, "").Decode(t, &d)
	if d.DeviceID != "POS-CANTEEN-01" || d.OccurredAt != "2026-10-31T23:59:00+08:00" || d.PostedAt != "2026-11-03T09:00:00+08:00" {
		t.Fatalf("late purchase line: %+v", d)
	}

	// Another student reaches none of it: not a line, not a cursor.
	b := w.Bound("13800000042", "CUIK20230002", "025620")
	w.postAt("10000002", 700, "b1", day(20, 9, 0), time.Time{})
	w.Do("GET", "/v1/card/transactions/10000001-1", nil, b...).Expect(t, 404, "TXN_NOT_FOUND")
	w.Do("GET", "/v1/card/transactions/10000099-1", nil, b...).Expect(t, 404, "TXN_NOT_FOUND")
	w.Do("GET", "/v1/card/transactions/10000002-1", nil, h...).Expect(t, 404, "TXN_NOT_FOUND")
	w.Do("GET", "/v1/card/transactions/10000002-1", nil, b...).Expect(t, 200, "")
	for _, id := range []string{"10000001-9", "10000001-0", "10000001-x", "x-1", "10000001", "10000001--1"} {
		w.Do("GET", "/v1/card/transactions/"+id, nil, h...).Expect(t, 404, "TXN_NOT_FOUND")
	}
	if got := w.lines(b, 10, ""); len(got) != 1 || got[0].CardNo != "10000002" {
		t.Fatalf("the other student's history: %+v", got)
	}
	var first struct{ NextCursor *string }
	w.Do("GET", "/v1/card/transactions?limit=1", nil, h...).Expect(t, 200, "").Decode(t, &first)
	if first.NextCursor == nil {
		t.Fatal("no cursor")
	}
	w.Do("GET", "/v1/card/transactions?cursor="+*first.NextCursor, nil, b...).Expect(t, 400, "BAD_CURSOR")
	w.Do("GET", "/v1/card/transactions/summary", nil, w.student("13800000043")...).Expect(t, 422, "CARD_NOT_BOUND")
	w.Reconciled()
}
