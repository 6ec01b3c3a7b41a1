package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The section is replaced in place, other sections (the reader pipeline's) are left byte for byte.
func TestWriteSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.md")
	other := "## Reader pipeline\n\nrecords/s: 1234\n"
	if err := os.WriteFile(path, []byte("# Benchmarks\n\nintro\n\n"+other), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeSection(path, Heading, "first\n"); err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\n\nintro\n\n" + other + "\n" + Heading + "\n\nfirst\n"
	if got, _ := os.ReadFile(path); string(got) != want {
		t.Fatalf("append:\n%q\nwant\n%q", got, want)
	}
	// Ours first, theirs after: a rewrite keeps theirs.
	if err := os.WriteFile(path, []byte("# B\n\n"+Heading+"\n\nold\nlines\n\n"+other), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeSection(path, Heading, "new\n"); err != nil {
		t.Fatal(err)
	}
	want = "# B\n\n" + Heading + "\n\nnew\n\n" + other
	if got, _ := os.ReadFile(path); string(got) != want {
		t.Fatalf("replace:\n%q\nwant\n%q", got, want)
	}
}

func TestMedian(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	if m := median(ms(50, 10, 30)); m != 30*time.Millisecond {
		t.Errorf("odd: %v", m)
	}
	if m := median(ms(40, 10, 30, 20)); m != 25*time.Millisecond {
		t.Errorf("even: %v", m)
	}
}
