package readerrec

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"time"

	"onecard/shared/fault"
)

// walker reads a JSON document token by token, so that every key is matched exactly (case-sensitive, no
// duplicates), every value's JSON type is checked before it is used, and numbers keep their literal text.
type walker struct{ dec tokenizer }

// tokenizer is what the walker needs of encoding/json's Decoder: Token (with UseNumber) and More.
type tokenizer interface {
	Token() (json.Token, error)
	More() bool
}

// newWalker reads body with the fast tokenizer (tokens.go), which yields exactly the tokens and errors
// encoding/json's Decoder would (a test fuzzes one against the other) without its cost per token.
func newWalker(body []byte) *walker { return &walker{dec: newTokens(body)} }

// newStdWalker reads body with encoding/json's Decoder, the reference.
func newStdWalker(body []byte) *walker {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	return &walker{dec: dec}
}

func malformed(cause error) *fault.Error {
	return fault.E(fault.Invalid, "MALFORMED_JSON", "请求体不是合法的 JSON").Wrap(cause)
}

func wrongType(path, want string) *fault.Error {
	return fault.E(fault.Invalid, "WRONG_TYPE", "字段 "+path+" 必须是"+want)
}

func (w *walker) token() (json.Token, error) {
	t, err := w.dec.Token()
	if err != nil {
		return nil, malformed(err)
	}
	return t, nil
}

// object reads an object, calling each for every key; each must consume exactly the key's value.
// A repeated key is malformed; each decides what an unknown key is.
func (w *walker) object(path string, each func(key string) error) error {
	t, err := w.token()
	if err != nil {
		return err
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return wrongType(path, "对象")
	}
	var seen []string
	for w.dec.More() {
		t, err := w.token()
		if err != nil {
			return err
		}
		key, ok := t.(string)
		if !ok {
			return malformed(nil)
		}
		for _, k := range seen {
			if k == key {
				return fault.E(fault.Invalid, "MALFORMED_JSON", "字段 "+join(path, key)+" 重复出现")
			}
		}
		if err := each(key); err != nil {
			return err
		}
		seen = append(seen, key)
	}
	_, err = w.token() // the closing brace
	return err
}

// array reads an array (or null, reported as present=false), calling each with the element's index; each
// must consume exactly one element.
func (w *walker) array(path string, each func(i int) error) (present bool, err error) {
	t, err := w.token()
	if err != nil {
		return false, err
	}
	if t == nil {
		return false, nil
	}
	if d, ok := t.(json.Delim); !ok || d != '[' {
		return false, wrongType(path, "数组")
	}
	for i := 0; w.dec.More(); i++ {
		if err := each(i); err != nil {
			return true, err
		}
	}
	_, err = w.token() // the closing bracket
	return true, err
}

// number reads a JSON number (its literal text) or null (present=false).
func (w *walker) number(path string) (lit string, present bool, err error) {
	n, present, err := scalar[json.Number](w, path, "数字")
	return string(n), present, err
}

// str reads a JSON string or null (present=false).
func (w *walker) str(path string) (s string, present bool, err error) {
	return scalar[string](w, path, "字符串")
}

// scalar reads a JSON value of type T or null (present=false); any other value is wrongType(path, want).
func scalar[T json.Number | string](w *walker, path, want string) (v T, present bool, err error) {
	t, err := w.token()
	if err != nil {
		return v, false, err
	}
	switch t := t.(type) {
	case nil:
		return v, false, nil
	case T:
		return t, true, nil
	default:
		return v, false, wrongType(path, want)
	}
}

// end checks that nothing but whitespace follows the document.
func (w *walker) end() error {
	if _, err := w.dec.Token(); err != io.EOF {
		return fault.E(fault.Invalid, "MALFORMED_JSON", "请求体只能包含一个 JSON 对象")
	}
	return nil
}

func unknownField(path string) error {
	return fault.E(fault.Invalid, "UNKNOWN_FIELD", "不支持的字段: "+path)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// integer parses a JSON number literal that is written as an integer: an optional minus sign and digits,
// no fraction, no exponent, within int64. 1.5, 1e3 and 100.0 are not integers here.
func integer(lit string) (int64, bool) {
	s := lit
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	if len(s) == 0 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	return n, err == nil
}

// intField reads the integer at path into *v; *bad is left true (as the record starts) unless the value
// is a JSON number that is an integer in range. A value of another JSON type is ignored here and judged by
// the caller's validation (bad stays true).
func (w *walker) intField(path string, v *int64, bad *bool) error {
	lit, ok, err := w.number(path)
	if ok {
		*v, ok = integer(lit)
		*bad = !ok
	}
	return err
}

// timeField reads the RFC 3339 time at path into *t, clearing *bad when it parses.
func (w *walker) timeField(path string, t *time.Time, bad *bool) error {
	s, ok, err := w.str(path)
	if ok {
		*t, ok = parseTime(s)
		*bad = !ok
	}
	return err
}

// strField reads the string at path into *s ("" when absent or of another JSON type).
func (w *walker) strField(path string, s *string) error {
	v, _, err := w.str(path)
	*s = v
	return err
}
