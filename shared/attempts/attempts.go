// Package attempts counts tries at a secret (a password, a card password, an ID number, an emailed code)
// so that no burst of requests, however it is timed, gets more comparisons than its limit.
//
// A try is reserved before the secret is compared: one conditional update that adds one to the count of
// the running window and fails once the count has reached the limit. Only a request holding a
// reservation may compare. A comparison that succeeds gives its reservation back; one that fails keeps
// it, so at most Max wrong secrets are ever compared per window, and while Max reservations stand every
// other request is refused without a comparison, even the right secret (docs/security.md).
//
// Counters live in their own items (TRY#<rule>#<subject>), one per subject, so no counter is shared by
// unrelated callers; TTL removes them after their window.
package attempts

import (
	"context"
	"errors"
	"time"

	"onecard/shared/fault"
	"onecard/shared/store"
)

// Rule is one limit: at most Max tries per Window, counted from the first try of the window. When the
// limit is reached, Reserve answers Refusal with Retry-After set to the end of the window.
type Rule struct {
	Name    string
	Max     int
	Window  time.Duration
	Refusal *fault.Error
}

// Counter reserves tries in the table.
type Counter struct {
	S   *store.Store
	Now func() time.Time
}

// Try is a reserved try. N is its number in the window (1..Max).
type Try struct {
	c     Counter
	rule  Rule
	key   store.Key
	until int64 // window end, unix milliseconds
	N     int
}

// counter is the stored item.
type counter struct {
	store.Key
	N     int   `dynamodbav:"n"`
	Until int64 `dynamodbav:"until"` // unix ms
	TTL   int64 `dynamodbav:"ttl"`
}

// Reserve counts one try of rule for subject, or refuses it with the rule's refusal once Max tries of the
// running window stand. Call it before comparing the secret, then Succeeded or Failed.
func (c Counter) Reserve(ctx context.Context, rule Rule, subject string) (*Try, error) {
	k := store.AttemptKey(rule.Name, subject)
	for range 4 {
		now := c.Now().UnixMilli()
		var after counter
		err := c.S.CountAttempt(ctx, k, now, rule.Max, &after)
		if err == nil {
			return &Try{c: c, rule: rule, key: k, until: after.Until, N: after.N}, nil
		}
		if !errors.Is(err, store.ErrConditionFailed) {
			return nil, err
		}
		var cur counter
		found, err := c.S.Get(ctx, k, &cur)
		if err != nil {
			return nil, err
		}
		if found && cur.Until > now && cur.N >= rule.Max {
			return nil, rule.Refusal.After(time.Duration(cur.Until-now) * time.Millisecond)
		}
		if found && cur.Until > now {
			continue // a try was given back between the update and the read: count again
		}
		// No window runs: open one with this try, unless another request just did.
		until := now + rule.Window.Milliseconds()
		err = c.S.OpenAttemptWindow(ctx, k, now, until)
		if err == nil {
			return &Try{c: c, rule: rule, key: k, until: until, N: 1}, nil
		}
		if !errors.Is(err, store.ErrConditionFailed) {
			return nil, err
		}
	}
	// Four rounds lost to other requests: refuse rather than compare uncounted.
	return nil, rule.Refusal.After(time.Second)
}

// Succeeded gives the try back: a right secret does not count against the limit.
func (t *Try) Succeeded(ctx context.Context) error {
	err := t.c.S.GiveBackAttempt(ctx, t.key, t.until)
	if errors.Is(err, store.ErrConditionFailed) {
		return nil // the window ended or was cleared meanwhile: nothing to give back
	}
	return err
}

// Left is how many tries the window still has after this one failed.
func (t *Try) Left() int { return max(t.rule.Max-t.N, 0) }

// Exhausted reports whether this try was the window's last.
func (t *Try) Exhausted() bool { return t.N >= t.rule.Max }

// RetryAfter is the time until the window ends.
func (t *Try) RetryAfter() time.Duration {
	return max(time.Duration(t.until-t.c.Now().UnixMilli())*time.Millisecond, time.Second)
}

// Failed turns a refusal for a wrong secret into the answer the caller sees: wrong with the tries left
// (triesLeft in the body), or, when this try was the last of the window, the rule's refusal.
func (t *Try) Failed(wrong *fault.Error) *fault.Error {
	if t.Exhausted() {
		return t.rule.Refusal.After(t.RetryAfter())
	}
	return wrong.Left(t.Left())
}
