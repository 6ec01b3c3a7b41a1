package readerrec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"onecard/shared/fault"
)

// The fast tokenizer gives the token stream encoding/json's Decoder gives: the same tokens, More at
// every step, and an error (or EOF) at the same place.
func FuzzTokensMatchDecoder(f *testing.F) {
	for _, s := range []string{
		`{"records":[{"seq":1,"occurredAt":"2026-11-25T12:00:00+08:00","kind":"purchase","amountFen":800,"cardNo":"10000001"}]}`,
		`{"a":[1,-0,2.5e+3,-1E-2,true,false,null,"x\u0041\n\"",{"b":{}},[]]}`, `{} {}`, `{}x`, `[1,]`, `{"a" 1}`, `{"a":1,}`,
		`01`, `-`, `1.`, `1e`, `"\x"`, "\"\xff\"", `nul`, `truefalse`, `[,1]`, `{,}`, " \t\n", `"\u00e9"`, "{\"k\":\"\x01\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		std := json.NewDecoder(bytes.NewReader(body))
		std.UseNumber()
		fast := newTokens(body)
		for step := 0; step < 10000; step++ {
			if a, b := std.More(), fast.More(); a != b {
				t.Fatalf("step %d: More %v, fast %v", step, a, b)
			}
			ta, ea := std.Token()
			tb, eb := fast.Token()
			if (ea == nil) != (eb == nil) || (ea == io.EOF) != (eb == io.EOF) {
				t.Fatalf("step %d: Decoder %v %v, fast %v %v", step, ta, ea, tb, eb)
			}
			if ea != nil {
				return
			}
			if fmt.Sprintf("%T %v", ta, ta) != fmt.Sprintf("%T %v", tb, tb) {
				t.Fatalf("step %d: Decoder %T %v, fast %T %v", step, ta, ta, tb, tb)
			}
		}
	})
}

// And so the batch decoders answer alike.
func FuzzDecodeBatchMatchesDecoder(f *testing.F) {
	f.Add([]byte(rec(base + `,"cardNo":"10000001"`)))
	f.Add([]byte(`{"records":[{"seq":1.5,"amountFen":1e3,"kind":"\u0070urchase"}]}`))
	f.Add([]byte(`{"records":[{"seq":1,"seq":2}]}`))
	f.Add([]byte(`{"readings":[{"meterId":"M1","kind":"elec","reading":1,"readAt":"2026-11-25T11:00:00+08:00"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, which := range []string{"records", "readings"} {
			fastOut, fastErr := decodeWith(body, which, newWalker)
			stdOut, stdErr := decodeWith(body, which, newStdWalker)
			if code(fastErr) != code(stdErr) || fastOut != stdOut {
				t.Fatalf("%s: fast %s %v\nstd  %s %v", which, fastOut, fastErr, stdOut, stdErr)
			}
		}
	})
}

func code(err error) string {
	if err == nil {
		return ""
	}
	if fe, ok := fault.As(err); ok {
		return fe.Code
	}
	return err.Error()
}

// decodeWith runs the batch decoders with the given walker.
func decodeWith(body []byte, which string, mk func([]byte) *walker) (string, error) {
	var v any
	var err error
	if which == "records" {
		v, err = decodeBatch(mk(body), len(body))
	} else {
		v, err = decodeReadings(mk(body), len(body))
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%+v", v), nil
}
