package testkit

import (
	"fmt"
	"net/url"
	"strings"
)

// Page is one page of a listing: its items and the cursor of the next page (nil on the last).
type Page[T any] struct {
	Items      []T
	NextCursor *string
}

// Pages reads a listing page by page, as headers: path with limit=<limit> added to its query and, from
// the second page on, cursor=<the previous page's NextCursor>. It fails the test when a page holds more
// than limit items or the listing has not ended after 100 pages, and returns the items in order and the
// number of pages read.
func Pages[T any](e *Env, path string, limit int, headers ...string) ([]T, int) {
	e.T.Helper()
	switch {
	case !strings.Contains(path, "?"):
		path += "?"
	case !strings.HasSuffix(path, "?") && !strings.HasSuffix(path, "&"):
		path += "&"
	}
	path += fmt.Sprintf("limit=%d", limit)
	var all []T
	q := path
	for n := 1; n <= 100; n++ {
		var p Page[T]
		e.Do("GET", q, nil, headers...).Expect(e.T, 200, "").Decode(e.T, &p)
		if len(p.Items) > limit {
			e.T.Fatalf("%s: %d items on a page of %d", q, len(p.Items), limit)
		}
		all = append(all, p.Items...)
		if p.NextCursor == nil {
			return all, n
		}
		q = path + "&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	e.T.Fatalf("%s: the listing does not end after 100 pages", path)
	return nil, 0
}
