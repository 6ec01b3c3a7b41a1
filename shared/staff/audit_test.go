package staff_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"onecard/infra/seed"
	"onecard/shared/auth"
	"onecard/shared/staff"
	"onecard/shared/testkit"
)

// The audit trail filters on the server: by actor, by the start of the action, by part of the target and
// by China days (from/to included); a filtered trail pages without losing or repeating a record, even
// when a page stops early at the read cap; a bad date is refused.
func TestAuditTrailFilters(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	s := w.Deps.Store()
	// 24 records from 2026-11-24 20:00 China time, one an hour, by two members, on cards and staff.
	start := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	type rec struct{ actor, action, target, day string }
	var all []rec
	for i := range 24 {
		at := start.Add(time.Duration(i) * time.Hour)
		r := rec{"staff:wang", "card.unlock", fmt.Sprintf("card:1000%04d", i), at.In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)}
		if i%3 == 0 {
			r.actor, r.action, r.target = "staff:li", "staff.create", fmt.Sprintf("staff:new%02d", i)
		}
		all = append(all, r)
		if err := staff.Audit(ctx, s, staff.Who{ID: r.actor, School: seed.SchoolID}, r.action, r.target, nil, at); err != nil {
			t.Fatal(err)
		}
	}
	adm := w.StaffOf(auth.RoleAdmin)
	pages := func(query string, limit int) (got []string, n int) {
		t.Helper()
		items, n := testkit.Pages[struct{ Actor, Action, Target, At string }](w.Env, "/v1/admin/audit?"+query, limit, adm...)
		for _, it := range items {
			got = append(got, it.Actor+" "+it.Action+" "+it.Target)
		}
		return got, n
	}
	want := func(keep func(rec) bool) []string {
		var out []string
		for i := len(all) - 1; i >= 0; i-- {
			if keep(all[i]) {
				out = append(out, all[i].actor+" "+all[i].action+" "+all[i].target)
			}
		}
		return out
	}
	for _, c := range []struct {
		query string
		keep  func(rec) bool
	}{
		{"actor=li", func(r rec) bool { return r.actor == "staff:li" }},
		{"actor=staff:wang&action=card.", func(r rec) bool { return r.actor == "staff:wang" }},
		{"action=staff.create&from=2026-11-25&to=2026-11-25", func(r rec) bool { return r.action == "staff.create" && r.day == "2026-11-25" }},
		{"target=00012", func(r rec) bool { return r.target == "card:10000012" }},
		{"from=2026-11-25", func(r rec) bool { return r.day >= "2026-11-25" }},
		{"to=2026-11-24", func(r rec) bool { return r.day == "2026-11-24" }},
		{"actor=nobody", func(rec) bool { return false }},
	} {
		exp := want(c.keep)
		for _, limit := range []int{2, 200} {
			if got, _ := pages(c.query, limit); !slices.Equal(got, exp) {
				t.Errorf("%s, limit %d:\n got %q\nwant %q", c.query, limit, got, exp)
			}
		}
	}
	// The day of a record is its China day: the 24th holds 20:00–23:00 China time, four records.
	if got, _ := pages("to=2026-11-24", 200); len(got) != 4 {
		t.Errorf("the 24th: %q", got)
	}
	// A page that stops at the read cap ends early with a cursor; the pages still hold every record once.
	restore := staff.SetAuditReadCap(5)
	got, n := pages("actor=li", 50)
	restore()
	if exp := want(func(r rec) bool { return r.actor == "staff:li" }); !slices.Equal(got, exp) || n < 3 {
		t.Errorf("capped: %d pages, %q", n, got)
	}
	w.Do("GET", "/v1/admin/audit?from=2026-11-31", nil, adm...).Expect(t, 400, "BAD_DATE")
	w.Do("GET", "/v1/admin/audit?from=2026-11-26&to=2026-11-25", nil, adm...).Expect(t, 400, "BAD_DATE")
	w.Do("GET", "/v1/admin/audit?actor=li&cursor=bm90LWEta2V5", nil, adm...).Expect(t, 400, "BAD_CURSOR")
	w.Do("GET", "/v1/admin/audit?actor=li", nil, w.StaffOf(auth.RoleFinance)...).Expect(t, 403, "FORBIDDEN")
}
