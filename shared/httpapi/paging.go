package httpapi

import (
	"net/http"
	"strconv"

	"onecard/shared/fault"
)

// Limit reads ?limit= with a default and a ceiling.
func Limit(r *http.Request, def, max int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, fault.Field("BAD_LIMIT", "limit 必须是 1 到 "+strconv.Itoa(max)+" 之间的整数")
	}
	return n, nil
}
