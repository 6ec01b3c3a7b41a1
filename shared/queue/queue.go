// Package queue sends messages to the reader queue: ten per SendMessageBatch, the calls in parallel,
// failed entries retried with backoff. Send returns nil only when the queue took every message, so a
// caller never answers "accepted" for something that is not durably queued.
//
// The reader queue is a FIFO queue (docs/decisions/0013): every message names its message group (the
// unit SQS keeps in order and never hands to two consumers at once) and a deduplication id.
package queue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
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

// Message is one queue message. On a FIFO queue (its URL ends in .fifo) Group is its MessageGroupId and
// Dedup its MessageDeduplicationId, both required; a standard queue takes neither.
type Message struct {
	Body         []byte
	Group, Dedup string
}

// FIFO reports whether url is a FIFO queue's (SQS requires the .fifo suffix).
func FIFO(url string) bool { return strings.HasSuffix(url, ".fifo") }

// Send puts every message on the queue at url.
func Send(ctx context.Context, c Sender, url string, msgs []Message, attempts int) error {
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

func sendChunk(ctx context.Context, c Sender, url string, chunk []Message, attempts int) error {
	fifo := FIFO(url)
	left := make(map[string]Message, len(chunk))
	for i, m := range chunk {
		if fifo && (m.Group == "" || m.Dedup == "") {
			return fmt.Errorf("queue: a message for the FIFO queue %s without a group or a deduplication id", url)
		}
		left[strconv.Itoa(i)] = m
	}
	var last error
	for attempt := 1; ; attempt++ {
		// In the chunk's order: a FIFO queue keeps one group's messages in the order of the entries.
		entries := make([]sqstypes.SendMessageBatchRequestEntry, 0, len(left))
		for i, m := range chunk {
			id := strconv.Itoa(i)
			if _, ok := left[id]; !ok {
				continue
			}
			e := sqstypes.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(string(m.Body))}
			if fifo {
				e.MessageGroupId, e.MessageDeduplicationId = aws.String(m.Group), aws.String(m.Dedup)
			}
			entries = append(entries, e)
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

// HoldGroups completes a batch's failures for a FIFO queue: after a message that failed, every later
// message of its group in the batch fails too, so that nothing of a group is deleted before an earlier
// message of it (SQS returns the failed ones after their visibility timeout, in order; the group delivers
// nothing else meanwhile). A standard queue's messages carry no group and are returned as they are.
func HoldGroups(ev events.SQSEvent, failed []events.SQSBatchItemFailure) []events.SQSBatchItemFailure {
	if len(failed) == 0 {
		return failed
	}
	isFailed := make(map[string]bool, len(failed))
	for _, f := range failed {
		isFailed[f.ItemIdentifier] = true
	}
	held := map[string]bool{} // groups with a failed message so far
	for _, m := range ev.Records {
		g, ok := m.Attributes["MessageGroupId"]
		if !ok {
			continue
		}
		switch {
		case isFailed[m.MessageId]:
			held[g] = true
		case held[g]:
			isFailed[m.MessageId] = true
			failed = append(failed, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return failed
}
