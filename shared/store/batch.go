package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// MaxBatchGet is how many keys one BatchGetItem takes.
const MaxBatchGet = 100

// maxBatchAttempts bounds the rounds spent on UnprocessedKeys (DynamoDB returns some under throttling).
const maxBatchAttempts = 8

// BatchGet reads keys with strongly consistent reads, MaxBatchGet per request and the requests in
// parallel, and returns the items found by key. Repeated keys are read once. projection, when not
// empty, limits the attributes returned (PK and SK always come), with names for its #placeholders.
func (s *Store) BatchGet(ctx context.Context, keys []Key, projection string, names map[string]string) (map[Key]map[string]types.AttributeValue, error) {
	uniq := make([]Key, 0, len(keys))
	seen := make(map[Key]bool, len(keys))
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, k)
		}
	}
	out := make(map[Key]map[string]types.AttributeValue, len(uniq))
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
	)
	for start := 0; start < len(uniq); start += MaxBatchGet {
		chunk := uniq[start:min(start+MaxBatchGet, len(uniq))]
		wg.Add(1)
		go func() {
			defer wg.Done()
			items, err := s.batchGetChunk(ctx, chunk, projection, names)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			for _, it := range items {
				pk, _ := it[AttrPK].(*types.AttributeValueMemberS)
				sk, _ := it[AttrSK].(*types.AttributeValueMemberS)
				if pk != nil && sk != nil {
					out[Key{pk.Value, sk.Value}] = it
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

func (s *Store) batchGetChunk(ctx context.Context, keys []Key, projection string, names map[string]string) ([]map[string]types.AttributeValue, error) {
	ka := types.KeysAndAttributes{ConsistentRead: aws.Bool(true)}
	for _, k := range keys {
		ka.Keys = append(ka.Keys, k.AV())
	}
	if projection != "" {
		ka.ProjectionExpression = aws.String("PK, SK, " + projection)
		if len(names) > 0 {
			ka.ExpressionAttributeNames = names
		}
	}
	req := map[string]types.KeysAndAttributes{s.Table: ka}
	var items []map[string]types.AttributeValue
	for attempt := 1; ; attempt++ {
		res, err := s.DB.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fail("store.BatchGet", kind(keys[0]), err)
		}
		items = append(items, res.Responses[s.Table]...)
		left, ok := res.UnprocessedKeys[s.Table]
		if !ok || len(left.Keys) == 0 {
			return items, nil
		}
		if attempt >= maxBatchAttempts {
			return nil, fail("store.BatchGet", kind(keys[0]), fmt.Errorf("%d keys still unprocessed after %d rounds", len(left.Keys), attempt))
		}
		req = map[string]types.KeysAndAttributes{s.Table: left}
		backoff := time.Duration(10<<min(attempt, 5)) * time.Millisecond
		select {
		case <-time.After(backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))):
		case <-ctx.Done():
			return nil, fail("store.BatchGet", kind(keys[0]), ctx.Err())
		}
	}
}
