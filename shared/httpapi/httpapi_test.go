package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"onecard/shared/fault"
)

// post serves a POST of body with h, as the router does (an error answers through WriteError), and
// returns the status and body.
func post(h Handler, body string) (int, string) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/x", strings.NewReader(body))
	if err := h(rec, req); err != nil {
		WriteError(rec, req, err)
	}
	return rec.Code, rec.Body.String()
}

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

func TestCommandDecodesCallsAndAnswers204(t *testing.T) {
	var got string
	h := Command(64, func(r *http.Request, in *struct {
		Name string `json:"name"`
	}) error {
		got = in.Name
		if in.Name == "refused" {
			return fault.Field("BAD_NAME", "名称不正确")
		}
		return nil
	})
	run := func(body string) (int, string) { return post(h, body) }
	if code, _ := run(`{"name":"张三"}`); code != 204 || got != "张三" {
		t.Fatalf("ok body: %d, call saw %q", code, got)
	}
	got = ""
	if code, body := run(`{"nom":"x"}`); code != 400 || got != "" || !strings.Contains(body, "UNKNOWN_FIELD") {
		t.Fatalf("unknown field: %d %s, call saw %q", code, body, got)
	}
	if code, body := run(`{"name":"refused"}`); code != 400 || !strings.Contains(body, "BAD_NAME") {
		t.Fatalf("refusal: %d %s", code, body)
	}
}

func TestMakeAnswers201ThenTheSame200(t *testing.T) {
	made := map[string]bool{}
	calls := 0
	h := Make(64, func(r *http.Request, in *struct {
		Name string `json:"name"`
	}) (map[string]string, bool, error) {
		calls++
		if in.Name == "" {
			return nil, false, fault.Field("BAD_NAME", "请填写名称")
		}
		created := !made[in.Name]
		made[in.Name] = true
		return map[string]string{"name": in.Name}, created, nil
	})
	run := func(body string) (int, string) { return post(h, body) }
	if code, body := run(`{"name":"一食堂"}`); code != 201 || !strings.Contains(body, `"name":"一食堂"`) {
		t.Fatalf("first: %d %s", code, body)
	}
	if code, body := run(`{"name":"一食堂"}`); code != 200 || !strings.Contains(body, `"name":"一食堂"`) {
		t.Fatalf("again: %d %s", code, body)
	}
	if code, body := run(`{"name":""}`); code != 400 || !strings.Contains(body, "请填写名称") {
		t.Fatalf("refusal: %d %s", code, body)
	}
	before := calls
	if code, _ := run(`not json`); code != 400 || calls != before {
		t.Fatalf("a bad body must be refused before the call: %d, %d calls", code, calls-before)
	}
}

func TestActAndAnswerAnswer200OrTheError(t *testing.T) {
	act := Act(64, func(r *http.Request, in *struct {
		N int `json:"n"`
	}) (map[string]int, error) {
		return map[string]int{"double": in.N * 2}, nil
	})
	rec := httptest.NewRecorder()
	if err := act(rec, httptest.NewRequest("POST", "/x", strings.NewReader(`{"n":21}`))); err != nil || rec.Code != 200 || !strings.Contains(rec.Body.String(), `"double":42`) {
		t.Fatalf("act: %v %d %s", err, rec.Code, rec.Body.String())
	}
	answer := Answer(func(r *http.Request) ([]string, error) {
		if r.URL.Query().Get("q") == "" {
			return nil, fault.Field("NO_QUERY", "请输入查询条件")
		}
		return []string{r.URL.Query().Get("q")}, nil
	})
	rec = httptest.NewRecorder()
	if err := answer(rec, httptest.NewRequest("GET", "/x?q=a", nil)); err != nil || rec.Code != 200 || rec.Body.String() != "[\"a\"]\n" && rec.Body.String() != "[\"a\"]" {
		t.Fatalf("answer: %v %d %q", err, rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	if err := answer(rec, httptest.NewRequest("GET", "/x", nil)); !fault.Is(err, "NO_QUERY") || rec.Body.Len() != 0 {
		t.Fatalf("an error must come back unwritten: %v %q", err, rec.Body.String())
	}
}
