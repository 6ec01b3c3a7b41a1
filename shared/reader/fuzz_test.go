package reader_test

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"onecard/shared/reader"
)

// A queue message is outside input for the consumer: whatever the body, decoding neither panics nor
// lets through a record it could not post.
func FuzzDecodeMessage(f *testing.F) {
	good, _ := json.Marshal(reader.Message{Type: reader.TypeRecord, DeviceID: "POS-CANTEEN-01", SchoolID: "kmmc", Merchant: "第一食堂",
		Seq: 1795665600001, OccurredAt: time.Date(2026, 11, 25, 4, 0, 0, 0, time.UTC), Kind: "purchase", AmountFen: 800,
		CardNo: "10000001", CodeID: "kmmc:10000001:0123456789abcdef", CodeExpiresAt: 1795579260})
	for _, s := range []string{string(good), `{}`, `{"type":"reader_record","seq":"x"}`, `null`, `[]`, `{"type":"reader_record","seq":1e3}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		m, err := reader.DecodeMessage(body)
		if err != nil {
			return
		}
		if m.Seq < 1 || m.AmountFen < 1 || m.CardNo == "" || m.OccurredAt.IsZero() || (m.Kind != "purchase" && m.Kind != "hot_water") {
			t.Fatalf("accepted a record it cannot post: %+v", m)
		}
		again, _ := json.Marshal(m)
		m2, err := reader.DecodeMessage(string(again))
		if err != nil || m2.Seq != m.Seq || m2.AmountFen != m.AmountFen || m2.CardNo != m.CardNo || !m2.OccurredAt.Equal(m.OccurredAt) {
			t.Fatalf("round trip: %+v %v", m2, err)
		}
	})
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
