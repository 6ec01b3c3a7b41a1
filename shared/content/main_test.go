package content_test

import (
	"testing"

	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// world is a test's Console: the demo school and a staff member per role.
type world struct{ *testkit.Console }

func newWorld(t *testing.T) *world { return &world{testkit.NewConsole(t)} }
