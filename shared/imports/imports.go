// Package imports runs the CSV imports off the request path: the routes POST /v1/admin/students/import
// and POST /v1/admin/dorms/import store the checked rows as a job (shared/jobs); the scheduled function
// ImportRunner takes the queued jobs one by one and runs them (cards.ImportJob, dorm.ImportJob); staff
// poll GET /v1/admin/imports/{jobId} for the job's progress and, once done, its report
// (docs/staff-console.md, "Imports").
package imports

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/dorm"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/jobs"
	"onecard/shared/platform"
	"onecard/shared/staff"
)

// Runner takes and runs import jobs.
type Runner struct {
	Jobs  *jobs.Service
	Cards *cards.Service
	Dorm  *dorm.Service
	Now   func() time.Time
	Log   *slog.Logger
}

// NewRunner builds the runner from the function's dependencies.
func NewRunner(d *platform.Deps) *Runner {
	ds := dorm.NewService(d)
	return &Runner{Jobs: jobs.NewService(d), Cards: ds.Cards, Dorm: ds, Now: d.Now, Log: d.Log}
}

// budget is how long one invocation keeps taking jobs (the function's timeout is 900 s; a 2000-row
// roster takes a few minutes: each new card hashes a password).
const budget = 10 * time.Minute

// RunDue runs the queued jobs until there are none or the budget is spent, and returns how many it ran.
func (r *Runner) RunDue(ctx context.Context) (int, error) {
	start := r.Now()
	n := 0
	for r.Now().Sub(start) < budget {
		j, ok, err := r.Jobs.Take(ctx)
		if err != nil || !ok {
			return n, err
		}
		if err := r.Run(ctx, j); err != nil {
			r.Log.Error("import job failed", "job", j.JobID, "kind", j.Kind, "attempt", j.Attempts, "err", err.Error())
			if ferr := r.Jobs.Fail(context.WithoutCancel(ctx), j); ferr != nil {
				return n, ferr
			}
			continue
		}
		n++
	}
	return n, nil
}

// Run runs one job taken by this run: the rows an earlier run did are counted, not done again.
func (r *Runner) Run(ctx context.Context, j jobs.Job) error {
	if cur, err := r.Jobs.Get(ctx, j.SchoolID, j.JobID); err != nil || cur.Status == jobs.StatusDone {
		return err // a duplicate invocation of a job finished meanwhile
	}
	rec, err := r.Jobs.Recorder(ctx, j)
	if err != nil {
		return err
	}
	p := auth.Principal{Subject: j.RequestedBy, Kind: auth.KindStaff, School: j.SchoolID}
	var rep *jobs.Report
	var details map[string]any
	switch j.Kind {
	case jobs.KindStudents:
		var rows []cards.ImportRow
		if err := r.Jobs.Rows(ctx, j, &rows); err != nil {
			return err
		}
		if rep, err = r.Cards.ImportJob(ctx, p, rows, rec); err != nil {
			return err
		}
		details = cards.ImportAudit(len(rows), rep)
	case jobs.KindDorms:
		var rows []dorm.ImportRow
		if err := r.Jobs.Rows(ctx, j, &rows); err != nil {
			return err
		}
		if rep, err = r.Dorm.ImportJob(ctx, p, rows, rec); err != nil {
			return err
		}
		details = dorm.ImportAudit(len(rows), rep)
	default:
		return fmt.Errorf("import job %s: unknown kind %q", j.JobID, j.Kind)
	}
	details["jobId"] = j.JobID
	audit := staff.AuditItem(staff.Actor(p), j.Kind+".import", "school:"+j.SchoolID, details, r.Now())
	if err := r.Jobs.Finish(ctx, j, rep, audit); err != nil {
		return err
	}
	r.Log.Info("import job", "job", j.JobID, "kind", j.Kind, "rows", j.Rows, "created", rep.Created, "updated", rep.Updated,
		"unchanged", rep.Unchanged, "rejected", rep.Rejected)
	return nil
}

// rolesOf is who may read a job of each kind: whoever may start it (admin always).
var rolesOf = map[string][]string{jobs.KindStudents: {auth.RoleIT}, jobs.KindDorms: {auth.RoleOps}}

var (
	// AdminImportJob is one import job of the caller's school: its status, progress and, once done,
	// its report. A job of another school, or of a kind the member may not import, is not found.
	AdminImportJob = fn.HTTP{Name: "AdminImportJob", Route: "GET /v1/admin/imports/{jobId}", Access: fn.Staff,
		Roles: []string{auth.RoleIT, auth.RoleOps}, Actions: []string{iam.GetItem, iam.Query},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := jobs.NewService(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				p := auth.Must(r.Context())
				j, err := s.Get(r.Context(), p.School, r.PathValue("jobId"))
				if err != nil {
					return err
				}
				if !p.HasRole(rolesOf[j.Kind]...) {
					return jobs.ErrNoJob
				}
				return httpapi.JSON(w, http.StatusOK, j)
			}
		}}

	// ImportRunner runs every minute: it takes the import jobs staff queued and runs them.
	ImportRunner = fn.Event{Name: "ImportRunner", Description: "run the CSV imports (roster, rooms) staff queued and keep their reports",
		Schedule: "rate(1 minute)", Timeout: 900,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.DeleteItem, iam.Query},
		Build: func(d *platform.Deps) any {
			r := NewRunner(d)
			r.Log = d.Log.With("fn", "ImportRunner")
			return func(ctx context.Context, _ json.RawMessage) error {
				_, err := r.RunDue(ctx)
				return err
			}
		}}
)
