package ledger

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"onecard/shared/fault"
	"onecard/shared/store"
)

// TxnView is one line of a transaction history (GET /v1/card/transactions).
type TxnView struct {
	// ID addresses this line for GET /v1/card/transactions/{id} (card histories only).
	ID string `json:"id,omitempty"`
	// CardNo is the card the line is on, in a history that spans a student's cards (after 补卡).
	CardNo          string `json:"cardNo,omitempty"`
	TxnID           string `json:"txnId"`
	Kind            string `json:"kind"`
	AmountFen       int64  `json:"amountFen"`
	BalanceAfterFen int64  `json:"balanceAfterFen"`
	Merchant        string `json:"merchant"`
	OccurredAt      string `json:"occurredAt"`
	Status          string `json:"status"`
	// Usage is present on meter charges only.
	Usage *UsageView `json:"usage,omitempty"`
}

// UsageView is a meter charge's consumption: Quantity is a decimal with two places ("12.34") in Unit
// (kWh or m³), TariffFenPerUnit the tariff it was charged at.
type UsageView struct {
	Quantity         string `json:"quantity"`
	Unit             string `json:"unit"`
	TariffFenPerUnit int64  `json:"tariffFenPerUnit"`
}

// View is u as the history shows it (nil for nil).
func (u *Usage) View() *UsageView {
	if u == nil {
		return nil
	}
	q := u.Quantity
	sign := ""
	if q < 0 {
		sign, q = "-", -q
	}
	return &UsageView{Quantity: fmt.Sprintf("%s%d.%02d", sign, q/100, q%100), Unit: u.Unit, TariffFenPerUnit: u.TariffFen}
}

// Page is a page of history, newest first.
type Page struct {
	Items      []TxnView `json:"items"`
	NextCursor *string   `json:"nextCursor"`
}

var (
	errBadCursor = fault.Field("BAD_CURSOR", "分页游标无效")
	errBadMonth  = fault.Field("BAD_MONTH", "month 格式应为 YYYY-MM")
)

// History lists an account's entries newest first. cursor is opaque (the last entry's sort key); month
// (YYYY-MM, China time) filters by when the transaction happened.
func (l *Ledger) History(ctx context.Context, account string, limit int, cursor, month string) (*Page, error) {
	if month != "" {
		if _, err := time.Parse("2006-01", month); err != nil {
			return nil, errBadMonth
		}
	}
	q := store.Query{PK: store.LedgerPK(account), Prefix: store.EntrySKPrefix, Newest: true, Limit: limit}
	if month != "" {
		q.Equal = map[string]any{"month": month}
	}
	if cursor != "" {
		sk, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(sk), store.EntrySKPrefix) || len(sk) > 40 {
			return nil, errBadCursor
		}
		q.Start = &store.Key{PK: store.LedgerPK(account), SK: string(sk)}
	}
	page := &Page{Items: []TxnView{}}
	for {
		var entries []Entry
		next, err := l.S.Page(ctx, q, &entries)
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			page.Items = append(page.Items, e.View())
			if len(page.Items) == limit {
				if e.SK != store.EntrySK(1) {
					c := base64.RawURLEncoding.EncodeToString([]byte(e.SK))
					page.NextCursor = &c
				}
				return page, nil
			}
		}
		if next == nil {
			return page, nil
		}
		q.Start = &next.Key
		q.Limit = limit - len(page.Items)
	}
}
