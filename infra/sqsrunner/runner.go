// Package sqsrunner is a local stand-in for Lambda's SQS event source mapping: it polls a queue of the
// SQS emulator, gathers batches with the function's BatchSize and MaximumBatchingWindowInSeconds from
// template.yaml, hands each batch to the same handler the Lambda main starts, as the events.SQSEvent
// Lambda would deliver, and deletes what succeeded.
//
// Failures behave as on AWS: a handler error, panic or timeout leaves the whole batch in the queue, and
// with ReportBatchItemFailures only the reported messages stay (a response naming a message that was not
// in the batch fails the whole batch). Nothing is put back explicitly: failed messages return when their
// visibility timeout (the queue's, from the template) runs out, and the queue's redrive policy moves a
// message to the dead-letter queue after maxReceiveCount receives, exactly as the emulator and SQS do.
// (ChangeMessageVisibility would bump the emulator's receive count; see docs/decisions/0002.)
//
// A FIFO queue (the reader queue, docs/decisions/0013) needs nothing more here: the emulator
// (infra/local/sqs.js) never hands a message group in flight to a second receive, and Lambda's FIFO
// trigger has no batching window (Window 0: a batch is what one receive returns, up to ten messages).
package sqsrunner

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"onecard/infra/samtemplate"
	"onecard/shared/fn"
	"onecard/shared/platform"
)

// Handler is an SQS-triggered Lambda handler.
type Handler func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// Client is the part of the SQS client the runner calls.
type Client interface {
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Config is one event source mapping.
type Config struct {
	Function                string
	QueueURL                string
	BatchSize               int
	Window                  time.Duration // MaximumBatchingWindowInSeconds
	Timeout                 time.Duration // the function's timeout: the handler's context deadline
	ReportBatchItemFailures bool
	// Pollers is how many batches may be in flight at once: the template's ScalingConfig.MaximumConcurrency,
	// or five (where Lambda starts before it scales up).
	Pollers int
	// VisibilityTimeout, when set, overrides the queue's own for the messages this runner receives.
	// Leave it zero to use the template's; tests that wait for a redelivery set a short one.
	VisibilityTimeout time.Duration
	Region            string
}

// FromTemplate reads function's SQS trigger from the template. queueURL is the local URL of its queue.
func FromTemplate(t *samtemplate.Template, function, queueURL, region string) (Config, error) {
	for _, f := range t.Functions() {
		if f.Name != function {
			continue
		}
		if f.Queue == "" {
			return Config{}, fmt.Errorf("%s has no SQS trigger in the template", function)
		}
		c := Config{Function: function, QueueURL: queueURL, BatchSize: int(f.Batch), Window: time.Duration(f.Window) * time.Second,
			Timeout: time.Duration(f.Timeout) * time.Second, ReportBatchItemFailures: f.ReportBatchItemFailures,
			Pollers: int(f.MaxConcurrency), Region: region}
		if c.Pollers == 0 {
			c.Pollers = 5 // Lambda's event source mapping starts with five concurrent batches
		}
		if c.BatchSize <= 0 {
			c.BatchSize = 10 // CloudFormation's default for SQS
		}
		return c, nil
	}
	return Config{}, fmt.Errorf("template has no function %s", function)
}

// Stats counts what the runner did.
type Stats struct {
	Invocations   int64 // batches handed to the handler
	Messages      int64 // messages in those batches
	Deleted       int64 // messages deleted after success
	Retried       int64 // messages left to come back (failed items, failed batches)
	BatchFailures int64 // invocations that failed as a whole (error, panic, timeout, bad response)
}

// Runner polls one queue for one handler.
type Runner struct {
	SQS     Client
	Cfg     Config
	Handler Handler
	Log     *slog.Logger

	arn                                              string
	invocations, messages, deleted, retried, batchFn atomic.Int64
}

// Stats returns the counts so far.
func (r *Runner) Stats() Stats {
	return Stats{r.invocations.Load(), r.messages.Load(), r.deleted.Load(), r.retried.Load(), r.batchFn.Load()}
}

// Run polls until ctx ends, then waits for the batches in flight (each bounded by the timeout).
func (r *Runner) Run(ctx context.Context) error {
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	if r.Cfg.BatchSize <= 0 || r.Cfg.Timeout <= 0 || r.Cfg.QueueURL == "" {
		return errors.New("sqsrunner: BatchSize, Timeout and QueueURL are required")
	}
	res, err := r.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &r.Cfg.QueueURL,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return fmt.Errorf("sqsrunner: %w", err)
	}
	r.arn = res.Attributes[string(types.QueueAttributeNameQueueArn)]
	pollers := max(r.Cfg.Pollers, 1)
	var wg sync.WaitGroup
	for i := 0; i < pollers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.poll(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// Start runs the runner in the background; stop ends it and waits.
func (r *Runner) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := r.Run(ctx); err != nil {
			r.Log.Error("sqs runner stopped", "err", err.Error())
		}
	}()
	return func() { cancel(); <-done }
}

func (r *Runner) poll(ctx context.Context) {
	for ctx.Err() == nil {
		msgs := r.collect(ctx)
		if len(msgs) > 0 {
			r.invoke(ctx, msgs)
		}
	}
}

// collect gathers one batch of up to BatchSize messages within the batching window.
//
// Two emulator quirks shape it (AWS behaves better on both counts): its long poll returns early only
// once MaxNumberOfMessages are ready, and a WaitTimeSeconds of 0 is not sent by the SDK, so the queue's
// own 20 s applies. So every receive waits at most one second: it returns at once when ten messages
// are ready and otherwise after that second with what arrived, which is the batching window at work.
// The runner keeps receiving while receives come back full and the batch and the window have room.
func (r *Runner) collect(ctx context.Context) []types.Message {
	var msgs []types.Message
	var start time.Time
	for len(msgs) < r.Cfg.BatchSize {
		in := &sqs.ReceiveMessageInput{QueueUrl: &r.Cfg.QueueURL, MaxNumberOfMessages: int32(min(10, r.Cfg.BatchSize-len(msgs))),
			WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
			// The emulator ignores MessageSystemAttributeNames; the deprecated AttributeNames still works.
			//lint:ignore SA1019 the SQS emulator reads only the deprecated field (docs/decisions/0002)
			AttributeNames:              []types.QueueAttributeName{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}}
		if r.Cfg.VisibilityTimeout > 0 {
			in.VisibilityTimeout = int32(r.Cfg.VisibilityTimeout / time.Second)
		}
		t0 := time.Now()
		res, err := r.SQS.ReceiveMessage(ctx, in)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			r.Log.Warn("sqs receive failed", "err", err.Error())
			sleep(ctx, time.Second)
			continue
		}
		if len(res.Messages) > 0 && len(msgs) == 0 {
			start = t0
		}
		msgs = append(msgs, res.Messages...)
		full := len(res.Messages) == int(in.MaxNumberOfMessages)
		if ctx.Err() != nil || (len(msgs) > 0 && (!full || time.Since(start) >= r.Cfg.Window)) {
			break
		}
	}
	return msgs
}

// Event is the event Lambda delivers for msgs from the queue arn.
func Event(msgs []types.Message, arn, region string) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, 0, len(msgs))}
	for _, m := range msgs {
		rec := events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
			Body: aws.ToString(m.Body), Md5OfBody: aws.ToString(m.MD5OfBody), Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes: m.Attributes, MessageAttributes: map[string]events.SQSMessageAttribute{},
			EventSourceARN: arn, EventSource: "aws:sqs", AWSRegion: region}
		if rec.Attributes == nil {
			rec.Attributes = map[string]string{}
		}
		for k, v := range m.MessageAttributes {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: v.StringValue, BinaryValue: v.BinaryValue,
				StringListValues: v.StringListValues, BinaryListValues: v.BinaryListValues, DataType: aws.ToString(v.DataType)}
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

// invoke runs the handler on one batch and deletes what succeeded.
func (r *Runner) invoke(ctx context.Context, msgs []types.Message) {
	r.invocations.Add(1)
	r.messages.Add(int64(len(msgs)))
	ev := Event(msgs, r.arn, r.Cfg.Region)
	// A shutdown lets the batch in flight finish (as a Lambda invocation would), within the timeout.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.Cfg.Timeout)
	resp, err := r.call(ictx, ev)
	timedOut := ictx.Err() != nil
	cancel()
	failed := map[string]bool{}
	switch {
	case err != nil || timedOut:
		r.batchFailed(len(msgs), "handler failed", err, timedOut)
		return
	case r.Cfg.ReportBatchItemFailures:
		ids := make(map[string]bool, len(msgs))
		for _, m := range msgs {
			ids[aws.ToString(m.MessageId)] = true
		}
		for _, f := range resp.BatchItemFailures {
			if !ids[f.ItemIdentifier] {
				r.batchFailed(len(msgs), "response names a message not in the batch", nil, false)
				return
			}
			failed[f.ItemIdentifier] = true
		}
	}
	var del []types.DeleteMessageBatchRequestEntry
	for i, m := range msgs {
		if !failed[aws.ToString(m.MessageId)] {
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
	}
	r.retried.Add(int64(len(failed)))
	r.delete(del)
}

func (r *Runner) batchFailed(n int, why string, err error, timedOut bool) {
	r.batchFn.Add(1)
	r.retried.Add(int64(n))
	attrs := []any{"function", r.Cfg.Function, "messages", n, "timedOut", timedOut}
	if err != nil {
		attrs = append(attrs, "err", err.Error())
	}
	r.Log.Warn("batch failed: its messages return after the visibility timeout: "+why, attrs...)
}

// call runs the handler, turning a panic into an error as the Lambda runtime reports it.
func (r *Runner) call(ctx context.Context, ev events.SQSEvent) (resp events.SQSEventResponse, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
		}
	}()
	return r.Handler(ctx, ev)
}

// delete removes succeeded messages, ten per call, retrying what the emulator did not take. A message
// that cannot be deleted comes back and is processed again; the handler is idempotent.
func (r *Runner) delete(entries []types.DeleteMessageBatchRequestEntry) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for start := 0; start < len(entries); start += 10 {
		left := entries[start:min(start+10, len(entries))]
		for attempt := 1; len(left) > 0 && attempt <= 5; attempt++ {
			res, err := r.SQS.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &r.Cfg.QueueURL, Entries: left})
			if err != nil {
				r.Log.Warn("sqs delete failed", "err", err.Error())
				sleep(ctx, time.Duration(attempt)*100*time.Millisecond)
				continue
			}
			r.deleted.Add(int64(len(res.Successful)))
			var again []types.DeleteMessageBatchRequestEntry
			for _, f := range res.Failed {
				for _, e := range left {
					if aws.ToString(e.Id) == aws.ToString(f.Id) {
						again = append(again, e)
					}
				}
			}
			left = again
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// ForEvent builds the runner of a queue-triggered catalog function: its handler built from d, its
// trigger's settings read from the template, on the local URL of its queue in queues (LogicalId → URL).
func ForEvent(t *samtemplate.Template, e fn.Event, d *platform.Deps, queues map[string]string) (*Runner, error) {
	url, ok := queues[e.Queue]
	if !ok {
		return nil, fmt.Errorf("sqsrunner: no local queue %s for %s", e.Queue, e.Name)
	}
	cfg, err := FromTemplate(t, e.Name, url, d.AWS.Region)
	if err != nil {
		return nil, err
	}
	h, ok := e.Build(d).(func(context.Context, events.SQSEvent) (events.SQSEventResponse, error))
	if !ok {
		return nil, fmt.Errorf("sqsrunner: %s does not build an SQS handler", e.Name)
	}
	return &Runner{SQS: d.SQS, Cfg: cfg, Handler: h, Log: d.Log.With("runner", e.Name)}, nil
}
