package reconcile

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"onecard/shared/auth"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/ledger"
	"onecard/shared/platform"
)

// NewService builds the service from the function's dependencies.
func NewService(d *platform.Deps) *Service {
	return &Service{S: d.Store(), Now: d.Now, Log: d.Log}
}

// Report is the answer of GET /v1/admin/reconcile: the latest report's fields (as the route answered when
// it ran the reconcile itself), the job that made it, and the job queued or running now, if any.
type Report struct {
	*ledger.Report
	JobID            string     `json:"jobId"`
	RequestedAt      time.Time  `json:"requestedAt"`
	StartedAt        *time.Time `json:"startedAt,omitempty"`
	FinishedAt       *time.Time `json:"finishedAt,omitempty"`
	DiscrepancyCount int        `json:"discrepancyCount"`
	Pending          *Job       `json:"pending,omitempty"`
}

// accepted answers 202 with the job to poll and where to poll it.
func accepted(w http.ResponseWriter, j Job) error {
	w.Header().Set("Location", "/v1/admin/reconcile/jobs/"+j.JobID)
	return httpapi.JSON(w, http.StatusAccepted, j)
}

func staffName(ctx context.Context) string { return "staff:" + auth.Must(ctx).Subject }

var (
	// AdminReconcile answers the latest report; when there is none yet it queues a run and answers 202.
	AdminReconcile = fn.HTTP{Name: "AdminReconcile", Route: "GET /v1/admin/reconcile", Access: fn.Staff,
		Roles: []string{auth.RoleFinance}, Actions: []string{iam.GetItem, iam.PutItem},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := NewService(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				ctx := r.Context()
				last, ok, err := s.Latest(ctx)
				if err != nil {
					return err
				}
				if !ok || last.Report == nil {
					j, _, err := s.Start(ctx, staffName(ctx))
					if err != nil {
						return err
					}
					return accepted(w, j)
				}
				out := Report{Report: last.Report, JobID: last.JobID, RequestedAt: last.RequestedAt, StartedAt: last.StartedAt,
					FinishedAt: last.FinishedAt, DiscrepancyCount: last.DiscrepancyCount}
				if p, ok, err := s.Pending(ctx); err != nil {
					return err
				} else if ok {
					out.Pending = &p
				}
				return httpapi.JSON(w, http.StatusOK, out)
			}
		}}

	// AdminReconcileRun queues a run now (or answers the one queued or running) and answers 202.
	AdminReconcileRun = fn.HTTP{Name: "AdminReconcileRun", Route: "POST /v1/admin/reconcile", Access: fn.Staff,
		Roles: []string{auth.RoleFinance}, Actions: []string{iam.GetItem, iam.PutItem},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := NewService(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				j, _, err := s.Start(r.Context(), staffName(r.Context()))
				if err != nil {
					return err
				}
				return accepted(w, j)
			}
		}}

	// AdminReconcileJob is one job, with its report once done.
	AdminReconcileJob = fn.HTTP{Name: "AdminReconcileJob", Route: "GET /v1/admin/reconcile/jobs/{jobId}", Access: fn.Staff,
		Roles: []string{auth.RoleFinance}, Actions: []string{iam.GetItem},
		Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return httpapi.Answer(func(r *http.Request) (Job, error) { return s.Get(r.Context(), r.PathValue("jobId")) })
		})}
)

// LedgerReconciler runs every minute: it runs the reconcile staff asked for, or one a day unasked, and
// keeps its report (RunDue). Most runs read one item and stop.
var LedgerReconciler = fn.Event{Name: "LedgerReconciler", Description: "run the books' reconcile staff asked for (or the daily one) and keep its report",
	Schedule: "rate(1 minute)", Timeout: 900,
	Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.DeleteItem, iam.Query, iam.Scan},
	Build: func(d *platform.Deps) any {
		s := NewService(d)
		return func(ctx context.Context, _ json.RawMessage) error {
			s := *s
			s.Log = d.Log.With("fn", "LedgerReconciler")
			_, err := s.RunDue(ctx)
			return err
		}
	}}
