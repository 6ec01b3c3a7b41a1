package reports

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/store"
)

// The outstanding balance at a date (LiabilityAt) scans the whole table, which may take longer than an
// HTTP API's 30 s: it runs as a job, as the books' reconcile does (shared/reconcile). Staff ask for a date
// (one job per school and date at a time, whoever asks); the scheduled function LiabilityReporter takes
// the queued jobs, runs them and keeps each report; staff read the latest report of a date, or poll the
// job.

// Job states, as the reconcile's.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// LiabilityLease is how long a run holds a job: at least LiabilityReporter's timeout, so a run that died
// is taken over by a later invocation and never by one racing a live run.
const LiabilityLease = 16 * time.Minute

// keepLiabilityJobs is how long a job and its report stay (TTL); the latest report of a date stays.
const keepLiabilityJobs = 90 * 24 * time.Hour

// LiabilityJob is one run for a school and date, as stored and answered.
type LiabilityJob struct {
	store.Key   `json:"-"`
	JobID       string     `dynamodbav:"jobId" json:"jobId"`
	SchoolID    string     `dynamodbav:"schoolId" json:"-"`
	Date        string     `dynamodbav:"date" json:"date"`
	Status      string     `dynamodbav:"status" json:"status"`
	RequestedBy string     `dynamodbav:"requestedBy" json:"requestedBy"` // "staff:<username>"
	RequestedAt time.Time  `dynamodbav:"requestedAt" json:"requestedAt"`
	StartedAt   *time.Time `dynamodbav:"startedAt,omitempty" json:"startedAt,omitempty"`
	FinishedAt  *time.Time `dynamodbav:"finishedAt,omitempty" json:"finishedAt,omitempty"`
	Report      *Liability `dynamodbav:"report,omitempty" json:"report,omitempty"`
	TTL         int64      `dynamodbav:"ttl,omitempty" json:"-"`
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

type liabilityPointer struct {
	store.Key
	JobID      string    `dynamodbav:"jobId"`
	FinishedAt time.Time `dynamodbav:"finishedAt,omitempty"`
}

type liabilityQueued struct {
	store.Key
	SchoolID   string `dynamodbav:"schoolId"`
	JobID      string `dynamodbav:"jobId"`
	LeaseUntil int64  `dynamodbav:"leaseUntil"` // unix ms, while running
}

// Errors of the jobs.
var (
	ErrNoLiabilityJob = fault.E(fault.NotFound, "LIABILITY_JOB_NOT_FOUND", "余额统计任务不存在")
	ErrLiabilityBusy  = fault.E(fault.Conflict, "LIABILITY_BUSY", "余额统计任务繁忙，请稍后重试")
)

// CheckDate validates a report date (YYYY-MM-DD, a China day).
func CheckDate(date string) error {
	d, err := time.ParseInLocation(time.DateOnly, date, ledger.China)
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
		id, err := newJobID(now)
		if err != nil {
			return LiabilityJob{}, false, err
		}
		j = LiabilityJob{Key: store.LiabilityJobKey(school, id), JobID: id, SchoolID: school, Date: date, Status: JobQueued,
			RequestedBy: by, RequestedAt: now, TTL: store.TTL(now.Add(keepLiabilityJobs))}
		put, err := store.PutItem(j, "attribute_not_exists(PK)", nil)
		if err != nil {
			return LiabilityJob{}, false, err
		}
		pending, err := store.PutItem(liabilityPointer{Key: store.LiabilityPendingKey(school, date), JobID: id}, "attribute_not_exists(PK)", nil)
		if err != nil {
			return LiabilityJob{}, false, err
		}
		queued, err := store.PutItem(liabilityQueued{Key: store.LiabilityQueueKey(school, id), SchoolID: school, JobID: id}, "", nil)
		if err != nil {
			return LiabilityJob{}, false, err
		}
		err = s.S.Transact(ctx, []types.TransactWriteItem{put, pending, queued}, "")
		var tc *store.TxCanceled
		if !errors.As(err, &tc) {
			return j, err == nil, err
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
	var p liabilityPointer
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
	if !validJobID(id) {
		return LiabilityJob{}, ErrNoLiabilityJob
	}
	var j LiabilityJob
	ok, err := s.S.Get(ctx, store.LiabilityJobKey(school, id), &j)
	if err != nil {
		return LiabilityJob{}, err
	}
	if !ok {
		return LiabilityJob{}, ErrNoLiabilityJob
	}
	return j, nil
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

// RunLiabilityDue is one run of the scheduled function: it takes each queued job (or one whose run
// died), runs it and keeps its report. It returns the jobs it finished (done or failed).
func (s *Service) RunLiabilityDue(ctx context.Context, log *slog.Logger) ([]LiabilityJob, error) {
	in := &dynamodb.QueryInput{KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :q)"),
		ExpressionAttributeValues: store.Values{":pk": store.LiabilityQueuePK, ":q": "QUEUE#"}.AV(), ConsistentRead: aws.Bool(true),
		Limit: aws.Int32(20)}
	var queued []liabilityQueued
	if _, err := s.S.QueryPage(ctx, in, &queued); err != nil {
		return nil, err
	}
	var out []LiabilityJob
	var errs []error
	for _, q := range queued {
		j, err := s.runLiability(ctx, q, log)
		if err != nil {
			errs = append(errs, err)
		}
		if j != nil {
			out = append(out, *j)
		}
	}
	return out, errors.Join(errs...)
}

func (s *Service) runLiability(ctx context.Context, q liabilityQueued, log *slog.Logger) (*LiabilityJob, error) {
	now := s.Now().UTC()
	if now.UnixMilli() < q.LeaseUntil {
		return nil, nil // a live run holds it
	}
	j, err := s.LiabilityJob(ctx, q.SchoolID, q.JobID)
	if errors.Is(err, ErrNoLiabilityJob) {
		return nil, s.S.Transact(ctx, []types.TransactWriteItem{store.DeleteItem(q.Key, "", nil)}, "")
	}
	if err != nil {
		return nil, err
	}
	// Take the job: exactly one run takes a queued job, or a job whose run's lease ran out.
	take := store.LeaseExpiredJobItem(q.Key, now.Add(LiabilityLease).UnixMilli(), now.UnixMilli())
	mark := store.JobStartedItem(j.Key, JobRunning, now)
	err = s.S.Transact(ctx, []types.TransactWriteItem{take, mark}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return nil, nil // another run took it
	}
	if err != nil {
		return nil, err
	}
	rep, rerr := s.LiabilityAt(ctx, q.SchoolID, j.Date)
	end := s.Now().UTC()
	release := []types.TransactWriteItem{store.DeleteItem(q.Key, "", nil),
		store.DeleteItem(store.LiabilityPendingKey(q.SchoolID, j.Date), "jobId = :id", store.Values{":id": j.JobID}.AV())}
	if rerr != nil {
		log.Error("liability report failed", "school", q.SchoolID, "date", j.Date, "job", j.JobID, "err", rerr.Error())
		failed := store.JobFailedItem(j.Key, JobFailed, end)
		if err := s.S.Transact(context.WithoutCancel(ctx), append(release, failed), ""); err != nil {
			return nil, errors.Join(rerr, err)
		}
		j.Status, j.FinishedAt = JobFailed, &end
		return &j, rerr
	}
	done := store.JobReportItem(j.Key, JobDone, end, rep)
	head, err := store.PutItem(liabilityPointer{Key: store.LiabilityDateKey(q.SchoolID, j.Date), JobID: j.JobID, FinishedAt: end}, "", nil)
	if err != nil {
		return nil, err
	}
	if err := s.S.Transact(ctx, append(release, done, head), ""); err != nil {
		return nil, err
	}
	log.Info("liability report", "school", q.SchoolID, "date", j.Date, "job", j.JobID, "cards", rep.Cards,
		"entries", rep.Entries, "ms", end.Sub(now).Milliseconds())
	j.Status, j.StartedAt, j.FinishedAt, j.Report = JobDone, &now, &end, rep
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
	if len(id) != 23 || id[16] != '-' || strings.ToLower(id[17:]) != id[17:] {
		return false
	}
	if _, err := time.Parse("20060102T150405Z", id[:16]); err != nil {
		return false
	}
	_, err := hex.DecodeString(id[17:])
	return err == nil
}
