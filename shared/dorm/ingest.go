package dorm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"onecard/shared/devices"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
	"onecard/shared/queue"
	"onecard/shared/readerrec"
	"onecard/shared/store"
)

// TypeReading is the queue message type of an accepted meter reading.
const TypeReading = "meter_reading"

// ReadingMessage is one accepted reading on the reader queue.
type ReadingMessage struct {
	Type     string    `json:"type"`
	DeviceID string    `json:"deviceId"`
	SchoolID string    `json:"schoolId"`
	MeterID  string    `json:"meterId"`
	Kind     string    `json:"kind"`
	Reading  int64     `json:"reading"`
	ReadAt   time.Time `json:"readAt"`
}

// Reasons a reading is refused at ingest, besides readerrec's.
const (
	ReasonUnknownMeter = "UNKNOWN_METER" // no such meter in the gateway's school
	ReasonKindMismatch = "KIND_MISMATCH" // an elec reading for a water meter, or the reverse
)

var errQueue = fault.E(fault.Unavailable, "QUEUE_UNAVAILABLE", "暂时无法接收读数，请稍后重发").After(5 * time.Second)

// IngestReadings checks a gateway's batch and queues the acceptable readings; each gets its answer.
func IngestReadings(ctx context.Context, s *store.Store, q queue.Sender, url string, dev *devices.Device, body []byte, now time.Time) ([]readerrec.ReadingResult, error) {
	rs, err := readerrec.DecodeReadings(body)
	if err != nil {
		return nil, err
	}
	reasons := readerrec.ValidateReadings(rs, now)
	keys := make([]store.Key, 0, len(rs))
	for i, r := range rs {
		if reasons[i] == "" {
			keys = append(keys, store.MeterKey(r.MeterID))
		}
	}
	found, err := s.BatchGet(ctx, keys, "", nil)
	if err != nil {
		return nil, err
	}
	results := make([]readerrec.ReadingResult, len(rs))
	var msgs []queue.Message
	for i, r := range rs {
		res := readerrec.ReadingResult{Index: i, MeterID: r.MeterID, Status: readerrec.StatusRejected, Reason: reasons[i]}
		if res.Reason == "" {
			var m Meter
			raw, ok := found[store.MeterKey(r.MeterID)]
			if ok {
				_ = attributevalue.UnmarshalMap(raw, &m)
			}
			switch {
			case !ok || m.SchoolID != dev.SchoolID:
				res.Reason = ReasonUnknownMeter
			case m.Kind != r.Kind:
				res.Reason = ReasonKindMismatch
			case m.Started && !r.ReadAt.After(m.LastReadAt):
				res.Status = readerrec.StatusDuplicate
			default:
				b, _ := json.Marshal(ReadingMessage{Type: TypeReading, DeviceID: dev.DeviceID, SchoolID: dev.SchoolID,
					MeterID: r.MeterID, Kind: r.Kind, Reading: r.Reading, ReadAt: r.ReadAt.UTC()})
				// One group per meter: a meter's readings are charged in order, one batch at a time.
				msgs = append(msgs, queue.Message{Body: b, Group: "meter:" + r.MeterID,
					Dedup: r.MeterID + ":" + strconv.FormatInt(r.ReadAt.UnixNano(), 10)})
				res.Status = readerrec.StatusAccepted
			}
		}
		results[i] = res
	}
	if len(msgs) > 0 {
		if err := queue.Send(ctx, q, url, msgs, 0); err != nil {
			httpapi.Log(ctx).Error("enqueue readings failed", "err", err.Error(), "readings", len(msgs))
			return nil, errQueue.Wrap(err)
		}
	}
	return results, nil
}

// MeterReadings is POST /v1/meter/readings.
var MeterReadings = fn.HTTP{Name: "MeterReadings", Route: "POST /v1/meter/readings", Access: fn.Signed, MaxBody: httpapi.DeviceBodyLimit,
	Actions: append([]string{iam.BatchGetItem, iam.SendMessage}, devices.Actions...),
	Build: func(d *platform.Deps) httpapi.Handler {
		s := d.Store()
		return devices.Handler(d, []string{devices.KindMeterGateway}, func(w http.ResponseWriter, r *http.Request, dev *devices.Device, body []byte) error {
			res, err := IngestReadings(r.Context(), s, d.SQS, d.Cfg.ReaderQueueURL, dev, body, d.Now())
			if err != nil {
				return err
			}
			return httpapi.JSON(w, http.StatusOK, map[string]any{"results": res})
		})
	}}

var errBadReadingMessage = errors.New("dorm: malformed meter reading message")

// DecodeReadingMessage reads a queue message of TypeReading; anything malformed is an error (the
// message goes back to the queue and, after five receives, to the dead-letter queue).
func DecodeReadingMessage(body string) (*Reading, string, error) {
	var m ReadingMessage
	if len(body) > 2048 || json.Unmarshal([]byte(body), &m) != nil || m.Type != TypeReading || !devices.ValidID(m.MeterID) ||
		(m.Kind != Elec && m.Kind != Water) || m.Reading < 0 || m.ReadAt.IsZero() || !devices.ValidID(m.SchoolID) {
		return nil, "", errBadReadingMessage
	}
	return &Reading{MeterID: m.MeterID, Kind: m.Kind, Reading: m.Reading, ReadAt: m.ReadAt}, m.SchoolID, nil
}

// ApplyMessages charges the meter readings of a queue batch and returns the ids of the messages to
// retry: a malformed one (it reaches the dead-letter queue after maxReceiveCount) and any whose charge
// failed. An unknown meter (removed since ingest) is logged and dropped, since retrying cannot help.
func (m Meters) ApplyMessages(ctx context.Context, msgs []events.SQSMessage) (failed []string) {
	var rs []Reading
	var ids []string
	schools := map[string]bool{}
	for _, msg := range msgs {
		r, school, err := DecodeReadingMessage(msg.Body)
		if err != nil {
			httpapi.Log(ctx).Error("poison meter message", "messageId", msg.MessageId)
			failed = append(failed, msg.MessageId)
			continue
		}
		rs = append(rs, *r)
		ids = append(ids, msg.MessageId)
		schools[school] = true
	}
	_, errs := m.Apply(ctx, rs)
	for i, err := range errs {
		switch {
		case errors.Is(err, ErrUnknownMeter):
			httpapi.Log(ctx).Warn("reading for an unknown meter dropped", "meter", rs[i].MeterID)
		case err != nil:
			httpapi.Log(ctx).Error("reading not charged; it will be retried", "meter", rs[i].MeterID, "err", err.Error())
			failed = append(failed, ids[i])
		}
	}
	// Queue the cuts (or restores) these charges call for now, not at the next scheduled settle.
	if m.Power != nil {
		for school := range schools {
			if _, err := m.Power.Settle(ctx, school); err != nil {
				httpapi.Log(ctx).Error("power settle after readings", "school", school, "err", err.Error())
			}
		}
	}
	return failed
}
