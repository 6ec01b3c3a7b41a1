package httpapi

import (
	"net/http/httptest"
	"strings"
	"testing"

	"onecard/shared/fault"
)

func TestDecodeBytes(t *testing.T) {
	type in struct {
		A int64  `json:"a"`
		B string `json:"b"`
	}
	cases := map[string]string{
		`{"a":1,"b":"x"}`:            "",
		``:                           "EMPTY_BODY",
		`{"a":1.5}`:                  "WRONG_TYPE",
		`{"a":"1"}`:                  "WRONG_TYPE",
		`{"c":1}`:                    "UNKNOWN_FIELD",
		`{"a":1}{"a":2}`:             "MALFORMED_JSON",
		`{"a":1}}`:                   "MALFORMED_JSON",
		`{"a":`:                      "MALFORMED_JSON",
		`[1]`:                        "WRONG_TYPE",
		`{"a":99999999999999999999}`: "WRONG_TYPE",
	}
	for body, code := range cases {
		var v in
		err := DecodeBytes([]byte(body), &v)
		if code == "" && err != nil || code != "" && !fault.Is(err, code) {
			t.Errorf("%s: want %q, got %v", body, code, err)
		}
	}
}

func TestWriteErrorHidesInternals(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, httptest.NewRequest("GET", "/", nil), errString("dynamodb: secret table name"))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "dynamodb") || !strings.Contains(rec.Body.String(), `"INTERNAL"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	WriteError(rec, httptest.NewRequest("GET", "/", nil), fault.E(fault.TooMany, "SLOW", "慢点").After(1500e6))
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("%d %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// Whatever the body, decoding never panics and every refusal is a public 400.
func FuzzDecodeBytes(f *testing.F) {
	f.Add([]byte(`{"phone":"13800000000","password":"x","schoolId":"kmmc"}`))
	f.Add([]byte(`{"amountFen":1e3}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var v struct {
			Phone     string `json:"phone"`
			AmountFen int64  `json:"amountFen"`
			Nested    struct {
				X []int `json:"x"`
			} `json:"nested"`
		}
		if err := DecodeBytes(b, &v); err != nil {
			fe, ok := fault.As(err)
			if !ok || Status(fe.Kind) != 400 {
				t.Fatalf("%q: %v", b, err)
			}
		}
	})
}
