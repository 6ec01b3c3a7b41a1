package reader

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"

	"onecard/shared/cards"
	"onecard/shared/fault"
	"onecard/shared/store"
)

// Blacklist versions are microseconds since the epoch, taken from the clock of whoever wrote the change
// (cards.blacklistItem), so no counter item is written per change. A change becomes visible a little
// after its version (clock skew between functions, a transaction retried after a conflict), so an answer
// never claims to be complete up to "now": its version is Lookback before the server's clock, and the
// next incremental answer repeats the changes of that overlap. See docs/decisions/0004.
const Lookback = 2 * time.Minute

// FullAfter: a reader whose version is older than this gets the whole list again (with full=true)
// instead of a long run of changes.
const FullAfter = 7 * 24 * time.Hour

// BlacklistAnswer is GET /v1/reader/blacklist.
type BlacklistAnswer struct {
	Version int64    `json:"version"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	// Full says the answer is the whole list: a reader replaces its copy instead of applying changes.
	Full bool `json:"full"`
}

var errBadSince = fault.Field("BAD_SINCE", "since 须为上次返回的 version（非负整数）")

// ParseSince reads ?since=: absent, empty or 0 asks for the whole list.
func ParseSince(vals []string) (int64, error) {
	if len(vals) == 0 {
		return 0, nil
	}
	if len(vals) > 1 || len(vals[0]) > 19 {
		return 0, errBadSince
	}
	if vals[0] == "" {
		return 0, nil
	}
	for i := 0; i < len(vals[0]); i++ {
		if vals[0][i] < '0' || vals[0][i] > '9' {
			return 0, errBadSince
		}
	}
	v, err := strconv.ParseInt(vals[0], 10, 64)
	if err != nil {
		return 0, errBadSince
	}
	return v, nil
}

// BlacklistSince answers a reader of school that last saw version since.
func BlacklistSince(ctx context.Context, s *store.Store, school string, since int64, now time.Time) (*BlacklistAnswer, error) {
	version := now.Add(-Lookback).UnixMicro()
	ans := &BlacklistAnswer{Version: version, Added: []string{}, Removed: []string{}}
	if since <= 0 || since > now.UnixMicro() || since < now.Add(-FullAfter).UnixMicro() {
		blocked, err := blockedCards(ctx, s, school)
		if err != nil {
			return nil, err
		}
		ans.Added, ans.Full = blocked, true
		return ans, nil
	}
	changes, err := cards.Blacklist{S: s}.Since(ctx, school, since)
	if err != nil {
		return nil, err
	}
	// A card's changes are numbered (blv) in the order its item was written; the highest is its state.
	type last struct {
		n       int64
		blocked bool
	}
	latest := map[string]last{}
	for _, c := range changes {
		n := changeNumber(c.SK)
		if l, ok := latest[c.CardNo]; !ok || n >= l.n {
			latest[c.CardNo] = last{n, c.Blocked}
		}
	}
	for no, l := range latest {
		if l.blocked {
			ans.Added = append(ans.Added, no)
		} else {
			ans.Removed = append(ans.Removed, no)
		}
	}
	sort.Strings(ans.Added)
	sort.Strings(ans.Removed)
	return ans, nil
}

// changeNumber reads the card's change number from a log key V#<version>#<cardNo>#<n>.
func changeNumber(sk string) int64 {
	i := strings.LastIndexByte(sk, '#')
	n, _ := strconv.ParseInt(sk[i+1:], 10, 64)
	return n
}

// blockedCards lists the school's blocked cards from the sparse BLOCKED index.
func blockedCards(ctx context.Context, s *store.Store, school string) ([]string, error) {
	out := []string{}
	err := store.Each(ctx, s, store.Query{Index: store.GSI2, PK: store.BlockedPK(school), Project: []string{"cardNo"}},
		func(page []struct {
			CardNo string `dynamodbav:"cardNo"`
		}) error {
			for _, p := range page {
				out = append(out, p.CardNo)
			}
			return nil
		})
	if err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}
