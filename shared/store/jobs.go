package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Writes to jobs (ImportJobKey, ReconcileJobKey, LiabilityJobKey) and their queue entries: a run takes a queued job
// under a lease, notes its progress, and finishes or fails it (shared/jobs).

// TakeJobLeaseItem leases the queue entry q until the unix ms lease, on the condition that its lease is
// still was (no other run took it meanwhile).
func TakeJobLeaseItem(q Key, lease, was int64) types.TransactWriteItem {
	return UpdateItem(q, "SET leaseUntil = :lease", "leaseUntil = :was", nil, Values{":lease": lease, ":was": was}.AV())
}

// JobRunningItem marks the job k running (status running, started at, one more attempt); it must exist.
func JobRunningItem(k Key, running string, at time.Time) types.TransactWriteItem {
	return UpdateItem(k, "SET #st = :run, startedAt = :at ADD #a :one", "attribute_exists(PK)",
		map[string]string{"#st": "status", "#a": "attempts"}, Values{":run": running, ":at": at, ":one": 1}.AV())
}

// SetJobProgress notes that the job k has done its first n rows.
func (s *Store) SetJobProgress(ctx context.Context, k Key, n int) error {
	return s.Update(ctx, k, "SET #p = :n", "", map[string]string{"#p": "processed"}, Values{":n": n}.AV())
}

// JobDoneItem marks the job k done (status, finished at, its counts, all rows processed) on the condition
// that it is still running.
func JobDoneItem(k Key, done, running string, at time.Time, counts any, rows int) types.TransactWriteItem {
	return UpdateItem(k, "SET #st = :done, finishedAt = :at, #c = :c, #p = :n", "#st = :run",
		map[string]string{"#st": "status", "#c": "counts", "#p": "processed"},
		Values{":done": done, ":at": at, ":c": counts, ":n": rows, ":run": running}.AV())
}

// ReleaseJobLeaseItem frees the queue entry q for the next run; it must exist.
func ReleaseJobLeaseItem(q Key) types.TransactWriteItem {
	return UpdateItem(q, "SET leaseUntil = :z", "attribute_exists(PK)", nil, Values{":z": 0}.AV())
}

// JobStatusItem sets the job k's status (back to queued after a failed run).
func JobStatusItem(k Key, status string) types.TransactWriteItem {
	return UpdateItem(k, "SET #st = :q", "", map[string]string{"#st": "status"}, Values{":q": status}.AV())
}

// JobFailedItem marks the job k failed for good, finished at at.
func JobFailedItem(k Key, failed string, at time.Time) types.TransactWriteItem {
	return UpdateItem(k, "SET #st = :f, finishedAt = :at", "", map[string]string{"#st": "status"}, Values{":f": failed, ":at": at}.AV())
}

// JobReportItem marks the job k done at at with its report.
func JobReportItem(k Key, done string, at time.Time, report any) types.TransactWriteItem {
	return UpdateItem(k, "SET #st = :done, finishedAt = :at, report = :rep", "", map[string]string{"#st": "status"},
		Values{":done": done, ":at": at, ":rep": report}.AV())
}

// The books' reconcile's report.

// ReconcileDoneItem marks the reconcile job k done at at with its report and how many discrepancies it
// found (the report lists at most some of them).
func ReconcileDoneItem(k Key, done string, at time.Time, report any, discrepancies int) types.TransactWriteItem {
	return UpdateItem(k, "SET #st = :done, finishedAt = :at, report = :rep, discrepancyCount = :n", "",
		map[string]string{"#st": "status"}, Values{":done": done, ":at": at, ":rep": report, ":n": discrepancies}.AV())
}
