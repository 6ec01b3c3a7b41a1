// Command load is `make load`: a lunch rush on one campus against the whole local system, on loopback
// ports of its own, for a fixed time (infra/load). It prints per-route latency, errors (there must be
// none), the reconcile after the reader queue drained (it must be clean) and the partition keys the rush
// read and wrote most. It exits non-zero on any error or discrepancy.
//
//	go run ./infra/cmd/load -duration 30s -students 100
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"onecard/infra/devstack"
	"onecard/infra/load"
	"onecard/infra/localstack"
	"onecard/shared/ledger"
)

func main() {
	var p load.Plan
	flag.IntVar(&p.Students, "students", 100, "students with a bound, recharged card")
	flag.DurationVar(&p.Duration, "duration", 30*time.Second, "how long the rush lasts")
	flag.IntVar(&p.AppUsers, "app-users", 8, "students using the app at once (card, transactions, a payment code, then a pause)")
	flag.Float64Var(&p.ReaderRate, "reader-rate", 20, "records per second per reader")
	readers := flag.String("readers", "POS-CANTEEN-01,HOTWATER-8D-01", "readers posting (demo device ids)")
	flag.DurationVar(&p.RechargeEvery, "recharge-every", 2*time.Second, "one WeChat recharge every")
	flag.DurationVar(&p.DormEvery, "dorm-every", 3*time.Second, "one dorm recharge by card every")
	flag.Parse()
	p.Readers = strings.Split(*readers, ",")
	if p.Duration > 10*time.Minute || p.Students > 2000 {
		fmt.Fprintln(os.Stderr, "load: at most 10 minutes and 2000 students (it is a bounded local run)")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, p); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, p load.Plan) error {
	root, err := localstack.Root()
	if err != nil {
		return err
	}
	state, err := os.MkdirTemp("", "onecard-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(state)
	keys := load.NewKeys()
	sys, err := devstack.Start(ctx, devstack.Options{Addr: "127.0.0.1:0", SandboxAddr: "127.0.0.1:0", StateDir: state,
		Log: os.Stderr, APILog: io.Discard, Sites: nil,
		DBOptions: []func(*dynamodb.Options){func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, keys.Middleware) }}})
	if err != nil {
		return err
	}
	defer sys.Stop()
	c := load.NewClient(sys.URL, sys.SandboxURL, root)

	t0 := time.Now()
	students, err := c.Setup(ctx, sys.Staff.Username, sys.Staff.Password, p.Students, 8)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if err := drain(ctx, sys); err != nil {
		return err
	}
	fmt.Printf("setup: %d students registered, bound and recharged in %s\n", len(students), time.Since(t0).Round(time.Millisecond))
	c.Reset()
	keys.Reset()

	t1 := time.Now()
	records, err := c.Rush(ctx, p, students)
	if err != nil {
		return err
	}
	rush := time.Since(t1)
	t2 := time.Now()
	if err := drain(ctx, sys); err != nil {
		return err
	}
	drained := time.Since(t2)

	fmt.Printf("\nrush: %s, %d app users, %d readers at %.0f records/s each (%d records accepted), a recharge every %s, a dorm recharge every %s\n",
		rush.Round(time.Millisecond), p.AppUsers, len(p.Readers), p.ReaderRate, records, p.RechargeEvery, p.DormEvery)
	fmt.Printf("the reader queue drained %s after the rush ended\n\n", drained.Round(time.Millisecond))
	fmt.Printf("%-40s %7s %7s %9s %9s\n", "route", "count", "errors", "p50 ms", "p99 ms")
	errorsSeen := 0
	for _, s := range c.Stats() {
		fmt.Printf("%-40s %7d %7d %9.1f %9.1f\n", s.Route, s.Count, s.Errors, float64(s.P50.Microseconds())/1000, float64(s.P99.Microseconds())/1000)
		errorsSeen += s.Errors
		if s.FirstError != "" {
			fmt.Printf("    first error: %.300s\n", s.FirstError)
		}
	}
	reads, writes, nr, nw := keys.Top(8)
	secs := rush.Seconds() + drained.Seconds()
	fmt.Printf("\nDynamoDB during the rush and the drain: %d item reads, %d item writes\n", nr, nw)
	fmt.Println("partition keys most written:")
	for _, k := range writes {
		fmt.Printf("  %6d  %5.1f%%  %6.1f/s  %s\n", k.Count, 100*k.Share, float64(k.Count)/secs, k.Key)
	}
	fmt.Println("partition keys most read:")
	for _, k := range reads {
		fmt.Printf("  %6d  %5.1f%%  %6.1f/s  %s\n", k.Count, 100*k.Share, float64(k.Count)/secs, k.Key)
	}

	rep, err := ledger.New(sys.Deps.Store(), time.Now).Reconcile(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("\nreconcile: ok=%v accounts=%d entries=%d discrepancies=%d\n", rep.OK, rep.Accounts, rep.Entries, len(rep.Discrepancies))
	var fail []string
	if errorsSeen > 0 {
		fail = append(fail, fmt.Sprintf("%d errors", errorsSeen))
	}
	if !rep.OK {
		fail = append(fail, fmt.Sprintf("reconcile found %d discrepancies, first %+v", len(rep.Discrepancies), rep.Discrepancies[0]))
	}
	if len(fail) > 0 {
		return errors.New(strings.Join(fail, "; "))
	}
	return nil
}

// drain waits until the reader queue holds nothing, visible or in flight, twice in a row.
func drain(ctx context.Context, sys *devstack.Running) error {
	url := sys.Queues["ReaderQueue"]
	empty := 0
	deadline := time.Now().Add(3 * time.Minute)
	for empty < 2 {
		if time.Now().After(deadline) {
			return errors.New("the reader queue did not drain in 3 minutes")
		}
		out, err := sys.Deps.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			return err
		}
		if out.Attributes["ApproximateNumberOfMessages"] == "0" && out.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
			empty++
		} else {
			empty = 0
		}
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}
