package store

import (
	"context"
	"time"
)

// Writes to the try counters of rate limits (AttemptKey): n tries in a window that ends at until (unix
// milliseconds).

// CountAttempt counts one try in the window of k that runs at now, only while fewer than max tries stand
// (else ErrConditionFailed), and unmarshals the counter as it is after the update into out.
func (s *Store) CountAttempt(ctx context.Context, k Key, now int64, max int, out any) error {
	return s.UpdateReturning(ctx, k, "SET n = n + :one", "#u > :now AND n < :max",
		map[string]string{"#u": "until"},
		Values{":one": 1, ":now": now, ":max": max}.AV(), out)
}

// OpenAttemptWindow starts a window of k ending at until with one try, only when no window runs at now
// (else ErrConditionFailed). The item expires an hour after its window.
func (s *Store) OpenAttemptWindow(ctx context.Context, k Key, now, until int64) error {
	return s.Update(ctx, k, "SET n = :one, #u = :until, #t = :ttl", "attribute_not_exists(PK) OR #u <= :now",
		map[string]string{"#u": "until", "#t": AttrTTL},
		Values{":one": 1, ":until": until, ":now": now, ":ttl": TTL(time.UnixMilli(until).Add(time.Hour))}.AV())
}

// GiveBackAttempt takes one try off the window of k that ends at until, only while that window stands
// with a try in it (else ErrConditionFailed).
func (s *Store) GiveBackAttempt(ctx context.Context, k Key, until int64) error {
	return s.Update(ctx, k, "SET n = n - :one", "#u = :until AND n > :z", map[string]string{"#u": "until"},
		Values{":one": 1, ":until": until, ":z": 0}.AV())
}
