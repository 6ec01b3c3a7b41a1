// Package csvcheck holds the promise every CSV import parser (built on shared/csvin) makes to a fuzzer:
// whatever the bytes, it refuses with a public error (a *fault.Error, shown to staff) or returns rows
// that each carry their line number. It is apart from testkit because the parsers' own (internal) tests
// use it, and testkit imports those packages.
package csvcheck

import (
	"testing"

	"onecard/shared/fault"
)

// Parsed fails t unless err is public or every row has a line number (line reads it); it reports
// whether rows came back (err is nil), for checks of the caller's own.
func Parsed[R any](t *testing.T, rows []R, err error, line func(R) int) bool {
	t.Helper()
	if err != nil {
		if _, ok := fault.As(err); !ok {
			t.Fatalf("non-public error %v", err)
		}
		return false
	}
	for _, r := range rows {
		if line(r) < 1 {
			t.Fatalf("row without a line number: %+v", r)
		}
	}
	return true
}
