package cards

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"onecard/shared/auth"
	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/ledger"
)

// A student's transaction history spans every card they held: the bound card and the cards it replaced
// (补卡, Card.Replaces). Each line has an id, <cardNo>-<seq>, that GET /v1/card/transactions/{id}
// resolves on one of those cards only, so another student's line is not found.

// ErrNoTxn answers an id that is not a line of the caller's history (malformed, missing, or another
// student's: all look the same).
var ErrNoTxn = fault.E(fault.NotFound, "TXN_NOT_FOUND", "交易记录不存在")

// history is the caller's current card and the ledger accounts of their history, current card first.
type history struct {
	card     *Card
	accounts []string
	cardOf   map[string]string // account → card number
}

func (s *Service) history(ctx context.Context, p auth.Principal) (*history, error) {
	_, c, err := s.Mine(ctx, p)
	if err != nil {
		return nil, err
	}
	return historyOf(c), nil
}

// historyOf is the history of the student whose current card is c.
func historyOf(c *Card) *history {
	h := &history{card: c, cardOf: map[string]string{}}
	for _, no := range c.HistoryCards() {
		a := AccountID(c.SchoolID, no)
		h.accounts = append(h.accounts, a)
		h.cardOf[a] = no
	}
	return h
}

// page is one page of the history, newest first (month: only its lines).
func (h *history) page(ctx context.Context, l *ledger.Ledger, limit int, cursor, month string) (*TxnPage, error) {
	entries, next, err := l.MergedHistory(ctx, h.accounts, limit, cursor, month)
	if err != nil {
		return nil, err
	}
	page := &TxnPage{Items: make([]ledger.TxnView, 0, len(entries)), NextCursor: next}
	for i := range entries {
		page.Items = append(page.Items, h.line(&entries[i]))
	}
	return page, nil
}

// entryID names a line of the history.
func entryID(cardNo string, seq int64) string { return cardNo + "-" + strconv.FormatInt(seq, 10) }

// line is e as a line of the history, with its id and card.
func (h *history) line(e *ledger.Entry) ledger.TxnView {
	v := e.View()
	v.CardNo = h.cardOf[e.Account]
	v.ID = entryID(v.CardNo, e.Seq)
	return v
}

// TxnPage is GET /v1/card/transactions.
type TxnPage struct {
	Items      []ledger.TxnView `json:"items"`
	NextCursor *string          `json:"nextCursor"`
}

// Transactions lists the caller's history newest first, across their cards.
func (s *Service) Transactions(ctx context.Context, l *ledger.Ledger, p auth.Principal, limit int, cursor, month string) (*TxnPage, error) {
	h, err := s.history(ctx, p)
	if err != nil {
		return nil, err
	}
	return h.page(ctx, l, limit, cursor, month)
}

// TxnDetail is GET /v1/card/transactions/{id}: the line, and what it was with.
type TxnDetail struct {
	ledger.TxnView
	PostedAt    string `json:"postedAt"`              // when it reached the books (a reader may post late)
	OrderNo     string `json:"orderNo,omitempty"`     // a WeChat recharge: its order (GET /v1/orders/{orderNo})
	DeviceID    string `json:"deviceId,omitempty"`    // a purchase: the reader
	RoomID      string `json:"roomId,omitempty"`      // a dorm recharge from the card: the room
	AccountKind string `json:"accountKind,omitempty"` // … and its account (elec_water, elec, water)
	OtherCardNo string `json:"otherCardNo,omitempty"` // a 补卡 transfer: the other card
}

// Transaction is one line of the caller's history by id.
func (s *Service) Transaction(ctx context.Context, l *ledger.Ledger, p auth.Principal, id string) (*TxnDetail, error) {
	cardNo, seqText, ok := strings.Cut(id, "-")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || !validCardNo(cardNo) || err != nil || seq < 1 || len(seqText) > 12 {
		return nil, ErrNoTxn
	}
	h, err := s.history(ctx, p)
	if err != nil {
		return nil, err
	}
	account := AccountID(h.card.SchoolID, cardNo)
	if _, mine := h.cardOf[account]; !mine {
		return nil, ErrNoTxn
	}
	e, ok, err := l.EntryOf(ctx, account, seq)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNoTxn
	}
	d := &TxnDetail{TxnView: h.line(e), PostedAt: e.PostedAt.In(chinatime.Zone).Format(time.RFC3339)}
	switch cp := e.Counterparty; {
	case strings.HasPrefix(e.Idem, "wechat#"):
		d.OrderNo = strings.TrimPrefix(e.Idem, "wechat#")
	case strings.HasPrefix(cp, "ext:merchant:"):
		d.DeviceID = strings.TrimPrefix(cp, "ext:merchant:")
	case strings.HasPrefix(cp, "dorm:"):
		// dorm:<school>:<roomId>:<kind> (dorm.AccountID)
		if parts := strings.Split(cp, ":"); len(parts) == 4 {
			d.RoomID, d.AccountKind = parts[2], parts[3]
		}
	case strings.HasPrefix(cp, "card:"):
		d.OtherCardNo = cp[strings.LastIndexByte(cp, ':')+1:]
	}
	return d, nil
}

// MonthSummary is GET /v1/card/transactions/summary.
type MonthSummary struct {
	Month string `json:"month"`
	ledger.Totals
}

// Summary totals the caller's history over month (YYYY-MM, China time; this month when empty): the sum
// of the lines GET /v1/card/transactions?month= lists.
func (s *Service) Summary(ctx context.Context, l *ledger.Ledger, p auth.Principal, month string) (*MonthSummary, error) {
	if month == "" {
		month = s.Now().In(chinatime.Zone).Format("2006-01")
	}
	h, err := s.history(ctx, p)
	if err != nil {
		return nil, err
	}
	t, err := l.MonthTotals(ctx, h.accounts, month)
	if err != nil {
		return nil, err
	}
	return &MonthSummary{Month: month, Totals: t}, nil
}

// Transaction routes.
var (
	CardTransactions = fn.HTTP{Name: "CardTransactions", Route: "GET /v1/card/transactions", Access: fn.User,
		Actions: []string{iam.GetItem, iam.Query}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			l := s.Ledger
			return func(w http.ResponseWriter, r *http.Request) error {
				limit, err := httpapi.Limit(r, 20, 100)
				if err != nil {
					return err
				}
				q := r.URL.Query()
				page, err := s.Transactions(r.Context(), l, auth.Must(r.Context()), limit, q.Get("cursor"), q.Get("month"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, page)
			}
		})}

	CardTransactionGet = fn.HTTP{Name: "CardTransactionGet", Route: "GET /v1/card/transactions/{id}", Access: fn.User,
		Actions: []string{iam.GetItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			l := s.Ledger
			return func(w http.ResponseWriter, r *http.Request) error {
				t, err := s.Transaction(r.Context(), l, auth.Must(r.Context()), r.PathValue("id"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, t)
			}
		})}

	CardTransactionsSummary = fn.HTTP{Name: "CardTransactionsSummary", Route: "GET /v1/card/transactions/summary", Access: fn.User,
		Actions: []string{iam.GetItem, iam.Query}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			l := s.Ledger
			return func(w http.ResponseWriter, r *http.Request) error {
				sum, err := s.Summary(r.Context(), l, auth.Must(r.Context()), r.URL.Query().Get("month"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, sum)
			}
		})}
)
