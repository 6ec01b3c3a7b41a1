// Package reports answers the finance office's reports (recharges by channel, dorm consumption by
// building, the cards' outstanding balance), each as JSON or, with ?format=csv, as a CSV file that
// Excel opens as it is: UTF-8 with a byte-order mark, Chinese headers, amounts in 元 with two decimals.
// Every figure is summed from the ledger's entries and clearing entries, never from raw records.
package reports

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"strconv"

	"onecard/shared/fault"
)

// ErrBadFormat is a ?format= other than json or csv.
var ErrBadFormat = fault.Field("BAD_FORMAT", "format 须为 json 或 csv")

// WantCSV tells whether the request asks for CSV (?format=csv); json or nothing is JSON.
func WantCSV(r *http.Request) (bool, error) {
	switch r.URL.Query().Get("format") {
	case "", "json":
		return false, nil
	case "csv":
		return true, nil
	}
	return false, ErrBadFormat
}

// Yuan formats fen as 元 with two decimals ("1234.05", "-0.50"), never through a float.
func Yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return sign + strconv.FormatInt(fen/100, 10) + "." + string(rune('0'+fen%100/10)) + string(rune('0'+fen%10))
}

// CSV writes rows (the first the header) as an attachment named filename: UTF-8 with a BOM and CRLF line
// ends, which Excel opens without an import dialog.
func CSV(w http.ResponseWriter, filename string, rows [][]string) error {
	var b bytes.Buffer
	b.WriteString("\uFEFF")
	cw := csv.NewWriter(&b)
	cw.UseCRLF = true
	for _, row := range rows {
		safe := make([]string, len(row))
		for i, c := range row {
			safe[i] = cell(c)
		}
		if err := cw.Write(safe); err != nil {
			return err
		}
	}
	cw.Flush()
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(filename))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b.Bytes())
	return err
}

// cell keeps a text cell from being read as a formula by a spreadsheet (=, +, @ and a leading minus
// that is not a number): it gets a leading apostrophe.
func cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + s
	case '-':
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}
