package staff

import (
	"context"
	"encoding/base64"
	"net/url"
	"strings"
	"time"

	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/store"
)

// AuditFilter narrows the audit trail: Actor is a member ("staff:wang" or just "wang"), Action the start
// of an action ("card." or "card.unlock"), Target a part of the target; From and To are China days,
// both included. Empty fields do not filter.
type AuditFilter struct {
	Actor, Action, Target string
	From, To              string
}

// Audit trail refusals.
var (
	ErrAuditBadDate   = fault.Field("BAD_DATE", "from 与 to 须为 YYYY-MM-DD 格式的日期，from 不晚于 to")
	ErrAuditBadFilter = fault.Field("BAD_FILTER", "筛选条件过长（最多 64 个字符）")
	ErrAuditBadCursor = fault.Field("BAD_CURSOR", "分页游标无效")
)

// ParseAuditFilter reads the filter of GET /v1/admin/audit (actor, action, target, from, to).
func ParseAuditFilter(q url.Values) (AuditFilter, error) {
	f := AuditFilter{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		Target: strings.TrimSpace(q.Get("target")), From: q.Get("from"), To: q.Get("to")}
	for _, v := range []string{f.Actor, f.Action, f.Target} {
		if len(v) > 64 {
			return f, ErrAuditBadFilter
		}
	}
	for _, d := range []string{f.From, f.To} {
		if d == "" {
			continue
		}
		if t, err := time.ParseInLocation(time.DateOnly, d, chinatime.Zone); err != nil || t.Format(time.DateOnly) != d {
			return f, ErrAuditBadDate
		}
	}
	if f.From != "" && f.To != "" && f.To < f.From {
		return f, ErrAuditBadDate
	}
	return f, nil
}

// AuditView is one record as the audit route shows it: At in China time.
type AuditView struct {
	Event
	At string `json:"at"`
}

// AuditPage is a page of the trail; NextCursor is nil when nothing is left.
type AuditPage struct {
	Items      []AuditView `json:"items"`
	NextCursor *string     `json:"nextCursor"`
}

// auditReadCap bounds the records one request reads when a filter matches few of them: the page then
// ends early (even empty) with a cursor where the reading stopped, so paging stays correct and a
// request stays short.
var auditReadCap = 1000

// skTime is the form of an audit record's sort key (its instant, UTC, fixed width).
const skTime = "2006-01-02T15:04:05.000000000Z"

// AuditQuery reads a page of school's trail, newest first. The days narrow the key range (the sort key
// starts with the record's instant); actor, action and target filter the records read, and the page
// keeps reading until it holds limit records or auditReadCap were read. The cursor is the sort key of
// the last record the page looked at.
func AuditQuery(ctx context.Context, s *store.Store, school string, f AuditFilter, limit int, cursor string) (*AuditPage, error) {
	pk := store.AuditPK(school)
	lo, hi := "0", "9"
	if f.From != "" {
		t, _ := time.ParseInLocation(time.DateOnly, f.From, chinatime.Zone)
		lo = t.UTC().Format(skTime)
	}
	if f.To != "" {
		t, _ := time.ParseInLocation(time.DateOnly, f.To, chinatime.Zone)
		hi = t.AddDate(0, 0, 1).UTC().Format(skTime) // records of the next midnight sort after it ("…Z#id")
	}
	q := store.Query{PK: pk, From: lo, To: hi, Newest: true}
	var conds []string
	names := map[string]string{}
	values := store.Values{}
	if f.Actor != "" {
		actor := f.Actor
		if !strings.Contains(actor, ":") {
			actor = "staff:" + actor
		}
		conds = append(conds, "#ac = :actor")
		names["#ac"] = "actor"
		values[":actor"] = actor
	}
	if f.Action != "" {
		conds = append(conds, "begins_with(#an, :action)")
		names["#an"] = "action"
		values[":action"] = f.Action
	}
	if f.Target != "" {
		conds = append(conds, "contains(#tg, :target)")
		names["#tg"] = "target"
		values[":target"] = f.Target
	}
	filtered := len(conds) > 0
	if filtered {
		q.Filter, q.FilterNames, q.FilterValues = strings.Join(conds, " AND "), names, values
		q.Limit = min(200, auditReadCap)
	} else {
		q.Limit = limit + 1 // one more tells whether a next page exists
	}
	if cursor != "" {
		sk, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(sk) > 64 || string(sk) < lo || string(sk) > hi+"~" {
			return nil, ErrAuditBadCursor
		}
		q.Start = &store.Key{PK: pk, SK: string(sk)}
	}
	page := &AuditPage{Items: []AuditView{}}
	next := func(sk string) {
		c := base64.RawURLEncoding.EncodeToString([]byte(sk))
		page.NextCursor = &c
	}
	read := 0
	for {
		var evs []Event
		last, err := s.Page(ctx, q, &evs)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			if len(page.Items) == limit {
				// A record beyond this page exists: the page ends at the one before.
				next(page.Items[limit-1].SK)
				return page, nil
			}
			page.Items = append(page.Items, AuditView{e, e.At.In(chinatime.Zone).Format(time.RFC3339)})
		}
		if last == nil {
			return page, nil
		}
		read += q.Limit
		if read >= auditReadCap {
			next(last.Key.SK)
			return page, nil
		}
		q.Start = &last.Key
	}
}
