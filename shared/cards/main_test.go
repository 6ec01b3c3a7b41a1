package cards_test

import (
	"testing"

	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// world is a test environment with the demo school, students and a staff member per role (testkit's World).
type world struct{ *testkit.World }

func newWorld(t *testing.T) *world { return &world{testkit.NewWorld(t)} }

// newSerialWorld is newWorld for a test that must not run beside others (it counts this process's
// secret comparisons); Go runs the parallel tests after the serial ones.
func newSerialWorld(t *testing.T) *world { return &world{testkit.NewSerialWorld(t)} }

// student registers phone, logs in and returns the access token.
func (w *world) student(phone string) []string {
	w.T.Helper()
	return w.Student(phone, "kmmc")
}
