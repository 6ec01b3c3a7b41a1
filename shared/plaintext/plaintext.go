// Package plaintext checks the text that staff write and students read (news, notices, help, about).
// Such text is stored and served as plain text, never HTML: clients render it as text, so markup in it
// shows as typed and nothing in it runs. Characters that would render invisibly or deceptively
// (control characters, bidirectional overrides, line separators that break JavaScript string
// literals) are refused rather than silently stripped, so that what is published is exactly what the
// author typed and the author is told why (docs/staff-console.md).
package plaintext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem says why a text was refused.
type Problem int

const (
	OK      Problem = iota
	Empty           // nothing but whitespace, where text is required
	TooLong         // more than the allowed number of characters
	BadChar         // a character that plain text may not hold
)

// Rule is what one field accepts. Characters are Unicode code points, counted after normalisation.
type Rule struct {
	Max        int  // characters
	Multiline  bool // line feeds and tabs allowed (bodies); titles are one line
	AllowEmpty bool
}

// Check normalises s (CRLF and CR become LF, surrounding whitespace is trimmed) and checks it against
// the rule. It returns the text to store.
func (r Rule) Check(s string) (string, Problem) {
	if !utf8.ValidString(s) {
		return "", BadChar
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimSpace(s)
	if s == "" && !r.AllowEmpty {
		return "", Empty
	}
	for _, c := range s {
		if !allowed(c, r.Multiline) {
			return "", BadChar
		}
	}
	if utf8.RuneCountInString(s) > r.Max {
		return "", TooLong
	}
	return s, OK
}

func allowed(c rune, multiline bool) bool {
	switch {
	case c == '\n' || c == '\t':
		return multiline
	case unicode.IsControl(c): // C0, DEL, C1
		return false
	case c == 0x061C, c == 0x200E, c == 0x200F, // bidi marks
		c >= 0x202A && c <= 0x202E, // bidi embeddings and overrides
		c >= 0x2066 && c <= 0x2069: // bidi isolates
		return false
	case c == 0x2028 || c == 0x2029: // line and paragraph separators
		return false
	case c == utf8.RuneError, c == 0xFFFE, c == 0xFFFF: // a decoder's replacement, noncharacters
		return false
	}
	return true
}

// Digits reports whether s is min to max ASCII digits: the shape of the numbers outside input carries
// (card numbers, sequence numbers, amounts in fen) before they are parsed.
func Digits(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
