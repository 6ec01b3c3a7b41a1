// Package jobs runs long work off the request path. queue.go is what every kind of job shares (states,
// ids, the leased queue); this file is the CSV imports' jobs (roster, rooms): the route checks
// the file and stores its parsed rows as a job (Submit), the scheduled function ImportRunner
// (shared/imports) takes it (Take), runs the import row by row and records each row's outcome with the
// row's own writes (Recorder), then finishes it (Finish). A run that died is taken over once its lease
// runs out and skips the rows already done, so a job run twice gives the same report and writes each
// row once. Keys: store.ImportJobKey and its neighbours (docs/data-model.md).
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/fault"
	"onecard/shared/store"
)

// Import kinds.
const (
	KindStudents = "students"
	KindDorms    = "dorms"
)

// Row outcomes.
const (
	Created   = "created"
	Updated   = "updated"
	Unchanged = "unchanged"
	Rejected  = "rejected"
)

// MaxAttempts is how many runs may fail before the job is marked failed.
const MaxAttempts = 3

// chunkBytes bounds the rows one item holds (a DynamoDB item holds 400 KB).
const chunkBytes = 300 << 10

const keep = 30 * 24 * time.Hour

// RowError is one refused CSV row (1-based line number).
type RowError struct {
	Line    int    `json:"line"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Report counts what an import did (the answer the import routes gave when they ran it themselves).
type Report struct {
	Created   int        `json:"created"`
	Updated   int        `json:"updated"` // name, class or status changed (the roster)
	Unchanged int        `json:"unchanged"`
	Rejected  int        `json:"rejected"`
	Errors    []RowError `json:"errors"`
}

// Add counts one row's outcome.
func (r *Report) Add(o Outcome) {
	switch o.Result {
	case Created:
		r.Created++
	case Updated:
		r.Updated++
	case Unchanged:
		r.Unchanged++
	case Rejected:
		r.Rejected++
		r.Errors = append(r.Errors, RowError{Line: o.Line, Code: o.Code, Message: o.Message})
	}
}

// Counts is a report without its error list, as the job item keeps it.
type Counts struct {
	Created   int `dynamodbav:"created" json:"created"`
	Updated   int `dynamodbav:"updated" json:"updated"`
	Unchanged int `dynamodbav:"unchanged" json:"unchanged"`
	Rejected  int `dynamodbav:"rejected" json:"rejected"`
}

// Job is one import, as stored and as answered (Report once done).
type Job struct {
	store.Key `json:"-"`
	Meta              // RequestedBy: the staff member's username
	Kind      string  `dynamodbav:"kind" json:"kind"`
	SchoolID  string  `dynamodbav:"schoolId" json:"-"`
	Rows      int     `dynamodbav:"rows" json:"rows"`
	Processed int     `dynamodbav:"processed" json:"processed"`
	Chunks    int     `dynamodbav:"chunks" json:"-"`
	Attempts  int     `dynamodbav:"attempts" json:"attempts"`
	Counts    *Counts `dynamodbav:"counts,omitempty" json:"-"`
	Report    *Report `dynamodbav:"-" json:"report,omitempty"`
}

type chunk struct {
	store.Key
	Rows string `dynamodbav:"rows"` // a JSON array of the kind's rows
	TTL  int64  `dynamodbav:"ttl"`
}

// Outcome is what became of one row, kept at store.ImportRowKey.
type Outcome struct {
	store.Key
	Index   int    `dynamodbav:"i"`
	Line    int    `dynamodbav:"line"`
	Result  string `dynamodbav:"result"`
	Code    string `dynamodbav:"code,omitempty"`
	Message string `dynamodbav:"message,omitempty"`
	TTL     int64  `dynamodbav:"ttl"`
}

// ErrNoJob names no job of the caller's school.
var ErrNoJob = fault.E(fault.NotFound, "IMPORT_JOB_NOT_FOUND", "导入任务不存在")

// Service stores and reads import jobs.
type Service struct {
	S   *store.Store
	Now func() time.Time
}

// Submit stores rows (any JSON-encodable slice) as a queued job of kind for school, asked for by the
// staff member by, in one transaction: the job, its queue entry and its chunks of rows.
func (s *Service) Submit(ctx context.Context, school, kind, by string, rows []any) (Job, error) {
	now := s.Now().UTC()
	id, err := NewID(now)
	if err != nil {
		return Job{}, err
	}
	ttl := store.TTL(now.Add(keep))
	var chunks []string
	cur := []byte{'['}
	for _, r := range rows {
		b, err := json.Marshal(r)
		if err != nil {
			return Job{}, err
		}
		if len(b) > chunkBytes {
			return Job{}, fault.Field("ROW_TOO_LONG", "CSV 中有一行过长")
		}
		if len(cur)+len(b)+1 > chunkBytes {
			chunks = append(chunks, string(append(cur[:len(cur)-1], ']')))
			cur = []byte{'['}
		}
		cur = append(append(cur, b...), ',')
	}
	if len(cur) > 1 {
		chunks = append(chunks, string(append(cur[:len(cur)-1], ']')))
	}
	j := Job{Key: store.ImportJobKey(school, id), Meta: Queued(id, by, now, keep), Kind: kind, SchoolID: school, Rows: len(rows),
		Chunks: len(chunks)}
	var items []types.TransactWriteItem
	put := func(v any, cond string) error {
		it, err := store.PutItem(v, cond, nil)
		items = append(items, it)
		return err
	}
	if err := put(j, store.IfAbsent); err != nil {
		return Job{}, err
	}
	if err := put(Entry{Key: store.ImportQueueKey(school, id), JobID: id, SchoolID: school, TTL: ttl}, store.IfAbsent); err != nil {
		return Job{}, err
	}
	for n, c := range chunks {
		if err := put(chunk{Key: store.ImportChunkKey(school, id, n), Rows: c, TTL: ttl}, ""); err != nil {
			return Job{}, err
		}
	}
	if err := s.S.Transact(ctx, items, ""); err != nil {
		return Job{}, err
	}
	return j, nil
}

// Get reads one job of school, with its report once done.
func (s *Service) Get(ctx context.Context, school, id string) (Job, error) {
	j, err := Read[Job](ctx, s.S, id, func(id string) store.Key { return store.ImportJobKey(school, id) }, ErrNoJob)
	if err != nil {
		return Job{}, err
	}
	if j.Status == StatusDone && j.Counts != nil {
		rep := &Report{Created: j.Counts.Created, Updated: j.Counts.Updated, Unchanged: j.Counts.Unchanged, Rejected: j.Counts.Rejected,
			Errors: []RowError{}}
		rejected, err := s.outcomes(ctx, school, id, true)
		if err != nil {
			return Job{}, err
		}
		for _, o := range rejected {
			rep.Errors = append(rep.Errors, RowError{Line: o.Line, Code: o.Code, Message: o.Message})
		}
		j.Report = rep
	}
	return j, nil
}

// outcomes reads the rows' outcomes of a job in row order (only the refused ones if rejected).
func (s *Service) outcomes(ctx context.Context, school, id string, rejected bool) ([]Outcome, error) {
	q := store.Query{PK: store.ImportDataPK(school, id), Prefix: "ROW#"}
	if rejected {
		q.Equal = map[string]any{"result": Rejected}
	}
	return store.All[Outcome](ctx, s.S, q)
}

// queue is where import jobs wait.
func (s *Service) queue() Queue { return Queue{S: s.S, PK: store.ImportQueuePK, Now: s.Now} }

// Take leases the next job that is queued (or whose run's lease ran out) and marks it running. It
// returns false when there is none.
func (s *Service) Take(ctx context.Context) (Job, bool, error) {
	free, err := s.queue().Free(ctx, 0)
	if err != nil {
		return Job{}, false, err
	}
	for _, e := range free {
		k := store.ImportJobKey(e.SchoolID, e.JobID)
		if ok, err := s.queue().Take(ctx, e, k); err != nil || !ok {
			if err != nil {
				return Job{}, false, err
			}
			continue // another run took it
		}
		var j Job
		if _, err := s.S.Get(ctx, k, &j); err != nil {
			return Job{}, false, err
		}
		return j, true, nil
	}
	return Job{}, false, nil
}

// Rows decodes a job's rows into out (a pointer to a slice of the kind's row type).
func (s *Service) Rows(ctx context.Context, j Job, out any) error {
	all := []json.RawMessage{}
	for n := range j.Chunks {
		var c chunk
		ok, err := s.S.Get(ctx, store.ImportChunkKey(j.SchoolID, j.JobID, n), &c)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("import job %s: chunk %d missing", j.JobID, n)
		}
		var part []json.RawMessage
		if err := json.Unmarshal([]byte(c.Rows), &part); err != nil {
			return err
		}
		all = append(all, part...)
	}
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// Recorder is handed to an import run by a job: it knows the rows done by an earlier run of the same
// job and records each row's outcome. A nil *Recorder records nothing (an import run in the request).
type Recorder struct {
	s     *Service
	job   Job
	prior map[int]Outcome
	done  int
}

// Recorder reads what earlier runs of j did.
func (s *Service) Recorder(ctx context.Context, j Job) (*Recorder, error) {
	r := &Recorder{s: s, job: j, prior: map[int]Outcome{}}
	all, err := s.outcomes(ctx, j.SchoolID, j.JobID, false)
	if err != nil {
		return nil, err
	}
	for _, o := range all {
		r.prior[o.Index] = o
	}
	return r, nil
}

// Done is row i's outcome if an earlier run of the job recorded it.
func (r *Recorder) Done(i int) (Outcome, bool) {
	if r == nil {
		return Outcome{}, false
	}
	o, ok := r.prior[i]
	return o, ok
}

// Item is the write that records row i's outcome, to go in the same transaction as the row's writes
// (nil for a nil Recorder).
func (r *Recorder) Item(i int, o Outcome) ([]types.TransactWriteItem, error) {
	if r == nil {
		return nil, nil
	}
	o.Key, o.Index, o.TTL = store.ImportRowKey(r.job.SchoolID, r.job.JobID, i), i, r.job.TTL
	it, err := store.PutItem(o, "", nil)
	return []types.TransactWriteItem{it}, err
}

// Record records row i's outcome when the row wrote nothing else, and the job's progress every 50 rows.
func (r *Recorder) Record(ctx context.Context, i int, o Outcome) error {
	if r == nil {
		return nil
	}
	items, err := r.Item(i, o)
	if err != nil {
		return err
	}
	if err := r.s.S.Transact(ctx, items, ""); err != nil {
		return err
	}
	return r.Progress(ctx, i+1)
}

// Progress notes that the first n rows are done (written every 50 rows).
func (r *Recorder) Progress(ctx context.Context, n int) error {
	if r == nil || n-r.done < 50 {
		return nil
	}
	r.done = n
	return r.s.S.SetJobProgress(ctx, r.job.Key, n)
}

// Finish marks j done with rep's counts, writing extra (e.g. the audit record) in the same transaction,
// and ends its queue entry. A job already finished is left as it is.
func (s *Service) Finish(ctx context.Context, j Job, rep *Report, extra ...types.TransactWriteItem) error {
	c := Counts{Created: rep.Created, Updated: rep.Updated, Unchanged: rep.Unchanged, Rejected: rep.Rejected}
	done := store.JobDoneItem(j.Key, StatusDone, StatusRunning, s.Now().UTC(), c, j.Rows)
	err := s.queue().Done(ctx, entryOf(j), append([]types.TransactWriteItem{done}, extra...)...)
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(0) {
		return nil
	}
	return err
}

// Fail ends a run that failed: the job goes back to the queue (another run takes it) until it has
// failed MaxAttempts times, then it is marked failed.
func (s *Service) Fail(ctx context.Context, j Job) error {
	if j.Attempts < MaxAttempts {
		return s.queue().Retry(ctx, entryOf(j), j.Key)
	}
	return s.queue().Done(ctx, entryOf(j), store.JobFailedItem(j.Key, StatusFailed, s.Now().UTC()))
}

func entryOf(j Job) Entry {
	return Entry{Key: store.ImportQueueKey(j.SchoolID, j.JobID), JobID: j.JobID, SchoolID: j.SchoolID}
}
