package dorm

import (
	"testing"

	"onecard/shared/testkit/csvcheck"
)

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("roomId,building,room,elecMeterId,waterMeterId\nWH-8D-1006,8,1006,E1,W1\n"))
	f.Add([]byte("\"a\nb\",c"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := ParseCSV(b)
		if !csvcheck.Parsed(t, rows, err, func(r ImportRow) int { return r.Line }) {
			return
		}
		for _, r := range rows {
			if r.RoomID != "" {
				ParseRoomID(r.RoomID)
			}
		}
	})
}
