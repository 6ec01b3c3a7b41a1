package testkit

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onecard/shared/store"
)

// RacingDB lets another writer change an item just before the next transaction commits: Before, when
// set, runs once, right before the next TransactWriteItems goes to the table (the way two staff editing
// one item race).
type RacingDB struct {
	store.DB
	Before func()
}

// TransactWriteItems runs Before (once) and then the transaction.
func (r *RacingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if f := r.Before; f != nil {
		r.Before = nil
		f()
	}
	return r.DB.TransactWriteItems(ctx, in, o...)
}
