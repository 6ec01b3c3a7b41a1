package closing

import (
	"context"
	"net/http"
	"time"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/ledger"
	"onecard/shared/platform"
	"onecard/shared/recharge"
	"onecard/shared/secret"
	"onecard/shared/staff"
)

// NewService wires closing from d.
func NewService(d *platform.Deps) *Service {
	s := d.Store()
	return &Service{S: s, Ledger: ledger.New(s, d.Now), Cards: cards.NewService(s, secret.NewDigester(d.Cfg.PIIKey), d.Now),
		Recharge: recharge.NewService(d), Now: d.Now}
}

// BatchLine is one student of a graduation batch.
type BatchLine struct {
	cards.Leaver
	Outcome     string `json:"outcome"` // closed, cash_due, refused, failed
	Code        string `json:"code,omitempty"`
	RefundedFen int64  `json:"refundedFen"`
	CashDueFen  int64  `json:"cashDueFen"`
}

// BatchReport is one chunk of a graduation batch.
type BatchReport struct {
	Status      string      `json:"status"`
	Class       string      `json:"class,omitempty"`
	Items       []BatchLine `json:"items"`
	Closed      int         `json:"closed"`
	CashDue     int         `json:"cashDue"`
	CashDueFen  int64       `json:"cashDueFen"`
	RefundedFen int64       `json:"refundedFen"`
	Refused     int         `json:"refused"`
	NextCursor  string      `json:"nextCursor,omitempty"` // call again with it until it is absent
	Done        bool        `json:"done"`
}

// Batch limits: a chunk stops after BatchMax students or BatchBudget of work, well inside the HTTP API's
// 30 s; the caller continues with NextCursor.
const (
	BatchMax    = 25
	BatchBudget = 15 * time.Second
)

// Graduate closes, a chunk at a time, the cards of the school's students whose roster status is status
// (graduated or left), of class when given. Each card is closed and refunded to its recharges; what they
// cannot take stays as cash due, listed in the report (close the card again with a receipt at the counter).
func (s *Service) Graduate(ctx context.Context, p auth.Principal, status, class, cursor string) (*BatchReport, error) {
	if status == "" {
		status = cards.StudentGraduated
	}
	if status != cards.StudentGraduated && status != cards.StudentLeft {
		return nil, fault.Field("BAD_STATUS", "status 须为 graduated（毕业）或 left（离校）")
	}
	start := time.Now()
	rep := &BatchReport{Status: status, Class: class, Items: []BatchLine{}}
	for len(rep.Items) < BatchMax && time.Since(start) < BatchBudget {
		page, next, err := s.Cards.Leavers(ctx, p.School, status, class, int32(min(10, BatchMax-len(rep.Items))), cursor)
		if err != nil {
			return nil, err
		}
		for _, lv := range page {
			line := BatchLine{Leaver: lv}
			res, err := s.Close(ctx, p, lv.CardNo, "", true)
			switch fe, ok := fault.As(err); {
			case err == nil && res.CashDueFen > 0:
				line.Outcome, line.RefundedFen, line.CashDueFen = "cash_due", res.RefundedFen, res.CashDueFen
				rep.CashDue++
				rep.CashDueFen += res.CashDueFen
				rep.RefundedFen += res.RefundedFen
			case err == nil:
				line.Outcome, line.RefundedFen = "closed", res.RefundedFen
				rep.Closed++
				rep.RefundedFen += res.RefundedFen
			case ok:
				line.Outcome, line.Code = "refused", fe.Code
				rep.Refused++
			default:
				return nil, err
			}
			rep.Items = append(rep.Items, line)
		}
		cursor = next
		if next == "" {
			break
		}
	}
	rep.NextCursor, rep.Done = cursor, cursor == ""
	return rep, staff.Audit(ctx, s.S, staff.Actor(p), "students.graduate", "school:"+p.School, map[string]any{"status": status,
		"class": class, "closed": rep.Closed, "cashDue": rep.CashDue, "refused": rep.Refused, "refundedFen": rep.RefundedFen}, s.Now())
}

// Routes of 销户 (一卡通服务中心, role it).
var (
	AdminCardClose = fn.HTTP{Name: "AdminCardClose", Route: "POST /v1/admin/cards/{cardNo}/close", Access: fn.Staff,
		Roles: []string{auth.RoleIT}, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.Query, iam.GetSecretValue},
		Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				ReceiptNo string `json:"receiptNo"`
			}) (*Result, error) {
				return s.Close(r.Context(), auth.Must(r.Context()), r.PathValue("cardNo"), in.ReceiptNo, false)
			})
		})}

	AdminStudentsGraduate = fn.HTTP{Name: "AdminStudentsGraduate", Route: "POST /v1/admin/students/graduate", Access: fn.Staff,
		Roles: []string{auth.RoleIT}, Timeout: fn.MaxHTTPTimeout,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.Query, iam.GetSecretValue},
		Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				Status string `json:"status"`
				Class  string `json:"class"`
				Cursor string `json:"cursor"`
			}) (*BatchReport, error) {
				return s.Graduate(r.Context(), auth.Must(r.Context()), in.Status, in.Class, in.Cursor)
			})
		})}
)
