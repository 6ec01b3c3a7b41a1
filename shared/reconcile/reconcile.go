// Package reconcile runs the books' reconcile (ledger.Reconcile, a full scan of the table) off the
// request path. A run is a job: staff ask for one (or the schedule does, once a day) and it is queued;
// the scheduled function LedgerReconciler takes the queued job, runs it and keeps its report; staff read
// the latest report, or poll the job. An HTTP API gives up after 30 s; a scan of a school's books may
// not (docs/staff-console.md, "Reconcile").
package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"onecard/shared/fault"
	"onecard/shared/jobs"
	"onecard/shared/ledger"
	"onecard/shared/store"
)

// Every is how old the latest report may grow before the schedule runs a reconcile nobody asked for.
const Every = 24 * time.Hour

// Lease is how long a run holds its job (jobs.Lease).
const Lease = jobs.Lease

// keepJobs is how long a job and its report stay (TTL).
const keepJobs = 90 * 24 * time.Hour

// maxListed caps the lists a stored report keeps (a DynamoDB item holds 400 KB); Job.DiscrepancyCount
// says how many there were.
const maxListed = 200

// Job is one reconcile run, as stored and as answered.
type Job struct {
	store.Key
	jobs.Meta // RequestedBy: "staff:<username>" or "schedule"
	// Report is the run's outcome, once done; its discrepancy list holds at most 200 of DiscrepancyCount.
	Report           *ledger.Report `dynamodbav:"report,omitempty" json:"report,omitempty"`
	DiscrepancyCount int            `dynamodbav:"discrepancyCount" json:"discrepancyCount"`
}

// ErrNoJob is a job id that names no job; ErrBusy a start that kept meeting jobs finishing under it.
var (
	ErrNoJob = fault.E(fault.NotFound, "RECONCILE_JOB_NOT_FOUND", "对账任务不存在")
	ErrBusy  = fault.E(fault.Conflict, "RECONCILE_BUSY", "对账任务繁忙，请稍后重试")
)

// Service starts, runs and reads reconcile jobs.
type Service struct {
	S   *store.Store
	Now func() time.Time
	Log *slog.Logger
}

// Start queues a reconcile asked for by by, or, when one is queued or running already, answers that
// one (started false): at most one run at a time, whoever asks.
func (s *Service) Start(ctx context.Context, by string) (j Job, started bool, err error) {
	for range 3 {
		now := s.Now().UTC()
		id, err := jobs.NewID(now)
		if err != nil {
			return Job{}, false, err
		}
		j = Job{Key: store.ReconcileJobKey(id), Meta: jobs.Queued(id, by, now, keepJobs)}
		started, err := s.Queue().Submit(ctx, j, store.ReconcileCurrentKey(), jobs.Entry{Key: store.ReconcileQueueKey(id), JobID: id, TTL: j.TTL})
		if err != nil || started {
			return j, started, err
		}
		// One is queued or running: answer it (unless it finished in between: try again).
		if j, ok, err := s.Pending(ctx); err != nil || ok {
			return j, false, err
		}
	}
	return Job{}, false, ErrBusy
}

// Pending is the job queued or running, if any.
func (s *Service) Pending(ctx context.Context) (Job, bool, error) {
	var c jobs.Pointer
	if ok, err := s.S.Get(ctx, store.ReconcileCurrentKey(), &c); err != nil || !ok {
		return Job{}, false, err
	}
	j, err := s.Get(ctx, c.JobID)
	if errors.Is(err, ErrNoJob) {
		return Job{}, false, nil
	}
	return j, err == nil, err
}

// Latest is the last job done, if any.
func (s *Service) Latest(ctx context.Context) (Job, bool, error) {
	var l jobs.Pointer
	if ok, err := s.S.Get(ctx, store.ReconcileLatestKey(), &l); err != nil || !ok {
		return Job{}, false, err
	}
	j, err := s.Get(ctx, l.JobID)
	if errors.Is(err, ErrNoJob) {
		return Job{}, false, nil
	}
	return j, err == nil, err
}

// Get reads one job.
func (s *Service) Get(ctx context.Context, id string) (Job, error) {
	j, err := jobs.Read[Job](ctx, s.S, id, store.ReconcileJobKey, ErrNoJob)
	if err != nil {
		return Job{}, err
	}
	if j.Report != nil && j.Report.Discrepancies == nil {
		j.Report.Discrepancies = []ledger.Discrepancy{}
	}
	if j.Report != nil && j.Report.Clearing == nil {
		j.Report.Clearing = []ledger.ClearingTotal{}
	}
	return j, nil
}

// Queue is where reconcile jobs wait (at most one at a time).
func (s *Service) Queue() jobs.Queue {
	return jobs.Queue{S: s.S, PK: store.ReconcilePK, Prefix: "QUEUE#", Now: s.Now}
}

// RunDue is one run of the scheduled function: it takes the queued job (or one whose run died), or
// queues one itself when the latest report is older than Every, runs the reconcile and keeps the
// report. It returns the job it ran, or nil when there was nothing to do (no job, or another run holds
// it).
func (s *Service) RunDue(ctx context.Context) (*Job, error) {
	var c jobs.Pointer
	ok, err := s.S.Get(ctx, store.ReconcileCurrentKey(), &c)
	if err != nil {
		return nil, err
	}
	if !ok {
		var l jobs.Pointer
		found, err := s.S.Get(ctx, store.ReconcileLatestKey(), &l)
		if err != nil {
			return nil, err
		}
		if found && s.Now().Sub(l.FinishedAt) < Every {
			return nil, nil
		}
		if _, _, err := s.Start(ctx, "schedule"); err != nil {
			return nil, err
		}
	}
	free, err := s.Queue().Free(ctx, 1)
	if err != nil || len(free) == 0 {
		return nil, err // none, or a live run holds it
	}
	e := free[0]
	if ok, err := s.Queue().Take(ctx, e, store.ReconcileJobKey(e.JobID)); err != nil || !ok {
		return nil, err // another run took it
	}
	now := s.Now().UTC()
	rep, rerr := (&ledger.Ledger{S: s.S}).Reconcile(ctx)
	end := s.Now().UTC()
	release := store.DeleteItem(store.ReconcileCurrentKey(), "jobId = :id", store.Values{":id": e.JobID}.AV())
	if rerr != nil {
		s.Log.Error("books reconcile failed", "job", e.JobID, "err", rerr.Error())
		failed := store.JobFailedItem(store.ReconcileJobKey(e.JobID), jobs.StatusFailed, end)
		if err := s.Queue().Done(context.WithoutCancel(ctx), e, failed, release); err != nil {
			return nil, errors.Join(rerr, err)
		}
		return nil, rerr
	}
	n := len(rep.Discrepancies)
	if n > maxListed {
		rep.Discrepancies = rep.Discrepancies[:maxListed]
	}
	if len(rep.Clearing) > maxListed {
		rep.Clearing = rep.Clearing[:maxListed]
	}
	done := store.ReconcileDoneItem(store.ReconcileJobKey(e.JobID), jobs.StatusDone, end, rep, n)
	head, err := store.PutItem(jobs.Pointer{Key: store.ReconcileLatestKey(), JobID: e.JobID, FinishedAt: end}, "", nil)
	if err != nil {
		return nil, err
	}
	if err := s.Queue().Done(ctx, e, done, head, release); err != nil {
		return nil, err
	}
	s.Log.Info("books reconcile", "job", e.JobID, "ok", rep.OK, "accounts", rep.Accounts, "entries", rep.Entries,
		"discrepancies", n, "ms", end.Sub(now).Milliseconds())
	j, err := s.Get(ctx, e.JobID)
	if err != nil {
		return nil, err
	}
	return &j, nil
}
