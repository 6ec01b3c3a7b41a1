package settlement_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"onecard/infra/seed"
	"onecard/shared/cards"
	"onecard/shared/devices"
	"onecard/shared/ledger"
	"onecard/shared/platform"
	"onecard/shared/settlement"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type world struct {
	*testkit.Env
	fin, ops []string
	seq      int
}

func newWorld(t *testing.T) *world {
	t.Parallel()
	e := testkit.Seeded(t)
	ctx := context.Background()
	w := &world{Env: e, fin: e.StaffAs("fin-user", "finance-pass-2026", "kmmc", "finance"),
		ops: e.StaffAs("ops-user", "ops-password-2026", "kmmc", "ops")}
	for _, id := range []string{"POS-A", "POS-B", "GW-1"} {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		reg := devices.Registration{DeviceID: id, Kind: devices.KindReader, PublicKey: base64.StdEncoding.EncodeToString(pub),
			Merchant: "第一食堂", Category: devices.CategoryCanteen}
		if id == "GW-1" {
			reg.Kind, reg.Merchant, reg.Category = devices.KindMeterGateway, "", ""
		}
		if _, err := (devices.Repo{S: testkit.Store(e.Deps)}).Put(ctx, reg, "kmmc", e.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	for _, no := range []string{"10000001", "10000002"} {
		w.post(testkit.Recharge(no, 50000), "wechat")
	}
	return w
}

func (w *world) post(p ledger.Posting, scope string) {
	w.T.Helper()
	w.seq++
	w.Post(scope, fmt.Sprint(w.seq), p)
}

// sale posts a reader record as the consumer does: the card pays the device's clearing account.
func (w *world) sale(device, cardNo string, fen int64, at time.Time) {
	w.T.Helper()
	w.post(ledger.Posting{Account: cards.AccountID("kmmc", cardNo), Item: store.CardKey("kmmc", cardNo), AmountFen: -fen,
		Kind: ledger.KindPurchase, Counterparty: "ext:merchant:" + device, Merchant: "第一食堂", OccurredAt: at, AllowNegative: true},
		"reader:"+device)
}

type day struct {
	MerchantID, Day, Status, Note string
	Count, Refunds                int
	GrossFen, RefundsFen, NetFen  int64
	Late                          struct {
		Count int
		Fen   int64
	}
	Devices []struct {
		DeviceID string
		Count    int
		NetFen   int64
		Late     struct{ Count int }
	}
}

func (w *world) day(merchant, d string) day {
	w.T.Helper()
	var out day
	w.Do("GET", "/v1/admin/merchants/"+merchant+"/settlements/"+d, nil, w.fin...).Expect(w.T, 200, "").Decode(w.T, &out)
	return out
}

// A merchant's day is the clearing entries of the readers it owned that day, equal to the ledger's
// ClearingDay; a device handed to another merchant takes its later days along and leaves the earlier
// ones; a closed day keeps its figures; a record posted late lands in the open day it was posted on and
// the settlement says so; the CSV opens in Excel.
func TestMerchantDaysSettleFromTheLedgersClearingEntries(t *testing.T) {
	w := newWorld(t)
	w.Do("POST", "/v1/admin/merchants", map[string]string{"merchantId": "CANTEEN-1", "name": "第一食堂一号窗口", "category": "canteen"}, w.fin...).Expect(t, 201, "")
	w.Do("POST", "/v1/admin/merchants", map[string]string{"merchantId": "CANTEEN-1", "name": "第一食堂一号窗口", "category": "canteen"}, w.fin...).Expect(t, 200, "")
	w.Do("POST", "/v1/admin/merchants", map[string]string{"merchantId": "CANTEEN-1", "name": "别的", "category": "canteen"}, w.fin...).Expect(t, 409, "MERCHANT_EXISTS")
	w.Do("POST", "/v1/admin/merchants", map[string]string{"merchantId": "SHOP-1", "name": "校园超市", "category": "shop"}, w.fin...).Expect(t, 201, "")
	w.Do("POST", "/v1/admin/merchants", map[string]string{"merchantId": "bad id", "name": "x", "category": "shop"}, w.fin...).Expect(t, 400, "BAD_MERCHANT_ID")
	w.Do("POST", "/v1/admin/merchants", map[string]string{"merchantId": "X", "name": "x", "category": "bank"}, w.fin...).Expect(t, 400, "BAD_MERCHANT_CATEGORY")
	w.Do("POST", "/v1/admin/merchants", map[string]string{"merchantId": "X", "name": "x", "category": "shop"}, w.ops...).Expect(t, 403, "FORBIDDEN")
	w.Do("PUT", "/v1/admin/merchants/SHOP-1", map[string]string{"name": "校园超市（东区）", "category": "shop"}, w.fin...).Expect(t, 200, "")
	w.Do("PUT", "/v1/admin/merchants/NOPE", map[string]string{"name": "x", "category": "shop"}, w.fin...).Expect(t, 404, "MERCHANT_NOT_FOUND")

	assign := func(m, dev, from string, status int, code string) {
		t.Helper()
		w.Do("POST", "/v1/admin/merchants/"+m+"/devices", map[string]string{"deviceId": dev, "from": from}, w.fin...).Expect(t, status, code)
	}
	assign("CANTEEN-1", "POS-A", "2026-11-01", 201, "")
	assign("CANTEEN-1", "POS-A", "2026-11-01", 200, "")
	assign("SHOP-1", "POS-A", "2026-11-01", 409, "DEVICE_ASSIGNED")
	assign("CANTEEN-1", "POS-B", "2026-11-01", 201, "")
	assign("SHOP-1", "POS-B", "2026-11-26", 201, "") // from the 26th, POS-B is the shop's
	assign("SHOP-1", "GW-1", "2026-11-01", 422, "NOT_A_READER")
	assign("SHOP-1", "NOPE", "2026-11-01", 404, "DEVICE_NOT_FOUND")
	assign("SHOP-1", "POS-A", "2026-11-31", 400, "BAD_DAY")

	// The 25th (today at first): three sales.
	noon := w.Clock.Now()
	w.sale("POS-A", "10000001", 800, noon)
	w.sale("POS-A", "10000002", 1250, noon)
	w.sale("POS-B", "10000001", 600, noon)
	w.Do("POST", "/v1/admin/merchants/CANTEEN-1/settlements/2026-11-25/close", nil, w.fin...).Expect(t, 422, "DAY_NOT_OVER")

	// The 26th: POS-B sells for the shop; POS-A posts a record it took offline on the 25th.
	w.Clock.Advance(24 * time.Hour)
	w.fin, w.ops = w.StaffLogin("fin-user", "finance-pass-2026"), w.StaffLogin("ops-user", "ops-password-2026")
	w.sale("POS-B", "10000002", 500, w.Clock.Now())
	w.sale("POS-A", "10000001", 300, noon.Add(9*time.Hour)) // 2026-11-25 21:00 China time, posted on the 26th

	d25 := w.day("CANTEEN-1", "2026-11-25")
	if d25.Status != "open" || d25.Count != 3 || d25.GrossFen != 2650 || d25.NetFen != 2650 || d25.Late.Count != 0 || len(d25.Devices) != 2 {
		t.Fatalf("25th: %+v", d25)
	}
	// Equal to the ledger's clearing entries, device by device and day by day.
	l := ledger.New(testkit.Store(w.Deps), w.Deps.Now)
	for _, c := range []struct{ m, d string }{{"CANTEEN-1", "2026-11-25"}, {"CANTEEN-1", "2026-11-26"}, {"SHOP-1", "2026-11-26"}} {
		got := w.day(c.m, c.d)
		var sum int64
		for _, dd := range got.Devices {
			ct, err := l.ClearingDay(context.Background(), settlement.Account(dd.DeviceID), c.d)
			if err != nil {
				t.Fatal(err)
			}
			if ct.Fen != dd.NetFen || ct.Entries != dd.Count {
				t.Fatalf("%s %s %s: settlement %d fen in %d, ledger %d in %d", c.m, c.d, dd.DeviceID, dd.NetFen, dd.Count, ct.Fen, ct.Entries)
			}
			sum += ct.Fen
		}
		if sum != got.NetFen {
			t.Fatalf("%s %s: net %d, devices %d", c.m, c.d, got.NetFen, sum)
		}
	}

	var closed day
	w.Do("POST", "/v1/admin/merchants/CANTEEN-1/settlements/2026-11-25/close", nil, w.fin...).Expect(t, 201, "").Decode(t, &closed)
	w.Do("POST", "/v1/admin/merchants/CANTEEN-1/settlements/2026-11-25/close", nil, w.fin...).Expect(t, 200, "")
	if closed.Status != "closed" || closed.NetFen != 2650 {
		t.Fatalf("closed: %+v", closed)
	}
	// Handing POS-A to the shop from the 25th does not reopen CANTEEN-1's closed 25th.
	assign("SHOP-1", "POS-A", "2026-11-25", 201, "")
	if again := w.day("CANTEEN-1", "2026-11-25"); again.Status != "closed" || again.NetFen != 2650 || len(again.Devices) != 2 {
		t.Fatalf("closed day changed: %+v", again)
	}

	// The late record is in the shop's 26th now (POS-A is the shop's from the 25th), and says so.
	d26 := w.day("SHOP-1", "2026-11-26")
	if d26.Count != 2 || d26.NetFen != 800 || d26.Late.Count != 1 || d26.Late.Fen != 300 || !strings.Contains(d26.Note, "补传") {
		t.Fatalf("shop 26th: %+v", d26)
	}
	if c26 := w.day("CANTEEN-1", "2026-11-26"); c26.Count != 0 || len(c26.Devices) != 0 {
		t.Fatalf("canteen 26th: %+v", c26)
	}

	// The month adds the days up; the CSV opens in Excel.
	var month struct {
		Days   []day
		NetFen int64
	}
	w.Do("GET", "/v1/admin/merchants/CANTEEN-1/settlements/2026-11", nil, w.fin...).Expect(t, 200, "").Decode(t, &month)
	if len(month.Days) != 26 || month.NetFen != 2650 {
		t.Fatalf("month: %d days, %d fen", len(month.Days), month.NetFen)
	}
	r := w.Do("GET", "/v1/admin/merchants/CANTEEN-1/settlements/2026-11-25?format=csv", nil, w.fin...).Expect(t, 200, "")
	if !bytes.HasPrefix(r.Body, []byte("\uFEFF商户编号,商户名称,日期")) || !strings.Contains(string(r.Body), "CANTEEN-1,第一食堂一号窗口,2026-11-25,已结算,合计,3,26.50,0,0.00,26.50") ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %q", r.Body)
	}
	w.Do("GET", "/v1/admin/merchants/CANTEEN-1/settlements/2026-11?format=csv", nil, w.fin...).Expect(t, 200, "")
	w.Do("GET", "/v1/admin/merchants/CANTEEN-1/settlements/2026-13", nil, w.fin...).Expect(t, 400, "BAD_PERIOD")
	w.Do("GET", "/v1/admin/merchants/CANTEEN-1/settlements/2026-11-25?format=xls", nil, w.fin...).Expect(t, 400, "BAD_FORMAT")
	w.Do("GET", "/v1/admin/merchants/CANTEEN-1/settlements/2026-11-25", nil, w.ops...).Expect(t, 403, "FORBIDDEN")

	var list struct {
		Items []struct {
			MerchantID string
			Devices    []string
		}
	}
	w.Do("GET", "/v1/admin/merchants", nil, w.fin...).Expect(t, 200, "").Decode(t, &list)
	if fmt.Sprint(list.Items) != "[{CANTEEN-1 []} {SHOP-1 [POS-A POS-B]}]" {
		t.Fatalf("merchants: %+v", list.Items)
	}
	w.Reconcile(w.fin...)
}

// The demo books: two merchants own the demo readers, yesterday's canteen day settles from its seven
// records, a correction awaits approval by someone other than its proposer; seeding twice changes
// nothing, and the books reconcile.
func TestDemoBooksSeed(t *testing.T) {
	t.Parallel()
	devs := func(ctx context.Context, d *platform.Deps) error { return seed.Devices(ctx, d, "../..") }
	e := testkit.Seeded(t, devs, seed.Books, seed.Books)
	fin := e.StaffAs("fin-user", "finance-pass-2026", "kmmc", "finance")
	var d day
	e.Do("GET", "/v1/admin/merchants/CANTEEN-1/settlements/2026-11-24", nil, fin...).Expect(t, 200, "").Decode(t, &d)
	if d.Count != 7 || d.NetFen != 450+600+1200+1350+980+1100+850 || len(d.Devices) != 1 || d.Devices[0].DeviceID != "POS-CANTEEN-01" {
		t.Fatalf("yesterday: %+v", d)
	}
	var list struct {
		Items []struct{ ID, Status, ProposedBy string }
	}
	e.Do("GET", "/v1/admin/corrections?status=pending", nil, fin...).Expect(t, 200, "").Decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ProposedBy != "staff:"+seed.DemoProposer {
		t.Fatalf("pending corrections: %+v", list.Items)
	}
	e.Do("POST", "/v1/admin/corrections/"+list.Items[0].ID+"/approve", nil, fin...).Expect(t, 200, "")
	e.Reconcile(fin...)
}
