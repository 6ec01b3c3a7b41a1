package cards_test

import (
	"context"

	"onecard/shared/cards"
	"onecard/shared/ledger"
	"onecard/shared/testkit"
)

func ledgerOf(e *testkit.Env) *ledger.Ledger { return ledger.New(testkit.Store(e.Deps), e.Deps.Now) }

func listBlacklist(e *testkit.Env, school string) ([]cards.BlacklistChange, error) {
	return cards.Blacklist{S: testkit.Store(e.Deps)}.Since(context.Background(), school, 0)
}
