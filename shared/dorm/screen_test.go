package dorm_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"onecard/shared/auth"
	"onecard/shared/dorm"
	"onecard/shared/httpapi"
	"onecard/shared/testkit"
)

type myRooms struct {
	Items []dorm.RoomView
	Max   int
}

func (w *world) myRooms(h []string) []string {
	w.T.Helper()
	var m myRooms
	w.Do("GET", "/v1/me/rooms", nil, h...).Expect(w.T, 200, "").Decode(w.T, &m)
	if m.Max != dorm.MaxMyRooms {
		w.T.Fatalf("max %d", m.Max)
	}
	ids := []string{}
	for _, v := range m.Items {
		ids = append(ids, v.RoomID)
	}
	return ids
}

// "My rooms": saved on the account, at most five, listed in the order saved with labels and balances.
func TestMyRooms(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13600000101", "", "")
	if got := w.myRooms(h); len(got) != 0 {
		t.Fatalf("a new account has rooms: %v", got)
	}
	var v dorm.RoomView
	w.Do("PUT", "/v1/me/rooms/wh-8d-1006", nil, h...).Expect(t, 200, "").Decode(t, &v)
	if v.RoomID != "WH-8D-1006" || v.Label != "8栋1006宿舍" || len(v.Accounts) != 1 || v.Accounts[0].BalanceFen != 5000 {
		t.Fatalf("saved room: %+v", v)
	}
	w.Do("PUT", "/v1/me/rooms/WH-8D-1006", nil, h...).Expect(t, 200, "") // saved already: nothing changes
	w.Do("PUT", "/v1/me/rooms/WH-8D-9999", nil, h...).Expect(t, 404, "ROOM_NOT_FOUND")
	w.Do("PUT", "/v1/me/rooms/nonsense", nil, h...).Expect(t, 404, "ROOM_NOT_FOUND")
	for _, id := range []string{"WH-9D-101", "WH-6D-101", "WH-8D-1224", "WH-8D-1225"} {
		w.Clock.Advance(time.Second)
		w.Do("PUT", "/v1/me/rooms/"+id, nil, h...).Expect(t, 200, "")
	}
	w.Do("PUT", "/v1/me/rooms/WH-8D-1226", nil, h...).Expect(t, 422, "MY_ROOMS_FULL")
	var m myRooms
	w.Do("GET", "/v1/me/rooms", nil, h...).Expect(t, 200, "").Decode(t, &m)
	if got := fmt.Sprint(w.myRooms(h)); got != "[WH-8D-1006 WH-9D-101 WH-6D-101 WH-8D-1224 WH-8D-1225]" {
		t.Fatalf("my rooms: %s", got)
	}
	if r := m.Items[1]; r.Label != "9栋101宿舍" || len(r.Accounts) != 2 || r.Accounts[0].Kind != "elec" || r.Accounts[0].BalanceFen != 1500 {
		t.Fatalf("building 9 room: %+v", r)
	}
	w.Do("DELETE", "/v1/me/rooms/wh-8d-1006", nil, h...).Expect(t, 204, "")
	w.Do("DELETE", "/v1/me/rooms/WH-8D-1006", nil, h...).Expect(t, 204, "") // gone already
	w.Do("DELETE", "/v1/me/rooms/nonsense", nil, h...).Expect(t, 404, "ROOM_NOT_FOUND")
	w.Do("PUT", "/v1/me/rooms/WH-8D-1226", nil, h...).Expect(t, 200, "")
	if got := fmt.Sprint(w.myRooms(h)); got != "[WH-9D-101 WH-6D-101 WH-8D-1224 WH-8D-1225 WH-8D-1226]" {
		t.Fatalf("after remove and add: %s", got)
	}
	// Another account has its own list; the routes need a session.
	if got := w.myRooms(w.Bound("13600000102", "", "")); len(got) != 0 {
		t.Fatalf("another account sees %v", got)
	}
	w.Do("GET", "/v1/me/rooms", nil).Expect(t, 401, "")
	w.Do("PUT", "/v1/me/rooms/WH-8D-1006", nil).Expect(t, 401, "")
}

// Adds racing each other never save more than the cap.
func TestMyRoomsCapHoldsUnderABurst(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13600000103", "", "")
	w.Do("PUT", "/v1/me/rooms/WH-8D-1006", nil, h...).Expect(t, 200, "")
	rooms := []string{"WH-6D-101", "WH-9D-101", "WH-8D-1224", "WH-8D-1225", "WH-8D-1226", "WH-8D-1227", "WH-8D-1228"}
	statuses := make([]int, len(rooms))
	var wg sync.WaitGroup
	for i, id := range rooms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = w.Do("PUT", "/v1/me/rooms/"+id, nil, h...).Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case 200:
			ok++
		case 409, 422:
		default:
			t.Fatalf("statuses %v", statuses)
		}
	}
	if got := w.myRooms(h); len(got) > dorm.MaxMyRooms || ok == 0 || ok != len(got)-1 {
		t.Fatalf("%d adds answered 200, saved %v", ok, got)
	}
}

// Room ids are accepted in any case, everywhere.
func TestRoomIDsInAnyCase(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13600000104", "CUIK20230001", "011237")
	w.creditCard("10000001", 3000)
	if v := w.room(h, "wh-8d-1006"); v.RoomID != "WH-8D-1006" || v.Label != "8栋1006宿舍" || v.Accounts[0].BalanceFen != 5000 {
		t.Fatalf("lower-case room: %+v", v)
	}
	var ans dorm.RechargeAnswer
	w.Do("POST", "/v1/dorms/rooms/Wh-8d-1006/recharge", map[string]any{"kind": "elec_water", "amountFen": 1000, "payWith": "card"},
		append(h, "Idempotency-Key", "any-case-1")...).Expect(t, 200, "").Decode(t, &ans)
	if ans.RoomID != "WH-8D-1006" || ans.Label != "8栋1006宿舍" || *ans.BalanceFen != 6000 {
		t.Fatalf("recharge: %+v", ans)
	}
	// The same key with the canonical spelling is the same payment.
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1006/recharge", map[string]any{"kind": "elec_water", "amountFen": 1000, "payWith": "card"},
		append(h, "Idempotency-Key", "any-case-1")...).Expect(t, 200, "")
	if b := w.room(h, "WH-8D-1006").Accounts[0].BalanceFen; b != 6000 {
		t.Fatalf("balance %d after a replay in another case", b)
	}
	var page struct{ Items []map[string]any }
	w.Do("GET", "/v1/dorms/rooms/wh-8d-1006/transactions", nil, h...).Expect(t, 200, "").Decode(t, &page)
	if len(page.Items) != 2 || page.Items[0]["amountFen"] != float64(1000) {
		t.Fatalf("history: %v", page.Items)
	}
	// A staff import row in lower case is the room that exists.
	w.PutStaff("ops-user", "staff-password-1", "kmmc", auth.RoleOps)
	var rep dorm.ImportReport
	w.Import("/v1/admin/dorms/import", "wh-8d-1006,8,1006,E-WH-8D-1006,W-WH-8D-1006\n", &rep, w.StaffLogin("ops-user", "staff-password-1")...)
	if rep.Unchanged != 1 || rep.Created != 0 {
		t.Fatalf("import of a lower-case row: %+v", rep)
	}
	w.reconcile()
}

// The room list is paged with an opaque cursor; the pages together are the whole list, in order.
func TestRoomListPages(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13600000105", "", "")
	walk := func(query string, limit int) (ids []string, pages int) {
		t.Helper()
		rooms, pages := testkit.Pages[struct{ RoomID string }](w.Env, "/v1/dorms/rooms?"+query, limit, h...)
		for _, r := range rooms {
			ids = append(ids, r.RoomID)
		}
		return ids, pages
	}
	all, _ := walk("", 200)
	if len(all) != 10 || all[0] != "WH-6D-101" || all[9] != "WH-9D-101" {
		t.Fatalf("whole list: %v", all)
	}
	for _, limit := range []int{1, 3, 4, 10} {
		got, pages := walk("", limit)
		if strings.Join(got, ",") != strings.Join(all, ",") || pages > (10+limit-1)/limit+1 {
			t.Fatalf("limit %d: %d pages %v", limit, pages, got)
		}
	}
	got, _ := walk("building=8&q=12&", 3)
	if len(got) != 7 || got[0] != "WH-8D-1224" || got[6] != "WH-8D-1230" {
		t.Fatalf("building 8, q=12, 3 a page: %v", got)
	}
	for _, bad := range []string{"!!", "V0gtOEQtMTAwNg==", "bm9wZQ"} {
		w.Do("GET", "/v1/dorms/rooms?cursor="+url.QueryEscape(bad), nil, h...).Expect(t, 400, "BAD_CURSOR")
	}
}

// Meter charges carry what was consumed, in kWh or m³, and the tariff: a reading too small to cost a
// fen is shown with the next charge.
func TestMeterChargesCarryUsage(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13600000106", "", "")
	ctx := httpapi.WithLogger(context.Background(), w.Deps.Log)
	t0 := w.Clock.Now().Add(-time.Hour)
	apply := func(rs ...dorm.Reading) {
		t.Helper()
		if _, errs := w.meters().Apply(ctx, rs); errs[0] != nil {
			t.Fatal(errs)
		}
	}
	apply(dorm.Reading{MeterID: "E-WH-9D-101", Kind: "elec", Reading: 1000, ReadAt: t0},
		dorm.Reading{MeterID: "E-WH-9D-101", Kind: "elec", Reading: 1001, ReadAt: t0.Add(time.Minute)},     // 0.01 kWh: 0.6 fen, carried
		dorm.Reading{MeterID: "E-WH-9D-101", Kind: "elec", Reading: 1250, ReadAt: t0.Add(2 * time.Minute)}, // 2.49 kWh more
		dorm.Reading{MeterID: "W-WH-9D-101", Kind: "water", Reading: 500, ReadAt: t0},
		dorm.Reading{MeterID: "W-WH-9D-101", Kind: "water", Reading: 560, ReadAt: t0.Add(time.Minute)})
	type usage struct {
		Quantity, Unit   string
		TariffFenPerUnit int64
	}
	history := func(kind string) []struct {
		Kind      string
		AmountFen int64
		Usage     *usage
	} {
		var p struct {
			Items []struct {
				Kind      string
				AmountFen int64
				Usage     *usage
			}
		}
		w.Do("GET", "/v1/dorms/rooms/WH-9D-101/transactions?kind="+kind, nil, h...).Expect(t, 200, "").Decode(t, &p)
		return p.Items
	}
	elec := history("elec")
	// 2.50 kWh at 0.60 元 = 150 fen; the opening balance below it has no usage.
	if len(elec) != 2 || elec[0].Kind != "meter_charge" || elec[0].AmountFen != -150 || elec[0].Usage == nil ||
		*elec[0].Usage != (usage{"2.50", "kWh", 60}) || elec[1].Usage != nil {
		t.Fatalf("electricity history: %+v", elec)
	}
	water := history("water")
	// 0.60 m³ at 3.50 元 = 210 fen.
	if len(water) != 1 || water[0].AmountFen != -210 || water[0].Usage == nil || *water[0].Usage != (usage{"0.60", "m³", 350}) {
		t.Fatalf("water history: %+v", water)
	}
	w.reconcile()
}
