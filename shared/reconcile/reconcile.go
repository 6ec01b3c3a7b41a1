// Package reconcile runs the books' reconcile (ledger.Reconcile, a full scan of the table) off the
// request path. A run is a job: staff ask for one (or the schedule does, once a day) and it is queued;
// the scheduled function LedgerReconciler takes the queued job, runs it and keeps its report; staff read
// the latest report, or poll the job. An HTTP API gives up after 30 s; a scan of a school's books may
// not (docs/staff-console.md, "Reconcile").
package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/store"
)

// Job states: queued (asked for, not taken yet), running (taken by a run of the scheduled function,
// which holds it for Lease), done (with its report) or failed (the run ended in an error; ask again).
const (
	StatusQueued  = "queued"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Every is how old the latest report may grow before the schedule runs a reconcile nobody asked for.
const Every = 24 * time.Hour

// Lease is how long a run holds its job: at least the scheduled function's timeout, so a run that died
// (timed out) is taken over by a later invocation and never by one racing a live run.
const Lease = 16 * time.Minute

// keepJobs is how long a job and its report stay (TTL).
const keepJobs = 90 * 24 * time.Hour

// maxListed caps the lists a stored report keeps (a DynamoDB item holds 400 KB); Job.DiscrepancyCount
// says how many there were.
const maxListed = 200

// Job is one reconcile run, as stored and as answered.
type Job struct {
	store.Key
	JobID       string     `dynamodbav:"jobId" json:"jobId"`
	Status      string     `dynamodbav:"status" json:"status"`
	RequestedBy string     `dynamodbav:"requestedBy" json:"requestedBy"` // "staff:<username>" or "schedule"
	RequestedAt time.Time  `dynamodbav:"requestedAt" json:"requestedAt"`
	StartedAt   *time.Time `dynamodbav:"startedAt,omitempty" json:"startedAt,omitempty"`
	FinishedAt  *time.Time `dynamodbav:"finishedAt,omitempty" json:"finishedAt,omitempty"`
	// Report is the run's outcome, once done; its discrepancy list holds at most 200 of DiscrepancyCount.
	Report           *ledger.Report `dynamodbav:"report,omitempty" json:"report,omitempty"`
	DiscrepancyCount int            `dynamodbav:"discrepancyCount" json:"discrepancyCount"`
	TTL              int64          `dynamodbav:"ttl,omitempty" json:"-"`
}

// current is the job queued or running (store.ReconcileCurrentKey); latest the last one done.
type current struct {
	store.Key
	JobID      string `dynamodbav:"jobId"`
	Status     string `dynamodbav:"status"`
	LeaseUntil int64  `dynamodbav:"leaseUntil"` // unix ms, while running
}

type latest struct {
	store.Key
	JobID      string    `dynamodbav:"jobId"`
	FinishedAt time.Time `dynamodbav:"finishedAt"`
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
		id, err := newJobID(now)
		if err != nil {
			return Job{}, false, err
		}
		j = Job{Key: store.ReconcileJobKey(id), JobID: id, Status: StatusQueued, RequestedBy: by, RequestedAt: now,
			TTL: store.TTL(now.Add(keepJobs))}
		put, err := store.PutItem(j, "attribute_not_exists(PK)", nil)
		if err != nil {
			return Job{}, false, err
		}
		cur, err := store.PutItem(current{Key: store.ReconcileCurrentKey(), JobID: id, Status: StatusQueued}, "attribute_not_exists(PK)", nil)
		if err != nil {
			return Job{}, false, err
		}
		err = s.S.Transact(ctx, []types.TransactWriteItem{put, cur}, "")
		var tc *store.TxCanceled
		if !errors.As(err, &tc) {
			return j, err == nil, err
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
	var c current
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
	var l latest
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
	if !validJobID(id) {
		return Job{}, ErrNoJob
	}
	var j Job
	ok, err := s.S.Get(ctx, store.ReconcileJobKey(id), &j)
	if err != nil {
		return Job{}, err
	}
	if !ok {
		return Job{}, ErrNoJob
	}
	if j.Report != nil && j.Report.Discrepancies == nil {
		j.Report.Discrepancies = []ledger.Discrepancy{}
	}
	if j.Report != nil && j.Report.Clearing == nil {
		j.Report.Clearing = []ledger.ClearingTotal{}
	}
	return j, nil
}

// RunDue is one run of the scheduled function: it takes the queued job (or one whose run died), or
// queues one itself when the latest report is older than Every, runs the reconcile and keeps the
// report. It returns the job it ran, or nil when there was nothing to do (no job, or another run holds
// it).
func (s *Service) RunDue(ctx context.Context) (*Job, error) {
	var c current
	ok, err := s.S.Get(ctx, store.ReconcileCurrentKey(), &c)
	if err != nil {
		return nil, err
	}
	if !ok {
		var l latest
		found, err := s.S.Get(ctx, store.ReconcileLatestKey(), &l)
		if err != nil {
			return nil, err
		}
		if found && s.Now().Sub(l.FinishedAt) < Every {
			return nil, nil
		}
		j, _, err := s.Start(ctx, "schedule")
		if err != nil {
			return nil, err
		}
		c = current{JobID: j.JobID, Status: j.Status}
		if j.Status == StatusRunning {
			return nil, nil // a run holds it (its lease is unknown here: the next run looks again)
		}
	}
	now := s.Now().UTC()
	if c.Status == StatusRunning && now.UnixMilli() < c.LeaseUntil {
		return nil, nil
	}
	// Take the job: the condition lets exactly one run take a queued job, or a job whose run's lease ran out.
	take := store.TakeReconcileItem(c.JobID, StatusRunning, StatusQueued, now.Add(Lease).UnixMilli(), now.UnixMilli())
	mark := store.JobStartedItem(store.ReconcileJobKey(c.JobID), StatusRunning, now)
	err = s.S.Transact(ctx, []types.TransactWriteItem{take, mark}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return nil, nil // another run took it
	}
	if err != nil {
		return nil, err
	}
	rep, rerr := (&ledger.Ledger{S: s.S}).Reconcile(ctx)
	end := s.Now().UTC()
	release := store.DeleteItem(store.ReconcileCurrentKey(), "jobId = :id", store.Values{":id": c.JobID}.AV())
	if rerr != nil {
		s.Log.Error("books reconcile failed", "job", c.JobID, "err", rerr.Error())
		failed := store.JobFailedItem(store.ReconcileJobKey(c.JobID), StatusFailed, end)
		if err := s.S.Transact(context.WithoutCancel(ctx), []types.TransactWriteItem{failed, release}, ""); err != nil {
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
	done := store.ReconcileDoneItem(store.ReconcileJobKey(c.JobID), StatusDone, end, rep, n)
	head, err := store.PutItem(latest{Key: store.ReconcileLatestKey(), JobID: c.JobID, FinishedAt: end}, "", nil)
	if err != nil {
		return nil, err
	}
	if err := s.S.Transact(ctx, []types.TransactWriteItem{done, head, release}, ""); err != nil {
		return nil, err
	}
	s.Log.Info("books reconcile", "job", c.JobID, "ok", rep.OK, "accounts", rep.Accounts, "entries", rep.Entries,
		"discrepancies", n, "ms", end.Sub(now).Milliseconds())
	j, err := s.Get(ctx, c.JobID)
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// newJobID is the UTC second and six random hex digits: ids sort by when they were asked for.
func newJobID(now time.Time) (string, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%s", now.UTC().Format("20060102T150405Z"), hex.EncodeToString(b[:])), nil
}

func validJobID(id string) bool {
	if len(id) != 23 || id[16] != '-' {
		return false
	}
	if _, err := time.Parse("20060102T150405Z", id[:16]); err != nil {
		return false
	}
	_, err := hex.DecodeString(id[17:])
	return err == nil
}
