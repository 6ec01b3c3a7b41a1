package plaintext

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	title := Rule{Max: 5}
	body := Rule{Max: 10, Multiline: true}
	cases := []struct {
		name string
		rule Rule
		in   string
		want string
		p    Problem
	}{
		{"chinese counted as characters", title, " 一卡通通知 ", "一卡通通知", OK},
		{"one character too many", title, "一卡通通知啊", "", TooLong},
		{"empty", title, "  \n ", "", Empty},
		{"empty allowed", Rule{Max: 5, AllowEmpty: true}, " ", "", OK},
		{"markup kept as typed", body, "<b>a</b>", "<b>a</b>", OK},
		{"crlf normalised", body, "a\r\nb\rc", "a\nb\nc", OK},
		{"newline not in a title", title, "a\nb", "", BadChar},
		{"tab in a body", body, "a\tb", "a\tb", OK},
		{"nul", body, "a\x00b", "", BadChar},
		{"escape", body, "a\x1b[31m", "", BadChar},
		{"del", body, "a\x7f", "", BadChar},
		{"c1", body, "a\u0085b", "", BadChar},
		{"bidi override", body, "abc\u202Etxt", "", BadChar},
		{"bidi isolate", body, "\u2066x", "", BadChar},
		{"line separator", body, "a\u2028b", "", BadChar},
		{"replacement character", body, "a\uFFFDb", "", BadChar},
		{"invalid utf-8", body, "a\xffb", "", BadChar},
		{"emoji with zwj", body, "👩\u200d💻", "👩\u200d💻", OK},
	}
	for _, c := range cases {
		got, p := c.rule.Check(c.in)
		if p != c.p || got != c.want {
			t.Errorf("%s: Check(%q) = %q, %v; want %q, %v", c.name, c.in, got, p, c.want, c.p)
		}
	}
}

func FuzzCheck(f *testing.F) {
	f.Add("一卡通\r\n通知", 20, true)
	f.Add("<script>\u202E", 5, false)
	f.Fuzz(func(t *testing.T, s string, max int, multiline bool) {
		if max < 0 || max > 1000 {
			return
		}
		r := Rule{Max: max, Multiline: multiline, AllowEmpty: true}
		out, p := r.Check(s)
		if p != OK {
			return
		}
		// What passes is stable, within the limit, and holds no refused character.
		if again, p2 := r.Check(out); p2 != OK || again != out {
			t.Fatalf("not idempotent: %q -> %q (%v)", out, again, p2)
		}
		if strings.ContainsRune(out, '\r') || (!multiline && strings.ContainsRune(out, '\n')) {
			t.Fatalf("kept a line break it should not: %q", out)
		}
		if n := len([]rune(out)); n > max {
			t.Fatalf("%d characters > %d", n, max)
		}
	})
}

func TestDigits(t *testing.T) {
	cases := []struct {
		s        string
		min, max int
		want     bool
	}{
		{"0123", 1, 4, true}, {"", 0, 3, true}, {"", 1, 3, false}, {"12345", 1, 4, false},
		{"12a4", 1, 8, false}, {"-12", 1, 8, false}, {"１２", 1, 8, false}, {"1 2", 1, 8, false},
	}
	for _, c := range cases {
		if got := Digits(c.s, c.min, c.max); got != c.want {
			t.Errorf("Digits(%q, %d, %d) = %v", c.s, c.min, c.max, got)
		}
	}
}
