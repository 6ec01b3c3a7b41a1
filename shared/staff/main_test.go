package staff_test

import (
	"testing"

	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

const staffPassword = testkit.ConsolePassword

// newWorld is a test's Console: the demo school and a staff member per role.
func newWorld(t *testing.T) *testkit.Console { return testkit.NewConsole(t) }
