package store

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DB is the part of the DynamoDB client this project calls. Tests wrap it to inject faults.
type DB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Store is the table.
type Store struct {
	DB    DB
	Table string
}

// New returns the store for table.
func New(db DB, table string) *Store { return &Store{DB: db, Table: table} }

// Conditions on an item's existence, for the puts and updates of every package: IfAbsent writes an
// item only if it is new, IfExists only over one that is there (either may be joined with " AND ...").
const (
	IfAbsent = "attribute_not_exists(" + AttrPK + ")"
	IfExists = "attribute_exists(" + AttrPK + ")"
)

// ErrConditionFailed reports that a conditional write found the item in another state.
var ErrConditionFailed = errors.New("store: condition failed")

// Get reads one item with a strongly consistent read into out; ok is false when it does not exist.
func (s *Store) Get(ctx context.Context, k Key, out any) (bool, error) {
	res, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.Table, Key: k.AV(), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fail("store.Get", kind(k), err)
	}
	if res.Item == nil {
		return false, nil
	}
	return true, fail("store.Get: decoding", kind(k), attributevalue.UnmarshalMap(res.Item, out))
}

// Put writes item, optionally under a condition expression; a failed condition is ErrConditionFailed.
func (s *Store) Put(ctx context.Context, item any, cond string, values map[string]types.AttributeValue) error {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return fail("store.Put: encoding", "", err)
	}
	in := &dynamodb.PutItemInput{TableName: &s.Table, Item: av}
	if cond != "" {
		in.ConditionExpression = &cond
		in.ExpressionAttributeValues = values
	}
	_, err = s.DB.PutItem(ctx, in)
	return fail("store.Put", itemKind(av), condErr(err))
}

// Update runs an update expression on k; a failed condition is ErrConditionFailed.
func (s *Store) Update(ctx context.Context, k Key, expr, cond string, names map[string]string, values map[string]types.AttributeValue) error {
	in := &dynamodb.UpdateItemInput{TableName: &s.Table, Key: k.AV(), UpdateExpression: &expr,
		ExpressionAttributeValues: values}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	if cond != "" {
		in.ConditionExpression = &cond
	}
	_, err := s.DB.UpdateItem(ctx, in)
	return fail("store.Update", kind(k), condErr(err))
}

// UpdateReturning is Update that unmarshals the item as it is after the update into out.
func (s *Store) UpdateReturning(ctx context.Context, k Key, expr, cond string, names map[string]string, values map[string]types.AttributeValue, out any) error {
	in := &dynamodb.UpdateItemInput{TableName: &s.Table, Key: k.AV(), UpdateExpression: &expr,
		ExpressionAttributeValues: values, ReturnValues: types.ReturnValueAllNew}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	if cond != "" {
		in.ConditionExpression = &cond
	}
	res, err := s.DB.UpdateItem(ctx, in)
	if err != nil {
		return fail("store.UpdateReturning", kind(k), condErr(err))
	}
	return fail("store.UpdateReturning: decoding", kind(k), attributevalue.UnmarshalMap(res.Attributes, out))
}

// Delete removes k.
func (s *Store) Delete(ctx context.Context, k Key) error {
	_, err := s.DB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.Table, Key: k.AV()})
	return fail("store.Delete", kind(k), err)
}

func condErr(err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ErrConditionFailed
	}
	return err
}

// TxCanceled is a transaction cancelled by DynamoDB; Reasons has one code per item ("None",
// "ConditionalCheckFailed", ...), in the order the items were given.
type TxCanceled struct {
	Reasons []string
	Err     error
}

func (e *TxCanceled) Error() string { return "transaction canceled: " + e.Err.Error() }
func (e *TxCanceled) Unwrap() error { return e.Err }

// Failed reports whether item i failed its condition.
func (e *TxCanceled) Failed(i int) bool {
	return i < len(e.Reasons) && e.Reasons[i] == "ConditionalCheckFailed"
}

// MaxTxAttempts bounds the retries of a transaction that lost a race (TransactionConflict).
const MaxTxAttempts = 5

// Transact writes items atomically. A TransactionConflict (another transaction touched one of the items)
// is retried with jittered backoff up to MaxTxAttempts; a failed condition is returned as *TxCanceled at
// once, since retrying cannot change the answer.
func (s *Store) Transact(ctx context.Context, items []types.TransactWriteItem, token string) error {
	for i := range items {
		setTable(&items[i], s.Table)
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	if token != "" {
		in.ClientRequestToken = &token
	}
	var err error
	for attempt := 1; ; attempt++ {
		_, err = s.DB.TransactWriteItems(ctx, in)
		if err == nil {
			return nil
		}
		var tce *types.TransactionCanceledException
		var tip *types.TransactionInProgressException
		switch {
		case errors.As(err, &tce):
			reasons := make([]string, len(tce.CancellationReasons))
			conflict := false
			for j, r := range tce.CancellationReasons {
				reasons[j] = aws.ToString(r.Code)
				if reasons[j] == "TransactionConflict" {
					conflict = true
				}
			}
			if !conflict || attempt >= MaxTxAttempts {
				return &TxCanceled{Reasons: reasons, Err: err}
			}
		case errors.As(err, &tip):
			if attempt >= MaxTxAttempts {
				return fail("store.Transact", txKinds(items), err)
			}
		default:
			return fail("store.Transact", txKinds(items), err)
		}
		backoff := time.Duration(10<<attempt) * time.Millisecond
		select {
		case <-time.After(backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)))):
		case <-ctx.Done():
			return fail("store.Transact", txKinds(items), ctx.Err())
		}
	}
}

func setTable(it *types.TransactWriteItem, table string) {
	switch {
	case it.Put != nil:
		it.Put.TableName = &table
	case it.Update != nil:
		it.Update.TableName = &table
	case it.Delete != nil:
		it.Delete.TableName = &table
	case it.ConditionCheck != nil:
		it.ConditionCheck.TableName = &table
	}
}

// AV returns the key as attribute values.
func (k Key) AV() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: k.PK},
		AttrSK: &types.AttributeValueMemberS{Value: k.SK},
	}
}

// PutItem builds a transaction Put of item (which must carry PK and SK) under cond.
func PutItem(item any, cond string, values map[string]types.AttributeValue) (types.TransactWriteItem, error) {
	av, err := attributevalue.MarshalMap(item)
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	p := &types.Put{Item: av}
	if cond != "" {
		p.ConditionExpression = &cond
		p.ExpressionAttributeValues = values
	}
	return types.TransactWriteItem{Put: p}, nil
}

// UpdateItem builds a transaction Update.
func UpdateItem(k Key, expr, cond string, names map[string]string, values map[string]types.AttributeValue) types.TransactWriteItem {
	u := &types.Update{Key: k.AV(), UpdateExpression: &expr, ExpressionAttributeValues: values}
	if cond != "" {
		u.ConditionExpression = &cond
	}
	if len(names) > 0 {
		u.ExpressionAttributeNames = names
	}
	return types.TransactWriteItem{Update: u}
}

// DeleteItem builds a transaction Delete.
func DeleteItem(k Key, cond string, values map[string]types.AttributeValue) types.TransactWriteItem {
	d := &types.Delete{Key: k.AV()}
	if cond != "" {
		d.ConditionExpression = &cond
		d.ExpressionAttributeValues = values
	}
	return types.TransactWriteItem{Delete: d}
}

// Values is shorthand for expression attribute values.
type Values map[string]any

// AV marshals the values; it panics only on a programming error (an unmarshalable Go value).
func (v Values) AV() map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(v))
	for k, x := range v {
		av, err := attributevalue.Marshal(x)
		if err != nil {
			panic("store: cannot marshal " + k + ": " + err.Error())
		}
		out[k] = av
	}
	return out
}

// TTL returns the epoch seconds DynamoDB's TTL expects.
func TTL(t time.Time) int64 { return t.Unix() }

// GetRaw is Get that also returns the raw attributes.
func (s *Store) GetRaw(ctx context.Context, k Key, out any, raw *map[string]types.AttributeValue) (bool, error) {
	res, err := s.DB.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.Table, Key: k.AV(), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return false, fail("store.GetRaw", kind(k), err)
	}
	if res.Item == nil {
		return false, nil
	}
	*raw = res.Item
	return true, fail("store.GetRaw: decoding", kind(k), attributevalue.UnmarshalMap(res.Item, out))
}
