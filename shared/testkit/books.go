package testkit

import (
	"context"
	"encoding/json"

	"onecard/shared/jobs"
	"onecard/shared/ledger"
	"onecard/shared/reconcile"
)

// Reconcile proves the books as finance does, with staff's headers: asks for a run (POST
// /v1/admin/reconcile, 202), runs the scheduled LedgerReconciler once as its schedule would, and reads the
// job (GET /v1/admin/reconcile/jobs/{jobId}). It fails the test unless the run is done and the books
// balance, and returns the report.
func (e *Env) Reconcile(staff ...string) *ledger.Report {
	e.T.Helper()
	var j struct{ JobID string }
	e.Do("POST", "/v1/admin/reconcile", nil, staff...).Expect(e.T, 202, "").Decode(e.T, &j)
	if _, err := reconcile.NewService(e.Deps).RunDue(context.Background()); err != nil {
		e.T.Fatal(err)
	}
	r := e.Do("GET", "/v1/admin/reconcile/jobs/"+j.JobID, nil, staff...).Expect(e.T, 200, "")
	var job struct {
		Status string
		Report *ledger.Report
	}
	if err := json.Unmarshal(r.Body, &job); err != nil {
		e.T.Fatal(err)
	}
	if job.Status != jobs.StatusDone || job.Report == nil || !job.Report.OK {
		e.T.Fatalf("books do not reconcile: %s", r.Body)
	}
	return job.Report
}
