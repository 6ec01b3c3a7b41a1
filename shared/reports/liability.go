package reports

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/jobs"
	"onecard/shared/store"
)

// The outstanding balance at a date (LiabilityAt) scans the whole table, which may take longer than an
// HTTP API's 30 s: it runs as a job, as the books' reconcile does (shared/reconcile). Staff ask for a date
// (one job per school and date at a time, whoever asks); the scheduled function LiabilityReporter takes
// the queued jobs, runs them and keeps each report; staff read the latest report of a date, or poll the
// job.

// keepLiabilityJobs is how long a job and its report stay (TTL); the latest report of a date stays.
const keepLiabilityJobs = 90 * 24 * time.Hour

// LiabilityJob is one run for a school and date, as stored and answered.
type LiabilityJob struct {
	store.Key `json:"-"`
	jobs.Meta            // RequestedBy: "staff:<username>"
	SchoolID  string     `dynamodbav:"schoolId" json:"-"`
	Date      string     `dynamodbav:"date" json:"date"`
	Report    *Liability `dynamodbav:"report,omitempty" json:"report,omitempty"`
}

// LiabilityReport is GET /v1/admin/reports/liability: the latest report of the date, the job that made it
// (Final: the run finished after the day was over, so no later entry can change it), and the job queued
// or running for the date now, if any.
type LiabilityReport struct {
	Liability
	JobID       string        `json:"jobId"`
	RequestedAt time.Time     `json:"requestedAt"`
	FinishedAt  time.Time     `json:"finishedAt"`
	Final       bool          `json:"final"`
	Pending     *LiabilityJob `json:"pending,omitempty"`
}

// Errors of the jobs.
var (
	ErrNoLiabilityJob = fault.E(fault.NotFound, "LIABILITY_JOB_NOT_FOUND", "余额统计任务不存在")
	ErrLiabilityBusy  = fault.E(fault.Conflict, "LIABILITY_BUSY", "余额统计任务繁忙，请稍后重试")
)

// CheckDate validates a report date (YYYY-MM-DD, a China day).
func CheckDate(date string) error {
	d, err := time.ParseInLocation(time.DateOnly, date, chinatime.Zone)
	if err != nil || d.Format(time.DateOnly) != date {
		return ErrBadDate
	}
	return nil
}

// StartLiability queues the report of school at date asked for by by, or answers the job queued or
// running for that date already (started false).
func (s *Service) StartLiability(ctx context.Context, school, date, by string) (j LiabilityJob, started bool, err error) {
	if err := CheckDate(date); err != nil {
		return LiabilityJob{}, false, err
	}
	for range 3 {
		now := s.Now().UTC()
		id, err := jobs.NewID(now)
		if err != nil {
			return LiabilityJob{}, false, err
		}
		j = LiabilityJob{Key: store.LiabilityJobKey(school, id), Meta: jobs.Queued(id, by, now, keepLiabilityJobs), SchoolID: school,
			Date: date}
		e := jobs.Entry{Key: store.LiabilityQueueKey(school, id), SchoolID: school, JobID: id, TTL: j.TTL}
		started, err := s.LiabilityQueue().Submit(ctx, j, store.LiabilityPendingKey(school, date), e)
		if err != nil || started {
			return j, started, err
		}
		if j, ok, err := s.PendingLiability(ctx, school, date); err != nil || ok {
			return j, false, err
		}
	}
	return LiabilityJob{}, false, ErrLiabilityBusy
}

// PendingLiability is the job queued or running for school and date, if any.
func (s *Service) PendingLiability(ctx context.Context, school, date string) (LiabilityJob, bool, error) {
	return s.pointed(ctx, school, store.LiabilityPendingKey(school, date))
}

// LatestLiability is the last job done for school and date, if any.
func (s *Service) LatestLiability(ctx context.Context, school, date string) (LiabilityJob, bool, error) {
	return s.pointed(ctx, school, store.LiabilityDateKey(school, date))
}

func (s *Service) pointed(ctx context.Context, school string, k store.Key) (LiabilityJob, bool, error) {
	var p jobs.Pointer
	if ok, err := s.S.Get(ctx, k, &p); err != nil || !ok {
		return LiabilityJob{}, false, err
	}
	j, err := s.LiabilityJob(ctx, school, p.JobID)
	if errors.Is(err, ErrNoLiabilityJob) {
		return LiabilityJob{}, false, nil
	}
	return j, err == nil, err
}

// LiabilityJob reads one job of school.
func (s *Service) LiabilityJob(ctx context.Context, school, id string) (LiabilityJob, error) {
	key := func(id string) store.Key { return store.LiabilityJobKey(school, id) }
	return jobs.Read[LiabilityJob](ctx, s.S, id, key, ErrNoLiabilityJob)
}

// ReportOf is the answer of the GET route from the latest job of a date.
func ReportOf(j LiabilityJob) LiabilityReport {
	r := LiabilityReport{Liability: *j.Report, JobID: j.JobID, RequestedAt: j.RequestedAt}
	if j.FinishedAt != nil {
		r.FinishedAt = *j.FinishedAt
		asOf, err := time.Parse(time.RFC3339, j.Report.AsOf)
		r.Final = err == nil && !j.FinishedAt.Before(asOf)
	}
	return r
}

// LiabilityQueue is where the outstanding-balance jobs of every school wait.
func (s *Service) LiabilityQueue() jobs.Queue {
	return jobs.Queue{S: s.S, PK: store.LiabilityQueuePK, Prefix: "QUEUE#", Now: s.Now}
}

// RunLiabilityDue is one run of the scheduled function: it takes each queued job (or one whose run
// died), runs it and keeps its report. It returns the jobs it finished (done or failed).
func (s *Service) RunLiabilityDue(ctx context.Context, log *slog.Logger) ([]LiabilityJob, error) {
	free, err := s.LiabilityQueue().Free(ctx, 20)
	if err != nil {
		return nil, err
	}
	var out []LiabilityJob
	var errs []error
	for _, e := range free {
		j, err := s.runLiability(ctx, e, log)
		if err != nil {
			errs = append(errs, err)
		}
		if j != nil {
			out = append(out, *j)
		}
	}
	return out, errors.Join(errs...)
}

func (s *Service) runLiability(ctx context.Context, e jobs.Entry, log *slog.Logger) (*LiabilityJob, error) {
	q := s.LiabilityQueue()
	j, err := s.LiabilityJob(ctx, e.SchoolID, e.JobID)
	if errors.Is(err, ErrNoLiabilityJob) {
		return nil, q.Done(ctx, e) // its job expired
	}
	if err != nil {
		return nil, err
	}
	if ok, err := q.Take(ctx, e, j.Key); err != nil || !ok {
		return nil, err // another run took it
	}
	now := s.Now().UTC()
	rep, rerr := s.LiabilityAt(ctx, e.SchoolID, j.Date)
	end := s.Now().UTC()
	release := store.DeleteItem(store.LiabilityPendingKey(e.SchoolID, j.Date), "jobId = :id", store.Values{":id": j.JobID}.AV())
	if rerr != nil {
		log.Error("liability report failed", "school", e.SchoolID, "date", j.Date, "job", j.JobID, "err", rerr.Error())
		failed := store.JobFailedItem(j.Key, jobs.StatusFailed, end)
		if err := q.Done(context.WithoutCancel(ctx), e, release, failed); err != nil {
			return nil, errors.Join(rerr, err)
		}
		j.Status, j.FinishedAt = jobs.StatusFailed, &end
		return &j, rerr
	}
	done := store.JobReportItem(j.Key, jobs.StatusDone, end, rep)
	head, err := store.PutItem(jobs.Pointer{Key: store.LiabilityDateKey(e.SchoolID, j.Date), JobID: j.JobID, FinishedAt: end}, "", nil)
	if err != nil {
		return nil, err
	}
	if err := q.Done(ctx, e, release, done, head); err != nil {
		return nil, err
	}
	log.Info("liability report", "school", e.SchoolID, "date", j.Date, "job", j.JobID, "cards", rep.Cards,
		"entries", rep.Entries, "ms", end.Sub(now).Milliseconds())
	j.Status, j.StartedAt, j.FinishedAt, j.Report = jobs.StatusDone, &now, &end, rep
	return &j, nil
}
