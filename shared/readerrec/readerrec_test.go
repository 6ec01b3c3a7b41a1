package readerrec

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"onecard/shared/fault"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.FixedZone("CST", 8*3600))

const maxFen = 100000

const goodCode = "OC1.AQlrbW1jMjAyNmEEa21tYwgxMDAwMDAwMWsGXUBrBl18ASNFZ4mrze8AAE4g.D3c3YvF2XY6IWLgLB21IJsrCKQd5h8fv8A9J9mb5YCiQ9dRa-9KOzYjW4vhUt8FCziyK9FEPV8e13VBy1wiCCw"

func rec(fields string) string { return `{"records":[{` + fields + `}]}` }

const base = `"seq":1,"occurredAt":"2026-11-25T11:59:00+08:00","kind":"purchase","amountFen":800`

func errCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	fe, ok := fault.As(err)
	if !ok || fe.Kind != fault.Invalid && !(fe.Kind == fault.TooLarge && fe.Code == "BODY_TOO_LARGE") {
		t.Fatalf("not an Invalid fault (or a TooLarge BODY_TOO_LARGE): %v", err)
	}
	return fe.Code
}

func TestDecodeBatchGood(t *testing.T) {
	body := `{"records":[
		{"seq":1795665600001,"occurredAt":"2026-11-25T03:59:00Z","kind":"purchase","amountFen":800,"cardNo":"10000001"},
		{"paymentCode":"` + goodCode + `","cardNo":null,"amountFen":250,"kind":"hot_water","occurredAt":"2026-11-25T11:58:30.250+08:00","seq":2}
	]}`
	recs, err := DecodeBatch([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatal(len(recs))
	}
	r := recs[0]
	if r.Seq != 1795665600001 || r.Kind != "purchase" || r.AmountFen != 800 || r.CardNo != "10000001" || r.PaymentCode != "" ||
		!r.OccurredAt.Equal(time.Date(2026, 11, 25, 3, 59, 0, 0, time.UTC)) {
		t.Fatalf("%+v", r)
	}
	if recs[1].PaymentCode != goodCode || recs[1].CardNo != "" || recs[1].OccurredAt.Nanosecond() != 250e6 {
		t.Fatalf("%+v", recs[1])
	}
	if got := ValidateBatch(recs, now, maxFen); got[0] != "" || got[1] != "" {
		t.Fatalf("%q", got)
	}
}

func TestDecodeBatchErrors(t *testing.T) {
	many := make([]string, 501)
	for i := range many {
		many[i] = "{" + base + `,"cardNo":"10000001"}`
	}
	cases := map[string]struct{ body, want string }{
		"empty":            {"", "MALFORMED_JSON"},
		"spaces":           {"  ", "MALFORMED_JSON"},
		"not json":         {"records=1", "MALFORMED_JSON"},
		"truncated":        {`{"records":[{"seq":1`, "MALFORMED_JSON"},
		"trailing":         {rec(base) + "x", "MALFORMED_JSON"},
		"two docs":         {rec(base) + rec(base), "MALFORMED_JSON"},
		"trailing brace":   {rec(base) + "}", "MALFORMED_JSON"},
		"dup key":          {rec(base + `,"seq":2`), "MALFORMED_JSON"},
		"dup records":      {`{"records":[],"records":[]}`, "MALFORMED_JSON"},
		"array top":        {`[]`, "WRONG_TYPE"},
		"string top":       {`"x"`, "WRONG_TYPE"},
		"unknown top":      {`{"records":[],"device":"x"}`, "UNKNOWN_FIELD"},
		"unknown field":    {rec(base + `,"merchant":"x"`), "UNKNOWN_FIELD"},
		"case mismatch":    {rec(`"Seq":1`), "UNKNOWN_FIELD"},
		"records object":   {`{"records":{}}`, "WRONG_TYPE"},
		"record array":     {`{"records":[[1]]}`, "WRONG_TYPE"},
		"record number":    {`{"records":[1]}`, "WRONG_TYPE"},
		"amount string":    {rec(`"amountFen":"100"`), "WRONG_TYPE"},
		"amount bool":      {rec(`"amountFen":true`), "WRONG_TYPE"},
		"amount object":    {rec(`"amountFen":{"v":1}`), "WRONG_TYPE"},
		"seq string":       {rec(`"seq":"1"`), "WRONG_TYPE"},
		"kind number":      {rec(`"kind":1`), "WRONG_TYPE"},
		"time number":      {rec(`"occurredAt":1795579200`), "WRONG_TYPE"},
		"card number":      {rec(`"cardNo":10000001`), "WRONG_TYPE"},
		"code array":       {rec(`"paymentCode":["x"]`), "WRONG_TYPE"},
		"no records":       {`{"records":[]}`, "NO_RECORDS"},
		"null records":     {`{"records":null}`, "NO_RECORDS"},
		"no records field": {`{}`, "NO_RECORDS"},
		"501":              {`{"records":[` + strings.Join(many, ",") + `]}`, "TOO_MANY_RECORDS"},
		"too large":        {`{"records":[` + strings.Repeat(" ", MaxBodyBytes) + `]}`, "BODY_TOO_LARGE"},
	}
	for name, c := range cases {
		_, err := DecodeBatch([]byte(c.body))
		if got := errCode(t, err); got != c.want {
			t.Errorf("%s: got %q want %q (%v)", name, got, c.want, err)
		}
	}
	// 500 is fine.
	if recs, err := DecodeBatch([]byte(`{"records":[` + strings.Join(many[:500], ",") + `]}`)); err != nil || len(recs) != 500 {
		t.Fatalf("500 records: %v", err)
	}
}

func TestValidateReasons(t *testing.T) {
	cases := []struct {
		fields, want string
	}{
		{base + `,"cardNo":"10000001"`, ""},
		{base + `,"paymentCode":"` + goodCode + `"`, ""},
		{base + `,"cardNo":"10000001","paymentCode":null`, ""},
		{base + `,"cardNo":"","paymentCode":"` + goodCode + `"`, ""},
		// seq
		{strings.Replace(base, `"seq":1`, `"seq":0`, 1) + `,"cardNo":"10000001"`, "BAD_SEQ"},
		{strings.Replace(base, `"seq":1`, `"seq":-5`, 1) + `,"cardNo":"10000001"`, "BAD_SEQ"},
		{strings.Replace(base, `"seq":1`, `"seq":1.5`, 1) + `,"cardNo":"10000001"`, "BAD_SEQ"},
		{strings.Replace(base, `"seq":1`, `"seq":1e3`, 1) + `,"cardNo":"10000001"`, "BAD_SEQ"},
		{strings.Replace(base, `"seq":1`, `"seq":9007199254740992`, 1) + `,"cardNo":"10000001"`, ""},
		{strings.Replace(base, `"seq":1`, `"seq":9007199254740993`, 1) + `,"cardNo":"10000001"`, "BAD_SEQ"},
		{strings.Replace(base, `"seq":1`, `"seq":99999999999999999999999`, 1) + `,"cardNo":"10000001"`, "BAD_SEQ"},
		{strings.Replace(base, `"seq":1,`, ``, 1) + `,"cardNo":"10000001"`, "BAD_SEQ"},
		{strings.Replace(base, `"seq":1`, `"seq":null`, 1) + `,"cardNo":"10000001"`, "BAD_SEQ"},
		// kind
		{strings.Replace(base, `purchase`, `refund`, 1) + `,"cardNo":"10000001"`, "BAD_KIND"},
		{strings.Replace(base, `purchase`, `PURCHASE`, 1) + `,"cardNo":"10000001"`, "BAD_KIND"},
		{strings.Replace(base, `"kind":"purchase",`, ``, 1) + `,"cardNo":"10000001"`, "BAD_KIND"},
		// amount
		{strings.Replace(base, `800`, `1.5`, 1) + `,"cardNo":"10000001"`, "BAD_AMOUNT"},
		{strings.Replace(base, `800`, `1e3`, 1) + `,"cardNo":"10000001"`, "BAD_AMOUNT"},
		{strings.Replace(base, `800`, `800.0`, 1) + `,"cardNo":"10000001"`, "BAD_AMOUNT"},
		{strings.Replace(base, `800`, `0`, 1) + `,"cardNo":"10000001"`, "BAD_AMOUNT"},
		{strings.Replace(base, `800`, `-800`, 1) + `,"cardNo":"10000001"`, "BAD_AMOUNT"},
		{strings.Replace(base, `800`, `-0`, 1) + `,"cardNo":"10000001"`, "BAD_AMOUNT"},
		{strings.Replace(base, `800`, `100000`, 1) + `,"cardNo":"10000001"`, ""},
		{strings.Replace(base, `800`, `100001`, 1) + `,"cardNo":"10000001"`, "BAD_AMOUNT"},
		{strings.Replace(base, `800`, `9223372036854775808`, 1) + `,"cardNo":"10000001"`, "BAD_AMOUNT"},
		{strings.Replace(base, `,"amountFen":800`, ``, 1) + `,"cardNo":"10000001"`, "BAD_AMOUNT"},
		// time
		{strings.Replace(base, `2026-11-25T11:59:00+08:00`, `2026-11-25 11:59:00`, 1) + `,"cardNo":"10000001"`, "BAD_TIME"},
		{strings.Replace(base, `2026-11-25T11:59:00+08:00`, `2026-11-25T11:59:00`, 1) + `,"cardNo":"10000001"`, "BAD_TIME"},
		{strings.Replace(base, `2026-11-25T11:59:00+08:00`, `2026-11-25T11:59:00,5+08:00`, 1) + `,"cardNo":"10000001"`, "BAD_TIME"},
		{strings.Replace(base, `2026-11-25T11:59:00+08:00`, ` 2026-11-25T11:59:00+08:00`, 1) + `,"cardNo":"10000001"`, "BAD_TIME"},
		{strings.Replace(base, `2026-11-25T11:59:00+08:00`, `2026-11-25T12:10:00+08:00`, 1) + `,"cardNo":"10000001"`, ""},
		{strings.Replace(base, `2026-11-25T11:59:00+08:00`, `2026-11-25T12:10:01+08:00`, 1) + `,"cardNo":"10000001"`, "BAD_TIME"},
		{strings.Replace(base, `2026-11-25T11:59:00+08:00`, `2026-11-25T04:10:00Z`, 1) + `,"cardNo":"10000001"`, ""},
		{strings.Replace(base, `2026-11-25T11:59:00+08:00`, `2026-11-25T04:10:01Z`, 1) + `,"cardNo":"10000001"`, "BAD_TIME"},
		{strings.Replace(base, `2026-11-25T11:59:00+08:00`, `2026-10-26T12:00:00+08:00`, 1) + `,"cardNo":"10000001"`, ""},
		{strings.Replace(base, `2026-11-25T11:59:00+08:00`, `2026-10-26T11:59:59+08:00`, 1) + `,"cardNo":"10000001"`, "BAD_TIME"},
		{strings.Replace(base, `"occurredAt":"2026-11-25T11:59:00+08:00",`, ``, 1) + `,"cardNo":"10000001"`, "BAD_TIME"},
		// card or code
		{base, "CARD_OR_CODE"},
		{base + `,"cardNo":"","paymentCode":""`, "CARD_OR_CODE"},
		{base + `,"cardNo":"10000001","paymentCode":"` + goodCode + `"`, "CARD_OR_CODE"},
		{base + `,"cardNo":"123"`, "BAD_CARD_NO"},
		{base + `,"cardNo":"1234"`, ""},
		{base + `,"cardNo":"123456789012345678901"`, "BAD_CARD_NO"},
		{base + `,"cardNo":"1000000X"`, "BAD_CARD_NO"},
		{base + `,"cardNo":"１２３４５"`, "BAD_CARD_NO"},
		{base + `,"paymentCode":"OC1.nope"`, "BAD_PAYMENT_CODE"},
		// order: the first problem wins
		{`"seq":0,"kind":"x","amountFen":0`, "BAD_SEQ"},
		{`"seq":1,"kind":"x","amountFen":0`, "BAD_KIND"},
	}
	for _, c := range cases {
		recs, err := DecodeBatch([]byte(rec(c.fields)))
		if err != nil {
			t.Errorf("%s: decode: %v", c.fields, err)
			continue
		}
		if got := Validate(recs[0], now, maxFen); got != c.want {
			t.Errorf("%s: got %q want %q", c.fields, got, c.want)
		}
	}
}

func TestValidateBuiltRecord(t *testing.T) {
	r := Record{Seq: 7, OccurredAt: now, Kind: KindHotWater, AmountFen: 120, CardNo: "10000003"}
	if got := Validate(r, now, maxFen); got != "" {
		t.Fatal(got)
	}
	if got := Validate(Record{}, now, maxFen); got != ReasonBadSeq {
		t.Fatal(got)
	}
	r.OccurredAt = time.Time{}
	if got := Validate(r, now, maxFen); got != ReasonBadTime {
		t.Fatal(got)
	}
}

func TestDuplicateInBatch(t *testing.T) {
	card := `,"cardNo":"10000001"`
	body := `{"records":[` +
		`{` + base + card + `},` + // seq 1
		`{` + strings.Replace(base, `"seq":1`, `"seq":2`, 1) + card + `},` +
		`{` + base + card + `},` + // seq 1 again
		`{` + strings.Replace(base, `800`, `0`, 1) + card + `},` + // seq 1, also bad amount
		`{` + strings.Replace(base, `"seq":1`, `"seq":0`, 1) + card + `},` +
		`{` + strings.Replace(base, `"seq":1`, `"seq":0`, 1) + card + `},` +
		`{` + strings.Replace(strings.Replace(base, `"seq":1`, `"seq":3`, 1), `800`, `0`, 1) + card + `},` + // seq 3 bad
		`{` + strings.Replace(base, `"seq":1`, `"seq":3`, 1) + card + `}` + // seq 3 again
		`]}`
	recs, err := DecodeBatch([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	got := ValidateBatch(recs, now, maxFen)
	want := []string{"", "", "DUPLICATE_IN_BATCH", "DUPLICATE_IN_BATCH", "BAD_SEQ", "BAD_SEQ", "BAD_AMOUNT", "DUPLICATE_IN_BATCH"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

func TestReadings(t *testing.T) {
	good := `{"meterId":"WH-8D-1006-E","kind":"elec","reading":123456,"readAt":"2026-11-25T11:00:00+08:00"}`
	rs, err := DecodeReadings([]byte(`{"readings":[` + good + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	if r := rs[0]; r.MeterID != "WH-8D-1006-E" || r.Kind != "elec" || r.Reading != 123456 || !r.ReadAt.Equal(now.Add(-time.Hour)) {
		t.Fatalf("%+v", r)
	}
	cases := []struct{ body, want string }{
		{good, ""},
		{strings.Replace(good, `"elec"`, `"water"`, 1), ""},
		{strings.Replace(good, `"elec"`, `"gas"`, 1), "BAD_KIND"},
		{strings.Replace(good, `WH-8D-1006-E`, ``, 1), "BAD_METER_ID"},
		{strings.Replace(good, `WH-8D-1006-E`, `WH 8D`, 1), "BAD_METER_ID"},
		{strings.Replace(good, `WH-8D-1006-E`, strings.Repeat("m", 65), 1), "BAD_METER_ID"},
		{strings.Replace(good, `123456`, `0`, 1), ""},
		{strings.Replace(good, `123456`, `1000000000000`, 1), ""},
		{strings.Replace(good, `123456`, `1000000000001`, 1), "BAD_READING"},
		{strings.Replace(good, `123456`, `-1`, 1), "BAD_READING"},
		{strings.Replace(good, `123456`, `12.5`, 1), "BAD_READING"},
		{strings.Replace(good, `"reading":123456,`, ``, 1), "BAD_READING"},
		{strings.Replace(good, `2026-11-25T11:00:00+08:00`, `yesterday`, 1), "BAD_TIME"},
		{strings.Replace(good, `2026-11-25T11:00:00+08:00`, `2026-12-25T11:00:00+08:00`, 1), "BAD_TIME"},
	}
	for _, c := range cases {
		rs, err := DecodeReadings([]byte(`{"readings":[` + c.body + `]}`))
		if err != nil {
			t.Errorf("%s: %v", c.body, err)
			continue
		}
		if got := ValidateReading(rs[0], now); got != c.want {
			t.Errorf("%s: got %q want %q", c.body, got, c.want)
		}
	}
	for body, want := range map[string]string{
		`{"readings":[]}`: "NO_RECORDS",
		`{"readings":[` + strings.Repeat(good+",", 500) + good + `]}`: "TOO_MANY_RECORDS",
		`{"readings":[{"reading":"1"}]}`:                              "WRONG_TYPE",
		`{"readings":[{"value":1}]}`:                                  "UNKNOWN_FIELD",
		`{"records":[]}`:                                              "UNKNOWN_FIELD",
		`{"readings":[` + good:                                        "MALFORMED_JSON",
	} {
		_, err := DecodeReadings([]byte(body))
		if got := errCode(t, err); got != want {
			t.Errorf("%.60s: got %q want %q", body, got, want)
		}
	}
	dup := `{"readings":[` + good + `,` + strings.Replace(good, "+08:00", "+08:00", 1) + `,` +
		strings.Replace(good, `"elec"`, `"water"`, 1) + `,` + strings.Replace(good, `11:00:00+08:00`, `03:00:00Z`, 1) + `]}`
	rs, err = DecodeReadings([]byte(dup))
	if err != nil {
		t.Fatal(err)
	}
	if got := ValidateReadings(rs, now); fmt.Sprint(got) != fmt.Sprint([]string{"", "DUPLICATE_IN_BATCH", "", "DUPLICATE_IN_BATCH"}) {
		t.Fatalf("%q", got)
	}
}

func checkFault(t *testing.T, err error) {
	if err == nil {
		return
	}
	fe, ok := fault.As(err)
	if !ok || fe.Kind != fault.Invalid || fe.Code == "" || fe.Message == "" {
		t.Fatalf("error is not an Invalid fault: %#v", err)
	}
}

func FuzzDecodeBatch(f *testing.F) {
	f.Add([]byte(rec(base + `,"cardNo":"10000001"`)))
	f.Add([]byte(rec(base + `,"paymentCode":"` + goodCode + `"`)))
	f.Add([]byte(`{"records":[{"seq":1.5,"amountFen":1e3}]}`))
	f.Add([]byte(`{"records":null}`))
	f.Add([]byte(`{"records":[{}],"x":[[[[]]]]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		recs, err := DecodeBatch(body)
		checkFault(t, err)
		if err != nil {
			return
		}
		if len(recs) < 1 || len(recs) > MaxEntries {
			t.Fatalf("%d records", len(recs))
		}
		for i, reason := range ValidateBatch(recs, now, maxFen) {
			r := recs[i]
			if reason == "" && (r.Seq < 1 || r.Seq > MaxSeq || r.AmountFen < 1 || r.AmountFen > maxFen || (r.CardNo == "") == (r.PaymentCode == "")) {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}

func FuzzDecodeReadings(f *testing.F) {
	f.Add([]byte(`{"readings":[{"meterId":"M1","kind":"elec","reading":1,"readAt":"2026-11-25T11:00:00+08:00"}]}`))
	f.Add([]byte(`{"readings":[{"reading":-1.5e9}]}`))
	f.Add([]byte(`{"readings":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rs, err := DecodeReadings(body)
		checkFault(t, err)
		if err != nil {
			return
		}
		for i, reason := range ValidateReadings(rs, now) {
			if r := rs[i]; reason == "" && (r.Reading < 0 || r.Reading > MaxReading || r.MeterID == "") {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}
