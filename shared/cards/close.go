package cards

import (
	"context"
	"errors"
	"strings"

	"onecard/shared/fault"
	"onecard/shared/store"
)

// 销户: a card closed for good (a graduate, a student who left). The card is cancelled without a
// replacement; what is left on it goes back to the student (package closing). Roster entries of students
// who are not active (graduated, left) are listed by the leavers index (GSI2: store.LeaversPK(school), sort key
// "<status>#<class>#<studentNo>"), which the graduation batch walks; an entry leaves it once its card is
// closed with nothing left on it.

// indexStatus puts a roster entry in the leavers index, or takes it out, by its status.
func (st *student) indexStatus() {
	st.GSI2PK, st.GSI2SK = "", ""
	if s := st.status(); s != StudentActive {
		st.GSI2PK, st.GSI2SK = store.LeaversPK(st.SchoolID), s+"#"+st.Class+"#"+st.StudentNo
	}
}

// Errors of 销户.
var (
	ErrCardReplaced = fault.E(fault.Conflict, "CARD_REPLACED", "该卡已补办为新卡，请对学生当前的卡销户")
	ErrCardArrears  = fault.E(fault.Conflict, "CARD_IN_ARREARS", "该卡欠款，须先充值结清才能销户")
)

// CloseCard cancels c for good (no replacement), from now: readers refuse it, nothing but what closing
// itself posts reaches it. A card already closed is answered as it is; a replaced card is refused.
func (s *Service) CloseCard(ctx context.Context, c *Card) (*Card, error) {
	for attempt := 1; ; attempt++ {
		switch {
		case c.Status == Cancelled && c.ReplacedBy != "":
			return nil, ErrCardReplaced
		case c.Status == Cancelled:
			return c, nil
		}
		err := s.setStatus(ctx, c, Cancelled, "cutoffAt = :cut, closedAt = :cut", map[string]any{":cut": s.Now().UTC()})
		if err == nil {
			return s.Cards.Get(ctx, c.SchoolID, c.CardNo)
		}
		if !fault.Is(err, ErrConcurrentState.Code) || attempt >= maxDecide {
			return nil, err
		}
		if c, err = s.Cards.Get(ctx, c.SchoolID, c.CardNo); err != nil {
			return nil, err
		}
	}
}

// Leaver is a roster entry of the leavers index.
type Leaver struct {
	StudentNo string `dynamodbav:"studentNo" json:"studentNo"`
	Name      string `dynamodbav:"name" json:"name"`
	Class     string `dynamodbav:"class" json:"class,omitempty"`
	Status    string `dynamodbav:"status" json:"status"`
	CardNo    string `dynamodbav:"cardNo" json:"cardNo"`
}

// Leavers is a page of school's roster entries of status (graduated, left), of class when class is set,
// in class and student-number order after cursor (an opaque string from the previous page).
func (s *Service) Leavers(ctx context.Context, school, status, class string, limit int32, cursor string) ([]Leaver, string, error) {
	prefix := status + "#"
	if class != "" {
		prefix += class + "#"
	}
	q := store.Query{Index: store.GSI2, PK: store.LeaversPK(school), Prefix: prefix, Limit: int(limit)}
	if cursor != "" {
		if !strings.HasPrefix(cursor, prefix) {
			return nil, "", fault.Field("BAD_CURSOR", "cursor 无效")
		}
		bare, err := s.bareOf(ctx, school, cursor[strings.LastIndex(cursor, "#")+1:])
		if err != nil {
			return nil, "", fault.Field("BAD_CURSOR", "cursor 无效")
		}
		start := store.StudentKey(school, bare)
		q.Start, q.StartSK = &start, cursor
	}
	out := []Leaver{}
	next, err := s.S.Page(ctx, q, &out)
	if err != nil {
		return nil, "", err
	}
	if next == nil || len(out) == 0 {
		return out, "", nil
	}
	return out, next.SK, nil
}

func (s *Service) bareOf(ctx context.Context, school, studentNo string) (string, error) {
	sch, err := s.Schools.Get(ctx, school)
	if err != nil {
		return "", err
	}
	return sch.StudentNumber(studentNo)
}

// LeaverDone takes the roster entry of c's student out of the leavers index (its card is closed and
// empty). An entry already out, or one that names another card now, is left alone.
func (s *Service) LeaverDone(ctx context.Context, c *Card) error {
	bare, err := s.bareOf(ctx, c.SchoolID, c.StudentNo)
	if err != nil {
		return nil // not a roster number
	}
	err = s.S.StudentCardClosed(ctx, store.StudentKey(c.SchoolID, bare), c.CardNo, s.Now().UTC())
	if errors.Is(err, store.ErrConditionFailed) {
		return nil
	}
	return err
}
