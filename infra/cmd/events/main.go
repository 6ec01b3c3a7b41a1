// Command events writes a sample event for every function of shared/catalog that has none yet:
//
//	go run ./infra/cmd/events          (make events)
//
// events/<LogicalId>.json is an HTTP API payload 2.0 request for a route (with "Bearer {{userToken}}" or
// "Bearer {{staffToken}}" for signed-in routes, and the device-signature placeholders for device routes),
// an SQS batch for a queue consumer, or an EventBridge Scheduler event for a scheduled function. Existing
// files are never touched: after generating, replace the "{}" body with a realistic one.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"onecard/infra/invoke"
	"onecard/infra/localstack"
	"onecard/infra/samtemplate"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "events:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := localstack.Root()
	if err != nil {
		return err
	}
	wrote := 0
	write := func(f samtemplate.Function, access invoke.Access) error {
		path := invoke.EventPath(root, f.Name)
		if _, err := os.Stat(path); err == nil {
			return nil
		}
		b, err := invoke.Skeleton(f, access, "")
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		wrote++
		fmt.Printf("events: wrote %s: make its values realistic\n", filepath.Join("events", f.Name+".json"))
		return os.WriteFile(path, b, 0o644)
	}
	var errs []error
	for _, tr := range invoke.Triggers() {
		errs = append(errs, write(tr.Function, tr.Access))
	}
	if wrote == 0 {
		fmt.Println("events: every function has an event")
	}
	return errors.Join(errs...)
}
