// Package books is the ledger with every account type's hook: cards keep their arrears flag and the
// blacklist in step, dorm accounts flag their meter's power. Anything that may post to more than card
// accounts (recharges, dorm payments, meter charges) must use New.
package books

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/cards"
	"onecard/shared/ledger"
	"onecard/shared/platform"
	"onecard/shared/power"
	"onecard/shared/store"
)

// New returns the ledger for d.
func New(d *platform.Deps) *ledger.Ledger {
	cardHook := cards.LedgerHook(d.Now)
	return &ledger.Ledger{S: store.New(d.DB, d.Cfg.Table), Now: d.Now,
		OnChange: func(item store.Key, before, after int64, state map[string]types.AttributeValue) ([]types.TransactWriteItem, ledger.UpdateParts) {
			extra, parts := cardHook(item, before, after, state)
			e2, p2 := power.LedgerHook(item, before, after, state)
			extra = append(extra, e2...)
			parts.Set = append(parts.Set, p2.Set...)
			parts.Remove = append(parts.Remove, p2.Remove...)
			if len(p2.Values) > 0 && parts.Values == nil {
				parts.Values = map[string]any{}
			}
			for k, v := range p2.Values {
				parts.Values[k] = v
			}
			return extra, parts
		}}
}
