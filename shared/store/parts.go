package store

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SetRemoveItem is the update of an item assembled from parts: the assignments set and the attribute
// names remove, under cond. It serves writes whose parts come from several places (the ledger's balance
// update with its account kind's hook).
func SetRemoveItem(k Key, set, remove []string, cond string, names map[string]string, vals map[string]types.AttributeValue) types.TransactWriteItem {
	return UpdateItem(k, setRemove(set, remove), cond, names, vals)
}

// setRemove is the update expression of set and remove.
func setRemove(set, remove []string) string {
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	return expr
}
