package dorm

import (
	"testing"

	"onecard/shared/fault"
)

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("roomId,building,room,elecMeterId,waterMeterId\nWH-8D-1006,8,1006,E1,W1\n"))
	f.Add([]byte("\"a\nb\",c"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := ParseCSV(b)
		if err != nil {
			if _, ok := fault.As(err); !ok {
				t.Fatalf("non-public error %v", err)
			}
			return
		}
		for _, r := range rows {
			if r.Line < 1 {
				t.Fatalf("row without a line number: %+v", r)
			}
			if r.RoomID != "" {
				ParseRoomID(r.RoomID)
			}
		}
	})
}
