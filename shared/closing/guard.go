package closing

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/ledger"
	"onecard/shared/store"
)

type typesAV = types.AttributeValue

// guardSeq refuses the payout if the card moved since the amount was read (ErrStale): the cash paid out
// is exactly what the card held.
func guardSeq(k, card store.Key, st map[string]types.AttributeValue, seq int64) error {
	if k != card {
		return nil
	}
	if n, ok := st["seq"].(*types.AttributeValueMemberN); !ok || n.Value != strconv.FormatInt(seq, 10) {
		return ledger.ErrStale
	}
	return nil
}
