package dorm_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"onecard/infra/seed"
	"onecard/shared/dorm"
	"onecard/shared/httpapi"
	"onecard/shared/platform"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type world struct{ *testkit.Env }

func newWorld(t *testing.T) *world {
	t.Parallel()
	auditor := func(ctx context.Context, d *platform.Deps) error {
		return seed.Staff(ctx, d, seed.StaffLogin{Username: "auditor", Password: "ledger-check-2026"})
	}
	return &world{testkit.Seeded(t, seed.Dorms, auditor)}
}

func (w *world) creditCard(cardNo string, fen int64) {
	w.T.Helper()
	w.Post("test", "credit-"+cardNo+fmt.Sprint(fen), testkit.Recharge(cardNo, fen))
}

func (w *world) room(h []string, id string) dorm.RoomView {
	w.T.Helper()
	var v dorm.RoomView
	w.Do("GET", "/v1/dorms/rooms/"+id, nil, h...).Expect(w.T, 200, "").Decode(w.T, &v)
	return v
}

func (w *world) reconcile() {
	w.T.Helper()
	w.Reconcile(w.StaffLogin("auditor", "ledger-check-2026")...)
}

func (w *world) meters() dorm.Meters {
	m := dorm.NewMeters(w.Deps)
	return m
}

func (w *world) read(meter string, reading int64, at time.Time) string {
	w.T.Helper()
	ctx := httpapi.WithLogger(context.Background(), w.Deps.Log)
	out, errs := w.meters().Apply(ctx, []dorm.Reading{{MeterID: meter, Kind: "elec", Reading: reading, ReadAt: at}})
	if errs[0] != nil {
		w.T.Fatal(errs[0])
	}
	return out[0]
}

func (w *world) settle() dorm.SettleReport {
	w.T.Helper()
	rep, err := dorm.NewPower(w.Deps).Settle(context.Background(), "kmmc")
	if err != nil {
		w.T.Fatal(err)
	}
	return rep
}

func TestBuildingsRoomsAndSearch(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13600000001", "", "")
	var bs struct {
		Items []struct{ Building, Label, AccountMode string }
	}
	w.Do("GET", "/v1/dorms/buildings", nil, h...).Expect(t, 200, "").Decode(t, &bs)
	if fmt.Sprint(bs.Items) != "[{6 6栋 combined} {7 7栋 combined} {8 8栋 combined} {9 9栋 separate}]" {
		t.Fatalf("buildings: %v", bs.Items)
	}
	var rooms struct {
		Items []struct{ RoomID, Label string }
	}
	w.Do("GET", "/v1/dorms/rooms?building=8&q=12", nil, h...).Expect(t, 200, "").Decode(t, &rooms)
	if len(rooms.Items) != 7 || rooms.Items[0].RoomID != "WH-8D-1224" || rooms.Items[0].Label != "8栋1224宿舍" {
		t.Fatalf("search 8/12: %v", rooms.Items)
	}
	w.Do("GET", "/v1/dorms/rooms?q=1006", nil, h...).Expect(t, 200, "").Decode(t, &rooms)
	if len(rooms.Items) != 1 || rooms.Items[0].Label != "8栋1006宿舍" {
		t.Fatalf("search 1006: %v", rooms.Items)
	}
	w.Do("GET", "/v1/dorms/rooms?building=x", nil, h...).Expect(t, 400, "BAD_BUILDING")
	v := w.room(h, "WH-8D-1006")
	if v.Label != "8栋1006宿舍" || len(v.Accounts) != 1 || v.Accounts[0].Kind != "elec_water" || v.Accounts[0].BalanceFen != 5000 || !v.Accounts[0].PowerOn {
		t.Fatalf("room: %+v", v)
	}
	v = w.room(h, "WH-9D-101")
	if len(v.Accounts) != 2 || v.Accounts[0].Kind != "elec" || v.Accounts[1].Kind != "water" {
		t.Fatalf("building 9 room: %+v", v)
	}
	w.Do("GET", "/v1/dorms/rooms/WH-8D-9999", nil, h...).Expect(t, 404, "ROOM_NOT_FOUND")
	w.Do("GET", "/v1/dorms/rooms/../../etc", nil, h...).Expect(t, 404, "")
	w.Do("GET", "/v1/dorms/buildings", nil).Expect(t, 401, "UNAUTHORIZED")
}

func TestRechargeFromCard(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13600000002", "CUIK20230001", "011237")
	w.creditCard("10000001", 3000)
	body := map[string]any{"kind": "elec_water", "amountFen": 1000, "payWith": "card"}
	var ans struct {
		TxnID          string
		BalanceFen     int64
		CardBalanceFen int64
		Label          string
	}
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1006/recharge", body, append(h, "Idempotency-Key", "dorm-1")...).Expect(t, 200, "").Decode(t, &ans)
	if ans.BalanceFen != 6000 || ans.CardBalanceFen != 2000 || ans.Label != "8栋1006宿舍" || ans.TxnID == "" {
		t.Fatalf("answer: %+v", ans)
	}
	// The same key again is the same payment, not a second one.
	var again struct{ TxnID string }
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1006/recharge", body, append(h, "Idempotency-Key", "dorm-1")...).Expect(t, 200, "").Decode(t, &again)
	if again.TxnID != ans.TxnID || w.room(h, "WH-8D-1006").Accounts[0].BalanceFen != 6000 {
		t.Fatal("replayed payment charged twice")
	}
	body["amountFen"] = 2500
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1006/recharge", body, h...).Expect(t, 422, "INSUFFICIENT_BALANCE")
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1006/recharge", map[string]any{"kind": "elec", "amountFen": 100, "payWith": "card"}, h...).Expect(t, 400, "BAD_KIND")
	w.Do("POST", "/v1/dorms/rooms/WH-9D-101/recharge", map[string]any{"kind": "elec_water", "amountFen": 100, "payWith": "card"}, h...).Expect(t, 400, "BAD_KIND")
	w.Do("POST", "/v1/dorms/rooms/WH-9D-101/recharge", map[string]any{"kind": "water", "amountFen": 100, "payWith": "cash"}, h...).Expect(t, 400, "BAD_PAY_WITH")
	w.Do("POST", "/v1/dorms/rooms/WH-9D-101/recharge", map[string]any{"kind": "water", "amountFen": 0, "payWith": "card"}, h...).Expect(t, 400, "BAD_AMOUNT")
	w.Do("POST", "/v1/dorms/rooms/WH-7D-1/recharge", map[string]any{"kind": "elec_water", "amountFen": 100, "payWith": "card"}, h...).Expect(t, 404, "ROOM_NOT_FOUND")
	// Anyone may pay for any room; 9栋 water is its own account.
	w.Do("POST", "/v1/dorms/rooms/WH-9D-101/recharge", map[string]any{"kind": "water", "amountFen": 500, "payWith": "card"}, h...).Expect(t, 200, "")
	v := w.room(h, "WH-9D-101")
	if v.Accounts[0].BalanceFen != 1500 || v.Accounts[1].BalanceFen != 500 {
		t.Fatalf("9栋: %+v", v.Accounts)
	}
	var hist struct {
		Items []struct {
			Kind      string
			AmountFen int64
			Merchant  string
		}
	}
	w.Do("GET", "/v1/dorms/rooms/WH-8D-1006/transactions", nil, h...).Expect(t, 200, "").Decode(t, &hist)
	if len(hist.Items) != 2 || hist.Items[0].AmountFen != 1000 || hist.Items[0].Kind != "dorm_recharge" {
		t.Fatalf("room history: %+v", hist.Items)
	}
	w.Do("GET", "/v1/card/transactions", nil, h...).Expect(t, 200, "").Decode(t, &hist)
	if hist.Items[0].AmountFen != -500 || hist.Items[0].Merchant != "9栋101宿舍冷水费账户" {
		t.Fatalf("card history: %+v", hist.Items)
	}
	w.reconcile()
}

func TestRechargeByWeChat(t *testing.T) {
	w := newWorld(t)
	wx := w.WithWeChat()
	h := w.Bound("13600000003", "", "")
	w.Do("POST", "/v1/me/wechat", map[string]string{"jsCode": "dorm-wx"}, h...).Expect(t, 204, "")
	var ans struct {
		OrderNo string
		Label   string
	}
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1224/recharge", map[string]any{"kind": "elec_water", "amountFen": 3000, "payWith": "wechat"}, h...).Expect(t, 201, "").Decode(t, &ans)
	if ans.OrderNo == "" || ans.Label != "8栋1224宿舍" {
		t.Fatalf("answer: %+v", ans)
	}
	if _, err := wx.Sandbox.Pay(ans.OrderNo); err != nil {
		t.Fatal(err)
	}
	wx.Idle(t)
	if b := w.room(h, "WH-8D-1224").Accounts[0].BalanceFen; b != 3000 {
		t.Fatalf("room balance %d", b)
	}
	var o struct {
		Status string
		Target struct{ Kind, RoomID, Label string }
	}
	w.Do("GET", "/v1/orders/"+ans.OrderNo, nil, h...).Expect(t, 200, "").Decode(t, &o)
	if o.Status != "paid" || o.Target.Kind != "dorm" || o.Target.RoomID != "WH-8D-1224" {
		t.Fatalf("order: %+v", o)
	}
	w.reconcile()
}

func TestMeterReadingsCharge(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13600000004", "", "")
	t0 := w.Clock.Now().Add(-time.Hour)
	if got := w.read("E-WH-8D-1006", 100000, t0); got != dorm.Baseline {
		t.Fatalf("first reading: %s", got)
	}
	// 12.34 kWh at 0.60 元 = 7.404 元: 740 fen charged, 0.4 fen carried.
	if got := w.read("E-WH-8D-1006", 101234, t0.Add(time.Minute)); got != dorm.Charged {
		t.Fatalf("second: %s", got)
	}
	if b := w.room(h, "WH-8D-1006").Accounts[0].BalanceFen; b != 5000-740 {
		t.Fatalf("balance %d", b)
	}
	// Repeated and late readings change nothing.
	if got := w.read("E-WH-8D-1006", 101234, t0.Add(time.Minute)); got != dorm.Duplicate {
		t.Fatalf("repeat: %s", got)
	}
	if got := w.read("E-WH-8D-1006", 100500, t0.Add(30*time.Second)); got != dorm.Duplicate {
		t.Fatalf("late: %s", got)
	}
	// A meter that goes backwards was reset or replaced: counting restarts, nothing charged.
	if got := w.read("E-WH-8D-1006", 50, t0.Add(2*time.Minute)); got != dorm.Baseline {
		t.Fatalf("reset: %s", got)
	}
	// Water at 3.50 元/m³ charges the same combined account: 0.60 m³ = 2.10 元.
	ctx := httpapi.WithLogger(context.Background(), w.Deps.Log)
	if _, errs := w.meters().Apply(ctx, []dorm.Reading{
		{MeterID: "W-WH-8D-1006", Kind: "water", Reading: 1000, ReadAt: t0},
		{MeterID: "W-WH-8D-1006", Kind: "water", Reading: 1060, ReadAt: t0.Add(time.Minute)},
	}); errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if b := w.room(h, "WH-8D-1006").Accounts[0].BalanceFen; b != 5000-740-210 {
		t.Fatalf("balance after water %d", b)
	}
	if _, errs := w.meters().Apply(ctx, []dorm.Reading{{MeterID: "NOPE", Reading: 1, ReadAt: t0}}); errs[0] == nil {
		t.Fatal("unknown meter accepted")
	}
	w.reconcile()
}

// Thousands of small readings, sent in shuffled batches and repeated, charge exactly the total.
func TestManySmallReadingsRoundExactly(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13600000005", "", "")
	ctx := httpapi.WithLogger(context.Background(), w.Deps.Log)
	t0 := w.Clock.Now().Add(-48 * time.Hour)
	var rs []dorm.Reading
	reading := int64(500)
	rs = append(rs, dorm.Reading{MeterID: "E-WH-6D-101", Kind: "elec", Reading: reading, ReadAt: t0})
	for i := 1; i <= 1500; i++ {
		reading += int64(i % 7) // 0–0.06 kWh each: most readings cost less than a fen
		rs = append(rs, dorm.Reading{MeterID: "E-WH-6D-101", Kind: "elec", Reading: reading, ReadAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	for start := 0; start < len(rs); start += 100 {
		batch := rs[start:min(start+100, len(rs))]
		if _, errs := w.meters().Apply(ctx, batch); errs[0] != nil {
			t.Fatal(errs[0])
		}
		if _, errs := w.meters().Apply(ctx, batch); errs[0] != nil { // a redelivered batch
			t.Fatal(errs[0])
		}
	}
	want := int64(2000) - (reading-500)*60/100
	if b := w.room(h, "WH-6D-101").Accounts[0].BalanceFen; b != want {
		t.Fatalf("balance %d, want %d", b, want)
	}
	w.reconcile()
}

func TestPowerOffAndOn(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13600000006", "CUIK20230002", "025620")
	w.creditCard("10000002", 10000)
	// Noon in Kunming: no night deferral. WH-8D-1225 starts at 0 balance.
	w.Clock.Set(time.Date(2026, 11, 25, 12, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	t0 := w.Clock.Now().Add(-time.Hour)
	w.read("E-WH-8D-1225", 1000, t0)
	w.read("E-WH-8D-1225", 1100, t0.Add(time.Minute)) // 1 kWh: 60 fen into arrears
	if rep := w.settle(); rep.Off != 1 {
		t.Fatalf("settle: %+v", rep)
	}
	p := dorm.NewPower(w.Deps)
	cmds, err := p.Pending(context.Background(), "kmmc", 10)
	if err != nil || len(cmds) != 1 || cmds[0].Action != "power_off" || cmds[0].MeterID != "E-WH-8D-1225" {
		t.Fatalf("commands: %+v %v", cmds, err)
	}
	// No second command while one is pending, however often settle runs or the balance falls.
	w.read("E-WH-8D-1225", 1200, t0.Add(2*time.Minute))
	if rep := w.settle(); rep.Off+rep.On != 0 {
		t.Fatalf("second command queued: %+v", rep)
	}
	if err := p.Ack(context.Background(), "kmmc", cmds[0].CommandID); err != nil {
		t.Fatal(err)
	}
	if err := p.Ack(context.Background(), "kmmc", cmds[0].CommandID); err != nil {
		t.Fatal("a second ack must be harmless:", err)
	}
	if v := w.room(h, "WH-8D-1225"); v.Accounts[0].PowerOn || v.Accounts[0].BalanceFen != -120 {
		t.Fatalf("after cut: %+v", v.Accounts)
	}
	// A recharge that lifts the balance above zero brings power back.
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1225/recharge", map[string]any{"kind": "elec_water", "amountFen": 100, "payWith": "card"}, h...).Expect(t, 200, "")
	if cmds, _ = p.Pending(context.Background(), "kmmc", 10); len(cmds) != 0 {
		t.Fatalf("power back while still in debt (-20): %+v", cmds)
	}
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1225/recharge", map[string]any{"kind": "elec_water", "amountFen": 100, "payWith": "card"}, h...).Expect(t, 200, "")
	cmds, _ = p.Pending(context.Background(), "kmmc", 10)
	if len(cmds) != 1 || cmds[0].Action != "power_on" {
		t.Fatalf("after recharge: %+v", cmds)
	}
	if err := p.Ack(context.Background(), "kmmc", cmds[0].CommandID); err != nil {
		t.Fatal(err)
	}
	if v := w.room(h, "WH-8D-1225"); !v.Accounts[0].PowerOn {
		t.Fatalf("power not restored: %+v", v.Accounts)
	}
	if err := p.Ack(context.Background(), "kmmc", "cNOPE"); err == nil {
		t.Fatal("unknown command acknowledged")
	}
	w.reconcile()
}

func TestNoCutAtNight(t *testing.T) {
	w := newWorld(t)
	cst := time.FixedZone("CST", 8*3600)
	w.Clock.Set(time.Date(2026, 11, 25, 23, 30, 0, 0, cst))
	t0 := w.Clock.Now().Add(-10 * time.Minute)
	w.read("E-WH-8D-1226", 1000, t0)
	w.read("E-WH-8D-1226", 1500, t0.Add(time.Minute))
	if rep := w.settle(); rep.Off != 0 || rep.Deferred != 1 {
		t.Fatalf("23:30: %+v", rep)
	}
	w.Clock.Set(time.Date(2026, 11, 26, 6, 59, 0, 0, cst))
	if rep := w.settle(); rep.Off != 0 || rep.Deferred != 1 {
		t.Fatalf("06:59: %+v", rep)
	}
	w.Clock.Set(time.Date(2026, 11, 26, 7, 0, 0, 0, cst))
	if rep := w.settle(); rep.Off != 1 {
		t.Fatalf("07:00: %+v", rep)
	}
}

func TestLowBalanceMail(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13600000007", "CUIK20230003", "034322")
	addr := fmt.Sprintf("room-%d@stu.example.cn", time.Now().UnixNano())
	w.Do("POST", "/v1/me/email/code", map[string]string{"email": addr}, h...).Expect(t, 202, "")
	w.Do("PUT", "/v1/me/email", map[string]string{"email": addr, "code": testkit.LastCode(t, addr), "password": testkit.StudentPassword}, h...).Expect(t, 204, "")
	w.creditCard("10000003", 5000)
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1227/recharge", map[string]any{"kind": "elec_water", "amountFen": 1500, "payWith": "card"}, h...).Expect(t, 200, "")
	before := len(testkit.MailsTo(t, addr))
	t0 := w.Clock.Now().Add(-time.Hour)
	w.read("E-WH-8D-1227", 0, t0)
	w.read("E-WH-8D-1227", 500, t0.Add(time.Minute)) // 1500 → 1200: above the 10 元 threshold
	if n := len(testkit.MailsTo(t, addr)); n != before {
		t.Fatalf("mailed above the threshold (%d)", n)
	}
	w.read("E-WH-8D-1227", 1000, t0.Add(2*time.Minute)) // 1200 → 900: crosses
	mails := testkit.MailsTo(t, addr)
	if len(mails) != before+1 || mails[len(mails)-1].Subject != "【校园一信通】8栋1227宿舍电费余额不足提醒" {
		t.Fatalf("low balance mail: %d %+v", len(mails), mails[len(mails)-1])
	}
	w.read("E-WH-8D-1227", 1500, t0.Add(3*time.Minute)) // 900 → 600: still below, no new mail
	if len(testkit.MailsTo(t, addr)) != before+1 {
		t.Fatal("mailed twice for one crossing")
	}
	w.Do("POST", "/v1/dorms/rooms/WH-8D-1227/recharge", map[string]any{"kind": "elec_water", "amountFen": 1000, "payWith": "card"}, h...).Expect(t, 200, "")
	w.read("E-WH-8D-1227", 2500, t0.Add(4*time.Minute)) // 1600 → 1000: not below
	w.read("E-WH-8D-1227", 2600, t0.Add(5*time.Minute)) // 1000 → 940: crosses again
	if len(testkit.MailsTo(t, addr)) != before+2 {
		t.Fatal("second crossing not mailed")
	}
	w.reconcile()
}
