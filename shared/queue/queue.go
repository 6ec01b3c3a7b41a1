// Package queue sends messages to the reader queue: ten per SendMessageBatch, the calls in parallel,
// failed entries retried with backoff. Send returns nil only when the queue took every message, so a
// caller never answers "accepted" for something that is not durably queued.
package queue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Sender is the part of the SQS client used here.
type Sender interface {
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
}

// DefaultAttempts bounds the tries per entry.
const DefaultAttempts = 5

// Send puts every message on the queue at url.
func Send(ctx context.Context, c Sender, url string, msgs [][]byte, attempts int) error {
	if url == "" {
		return errors.New("queue: no queue URL configured (READER_QUEUE_URL)")
	}
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, 8) // calls in flight: fewer saves no CPU (measured), only adds latency
	)
	for start := 0; start < len(msgs); start += 10 {
		chunk := msgs[start:min(start+10, len(msgs))]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := sendChunk(ctx, c, url, chunk, attempts); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

func sendChunk(ctx context.Context, c Sender, url string, chunk [][]byte, attempts int) error {
	left := make(map[string][]byte, len(chunk))
	for i, b := range chunk {
		left[strconv.Itoa(i)] = b
	}
	var last error
	for attempt := 1; ; attempt++ {
		entries := make([]sqstypes.SendMessageBatchRequestEntry, 0, len(left))
		for id, b := range left {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(string(b))})
		}
		res, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries})
		if err == nil {
			for _, ok := range res.Successful {
				delete(left, aws.ToString(ok.Id))
			}
			last = nil
			for _, f := range res.Failed {
				last = fmt.Errorf("entry %s: %s %s (sender fault %v)", aws.ToString(f.Id), aws.ToString(f.Code), aws.ToString(f.Message), f.SenderFault)
			}
			if len(left) == 0 {
				return nil
			}
			if last == nil {
				last = fmt.Errorf("%d entries neither successful nor failed", len(left))
			}
		} else {
			last = err
		}
		if attempt >= attempts {
			return last
		}
		backoff := time.Duration(50<<attempt) * time.Millisecond
		select {
		case <-time.After(backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)))):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
