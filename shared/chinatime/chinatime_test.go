package chinatime

import (
	"testing"
	"time"
)

func TestDayTurnsAtChinaMidnight(t *testing.T) {
	cases := map[time.Time]string{
		time.Date(2026, 11, 28, 15, 59, 59, 0, time.UTC): "2026-11-28",
		time.Date(2026, 11, 28, 16, 0, 0, 0, time.UTC):   "2026-11-29",
		time.Date(2026, 6, 30, 16, 0, 0, 0, time.UTC):    "2026-07-01", // no daylight saving in summer
	}
	for at, want := range cases {
		if got := Day(at); got != want {
			t.Errorf("Day(%s) = %s, want %s", at, got, want)
		}
	}
	if _, off := time.Now().In(Zone).Zone(); off != 8*3600 {
		t.Errorf("offset %d", off)
	}
}
