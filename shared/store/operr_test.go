package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// broken is a table that answers every call with err: the store's failures must say which operation on
// which kind of item failed, without the key's values.
type broken struct{ err error }

func (b broken) GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return nil, b.err
}
func (b broken) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, b.err
}
func (b broken) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, b.err
}
func (b broken) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, b.err
}
func (b broken) Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return nil, b.err
}
func (b broken) Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return nil, b.err
}
func (b broken) BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return nil, b.err
}
func (b broken) TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return nil, b.err
}

func TestFailuresNameTheirOperation(t *testing.T) {
	down := errors.New("connection reset")
	s := New(broken{down}, "t")
	ctx := context.Background()
	card := CardKey("s1", "20240001")
	var out map[string]any
	_, getErr := s.Get(ctx, card, &out)
	var q []map[string]any
	_, queryErr := s.Page(ctx, Query{Index: GSI1, PK: StudentNamePK("s1", "张三")}, &q)
	cases := []struct {
		err  error
		want string
	}{
		{getErr, "store.Get CARD/CARD: connection reset"},
		{s.Update(ctx, card, "SET a = :a", "", nil, nil), "store.Update CARD/CARD: connection reset"},
		{s.Delete(ctx, EntryKey("card:s1:20240001", 7)), "store.Delete LEDGER/E: connection reset"},
		{s.Put(ctx, map[string]string{AttrPK: "STAFF#li", AttrSK: "STAFF"}, "", nil), "store.Put STAFF/STAFF: connection reset"},
		{s.Transact(ctx, []types.TransactWriteItem{UpdateItem(card, "SET a = :a", "", nil, nil), DeleteItem(IdemKey("x", "y"), "", nil)}, ""),
			"store.Transact CARD/CARD+IDEM/IDEM: connection reset"},
		{queryErr, "store.Page GSI1:STUDENTNAME: connection reset"},
		{s.ScanEach(ctx, Scan{}, func([]map[string]types.AttributeValue) error { return nil }), "store.ScanEach: connection reset"},
	}
	for _, c := range cases {
		if c.err == nil || c.err.Error() != c.want {
			t.Errorf("got %v, want %q", c.err, c.want)
			continue
		}
		if !errors.Is(c.err, down) {
			t.Errorf("%v does not unwrap to DynamoDB's error", c.err)
		}
		if strings.Contains(c.err.Error(), "20240001") || strings.Contains(c.err.Error(), "张三") {
			t.Errorf("%v carries a key's values", c.err)
		}
	}
}

// A failed condition and a cancelled transaction are answers: they keep their one way of comparison.
func TestAnswersAreNotWrapped(t *testing.T) {
	s := New(broken{&types.ConditionalCheckFailedException{}}, "t")
	err := s.Update(context.Background(), CardKey("s1", "1"), "SET a = :a", "attribute_exists(PK)", nil, nil)
	if err != ErrConditionFailed { //nolint:errorlint // the sentinel itself, not a wrapper of it
		t.Fatalf("a failed condition came back as %v", err)
	}
	s = New(broken{&types.TransactionCanceledException{Message: aws.String("no"),
		CancellationReasons: []types.CancellationReason{{Code: aws.String("ConditionalCheckFailed")}}}}, "t")
	err = s.Transact(context.Background(), []types.TransactWriteItem{UpdateItem(CardKey("s1", "1"), "SET a = :a", "", nil, nil)}, "")
	var tc *TxCanceled
	if !errors.As(err, &tc) || !tc.Failed(0) {
		t.Fatalf("a cancelled transaction came back as %v", err)
	}
	var oe *OpError
	if errors.As(err, &oe) {
		t.Fatalf("a cancelled transaction was wrapped as a failure: %v", err)
	}
}
