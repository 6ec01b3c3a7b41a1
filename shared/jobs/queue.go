package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/store"
)

// Every kind of long work (the imports here, the books' reconcile, the outstanding-balance report) runs
// the same way (decision 0014): the route stores a job and an Entry in its kind's Queue and answers 202;
// a scheduled function reads the free entries, takes one by leasing it (Take), does the work and ends
// the entry together with the writes that record the outcome (Done), or gives it back for another run
// (Retry). A run that died holding a job is taken over once its lease runs out; a lease longer than the
// scheduled function's timeout means it is never taken from a live run.

// Job states, the same for every kind: queued (stored, not taken yet), running (a run holds it for
// Lease), done (with its report) or failed.
const (
	StatusQueued  = "queued"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Lease is how long a run holds a job: more than the scheduled functions' 900 s timeout.
const Lease = 16 * time.Minute

// Meta is what every kind's job item holds, as stored and as answered: its id, its state, who asked and
// when, when a run started and ended it, and how long the item stays. A kind's job type embeds it.
type Meta struct {
	JobID       string     `dynamodbav:"jobId" json:"jobId"`
	Status      string     `dynamodbav:"status" json:"status"`
	RequestedBy string     `dynamodbav:"requestedBy" json:"requestedBy"` // "staff:<username>", a username or "schedule"
	RequestedAt time.Time  `dynamodbav:"requestedAt" json:"requestedAt"`
	StartedAt   *time.Time `dynamodbav:"startedAt,omitempty" json:"startedAt,omitempty"`
	FinishedAt  *time.Time `dynamodbav:"finishedAt,omitempty" json:"finishedAt,omitempty"`
	TTL         int64      `dynamodbav:"ttl,omitempty" json:"-"`
}

// Queued is the Meta of a job id asked for by by at now, kept for keep.
func Queued(id, by string, now time.Time, keep time.Duration) Meta {
	return Meta{JobID: id, Status: StatusQueued, RequestedBy: by, RequestedAt: now, TTL: store.TTL(now.Add(keep))}
}

// Entry is a job waiting in its queue, or held by the run that took it.
type Entry struct {
	store.Key
	JobID      string `dynamodbav:"jobId"`
	SchoolID   string `dynamodbav:"schoolId,omitempty"`
	LeaseUntil int64  `dynamodbav:"leaseUntil"`    // unix ms; 0 while queued
	TTL        int64  `dynamodbav:"ttl,omitempty"` // with the job's: an entry whose job expired goes too
}

// Queue is where one kind of job waits: the entries under one partition key, whose sort keys begin
// with Prefix.
type Queue struct {
	S      *store.Store
	PK     string
	Prefix string
	Now    func() time.Time
}

// Pointer names one job of a kind: the one queued or running (for the books, or for a school's date; at
// most one exists, so at most one such job waits or runs whoever asks), or the last one done, with when.
type Pointer struct {
	store.Key
	JobID      string    `dynamodbav:"jobId"`
	FinishedAt time.Time `dynamodbav:"finishedAt,omitempty"` // the last one done
}

// Submit stores job (an item with its key, queued), its Entry e in the queue and the pointer at pending,
// in one transaction. It answers false, storing nothing, when a job is already pending there: the
// caller answers that one.
func (q Queue) Submit(ctx context.Context, job any, pending store.Key, e Entry) (bool, error) {
	items := make([]types.TransactWriteItem, 0, 3)
	for _, it := range []struct {
		v    any
		cond string
	}{{job, store.IfAbsent}, {Pointer{Key: pending, JobID: e.JobID}, store.IfAbsent}, {e, ""}} {
		put, err := store.PutItem(it.v, it.cond, nil)
		if err != nil {
			return false, err
		}
		items = append(items, put)
	}
	err := q.S.Transact(ctx, items, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return false, nil
	}
	return err == nil, err
}

// errEnough stops Free's read once it has the entries it was asked for.
var errEnough = errors.New("jobs: enough entries")

// Free reads the entries no live run holds (queued, or whose run's lease ran out), oldest job first, at
// most n of them (0: all).
func (q Queue) Free(ctx context.Context, n int) ([]Entry, error) {
	now := q.Now().UnixMilli()
	var out []Entry
	err := store.Each(ctx, q.S, store.Query{PK: q.PK, Prefix: q.Prefix, Consistent: true}, func(page []Entry) error {
		for _, e := range page {
			if e.LeaseUntil > now {
				continue
			}
			out = append(out, e)
			if len(out) == n {
				return errEnough
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	return out, nil
}

// Take leases e to this run and marks its job (at job) running, in one transaction. It answers false
// when another run took e first, or e is gone (its job ended meanwhile).
func (q Queue) Take(ctx context.Context, e Entry, job store.Key) (bool, error) {
	now := q.Now().UTC()
	take := store.TakeJobLeaseItem(e.Key, now.Add(Lease).UnixMilli(), e.LeaseUntil)
	mark := store.JobRunningItem(job, StatusRunning, now)
	err := q.S.Transact(ctx, []types.TransactWriteItem{take, mark}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return false, nil
	}
	return err == nil, err
}

// Done ends e together with outcome, the writes that record how its job ended, in one transaction (the
// outcome's items first, so that a caller can read TxCanceled.Failed by their index).
func (q Queue) Done(ctx context.Context, e Entry, outcome ...types.TransactWriteItem) error {
	items := append(append([]types.TransactWriteItem{}, outcome...), store.DeleteItem(e.Key, "", nil))
	return q.S.Transact(ctx, items, "")
}

// Retry gives e back to the queue and its job (at job) back to queued, for the next run to take.
func (q Queue) Retry(ctx context.Context, e Entry, job store.Key) error {
	return q.S.Transact(ctx, []types.TransactWriteItem{
		store.ReleaseJobLeaseItem(e.Key),
		store.JobStatusItem(job, StatusQueued),
	}, "")
}

// Read reads the job id of a kind, stored at key(id); an id of another shape than NewID's, or no job
// there, is notFound (the kind's 404), without reading the table for the former.
func Read[J any](ctx context.Context, s *store.Store, id string, key func(id string) store.Key, notFound error) (J, error) {
	var j J
	if !ValidID(id) {
		return j, notFound
	}
	ok, err := s.Get(ctx, key(id), &j)
	if err != nil {
		return j, err
	}
	if !ok {
		return j, notFound
	}
	return j, nil
}

// NewID is a job id: the UTC second and six random hex digits, so ids sort by when they were asked for.
func NewID(now time.Time) (string, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%s", now.UTC().Format("20060102T150405Z"), hex.EncodeToString(b[:])), nil
}

// ValidID says whether id has the shape NewID gives (a route answers an id of another shape as unknown
// without reading the table).
func ValidID(id string) bool {
	if len(id) != 23 || id[16] != '-' || strings.ToLower(id[17:]) != id[17:] {
		return false
	}
	if _, err := time.Parse("20060102T150405Z", id[:16]); err != nil {
		return false
	}
	_, err := hex.DecodeString(id[17:])
	return err == nil
}
