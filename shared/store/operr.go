package store

import (
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// OpError is a failed table operation: which one (Op, e.g. "store.Update") and on what kind of item
// (Kind, the key's entity prefixes such as "CARD/CARD" or "LEDGER/E"), wrapping DynamoDB's answer. A 500
// logged by the HTTP layer therefore says where it came from. Kind never holds the key's values: keys
// carry card numbers, user ids and name digests, which do not belong in logs.
//
// ErrConditionFailed and *TxCanceled are answers, not failures, and are returned unwrapped so callers
// compare them one way (errors.Is / errors.As) whatever the path.
type OpError struct {
	Op   string
	Kind string
	Err  error
}

func (e *OpError) Error() string {
	if e.Kind == "" {
		return e.Op + ": " + e.Err.Error()
	}
	return e.Op + " " + e.Kind + ": " + e.Err.Error()
}

func (e *OpError) Unwrap() error { return e.Err }

// kind is the entity part of a key: each attribute up to its first '#'.
func kind(k Key) string { return prefix(k.PK) + "/" + prefix(k.SK) }

func prefix(s string) string {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return s[:i]
	}
	return s
}

// fail names the operation of err, leaving the answers (condition failed, cancelled transaction) and
// context errors as they are.
func fail(op, kind string, err error) error {
	var tc *TxCanceled
	if err == nil || errors.Is(err, ErrConditionFailed) || errors.As(err, &tc) {
		return err
	}
	var oe *OpError
	if errors.As(err, &oe) {
		return err
	}
	return &OpError{Op: op, Kind: kind, Err: err}
}

// itemKind is kind for an item about to be written.
func itemKind(av map[string]types.AttributeValue) string {
	pk, _ := av[AttrPK].(*types.AttributeValueMemberS)
	sk, _ := av[AttrSK].(*types.AttributeValueMemberS)
	if pk == nil || sk == nil {
		return ""
	}
	return kind(Key{PK: pk.Value, SK: sk.Value})
}

// txKinds names the items of a transaction, in order ("CARD/CARD+LEDGER/E+…").
func txKinds(items []types.TransactWriteItem) string {
	parts := make([]string, 0, len(items))
	for _, it := range items {
		var av map[string]types.AttributeValue
		switch {
		case it.Put != nil:
			av = it.Put.Item
		case it.Update != nil:
			av = it.Update.Key
		case it.Delete != nil:
			av = it.Delete.Key
		case it.ConditionCheck != nil:
			av = it.ConditionCheck.Key
		}
		parts = append(parts, itemKind(av))
	}
	return strings.Join(parts, "+")
}

// queryKind names a query by its index and the partition it reads: the value compared in the key
// condition's first term ("GSI1:STUDENTNAME").
func queryKind(in *dynamodb.QueryInput) string {
	k := ""
	if in.KeyConditionExpression != nil {
		expr := *in.KeyConditionExpression
		if i := strings.IndexByte(expr, ':'); i >= 0 {
			j := i + 1
			for j < len(expr) && (expr[j] == '_' || expr[j] >= '0' && expr[j] <= '9' || expr[j] >= 'a' && expr[j] <= 'z' || expr[j] >= 'A' && expr[j] <= 'Z') {
				j++
			}
			if s, ok := in.ExpressionAttributeValues[expr[i:j]].(*types.AttributeValueMemberS); ok {
				k = prefix(s.Value)
			}
		}
	}
	if in.IndexName != nil {
		return *in.IndexName + ":" + k
	}
	return k
}
