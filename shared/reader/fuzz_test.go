package reader_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"onecard/shared/reader"
)

// A queue message is outside input for the consumer: whatever the body, decoding neither panics nor
// lets through a record it could not post, and what it returns survives a round trip.
func FuzzDecodeMessage(f *testing.F) {
	one := reader.Message{Type: reader.TypeRecord, DeviceID: "POS-CANTEEN-01", SchoolID: "kmmc", Merchant: "第一食堂",
		Seq: 1795665600001, OccurredAt: time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC), Kind: "purchase", AmountFen: 800,
		CardNo: "10000001", CodeID: "kmmc:10000001:0123456789abcdef", CodeExpiresAt: 1795579260}
	good, _ := json.Marshal(one)
	packed := `{"type":"reader_records","deviceId":"POS-CANTEEN-01","schoolId":"kmmc","merchant":"第一食堂","receivedAt":"2026-11-25T04:00:01Z",` +
		`"records":[{"seq":7,"occurredAt":"2026-11-25T04:00:00Z","kind":"purchase","amountFen":800,"cardNo":"10000001"},` +
		`{"seq":8,"occurredAt":"2026-11-25T04:00:00.5Z","kind":"hot_water","amountFen":15,"cardNo":"10000002","codeId":"kmmc:10000002:ab","codeExpiresAt":1795579260}]}`
	for _, s := range []string{string(good), packed, `{}`, `{"type":"reader_record","seq":"x"}`, `null`, `[]`,
		`{"type":"reader_record","seq":1e3}`, `{"type":"reader_records","records":[]}`, `{"type":"reader_records","deviceId":"D1","schoolId":"k","merchant":"m","records":[{"seq":1}]}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		ms, err := reader.DecodeMessage(body)
		if err != nil {
			return
		}
		if len(ms) == 0 {
			t.Fatal("no error and no record")
		}
		for _, m := range ms {
			if m.Seq < 1 || m.AmountFen < 1 || m.CardNo == "" || m.DeviceID == "" || m.OccurredAt.IsZero() || (m.Kind != "purchase" && m.Kind != "hot_water") {
				t.Fatalf("accepted a record it cannot post: %+v", m)
			}
			again, _ := json.Marshal(m)
			m2, err := reader.DecodeMessage(string(again))
			if err != nil || len(m2) != 1 || m2[0].Seq != m.Seq || m2[0].AmountFen != m.AmountFen || m2[0].CardNo != m.CardNo || !m2[0].OccurredAt.Equal(m.OccurredAt) {
				t.Fatalf("round trip: %+v %v", m2, err)
			}
		}
	})
}

// The ingest's packed messages decode to exactly the records it accepted, with the device's part on each.
func TestPackedMessageDecodes(t *testing.T) {
	packed := `{"type":"reader_records","deviceId":"POS-CANTEEN-01","schoolId":"kmmc","merchant":"第一食堂","receivedAt":"2026-11-25T04:00:01Z",` +
		`"records":[{"seq":7,"occurredAt":"2026-11-25T04:00:00Z","kind":"purchase","amountFen":800,"cardNo":"10000001"},` +
		`{"seq":8,"occurredAt":"2026-11-25T04:00:00.5Z","kind":"hot_water","amountFen":15,"cardNo":"10000002","codeId":"kmmc:10000002:ab","codeExpiresAt":1795579260}]}`
	ms, err := reader.DecodeMessage(packed)
	if err != nil || len(ms) != 2 {
		t.Fatalf("%v %d", err, len(ms))
	}
	recv := time.Date(2026, 11, 25, 4, 0, 1, 0, time.UTC)
	want := []reader.Message{
		{Type: reader.TypeRecord, DeviceID: "POS-CANTEEN-01", SchoolID: "kmmc", Merchant: "第一食堂", Seq: 7,
			OccurredAt: time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC), Kind: "purchase", AmountFen: 800, CardNo: "10000001", ReceivedAt: recv},
		{Type: reader.TypeRecord, DeviceID: "POS-CANTEEN-01", SchoolID: "kmmc", Merchant: "第一食堂", Seq: 8,
			OccurredAt: time.Date(2026, 11, 25, 4, 0, 0, 5e8, time.UTC), Kind: "hot_water", AmountFen: 15, CardNo: "10000002",
			CodeID: "kmmc:10000002:ab", CodeExpiresAt: 1795579260, ReceivedAt: recv},
	}
	for i := range want {
		g := *ms[i]
		if !g.OccurredAt.Equal(want[i].OccurredAt) || !g.ReceivedAt.Equal(want[i].ReceivedAt) {
			t.Fatalf("record %d times: %+v", i, g)
		}
		g.OccurredAt, g.ReceivedAt = want[i].OccurredAt, want[i].ReceivedAt
		if g != want[i] {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, g, want[i])
		}
	}
	// One bad record makes the whole message poison: nothing of it is posted wrong.
	bad := strings.Replace(packed, `"amountFen":15`, `"amountFen":0`, 1)
	if _, err := reader.DecodeMessage(bad); err == nil {
		t.Fatal("a message with a zero amount was read")
	}
}

// ?since= comes from devices.
func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"", "0", "1795579200000000", "-1", "1e9", "99999999999999999999", "00012", " 1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := reader.ParseSince([]string{s})
		if err != nil {
			return
		}
		if v < 0 || (s != "" && strconv.FormatInt(v, 10) != trimZeros(s)) {
			t.Fatalf("%q read as %d", s, v)
		}
	})
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}
