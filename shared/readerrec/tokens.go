package readerrec

import (
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

// tokens is a JSON tokenizer with the behaviour of encoding/json's Decoder.Token (UseNumber) and More on
// a complete body: the same tokens (Delim, string, json.Number, bool, nil), with the colons and commas
// checked and consumed, and an error wherever the Decoder would fail. It exists because the Decoder
// builds (and throws away) an error value for every scalar it reads, which made decoding most of the
// ingest's CPU time. Strings with escapes or non-ASCII bytes are decoded by encoding/json itself.
type tokens struct {
	b     []byte
	i     int
	stack []byte // open '{' and '['
	state int
}

const (
	tsValue       = iota // a value: the document, or after a colon or an array comma
	tsAfterTop           // after a whole document: only whitespace, or a next document
	tsArrayFirst         // after '[': a value or ']'
	tsArrayNext          // after an array element: ',' or ']'
	tsObjectFirst        // after '{': a key or '}'
	tsObjectKey          // after an object comma: a key
	tsObjectColon        // after a key: ':' then a value
	tsObjectNext         // after an object value: ',' or '}'
)

var errSyntax = errors.New("readerrec: invalid JSON")

func newTokens(b []byte) *tokens { return &tokens{b: b} }

func (t *tokens) skip() {
	for t.i < len(t.b) {
		switch t.b[t.i] {
		case ' ', '\t', '\n', '\r':
			t.i++
		default:
			return
		}
	}
}

// More reports whether the current array or object has another element (Decoder.More).
func (t *tokens) More() bool {
	t.skip()
	return t.i < len(t.b) && t.b[t.i] != ']' && t.b[t.i] != '}'
}

func (t *tokens) fail() (json.Token, error) {
	t.i = len(t.b)
	return nil, errSyntax
}

// Token returns the next token.
func (t *tokens) Token() (json.Token, error) {
	t.skip()
	if t.i >= len(t.b) {
		return nil, io.EOF // as the Decoder says, even inside an object; the walker treats it as malformed
	}
	c := t.b[t.i]
	switch t.state {
	case tsAfterTop:
		t.state = tsValue
	case tsArrayFirst:
		if c == ']' {
			return t.close()
		}
		t.state = tsValue
	case tsArrayNext:
		switch c {
		case ']':
			return t.close()
		case ',':
			t.i++
			t.state = tsValue
			return t.Token()
		}
		return t.fail()
	case tsObjectFirst:
		if c == '}' {
			return t.close()
		}
		return t.key()
	case tsObjectKey:
		return t.key()
	case tsObjectColon:
		if c != ':' {
			return t.fail()
		}
		t.i++
		t.state = tsValue
		return t.Token()
	case tsObjectNext:
		switch c {
		case '}':
			return t.close()
		case ',':
			t.i++
			t.state = tsObjectKey
			return t.Token()
		}
		return t.fail()
	}
	// A value.
	switch {
	case c == '{' || c == '[':
		t.i++
		t.stack = append(t.stack, c)
		if c == '{' {
			t.state = tsObjectFirst
		} else {
			t.state = tsArrayFirst
		}
		return json.Delim(c), nil
	case c == '"':
		s, ok := t.str()
		if !ok {
			return t.fail()
		}
		t.afterValue()
		return s, nil
	case c == '-' || '0' <= c && c <= '9':
		n, ok := t.number()
		if !ok {
			return t.fail()
		}
		t.afterValue()
		return n, nil
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []struct {
			text string
			val  json.Token
		}{{"true", true}, {"false", false}, {"null", nil}} {
			if len(t.b)-t.i >= len(lit.text) && string(t.b[t.i:t.i+len(lit.text)]) == lit.text {
				t.i += len(lit.text)
				t.afterValue()
				return lit.val, nil
			}
		}
	}
	return t.fail()
}

func (t *tokens) key() (json.Token, error) {
	if t.b[t.i] != '"' {
		return t.fail()
	}
	s, ok := t.str()
	if !ok {
		return t.fail()
	}
	t.state = tsObjectColon
	return s, nil
}

func (t *tokens) close() (json.Token, error) {
	c := t.b[t.i]
	t.i++
	t.stack = t.stack[:len(t.stack)-1]
	t.afterValue()
	if c == '}' {
		return json.Delim('}'), nil
	}
	return json.Delim(']'), nil
}

func (t *tokens) afterValue() {
	switch {
	case len(t.stack) == 0:
		t.state = tsAfterTop
	case t.stack[len(t.stack)-1] == '[':
		t.state = tsArrayNext
	default:
		t.state = tsObjectNext
	}
}

// str reads a string literal at t.i. Plain ASCII without escapes is taken as is; anything else goes
// through encoding/json, so escapes and invalid UTF-8 come out exactly as the Decoder gives them.
func (t *tokens) str() (string, bool) {
	start := t.i
	plain := true
	for j := t.i + 1; j < len(t.b); j++ {
		switch c := t.b[j]; {
		case c == '"':
			t.i = j + 1
			if plain {
				return string(t.b[start+1 : j]), true
			}
			var s string
			if json.Unmarshal(t.b[start:j+1], &s) != nil {
				return "", false
			}
			return s, true
		case c == '\\':
			plain = false
			j++ // the escaped byte cannot end the string
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return "", false
}

// number reads a number literal at t.i with JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (t *tokens) number() (json.Number, bool) {
	b, j := t.b, t.i
	digits := func() bool {
		k := j
		for j < len(b) && '0' <= b[j] && b[j] <= '9' {
			j++
		}
		return j > k
	}
	if j < len(b) && b[j] == '-' {
		j++
	}
	switch {
	case j < len(b) && b[j] == '0':
		j++
	case !digits():
		return "", false
	}
	if j < len(b) && b[j] == '.' {
		j++
		if !digits() {
			return "", false
		}
	}
	if j < len(b) && (b[j] == 'e' || b[j] == 'E') {
		j++
		if j < len(b) && (b[j] == '+' || b[j] == '-') {
			j++
		}
		if !digits() {
			return "", false
		}
	}
	n := json.Number(b[t.i:j])
	t.i = j
	return n, true
}
