package dorm

import (
	"math/rand/v2"
	"testing"
)

// Many small readings cost exactly what one big reading would: no fen lost or invented.
func TestChargeCarriesRemainders(t *testing.T) {
	for _, tariff := range []int64{60, 350, 1, 99, 101} {
		r := rand.New(rand.NewPCG(uint64(tariff), 7))
		var carry, charged, total int64
		for i := 0; i < 5000; i++ {
			delta := r.Int64N(40) // 0–0.39 kWh
			var fen int64
			fen, carry = Charge(delta, tariff, carry)
			charged += fen
			total += delta
			if carry < 0 || carry >= 100 {
				t.Fatalf("carry %d out of range", carry)
			}
			if charged*100+carry != total*tariff {
				t.Fatalf("tariff %d after %d readings: charged %d + carry %d ≠ %d×%d", tariff, i, charged, carry, total, tariff)
			}
		}
		if charged != total*tariff/100 {
			t.Fatalf("tariff %d: charged %d, want %d", tariff, charged, total*tariff/100)
		}
	}
	if fen, carry := Charge(-5, 60, 42); fen != 0 || carry != 42 {
		t.Fatalf("negative delta charged: %d %d", fen, carry)
	}
}

func TestRoomIDs(t *testing.T) {
	b, r, ok := ParseRoomID("WH-8D-1006")
	if !ok || b != "8" || r != "1006" || Label(b, r) != "8栋1006宿舍" {
		t.Fatalf("%s %s %v", b, r, ok)
	}
	for _, bad := range []string{"", "WH-8-1006", "WH-8D-", "WH-8D-1006x", "WH-1234D-1", "WH-8D-1006 x"} {
		if _, _, ok := ParseRoomID(bad); ok {
			t.Errorf("%q accepted", bad)
		}
		if _, ok := CanonicalRoomID(bad); ok {
			t.Errorf("%q canonical", bad)
		}
	}
	// Any case is the same room (issue 13).
	for _, in := range []string{"wh-8d-1006", "Wh-8D-1006", " WH-8D-1006 "} {
		if id, ok := CanonicalRoomID(in); !ok || id != "WH-8D-1006" {
			t.Errorf("%q: %q %v", in, id, ok)
		}
	}
}
