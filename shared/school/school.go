// Package school holds the schools the service runs for: names, student-number prefixes and the
// settings that other packages read (tariffs, night hours, limits).
package school

import (
	"context"
	"strings"

	"onecard/shared/fault"
	"onecard/shared/store"
)

// School is one school's settings. Prefixes[0] is the canonical student-number prefix; the rest are
// aliases (CUK for CUIK).
type School struct {
	store.Key
	store.InGSI1          // SchoolListPK, the school's id
	ID           string   `dynamodbav:"schoolId"`
	Name         string   `dynamodbav:"name"`
	Prefixes     []string `dynamodbav:"prefixes"`
	// Money settings, in fen.
	MaxRechargeFen   int64 `dynamodbav:"maxRechargeFen"`
	LowBalanceFen    int64 `dynamodbav:"lowBalanceFen"`
	DefaultPerTxnFen int64 `dynamodbav:"defaultPerTxnFen"`
	DefaultDailyFen  int64 `dynamodbav:"defaultDailyFen"`
	// Ceilings of the limits a student may set on their own card (消费额度管理), and of what a payment
	// code may authorise.
	MaxPerTxnFen int64 `dynamodbav:"maxPerTxnFen"`
	MaxDailyFen  int64 `dynamodbav:"maxDailyFen"`
	// CorrectionLeadFen: a correction (调账) of more than this, either way, needs a finance lead's
	// approval (shared/corrections).
	CorrectionLeadFen int64 `dynamodbav:"correctionLeadFen"`
	// ReplaceFeeFen is the fee of 补卡 (e.g. 2000 = 20 元), from the balance or in cash; 0 (unset): free.
	ReplaceFeeFen int64 `dynamodbav:"replaceFeeFen,omitempty"`
	// Tariffs in fen per 100 units of the meters' hundredths (fen per kWh, fen per m³).
	ElecFenPerKWh int64  `dynamodbav:"elecFenPerKWh"`
	WaterFenPerM3 int64  `dynamodbav:"waterFenPerM3"`
	NightStart    string `dynamodbav:"nightStart"` // "23:00", school local time
	NightEnd      string `dynamodbav:"nightEnd"`   // "07:00"
	TimeZone      string `dynamodbav:"timeZone"`   // "Asia/Shanghai"
	// Help and About (使用帮助, 关于) are stored in the school's texts item, not here: this item is read on
	// most requests and should stay small. Repo.Put writes them; Repo.Texts reads them.
	Help  string `dynamodbav:"-"`
	About string `dynamodbav:"-"`
}

// Default ceilings of a card's own limits: 500.00 元 a payment, 2,000.00 元 a day.
const (
	DefaultMaxPerTxnFen = 50_000
	DefaultMaxDailyFen  = 200_000
	// DefaultCorrectionLeadFen: corrections above 500.00 元 need a finance lead.
	DefaultCorrectionLeadFen = 50_000
)

// Defaults fills unset money settings with the project's defaults.
func (s *School) Defaults() {
	if s.MaxRechargeFen == 0 {
		s.MaxRechargeFen = 100000 // 1,000.00 元
	}
	if s.DefaultPerTxnFen == 0 {
		s.DefaultPerTxnFen = 5000
	}
	if s.DefaultDailyFen == 0 {
		s.DefaultDailyFen = 30000
	}
	// A school stored before the ceilings existed gets these, never below its cards' default limits.
	if s.MaxPerTxnFen == 0 {
		s.MaxPerTxnFen = max(DefaultMaxPerTxnFen, s.DefaultPerTxnFen)
	}
	if s.MaxDailyFen == 0 {
		s.MaxDailyFen = max(DefaultMaxDailyFen, s.DefaultDailyFen, s.MaxPerTxnFen)
	}
	if s.LowBalanceFen == 0 {
		s.LowBalanceFen = 1000
	}
	if s.CorrectionLeadFen == 0 {
		s.CorrectionLeadFen = DefaultCorrectionLeadFen
	}
	if s.TimeZone == "" {
		s.TimeZone = "Asia/Shanghai"
	}
}

// ErrUnknown is the answer for a school id that does not exist.
var ErrUnknown = fault.E(fault.Invalid, "BAD_SCHOOL", "学校不存在")

// Repo reads and writes schools.
type Repo struct{ S *store.Store }

// Get returns one school or ErrUnknown.
func (r Repo) Get(ctx context.Context, id string) (*School, error) {
	if id == "" || len(id) > 32 {
		return nil, ErrUnknown
	}
	var s School
	ok, err := r.S.Get(ctx, store.SchoolKey(id), &s)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrUnknown
	}
	s.Defaults()
	return &s, nil
}

// List returns every school, ordered by id.
func (r Repo) List(ctx context.Context) ([]School, error) {
	return store.All[School](ctx, r.S, store.Query{Index: store.GSI1, PK: store.SchoolListPK()})
}

// Put writes a school (seeding and staff settings).
func (r Repo) Put(ctx context.Context, s *School) error {
	s.Key = store.SchoolKey(s.ID)
	s.GSI1PK, s.GSI1SK = store.SchoolListPK(), s.ID
	if err := r.S.Put(ctx, s, "", nil); err != nil {
		return err
	}
	return r.S.Put(ctx, textsOf(s), "", nil)
}

// ErrBadStudentNo is returned for a student number without a known prefix.
var ErrBadStudentNo = fault.E(fault.Invalid, "BAD_STUDENT_NO", "学号格式不正确，请在学号前加学校前缀（如 CUIK）")

// StudentNumber splits "cuk20230001" into the bare number "20230001" using any of the school's prefixes,
// case-insensitively. The canonical form is Prefixes[0] + bare.
func (s *School) StudentNumber(input string) (bare string, err error) {
	in := strings.ToUpper(strings.TrimSpace(input))
	// Longest prefix first, so CUIK wins over a hypothetical CU.
	best := ""
	for _, p := range s.Prefixes {
		p = strings.ToUpper(p)
		if strings.HasPrefix(in, p) && len(p) > len(best) {
			best = p
		}
	}
	if best == "" {
		return "", ErrBadStudentNo
	}
	bare = in[len(best):]
	if len(bare) < 4 || len(bare) > 20 {
		return "", ErrBadStudentNo
	}
	for _, c := range bare {
		if c < '0' || c > '9' {
			return "", ErrBadStudentNo
		}
	}
	return bare, nil
}

// Canonical returns the student number as the school writes it (CUIK20230001).
func (s *School) Canonical(bare string) string {
	if len(s.Prefixes) == 0 {
		return bare
	}
	return strings.ToUpper(s.Prefixes[0]) + bare
}
