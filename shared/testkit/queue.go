package testkit

import (
	"context"
	"encoding/json"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"onecard/infra/localstack"
	"onecard/infra/sqsrunner"
	"onecard/shared/catalog"
)

var envQueues sync.Map // *Env → localstack.Queues

// Queues creates this test's own copies of the template's queues (same attributes: visibility timeout,
// redrive policy to the DLQ after maxReceiveCount), points the API at them and returns their URLs by
// LogicalId. They are deleted when the test ends. Calling it again returns the same queues.
func (e *Env) Queues() localstack.Queues {
	e.T.Helper()
	if q, ok := envQueues.Load(e); ok {
		return q.(localstack.Queues)
	}
	prefix := strings.ReplaceAll(UniqueName(e.T), ".", "-") + "-"
	qs, err := localstack.CreateQueues(context.Background(), e.Deps.SQS, Template(e.T), prefix)
	if err != nil {
		e.T.Fatal("create queues:", err)
	}
	e.T.Cleanup(func() {
		envQueues.Delete(e)
		for _, url := range qs {
			_, _ = e.Deps.SQS.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &url})
		}
	})
	envQueues.Store(e, qs)
	e.Deps.Cfg.ReaderQueueURL = qs["ReaderQueue"]
	return qs
}

// Consumer runs the catalog function triggered by queue (a LogicalId, e.g. "ReaderQueue") on this test's
// copy of it, as Lambda's event source mapping would with the template's batch size, window, timeout and
// concurrency, until the test ends. tune may adjust the runner before it starts (a shorter visibility
// timeout for a test that waits for redelivery, a wrapped handler to simulate a crash).
func (e *Env) Consumer(queue string, tune ...func(*sqsrunner.Runner)) *sqsrunner.Runner {
	e.T.Helper()
	qs := e.Queues()
	for _, ev := range catalog.Events {
		if ev.Queue != queue {
			continue
		}
		r, err := sqsrunner.ForEvent(Template(e.T), ev, e.Deps, qs)
		if err != nil {
			e.T.Fatal(err)
		}
		for _, f := range tune {
			f(r)
		}
		stop := r.Start(context.Background())
		e.T.Cleanup(stop)
		return r
	}
	e.T.Fatalf("no function of shared/catalog consumes %s", queue)
	return nil
}

// RunSchedule invokes the scheduled catalog function name once, as its schedule would, and fails the
// test if it returns an error.
func (e *Env) RunSchedule(name string) {
	e.T.Helper()
	for _, ev := range catalog.Events {
		if ev.Name != name || ev.Schedule == "" {
			continue
		}
		h, ok := ev.Build(e.Deps).(func(context.Context, json.RawMessage) error)
		if !ok {
			e.T.Fatalf("%s: its handler is not func(context.Context, json.RawMessage) error", name)
		}
		if err := h(context.Background(), json.RawMessage(`{}`)); err != nil {
			e.T.Fatalf("%s: %v", name, err)
		}
		return
	}
	e.T.Fatalf("no scheduled function %s in shared/catalog", name)
}

// Import posts csv to an import route as staff (headers) do, expects the job (202), runs ImportRunner
// as its schedule would and decodes the finished job's report into rep.
func (e *Env) Import(path, csv string, rep any, headers ...string) {
	e.T.Helper()
	var j struct{ JobID string }
	e.Do("POST", path, csv, append(headers, "Content-Type", "text/csv")...).Expect(e.T, 202, "").Decode(e.T, &j)
	e.RunSchedule("ImportRunner")
	var done struct {
		Status string
		Report json.RawMessage
	}
	e.Do("GET", "/v1/admin/imports/"+j.JobID, nil, headers...).Expect(e.T, 200, "").Decode(e.T, &done)
	if done.Status != "done" {
		e.T.Fatalf("import job %s is %s after ImportRunner ran", j.JobID, done.Status)
	}
	if rep != nil {
		if err := json.Unmarshal(done.Report, rep); err != nil {
			e.T.Fatal(err)
		}
	}
}
