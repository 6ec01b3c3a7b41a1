package cards

import (
	"context"

	"onecard/shared/store"
)

// BlacklistChange is one change of the blacklist log.
type BlacklistChange = blacklistChange

// Blacklist reads a school's blacklist log.
type Blacklist struct{ S *store.Store }

// Since returns the changes with a version greater than since, oldest first.
func (b Blacklist) Since(ctx context.Context, school string, since int64) ([]BlacklistChange, error) {
	return store.All[BlacklistChange](ctx, b.S, store.Query{PK: store.BlacklistPK(school), After: store.BlacklistAfterSK(since), Consistent: true})
}
