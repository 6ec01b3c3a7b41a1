package load

import (
	"context"
	"regexp"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// Keys counts the partition keys every DynamoDB call of the system reads and writes, from the requests
// themselves (an SDK middleware), so that a key every transaction touches shows at the top.
type Keys struct {
	mu     sync.Mutex
	reads  map[string]int
	writes map[string]int
}

// NewKeys returns an empty count.
func NewKeys() *Keys { return &Keys{reads: map[string]int{}, writes: map[string]int{}} }

// Middleware is the SDK option that counts (dynamodb.Options.APIOptions).
func (k *Keys) Middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountKeys",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			k.count(in.Parameters)
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

var keyValue = regexp.MustCompile(`(:[A-Za-z0-9_]+)`)

func pk(m map[string]types.AttributeValue) string {
	if s, ok := m["PK"].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return "?"
}

func (k *Keys) count(params any) {
	var r, w []string
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		r = append(r, pk(in.Key))
	case *dynamodb.PutItemInput:
		w = append(w, pk(in.Item))
	case *dynamodb.UpdateItemInput:
		w = append(w, pk(in.Key))
	case *dynamodb.DeleteItemInput:
		w = append(w, pk(in.Key))
	case *dynamodb.QueryInput:
		// The partition: the first value the key condition names.
		key := "?"
		if in.KeyConditionExpression != nil {
			if m := keyValue.FindString(*in.KeyConditionExpression); m != "" {
				if s, ok := in.ExpressionAttributeValues[m].(*types.AttributeValueMemberS); ok {
					key = s.Value
				}
			}
		}
		if in.IndexName != nil {
			key = *in.IndexName + ":" + key
		}
		r = append(r, key)
	case *dynamodb.BatchGetItemInput:
		for _, ka := range in.RequestItems {
			for _, key := range ka.Keys {
				r = append(r, pk(key))
			}
		}
	case *dynamodb.TransactGetItemsInput:
		for _, it := range in.TransactItems {
			if it.Get != nil {
				r = append(r, pk(it.Get.Key))
			}
		}
	case *dynamodb.TransactWriteItemsInput:
		for _, it := range in.TransactItems {
			switch {
			case it.Put != nil:
				w = append(w, pk(it.Put.Item))
			case it.Update != nil:
				w = append(w, pk(it.Update.Key))
			case it.Delete != nil:
				w = append(w, pk(it.Delete.Key))
			case it.ConditionCheck != nil:
				r = append(r, pk(it.ConditionCheck.Key))
			}
		}
	case *dynamodb.BatchWriteItemInput:
		for _, reqs := range in.RequestItems {
			for _, q := range reqs {
				switch {
				case q.PutRequest != nil:
					w = append(w, pk(q.PutRequest.Item))
				case q.DeleteRequest != nil:
					w = append(w, pk(q.DeleteRequest.Key))
				}
			}
		}
	}
	k.mu.Lock()
	for _, x := range r {
		k.reads[x]++
	}
	for _, x := range w {
		k.writes[x]++
	}
	k.mu.Unlock()
}

// KeyCount is one partition key and how often it was touched.
type KeyCount struct {
	Key   string
	Count int
	Share float64 // of all reads (or writes)
}

// Top returns the n partition keys most read and most written, and the totals.
func (k *Keys) Top(n int) (reads, writes []KeyCount, totalReads, totalWrites int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	top := func(m map[string]int) ([]KeyCount, int) {
		total := 0
		out := make([]KeyCount, 0, len(m))
		for key, c := range m {
			total += c
			out = append(out, KeyCount{Key: key, Count: c})
		}
		sort.Slice(out, func(i, j int) bool {
			return out[i].Count > out[j].Count || out[i].Count == out[j].Count && out[i].Key < out[j].Key
		})
		if len(out) > n {
			out = out[:n]
		}
		for i := range out {
			out[i].Share = float64(out[i].Count) / float64(max(total, 1))
		}
		return out, total
	}
	reads, totalReads = top(k.reads)
	writes, totalWrites = top(k.writes)
	return
}

// Reset forgets what was counted (after the setup, before the rush).
func (k *Keys) Reset() {
	k.mu.Lock()
	k.reads, k.writes = map[string]int{}, map[string]int{}
	k.mu.Unlock()
}
