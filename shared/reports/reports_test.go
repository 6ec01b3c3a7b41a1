package reports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"onecard/infra/seed"
	"onecard/shared/cards"
	"onecard/shared/chinatime"
	"onecard/shared/dorm"
	"onecard/shared/jobs"
	"onecard/shared/ledger"
	"onecard/shared/platform"
	"onecard/shared/reports"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

func TestYuanAndCells(t *testing.T) {
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", 250: "2.50", 123405: "1234.05", -50: "-0.50", -100001: "-1000.01"} {
		if got := reports.Yuan(fen); got != want {
			t.Errorf("Yuan(%d) = %q, want %q", fen, got, want)
		}
	}
}

type world struct {
	*testkit.Env
	fin []string
	n   int
}

// newWorld is a parallel test's Env on the demo school (with what more seeds) and its finance member
// fin-user, signed in.
func newWorld(t *testing.T, more ...testkit.Seed) *world {
	t.Parallel()
	e := testkit.Seeded(t, more...)
	return &world{Env: e, fin: e.StaffAs("fin-user", "finance-pass-2026", "kmmc", "finance")}
}

func (w *world) post(p ledger.Posting) {
	w.T.Helper()
	w.n++
	w.Post("test", fmt.Sprint(w.n), p)
}

func card(no string, fen int64, kind, cp string) ledger.Posting {
	return ledger.Posting{Account: cards.AccountID("kmmc", no), Item: store.CardKey("kmmc", no), AmountFen: fen, Kind: kind,
		Counterparty: cp, AllowNegative: true}
}

func room(id, acct string, fen int64, kind, cp string) ledger.Posting {
	return ledger.Posting{Account: dorm.AccountID("kmmc", id, acct), Item: store.AccountKey("kmmc", id, acct), AmountFen: fen, Kind: kind,
		Counterparty: cp, AllowNegative: true}
}

// The reports sum the ledger: recharges per channel per day from ext:wechat, dorm consumption per
// building from ext:utility, and the cards' outstanding balance at the end of any day from the entries'
// balanceAfter; each also as an Excel CSV.
func TestReportsSumTheLedger(t *testing.T) {
	w := newWorld(t, seed.Dorms)

	// The 25th: two card recharges, a dorm recharge, a purchase and two meter charges.
	w.post(card("10000001", 10000, ledger.KindRecharge, "ext:wechat"))
	w.post(card("10000002", 5000, ledger.KindRecharge, "ext:wechat"))
	w.post(room("WH-8D-1006", dorm.ElecWater, 3000, ledger.KindRecharge, "ext:wechat"))
	w.post(card("10000001", -1200, ledger.KindPurchase, "ext:merchant:POS-CANTEEN-01"))
	w.post(room("WH-8D-1006", dorm.ElecWater, -450, ledger.KindMeterCharge, "ext:utility:elec"))
	w.post(room("WH-8D-1006", dorm.ElecWater, -120, ledger.KindMeterCharge, "ext:utility:water"))
	// The 26th: one more recharge and a charge in building 9.
	w.Clock.Advance(24 * time.Hour)
	w.fin = w.StaffLogin("fin-user", "finance-pass-2026")
	w.post(card("10000003", 2000, ledger.KindRecharge, "ext:wechat"))
	w.post(room("WH-9D-101", dorm.Elec, -300, ledger.KindMeterCharge, "ext:utility:elec"))

	var rech struct {
		Days []struct {
			Day      string
			NetFen   int64
			Channels []struct {
				Channel string
				Count   int
				InFen   int64
			}
		}
	}
	w.Do("GET", "/v1/admin/reports/recharges?from=2026-11-25&to=2026-11-27", nil, w.fin...).Expect(t, 200, "").Decode(t, &rech)
	if len(rech.Days) != 3 || rech.Days[0].NetFen != 18000 || rech.Days[0].Channels[0].Count != 3 || rech.Days[1].NetFen != 2000 || rech.Days[2].NetFen != 0 {
		t.Fatalf("recharges: %+v", rech.Days)
	}
	r := w.Do("GET", "/v1/admin/reports/recharges?from=2026-11-25&to=2026-11-25&format=csv", nil, w.fin...).Expect(t, 200, "")
	if !bytes.HasPrefix(r.Body, []byte("\uFEFF日期,渠道,笔数")) || !strings.Contains(string(r.Body), "2026-11-25,微信支付,3,180.00,0,0.00,180.00\r\n") {
		t.Fatalf("csv: %q", r.Body)
	}
	w.Do("GET", "/v1/admin/reports/recharges?from=2026-11-25&to=2026-11-24", nil, w.fin...).Expect(t, 400, "BAD_RANGE")
	w.Do("GET", "/v1/admin/reports/recharges?from=2026-01-01&to=2026-12-31", nil, w.fin...).Expect(t, 400, "BAD_RANGE")

	var dormRep struct {
		Buildings []struct {
			Building string
			Count    int
			Fen      map[string]int64
			TotalFen int64
		}
	}
	w.Do("GET", "/v1/admin/reports/dorm-consumption?month=2026-11", nil, w.fin...).Expect(t, 200, "").Decode(t, &dormRep)
	if fmt.Sprint(dormRep.Buildings) != "[{8 2 map[elec:450 water:120] 570} {9 1 map[elec:300 water:0] 300}]" {
		t.Fatalf("dorm: %+v", dormRep.Buildings)
	}
	r = w.Do("GET", "/v1/admin/reports/dorm-consumption?month=2026-11&format=csv", nil, w.fin...).Expect(t, 200, "")
	if !strings.Contains(string(r.Body), "2026-11,8栋,2,4.50,1.20,5.70") {
		t.Fatalf("csv: %q", r.Body)
	}
	w.Do("GET", "/v1/admin/reports/dorm-consumption?month=11-2026", nil, w.fin...).Expect(t, 400, "BAD_MONTH")

	var l25, l26 struct {
		Cards, DormAccounts int
		CardsFen, DormFen   int64
		Final               bool
	}
	w.liability("2026-11-25").Decode(t, &l25)
	w.liability("2026-11-26").Decode(t, &l26)
	if l25.Cards != 2 || l25.CardsFen != 13800 || l25.DormFen != 10930 || !l25.Final || l26.Cards != 3 || l26.CardsFen != 15800 || l26.DormFen != 10630 || l26.Final {
		t.Fatalf("liability: 25th %+v, 26th %+v", l25, l26)
	}
	var none struct{ Cards int }
	w.liability("2026-11-24").Decode(t, &none)
	if none.Cards != 0 {
		t.Fatalf("before anything: %+v", none)
	}
	// The liability today equals the books' balances (reconcile's BalancesFen).
	rep := w.Reconcile(w.fin...)
	if rep.BalancesFen != l26.CardsFen+l26.DormFen {
		t.Fatalf("reconcile %d, liability %d", rep.BalancesFen, l26.CardsFen+l26.DormFen)
	}
	r = w.Do("GET", "/v1/admin/reports/liability?date=2026-11-26&format=csv", nil, w.fin...).Expect(t, 200, "")
	if !strings.Contains(string(r.Body), ",3,158.00,0,3,106.30,") {
		t.Fatalf("csv: %q", r.Body)
	}
	w.Do("GET", "/v1/admin/reports/liability?date=yesterday", nil, w.fin...).Expect(t, 400, "BAD_DATE")
	w.Do("GET", "/v1/admin/reports/liability?date=2026-11-26&format=pdf", nil, w.fin...).Expect(t, 400, "BAD_FORMAT")
}

// WeChat Pay refunds (held against ext:wechat-refund when asked, released there when they fail) are the
// recharge report's refunds of the WeChat channel, so its net is what WeChat Pay kept.
func TestRechargeReportCountsWeChatRefunds(t *testing.T) {
	w := newWorld(t)
	e := w.Env
	w.post(card("10000001", 5000, ledger.KindRecharge, "ext:wechat"))
	w.post(card("10000001", -1500, "refund", "ext:wechat-refund"))
	w.post(card("10000001", -800, "refund", "ext:wechat-refund"))
	w.post(card("10000001", 800, "refund_release", "ext:wechat-refund")) // the second one failed
	day := chinatime.Day(e.Deps.Now())
	var rech struct {
		Days []struct {
			NetFen   int64
			Channels []struct {
				Count, Refunds            int
				InFen, RefundsFen, NetFen int64
			}
		}
	}
	w.Do("GET", "/v1/admin/reports/recharges?from="+day+"&to="+day, nil, w.fin...).Expect(t, 200, "").Decode(t, &rech)
	if got := fmt.Sprintf("%+v", rech.Days); got != "[{NetFen:3500 Channels:[{Count:1 Refunds:2 InFen:5000 RefundsFen:1500 NetFen:3500} {Count:0 Refunds:0 InFen:0 RefundsFen:0 NetFen:0}]}]" {
		t.Fatalf("recharges: %s", got)
	}
}

// The counter's cash is a channel of the recharge report: the day's top-ups of every cashier's till
// (ext:cash:<school>:<username>), summed, beside WeChat Pay; as JSON and as CSV.
func TestCashTopUpsAreAChannel(t *testing.T) {
	w := newWorld(t)
	e := w.Env
	fin, fin2 := w.fin, e.StaffAs("fin-user2", "finance-pass-2026", "kmmc", "finance")
	w.post(card("10000001", 10000, ledger.KindRecharge, "ext:wechat"))
	e.Do("POST", "/v1/admin/cards/10000002/cash-topup", map[string]any{"amountFen": 5000, "receiptNo": "XJ-0001"}, fin...).Expect(t, 200, "")
	e.Do("POST", "/v1/admin/cards/10000003/cash-topup", map[string]any{"amountFen": 1250, "receiptNo": "XJ-0002"}, fin2...).Expect(t, 200, "")
	day := chinatime.Day(e.Clock.Now())

	var rech struct {
		Channels []struct{ ID, Label string }
		Days     []struct {
			Day      string
			NetFen   int64
			Channels []struct {
				Channel string
				Count   int
				InFen   int64
				NetFen  int64
			}
		}
	}
	e.Do("GET", "/v1/admin/reports/recharges?from="+day+"&to="+day, nil, fin...).Expect(t, 200, "").Decode(t, &rech)
	if len(rech.Channels) != 2 || rech.Channels[1].ID != "cash" || rech.Channels[1].Label != "现金" {
		t.Fatalf("channels: %+v", rech.Channels)
	}
	d := rech.Days[0]
	if d.NetFen != 16250 || len(d.Channels) != 2 || d.Channels[0].InFen != 10000 ||
		d.Channels[1].Channel != "cash" || d.Channels[1].Count != 2 || d.Channels[1].InFen != 6250 || d.Channels[1].NetFen != 6250 {
		t.Fatalf("day: %+v", d)
	}
	r := e.Do("GET", "/v1/admin/reports/recharges?from="+day+"&to="+day+"&format=csv", nil, fin...).Expect(t, 200, "")
	if !strings.Contains(string(r.Body), day+",现金,2,62.50,0,0.00,62.50\r\n") || !strings.Contains(string(r.Body), day+",微信支付,1,100.00,0,0.00,100.00\r\n") {
		t.Fatalf("csv: %q", r.Body)
	}
}

// liability asks for the outstanding-balance report of date (POST → 202 and a job), runs the scheduled
// reporter as LiabilityReporter does, and answers GET ?date= (200 with the report).
func (w *world) liability(date string) *testkit.Resp {
	w.T.Helper()
	var j struct{ JobID, Status, Date string }
	w.Do("POST", "/v1/admin/reports/liability", map[string]string{"date": date}, w.fin...).Expect(w.T, 202, "").Decode(w.T, &j)
	if j.Status != jobs.StatusQueued || j.Date != date {
		w.T.Fatalf("job: %+v", j)
	}
	run(w.T, w.Deps)
	var done struct {
		Status string
		Report *struct{ Date string }
	}
	w.Do("GET", "/v1/admin/reports/liability/jobs/"+j.JobID, nil, w.fin...).Expect(w.T, 200, "").Decode(w.T, &done)
	if done.Status != jobs.StatusDone || done.Report == nil || done.Report.Date != date {
		w.T.Fatalf("job after the run: %+v", done)
	}
	return w.Do("GET", "/v1/admin/reports/liability?date="+date, nil, w.fin...).Expect(w.T, 200, "")
}

// run is one invocation of the scheduled LiabilityReporter.
func run(t testing.TB, d *platform.Deps) {
	t.Helper()
	h := reports.LiabilityReporter.Build(d).(func(context.Context, json.RawMessage) error)
	if err := h(context.Background(), json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
}

// The outstanding balance is a job, as the reconcile is: GET of a date without a report queues one (202,
// Location of the job); asking again while it is queued answers the same job; the scheduled reporter
// runs it once and keeps the report, whose total equals the books' balances; a later report of the same
// date replaces it; jobs are per school; finance only.
func TestLiabilityIsAJob(t *testing.T) {
	w := newWorld(t, seed.Dorms)
	e := w.Env
	e.PutStaff("ops-user", "ops-pass-2026-x", "kmmc", "ops")
	e.PutStaff("ynu-fin", "finance-pass-2026", "ynu", "finance")
	w.post(card("10000001", 10000, ledger.KindRecharge, "ext:wechat"))
	today := chinatime.Day(e.Clock.Now())

	r := e.Do("GET", "/v1/admin/reports/liability?date="+today, nil, w.fin...).Expect(t, 202, "")
	var j1, j2 struct{ JobID, Status string }
	r.Decode(t, &j1)
	if r.Header.Get("Location") != "/v1/admin/reports/liability/jobs/"+j1.JobID || j1.Status != jobs.StatusQueued {
		t.Fatalf("first ask: %s %+v", r.Header.Get("Location"), j1)
	}
	e.Do("POST", "/v1/admin/reports/liability", map[string]string{"date": today}, w.fin...).Expect(t, 202, "").Decode(t, &j2)
	if j2.JobID != j1.JobID {
		t.Fatalf("a second ask queued another job: %s, %s", j1.JobID, j2.JobID)
	}
	e.Do("GET", "/v1/admin/reports/liability?date="+today+"&format=csv", nil, w.fin...).Expect(t, 202, "")
	// Another school's finance does not see this school's job.
	e.Do("GET", "/v1/admin/reports/liability/jobs/"+j1.JobID, nil, e.StaffLogin("ynu-fin", "finance-pass-2026")...).Expect(t, 404, "LIABILITY_JOB_NOT_FOUND")
	e.Do("GET", "/v1/admin/reports/liability/jobs/20261125T000000Z-abcdef", nil, w.fin...).Expect(t, 404, "LIABILITY_JOB_NOT_FOUND")

	// Two reporters at once: the job runs once.
	s := &reports.Service{S: testkit.Store(e.Deps), Now: e.Deps.Now}
	var wg sync.WaitGroup
	ran := make([]int, 4)
	for i := range ran {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jobs, err := s.RunLiabilityDue(context.Background(), e.Deps.Log)
			if err != nil {
				t.Error(err)
			}
			ran[i] = len(jobs)
		}()
	}
	wg.Wait()
	if ran[0]+ran[1]+ran[2]+ran[3] != 1 {
		t.Fatalf("runs: %v", ran)
	}
	var got struct {
		JobID               string
		Cards, DormAccounts int
		CardsFen, DormFen   int64
		Final               bool
		Pending             *struct{ JobID string }
	}
	e.Do("GET", "/v1/admin/reports/liability?date="+today, nil, w.fin...).Expect(t, 200, "").Decode(t, &got)
	rep := w.Reconcile(w.fin...)
	if got.JobID != j1.JobID || got.Final || got.Pending != nil || got.CardsFen != 10000 || rep.BalancesFen != got.CardsFen+got.DormFen {
		t.Fatalf("report %+v, books %d", got, rep.BalancesFen)
	}
	// More money moves; a new run of the same date replaces the report, and the old one shows it pending.
	w.post(card("10000002", 2500, ledger.KindRecharge, "ext:wechat"))
	var j3 struct{ JobID string }
	e.Do("POST", "/v1/admin/reports/liability", map[string]string{"date": today}, w.fin...).Expect(t, 202, "").Decode(t, &j3)
	e.Do("GET", "/v1/admin/reports/liability?date="+today, nil, w.fin...).Expect(t, 200, "").Decode(t, &got)
	if got.JobID != j1.JobID || got.Pending == nil || got.Pending.JobID != j3.JobID {
		t.Fatalf("while the new run is queued: %+v", got)
	}
	run(t, e.Deps)
	got.Pending = nil
	e.Do("GET", "/v1/admin/reports/liability?date="+today, nil, w.fin...).Expect(t, 200, "").Decode(t, &got)
	if got.JobID != j3.JobID || got.CardsFen != 12500 || got.Pending != nil {
		t.Fatalf("after the new run: %+v", got)
	}

	ops := e.StaffLogin("ops-user", "ops-pass-2026-x")
	e.Do("GET", "/v1/admin/reports/liability?date="+today, nil, ops...).Expect(t, 403, "FORBIDDEN")
	e.Do("POST", "/v1/admin/reports/liability", map[string]string{"date": today}, ops...).Expect(t, 403, "FORBIDDEN")
	e.Do("GET", "/v1/admin/reports/liability/jobs/"+j1.JobID, nil, ops...).Expect(t, 403, "FORBIDDEN")
	e.Do("POST", "/v1/admin/reports/liability", map[string]string{"date": "2026-13-01"}, w.fin...).Expect(t, 400, "BAD_DATE")
	e.Do("POST", "/v1/admin/reports/liability", map[string]string{"day": today}, w.fin...).Expect(t, 400, "UNKNOWN_FIELD")
}
