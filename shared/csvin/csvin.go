// Package csvin reads the CSV files staff upload: UTF-8 (an Excel byte-order mark is allowed), an
// optional header line, blank lines skipped, and every row numbered by its physical line so that errors
// can point at it.
package csvin

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"onecard/shared/fault"
)

// Row is one data row: its physical line number and its fields, trimmed.
type Row struct {
	Line   int
	Fields []string
}

// Read parses body. columns names the expected columns ("studentNo,name,idNumber,cardNo"): a first line
// whose first field equals the first column is taken as the header. At most maxRows data rows.
func Read(body []byte, columns string, maxRows int) ([]Row, error) {
	badCSV := fault.Field("BAD_CSV", "CSV 格式错误：应为 UTF-8，列为 "+columns)
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(body) {
		return nil, badCSV
	}
	first, _, _ := strings.Cut(columns, ",")
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var rows []Row
	for isFirst := true; ; isFirst = false {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, badCSV.Wrap(err)
		}
		line, _ := r.FieldPos(0)
		if isFirst && len(rec) > 0 && strings.EqualFold(strings.TrimSpace(rec[0]), first) {
			continue
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		rows = append(rows, Row{Line: line, Fields: rec})
		if len(rows) > maxRows {
			return nil, fault.Field("TOO_MANY_ROWS", "单次最多导入 "+strconv.Itoa(maxRows)+" 行")
		}
	}
	if len(rows) == 0 {
		return nil, fault.Field("EMPTY_CSV", "CSV 中没有数据行")
	}
	return rows, nil
}
