package seed

import (
	"context"
	"fmt"

	"onecard/shared/auth"
	"onecard/shared/dorm"
	"onecard/shared/ledger"
	"onecard/shared/platform"
	"onecard/shared/store"
)

// DemoRooms are the demo rooms; each gets meters E-<roomId> and W-<roomId>.
func DemoRooms() []string {
	rooms := []string{"WH-6D-101", "WH-8D-1006"}
	for r := 1224; r <= 1230; r++ {
		rooms = append(rooms, fmt.Sprintf("WH-8D-%d", r))
	}
	return append(rooms, "WH-9D-101")
}

// OpeningBalances are the demo rooms' starting balances, posted through the ledger as opening entries.
var OpeningBalances = map[string]int64{"WH-8D-1006": 5000, "WH-6D-101": 2000, "WH-9D-101": 1500}

// Dorms writes buildings 6, 7, 8 (combined) and 9 (separate), the demo rooms with their meters, and
// opening balances.
func Dorms(ctx context.Context, d *platform.Deps) error {
	svc := dorm.NewService(d)
	p := auth.Principal{Subject: "seed", Kind: auth.KindStaff, School: SchoolID}
	for _, b := range []string{"6", "7", "8", "9"} {
		mode := dorm.Combined
		if b == "9" {
			mode = dorm.Separate
		}
		if _, err := svc.PutBuilding(ctx, p, b, b+"栋", mode); err != nil {
			return err
		}
	}
	var rows []dorm.ImportRow
	for i, id := range DemoRooms() {
		b, r, _ := dorm.ParseRoomID(id)
		rows = append(rows, dorm.ImportRow{Line: i + 1, RoomID: id, Building: b, Room: r, ElecMeter: "E-" + id, WaterMeter: "W-" + id})
	}
	rep, err := svc.Import(ctx, p, rows)
	if err != nil {
		return err
	}
	if rep.Rejected > 0 {
		return fmt.Errorf("seed rooms: %+v", rep.Errors)
	}
	l := ledger.New(d.Store(), d.Now)
	for id, fen := range OpeningBalances {
		kind := dorm.ElecWater
		if b, _, _ := dorm.ParseRoomID(id); b == "9" {
			kind = dorm.Elec
		}
		_, err := l.Post(ctx, ledger.Movement{Scope: "seed", Key: "opening:" + id, Postings: ledger.External(ledger.Posting{
			Account: dorm.AccountID(SchoolID, id, kind), Item: store.AccountKey(SchoolID, id, kind), AmountFen: fen,
			Kind: ledger.KindAdjustment, Counterparty: "ext:opening-balance", Merchant: "期初余额"})})
		if err != nil {
			return err
		}
	}
	return nil
}
