package cards

import (
	"strings"
	"testing"

	"onecard/shared/fault"
	"onecard/shared/testkit/csvcheck"
)

func TestNormalID(t *testing.T) {
	for _, ok := range []string{"530102200001011237", "53010220010202562X", "53010220010202562x", "530102200203034322"} {
		if _, err := NormalID(ok); err != nil {
			t.Errorf("%s refused", ok)
		}
	}
	for _, bad := range []string{"", "530102200001011238", "5301022000010112", "53010220001301123X", "530102200002301236", "53010220000101123A"} {
		if _, err := NormalID(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	if InitialPassword("53010220010202562X") != "025620" || InitialPassword("530102200001011237") != "011237" {
		t.Fatal("initial password")
	}
	if MaskName("张三") != "张*" || MaskName("欧阳娜娜") != "欧***" || MaskName("王") != "王" {
		t.Fatal("mask")
	}
}

func TestParseStudentCSV(t *testing.T) {
	rows, err := ParseStudentCSV([]byte("\xef\xbb\xbfstudentNo,name,idNumber,cardNo\nCUIK1,张三,1,2\n\nbad,row\n"))
	if err != nil || len(rows) != 2 || rows[0].Name != "张三" || rows[1].StudentNo != "" || rows[1].Line != 4 {
		t.Fatalf("%+v %v", rows, err)
	}
	for _, bad := range []string{"", "\xff\xfe", "a,\"b\n", "studentNo,name,idNumber,cardNo\n"} {
		if _, err := ParseStudentCSV([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := ParseStudentCSV([]byte(strings.Repeat("a,b,c,d\n", MaxImportRows+1))); !fault.Is(err, "TOO_MANY_ROWS") {
		t.Fatalf("row limit: %v", err)
	}
}

// The CSV parser never panics and either refuses with a public error or returns rows with line numbers.
func FuzzParseStudentCSV(f *testing.F) {
	f.Add([]byte("studentNo,name,idNumber,cardNo\nCUIK20230001,张三,530102200001011237,10000001\n"))
	f.Add([]byte("a,\"b\"\"c\",d,e\r\n"))
	f.Add([]byte("\xef\xbb\xbf,,,\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := ParseStudentCSV(b)
		csvcheck.Parsed(t, rows, err, func(r ImportRow) int { return r.Line })
	})
}

func FuzzNormalID(f *testing.F) {
	f.Add("53010220010202562X")
	f.Add("530102200001011237")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := NormalID(s)
		if err == nil && (len(id) != 18 || InitialPassword(id) == "") {
			t.Fatalf("accepted %q as %q", s, id)
		}
	})
}
