// Package dispatch is the reader queue's consumer. Card readers and meter gateways share one queue
// (docs/domain.md); each message names its type, and this hands every message to the domain that owns it:
// reader records to shared/reader, meter readings to shared/dorm. The batch's failures are the union of
// theirs, reported as partial batch failures so only those messages come back.
package dispatch

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"onecard/shared/dorm"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
	"onecard/shared/queue"
	"onecard/shared/reader"
)

// Split sorts a batch by message type; a message whose type is unknown (or unreadable) goes with the
// reader records, whose decoder rejects it as poison.
func Split(ev events.SQSEvent) (records events.SQSEvent, readings []events.SQSMessage) {
	for _, m := range ev.Records {
		var probe struct {
			Type string `json:"type"`
		}
		if json.Unmarshal([]byte(m.Body), &probe) == nil && probe.Type == dorm.TypeReading {
			readings = append(readings, m)
			continue
		}
		records.Records = append(records.Records, m)
	}
	return records, readings
}

// QueueConsumer consumes the reader queue with the reader consumer's settings (the FIFO queue's batches
// of ten messages, up to ten concurrent batches, partial batch failures that hold a failed message's
// group; docs/decisions/0005 and 0013).
var QueueConsumer = fn.Event{Name: "QueueConsumer", Description: "post reader records to the ledger and charge meter readings to dorm accounts",
	Queue: "ReaderQueue", BatchSize: reader.ReaderConsumer.BatchSize, WindowSeconds: reader.ReaderConsumer.WindowSeconds,
	Timeout: reader.ReaderConsumer.Timeout, MaxConcurrency: reader.ReaderConsumer.MaxConcurrency,
	Actions: append(append([]string{}, reader.ReaderConsumer.Actions...),
		iam.GetItem, iam.Query, iam.PutItem, iam.UpdateItem, iam.SendEmail),
	Build: func(d *platform.Deps) any {
		c := reader.NewConsumer(d)
		m := dorm.NewMeters(d)
		return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			records, readings := Split(ev)
			resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
			if len(records.Records) > 0 {
				_, r := c.Process(ctx, records)
				resp.BatchItemFailures = append(resp.BatchItemFailures, r.BatchItemFailures...)
			}
			if len(readings) > 0 {
				mctx := httpapi.WithLogger(ctx, d.Log.With("fn", "QueueConsumer"))
				for _, id := range m.ApplyMessages(mctx, readings) {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: id})
				}
			}
			// FIFO: nothing of a group after a failed message is deleted (docs/decisions/0013).
			resp.BatchItemFailures = queue.HoldGroups(ev, resp.BatchItemFailures)
			return resp, nil
		}
	}}
