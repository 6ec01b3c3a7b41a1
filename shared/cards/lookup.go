package cards

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"onecard/shared/auth"
	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/ledger"
	"onecard/shared/store"
)

// The card center's lookup (issue 15, Roster): find a student by student number, name or card number, open
// the card with everything staff need to help at the counter, and read the student's whole history across
// the cards they held. Staff see names in full; nothing here shows the ID number or its digest.

// StudentHit is one student found by the lookup, with their current card.
type StudentHit struct {
	StudentNo string     `json:"studentNo"`
	Name      string     `json:"name"`
	Class     string     `json:"class"`
	Status    string     `json:"status"` // active, graduated, left
	CardNo    string     `json:"cardNo"`
	Card      *StaffCard `json:"card"` // null if the roster points at a card that is missing
}

// StaffCard is a card as the card center sees it.
type StaffCard struct {
	CardNo          string    `json:"cardNo"`
	StudentNo       string    `json:"studentNo"`
	HolderName      string    `json:"holderName"`
	Status          string    `json:"status"`
	BalanceFen      int64     `json:"balanceFen"`
	Arrears         bool      `json:"arrears"`
	Limits          Limits    `json:"limits"`
	SpentTodayFen   int64     `json:"spentTodayFen"`
	VirtualCard     bool      `json:"virtualCard"`
	Bound           bool      `json:"bound"` // bound to a student's app account (the account itself is not shown)
	PasswordInitial bool      `json:"passwordInitial"`
	LostAt          *string   `json:"lostAt"`
	ReplacedBy      string    `json:"replacedBy,omitempty"` // a cancelled card's replacement (补卡)
	Replaces        []string  `json:"replaces"`             // the cards this one replaced, oldest first
	CurrentCardNo   string    `json:"currentCardNo"`        // the student's card now (this one unless replaced)
	CreatedAt       time.Time `json:"createdAt"`
}

func (s *Service) staffView(ctx context.Context, c *Card) (*StaffCard, error) {
	v := &StaffCard{CardNo: c.CardNo, StudentNo: c.StudentNo, HolderName: c.HolderName, Status: c.Status,
		BalanceFen: c.Balance, Arrears: c.Arrears, Limits: Limits{PerTxnFen: c.PerTxnFen, DailyFen: c.DailyFen},
		SpentTodayFen: c.SpentOn(chinatime.Day(s.Now())), VirtualCard: c.Virtual, Bound: c.BoundUser != "",
		PasswordInitial: !c.PwChanged, ReplacedBy: c.ReplacedBy, Replaces: append([]string{}, c.Replaces...),
		CurrentCardNo: c.CardNo, CreatedAt: c.CreatedAt.In(chinatime.Zone)}
	if !c.LostAt.IsZero() {
		t := c.LostAt.In(chinatime.Zone).Format(time.RFC3339)
		v.LostAt = &t
	}
	if c.Status == Cancelled && c.ReplacedBy != "" {
		cur, err := s.Current(ctx, c)
		if err != nil && !fault.Is(err, ErrNoCurrentCard.Code) {
			return nil, err
		}
		if cur != nil {
			v.CurrentCardNo = cur.CardNo
		}
	}
	return v, nil
}

// ErrBadQuery is a lookup without anything to look for.
var ErrBadQuery = fault.Field("BAD_QUERY", "请输入学号、姓名或卡号")

// maxHits bounds one lookup (namesakes).
const maxHits = 20

// Lookup finds the students of the caller's school whose student number (any prefix, any case, or the
// bare digits), card number, or exact name is q.
func (s *Service) Lookup(ctx context.Context, p auth.Principal, q string) ([]StudentHit, error) {
	q = strings.TrimSpace(q)
	if q == "" || utf8.RuneCountInString(q) > 32 {
		return nil, ErrBadQuery
	}
	sch, err := s.Schools.Get(ctx, p.School)
	if err != nil {
		return nil, err
	}
	var entries []student
	seen := map[string]bool{}
	add := func(st student) {
		if !seen[st.StudentNo] {
			seen[st.StudentNo] = true
			entries = append(entries, st)
		}
	}
	// A student number, with its prefix or as bare digits.
	candidate := q
	if q[0] >= '0' && q[0] <= '9' {
		candidate = sch.Canonical(q)
	}
	if bare, err := sch.StudentNumber(candidate); err == nil {
		var st student
		ok, err := s.S.Get(ctx, store.StudentKey(sch.ID, bare), &st)
		if err != nil {
			return nil, err
		}
		if ok {
			add(st)
		}
	}
	// A card number: the roster entry of its holder (an old card finds the student too).
	if validCardNo(q) {
		c, err := s.Cards.Get(ctx, sch.ID, q)
		switch {
		case err == nil:
			if bare, err := sch.StudentNumber(c.StudentNo); err == nil {
				var st student
				ok, err := s.S.Get(ctx, store.StudentKey(sch.ID, bare), &st)
				if err != nil {
					return nil, err
				}
				if ok {
					add(st)
				}
			}
		case !fault.Is(err, ErrNoCard.Code):
			return nil, err
		}
	}
	// A name, exactly.
	byName, err := s.studentsNamed(ctx, sch.ID, q)
	if err != nil {
		return nil, err
	}
	for _, st := range byName {
		add(st)
	}
	hits := make([]StudentHit, 0, len(entries))
	for _, st := range entries {
		h := StudentHit{StudentNo: st.StudentNo, Name: st.Name, Class: st.Class, Status: st.status(), CardNo: st.CardNo}
		c, err := s.Cards.Get(ctx, sch.ID, st.CardNo)
		switch {
		case err == nil:
			if h.Card, err = s.staffView(ctx, c); err != nil {
				return nil, err
			}
		case !fault.Is(err, ErrNoCard.Code):
			return nil, err
		}
		hits = append(hits, h)
	}
	return hits, nil
}

func (s *Service) studentsNamed(ctx context.Context, school, name string) ([]student, error) {
	var out []student
	_, err := s.S.Page(ctx, store.Query{Index: store.GSI1, PK: store.StudentNamePK(school, name), Limit: maxHits}, &out)
	return out, err
}

// StaffCardGet is one card of the caller's school for the card center.
func (s *Service) StaffCardGet(ctx context.Context, p auth.Principal, cardNo string) (*StaffCard, error) {
	c, err := s.staffCard(ctx, p, cardNo)
	if err != nil {
		return nil, err
	}
	return s.staffView(ctx, c)
}

// StaffHistory lists the whole history of the student who holds or held cardNo, newest first, across
// every card they held (the current card and the ones it replaced).
func (s *Service) StaffHistory(ctx context.Context, p auth.Principal, l *ledger.Ledger, cardNo string, limit int, cursor, month string) (*TxnPage, error) {
	c, err := s.staffCard(ctx, p, cardNo)
	if err != nil {
		return nil, err
	}
	if c.Status == Cancelled && c.ReplacedBy != "" {
		if cur, err := s.Current(ctx, c); err == nil {
			c = cur
		} else if !fault.Is(err, ErrNoCurrentCard.Code) {
			return nil, err
		}
	}
	return historyOf(c).page(ctx, l, limit, cursor, month)
}

// The card center's lookup routes (finance, who does 补卡, needs them as much as the card center).
var (
	AdminStudentsLookup = fn.HTTP{Name: "AdminStudentsLookup", Route: "GET /v1/admin/students", Access: fn.Staff,
		Roles: []string{auth.RoleIT, auth.RoleFinance}, Actions: []string{iam.GetItem, iam.Query},
		Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				hits, err := s.Lookup(r.Context(), auth.Must(r.Context()), r.URL.Query().Get("q"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, map[string]any{"items": hits})
			}
		})}

	AdminCardGet = fn.HTTP{Name: "AdminCardGet", Route: "GET /v1/admin/cards/{cardNo}", Access: fn.Staff,
		Roles: []string{auth.RoleIT, auth.RoleFinance}, Actions: []string{iam.GetItem},
		Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				c, err := s.StaffCardGet(r.Context(), auth.Must(r.Context()), r.PathValue("cardNo"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, c)
			}
		})}

	AdminCardTransactions = fn.HTTP{Name: "AdminCardTransactions", Route: "GET /v1/admin/cards/{cardNo}/transactions", Access: fn.Staff,
		Roles: []string{auth.RoleIT, auth.RoleFinance}, Actions: []string{iam.GetItem, iam.Query},
		Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			l := s.Ledger
			return func(w http.ResponseWriter, r *http.Request) error {
				limit, err := httpapi.Limit(r, 50, 200)
				if err != nil {
					return err
				}
				q := r.URL.Query()
				page, err := s.StaffHistory(r.Context(), auth.Must(r.Context()), l, r.PathValue("cardNo"), limit, q.Get("cursor"), q.Get("month"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, page)
			}
		})}
)
