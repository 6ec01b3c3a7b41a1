package secret

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("correct horse")
	if h == h2 {
		t.Fatal("no salt")
	}
	if !CheckPassword(h, "correct horse") || CheckPassword(h, "correct horsE") || CheckPassword("garbage", "x") || CheckPassword("", "") {
		t.Fatal("check")
	}
}

func TestDigest(t *testing.T) {
	a, b := NewDigester([]byte("k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1")), NewDigester([]byte("k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2"))
	if a.Digest("id", "x") == b.Digest("id", "x") || a.Digest("id", "x") == a.Digest("code", "x") {
		t.Fatal("digest ignores key or purpose")
	}
	if !a.Equal(a.Digest("id", "x"), "id", "x") || a.Equal(a.Digest("id", "x"), "id", "y") {
		t.Fatal("equal")
	}
	c, err := Code(6)
	if err != nil || len(c) != 6 {
		t.Fatal(c, err)
	}
}

func TestSealOpens(t *testing.T) {
	d := NewDigester([]byte("0123456789abcdef0123456789abcdef"))
	s1, s2 := d.Seal("phone", "13800000001"), d.Seal("phone", "13800000001")
	if s1 == s2 || strings.Contains(s1, "13800000001") {
		t.Fatalf("seal is deterministic or clear: %q %q", s1, s2)
	}
	if got, err := d.Open("phone", s1); err != nil || got != "13800000001" {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := d.Open("email", s1); err == nil {
		t.Fatal("a sealed phone opened as an email")
	}
	other := NewDigester([]byte("another key, another key, again!"))
	if _, err := other.Open("phone", s1); err == nil {
		t.Fatal("opened under another key")
	}
	for _, bad := range []string{"", "v1.", "v1.%%%", "v2.abcd", s1[:len(s1)-2]} {
		if _, err := d.Open("phone", bad); err == nil {
			t.Fatalf("opened %q", bad)
		}
	}
}
