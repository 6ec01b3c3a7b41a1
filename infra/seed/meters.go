package seed

import (
	"context"
	"errors"
	"time"

	"onecard/shared/chinatime"
	"onecard/shared/dorm"
	"onecard/shared/httpapi"
	"onecard/shared/platform"
)

// DemoMeterRoom is the demo room whose meters reported yesterday (the dorm office's 房间查询 shows it):
// it had no money, so its readings put it in arrears and the power settlement asks its meter to cut the
// power (unless it is night, when cuts wait for the morning).
const DemoMeterRoom = "WH-8D-1226"

// Meters charges DemoMeterRoom's readings of the demo day (yesterday, China time): electricity 120.00 →
// 123.50 kWh and water 40.00 → 41.20 m³, then runs the power settlement once. Readings are idempotent,
// so seeding again changes nothing.
func Meters(ctx context.Context, d *platform.Deps) error {
	y := d.Now().In(chinatime.Zone).AddDate(0, 0, -1)
	day := time.Date(y.Year(), y.Month(), y.Day(), 0, 0, 0, 0, chinatime.Zone)
	rs := []dorm.Reading{
		{MeterID: "E-" + DemoMeterRoom, Kind: "elec", Reading: 12000, ReadAt: day.Add(8 * time.Hour)},
		{MeterID: "E-" + DemoMeterRoom, Kind: "elec", Reading: 12350, ReadAt: day.Add(20 * time.Hour)},
		{MeterID: "W-" + DemoMeterRoom, Kind: "water", Reading: 4000, ReadAt: day.Add(8 * time.Hour)},
		{MeterID: "W-" + DemoMeterRoom, Kind: "water", Reading: 4120, ReadAt: day.Add(20 * time.Hour)},
	}
	ctx = httpapi.WithLogger(ctx, d.Log)
	if _, errs := dorm.NewMeters(d).Apply(ctx, rs); errors.Join(errs...) != nil {
		return errors.Join(errs...)
	}
	_, err := dorm.NewPower(d).Settle(ctx, SchoolID)
	return err
}
