package reader

import (
	"context"
	"net/http"
	"strconv"

	"github.com/aws/aws-lambda-go/events"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/devices"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/ledger"
	"onecard/shared/platform"
	"onecard/shared/readerrec"
	"onecard/shared/secret"
)

func deviceActions(more ...string) []string {
	return append(append([]string{}, devices.Actions...), more...)
}

var readers = []string{devices.KindReader}

// NewIngest builds the ingest from d.
func NewIngest(d *platform.Deps) *Ingest {
	return &Ingest{S: d.Store(), SQS: d.SQS, Keys: KeysFrom(d.Cfg), Now: d.Now,
		QueueURL: func() string { return d.Cfg.ReaderQueueURL }}
}

// NewConsumer builds the consumer from d.
func NewConsumer(d *platform.Deps) *Consumer {
	return &Consumer{S: d.Store(), Now: d.Now, Log: d.Log.With("fn", "ReaderConsumer")}
}

// Device routes (signed by the device; see docs/reader-protocol.md).
var (
	ReaderTransactions = fn.HTTP{Name: "ReaderTransactions", Route: "POST /v1/reader/transactions", Access: fn.Signed,
		MaxBody: httpapi.DeviceBodyLimit, Actions: deviceActions(iam.BatchGetItem, iam.SendMessage),
		Build: func(d *platform.Deps) httpapi.Handler {
			in := NewIngest(d)
			return devices.Handler(d, readers, func(w http.ResponseWriter, r *http.Request, dev *devices.Device, body []byte) error {
				results, err := in.Handle(r.Context(), dev, body)
				if err != nil {
					return err
				}
				var n [3]int
				for _, res := range results {
					switch res.Status {
					case readerrec.StatusAccepted:
						n[0]++
					case readerrec.StatusDuplicate:
						n[1]++
					default:
						n[2]++
					}
				}
				httpapi.Log(r.Context()).Info("reader batch", "records", len(results), "accepted", n[0], "duplicate", n[1], "rejected", n[2])
				return httpapi.JSON(w, http.StatusOK, map[string]any{"results": results})
			})
		}}

	ReaderBlacklist = fn.HTTP{Name: "ReaderBlacklist", Route: "GET /v1/reader/blacklist", Access: fn.Signed,
		MaxBody: httpapi.DeviceBodyLimit, Actions: deviceActions(iam.Query),
		Build: func(d *platform.Deps) httpapi.Handler {
			s := d.Store()
			return devices.Handler(d, readers, func(w http.ResponseWriter, r *http.Request, dev *devices.Device, _ []byte) error {
				since, err := ParseSince(r.URL.Query()["since"])
				if err != nil {
					return err
				}
				ans, err := BlacklistSince(r.Context(), s, dev.SchoolID, since, d.Now())
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, ans)
			})
		}}

	ReaderKeys = fn.HTTP{Name: "ReaderKeys", Route: "GET /v1/reader/keys", Access: fn.Signed,
		MaxBody: httpapi.DeviceBodyLimit, Actions: deviceActions(),
		Build: func(d *platform.Deps) httpapi.Handler {
			keys := KeysFrom(d.Cfg)
			return devices.Handler(d, readers, func(w http.ResponseWriter, r *http.Request, _ *devices.Device, _ []byte) error {
				return httpapi.JSON(w, http.StatusOK, map[string]any{"keys": keys.Published})
			})
		}}
)

// CardPaymentCode is POST /v1/card/payment-code (付款码).
var CardPaymentCode = fn.HTTP{Name: "CardPaymentCode", Route: "POST /v1/card/payment-code", Access: fn.User,
	Actions: []string{iam.GetItem},
	Build: func(d *platform.Deps) httpapi.Handler {
		svc := cards.NewService(d.Store(), secret.NewDigester(d.Cfg.PIIKey), d.Now)
		keys := KeysFrom(d.Cfg)
		return func(w http.ResponseWriter, r *http.Request) error {
			code, err := IssueCode(r.Context(), svc, keys, auth.Must(r.Context()), d.Now())
			if err != nil {
				return err
			}
			return httpapi.JSON(w, http.StatusOK, code)
		}
	}}

// AdminDisputes is GET /v1/admin/disputes: records kept for staff instead of being charged, newest first.
var AdminDisputes = fn.HTTP{Name: "AdminDisputes", Route: "GET /v1/admin/disputes", Access: fn.Staff,
	Roles: []string{auth.RoleFinance}, Actions: []string{iam.Query},
	Build: func(d *platform.Deps) httpapi.Handler {
		s := d.Store()
		return func(w http.ResponseWriter, r *http.Request) error {
			limit, err := httpapi.Limit(r, 50, 200)
			if err != nil {
				return err
			}
			q := r.URL.Query()
			page, err := Disputes(r.Context(), s, auth.Must(r.Context()).School, limit, q.Get("cursor"), q.Get("status"))
			if err != nil {
				return err
			}
			return httpapi.JSON(w, http.StatusOK, page)
		}
	}}

// AdminDisputeResolve is POST /v1/admin/disputes/{deviceId}/{seq}/resolve: finance decide whether the
// student pays a disputed record (charge) or not (waive), with a note; docs/reader-protocol.md.
var AdminDisputeResolve = fn.HTTP{Name: "AdminDisputeResolve", Route: "POST /v1/admin/disputes/{deviceId}/{seq}/resolve",
	Access: fn.Staff, Roles: []string{auth.RoleFinance}, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem},
	Build: func(d *platform.Deps) httpapi.Handler {
		s := d.Store()
		l := ledger.New(s, d.Now)
		return func(w http.ResponseWriter, r *http.Request) error {
			seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
			if err != nil || seq < 1 || seq > readerrec.MaxSeq || !devices.ValidID(r.PathValue("deviceId")) {
				return errNoDispute
			}
			var in struct {
				Decision string `json:"decision"`
				Note     string `json:"note"`
			}
			if err := httpapi.Decode(r, httpapi.AppBodyLimit, &in); err != nil {
				return err
			}
			v, err := ResolveDispute(r.Context(), s, l, auth.Must(r.Context()), r.PathValue("deviceId"), seq, in.Decision, in.Note, d.Now())
			if err != nil {
				return err
			}
			return httpapi.JSON(w, http.StatusOK, v)
		}
	}}

// ReaderConsumer posts the reader queue to the ledger. The queue is FIFO with a message group per card
// shard (docs/decisions/0013): a batch is at most ten messages (SQS's limit for FIFO, no batching window),
// and no two batches hold one card, so concurrent batches do not race and the concurrency may grow
// (ten at most here; docs/benchmarks.md measures 2, 5 and 10). The queue's VisibilityTimeout (180 s) is
// six times the timeout, so a batch still running is never handed to a second invocation. A batch takes
// well under a second on a healthy table; the timeout leaves room for DynamoDB throttling (retried in
// the invocation): a batch that times out holds its groups for the visibility timeout.
var ReaderConsumer = fn.Event{Name: "ReaderConsumer", Description: "post accepted reader records to the ledger",
	Queue: "ReaderQueue", BatchSize: 10, MaxConcurrency: 10, Timeout: 30,
	Actions: []string{iam.BatchGetItem, iam.GetItem, iam.PutItem, iam.UpdateItem, iam.ConditionCheckItem},
	Build: func(d *platform.Deps) any {
		c := NewConsumer(d)
		return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			return c.Handle(ctx, ev)
		}
	}}
