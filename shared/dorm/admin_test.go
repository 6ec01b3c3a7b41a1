package dorm_test

import (
	"encoding/base64"
	"testing"
	"time"

	"onecard/shared/dorm"
)

// The dorm office searches rooms on the server (by building and part of the number, paged) and opens a
// room: its balances, meters, power state, the power command the gateway has not acknowledged, and its
// latest entries. Ops only (admin always); an unknown room is a 404 in Chinese.
func TestDormOfficeSearchesAndOpensRooms(t *testing.T) {
	w := newWorld(t)
	w.PutStaff("ops-user", "ops-pass-2026-x", "kmmc", "ops")
	w.PutStaff("fin-user", "finance-pass-2026", "kmmc", "finance")
	w.PutStaff("adm-user", "admin-pass-2026-x", "kmmc", "admin")
	ops := w.StaffLogin("ops-user", "ops-pass-2026-x")
	type page struct {
		Items []struct {
			RoomID, Building, Room, Label, AccountMode string
		}
		NextCursor *string
	}
	var p page
	w.Do("GET", "/v1/admin/dorms/rooms?building=8&q=122&limit=3", nil, ops...).Expect(t, 200, "").Decode(t, &p)
	if len(p.Items) != 3 || p.Items[0].RoomID != "WH-8D-1224" || p.Items[0].Label != "8栋1224宿舍" || p.NextCursor == nil {
		t.Fatalf("first page: %+v", p)
	}
	var seen []string
	for _, it := range p.Items {
		seen = append(seen, it.RoomID)
	}
	for p.NextCursor != nil {
		c := *p.NextCursor
		p = page{}
		w.Do("GET", "/v1/admin/dorms/rooms?building=8&q=122&limit=3&cursor="+c, nil, ops...).Expect(t, 200, "").Decode(t, &p)
		for _, it := range p.Items {
			seen = append(seen, it.RoomID)
		}
	}
	if len(seen) != 6 || seen[5] != "WH-8D-1229" {
		t.Fatalf("all pages: %v", seen)
	}
	w.Do("GET", "/v1/admin/dorms/rooms?q=101", nil, ops...).Expect(t, 200, "").Decode(t, &p)
	if len(p.Items) != 2 || p.Items[0].RoomID != "WH-6D-101" || p.Items[1].RoomID != "WH-9D-101" || p.Items[1].AccountMode != dorm.Separate {
		t.Fatalf("q=101: %+v", p.Items)
	}
	w.Do("GET", "/v1/admin/dorms/rooms?building=x8", nil, ops...).Expect(t, 400, "BAD_BUILDING")
	w.Do("GET", "/v1/admin/dorms/rooms?cursor="+base64.RawURLEncoding.EncodeToString([]byte("nope")), nil, ops...).Expect(t, 400, "BAD_CURSOR")

	// WH-8D-1225 runs into arrears: the settlement queues a power cut the gateway has not acknowledged.
	w.Clock.Set(time.Date(2026, 11, 25, 12, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	t0 := w.Clock.Now().Add(-time.Hour)
	w.read("E-WH-8D-1225", 1000, t0)
	w.read("E-WH-8D-1225", 1150, t0.Add(time.Minute)) // 1.5 kWh
	if rep := w.settle(); rep.Off != 1 {
		t.Fatalf("settle: %+v", rep)
	}
	var room struct {
		RoomID, Label, AccountMode string
		Accounts                   []struct {
			Kind             string
			BalanceFen       int64
			PaysElec         bool
			PowerOn          bool
			PendingCommandID string
		}
		Meters []struct {
			MeterID, Kind, Unit string
			LastReading         *string
			LastReadAt          *time.Time
		}
		PendingCommands []struct{ CommandID, MeterID, Action string }
		Transactions    []struct {
			AccountKind, Kind string
			AmountFen         int64
			BalanceAfterFen   int64
		}
	}
	w.Do("GET", "/v1/admin/dorms/rooms/wh-8d-1225", nil, ops...).Expect(t, 200, "").Decode(t, &room)
	a := room.Accounts
	if room.RoomID != "WH-8D-1225" || len(a) != 1 || a[0].Kind != dorm.ElecWater || a[0].BalanceFen != -90 || !a[0].PaysElec || !a[0].PowerOn || a[0].PendingCommandID == "" {
		t.Fatalf("accounts: %+v", room)
	}
	if len(room.PendingCommands) != 1 || room.PendingCommands[0].Action != "power_off" || room.PendingCommands[0].MeterID != "E-WH-8D-1225" ||
		room.PendingCommands[0].CommandID != a[0].PendingCommandID {
		t.Fatalf("commands: %+v", room.PendingCommands)
	}
	if len(room.Meters) != 2 || room.Meters[0].MeterID != "E-WH-8D-1225" || room.Meters[0].LastReading == nil || *room.Meters[0].LastReading != "11.50" ||
		room.Meters[0].Unit != "kWh" || room.Meters[1].Kind != "water" || room.Meters[1].LastReading != nil {
		t.Fatalf("meters: %+v", room.Meters)
	}
	if len(room.Transactions) != 1 || room.Transactions[0].Kind != "meter_charge" || room.Transactions[0].AmountFen != -90 || room.Transactions[0].AccountKind != dorm.ElecWater {
		t.Fatalf("transactions: %+v", room.Transactions)
	}
	// Once the gateway acknowledges, the power is off and nothing is pending.
	if err := dorm.NewPower(w.Deps).Ack(t.Context(), "kmmc", a[0].PendingCommandID); err != nil {
		t.Fatal(err)
	}
	room.Accounts, room.PendingCommands, room.Transactions = nil, nil, nil
	w.Do("GET", "/v1/admin/dorms/rooms/WH-8D-1225", nil, ops...).Expect(t, 200, "").Decode(t, &room)
	if room.Accounts[0].PowerOn || room.Accounts[0].PendingCommandID != "" || len(room.PendingCommands) != 0 {
		t.Fatalf("after the ack: %+v", room)
	}
	// The separate building's room has two accounts; the opening balance is its latest entry.
	room.Accounts, room.PendingCommands, room.Transactions = nil, nil, nil
	w.Do("GET", "/v1/admin/dorms/rooms/WH-9D-101", nil, w.StaffLogin("adm-user", "admin-pass-2026-x")...).Expect(t, 200, "").Decode(t, &room)
	if len(room.Accounts) != 2 || room.Accounts[0].Kind != dorm.Elec || room.Accounts[0].BalanceFen != 1500 || room.Accounts[1].PaysElec ||
		len(room.Transactions) != 1 || room.Transactions[0].BalanceAfterFen != 1500 {
		t.Fatalf("WH-9D-101: %+v", room)
	}

	r := w.Do("GET", "/v1/admin/dorms/rooms/WH-8D-9999", nil, ops...).Expect(t, 404, "ROOM_NOT_FOUND")
	if msg, _ := r.JSON()["error"].(map[string]any)["message"].(string); msg != "宿舍不存在，请核对楼栋和宿舍号" {
		t.Fatalf("404 message: %q", msg)
	}
	w.Do("GET", "/v1/admin/dorms/rooms/not-a-room", nil, ops...).Expect(t, 404, "ROOM_NOT_FOUND")
	fin := w.StaffLogin("fin-user", "finance-pass-2026")
	w.Do("GET", "/v1/admin/dorms/rooms", nil, fin...).Expect(t, 403, "FORBIDDEN")
	w.Do("GET", "/v1/admin/dorms/rooms/WH-8D-1006", nil, fin...).Expect(t, 403, "FORBIDDEN")
	w.reconcile()
}
