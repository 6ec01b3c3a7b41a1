package secret

import "testing"

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
