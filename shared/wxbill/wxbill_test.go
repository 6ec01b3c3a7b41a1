package wxbill_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"onecard/infra/wxsandbox"
	"onecard/shared/testkit"
	"onecard/shared/wechatpay"
	"onecard/shared/wxbill"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// newWorld is a parallel test's Env on the demo school with its finance member fin-user, and WeChat Pay's
// sandbox delivering no notification (what was paid is known from the bill alone).
func newWorld(t *testing.T) (*testkit.Env, *testkit.WeChat) {
	t.Parallel()
	e := testkit.Seeded(t)
	e.PutStaff("fin-user", "finance-pass-2026", "kmmc", "finance")
	wx := e.WithWeChat()
	if err := wx.Sandbox.SetNotifyMode(wxsandbox.NotifyDrop, 0); err != nil {
		t.Fatal(err)
	}
	return e, wx
}

// pay creates and pays an order of fen at WeChat Pay.
func pay(t *testing.T, wx *testkit.WeChat, no string, fen int64) wxsandbox.Order {
	t.Helper()
	if _, err := wx.Client.CreateJSAPIOrder(context.Background(), wechatpay.Order{OutTradeNo: no, Description: "一卡通充值",
		AmountFen: fen, OpenID: "o-student-1"}); err != nil {
		t.Fatal(err)
	}
	o, err := wx.Sandbox.Pay(no)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// The scheduled matcher downloads yesterday's trade bill from the sandbox (signed request, SHA1-checked
// file), matches it line by line with the ledger's ext:wechat clearing entries, and staff read what is
// missing on either side and what differs; a tampered download fails its hash.
func TestTheTradeBillIsMatchedLineByLine(t *testing.T) {
	e, wx := newWorld(t)
	ctx := context.Background()
	// credit posts an order as the recharge credit does.
	credit := func(no string, fen int64, at time.Time) {
		t.Helper()
		p := testkit.Recharge("10000001", fen)
		p.Merchant, p.OccurredAt = "微信充值", at
		e.Post("wechat", no, p)
	}
	a := pay(t, wx, "R20261125A001", 2000)
	credit("R20261125A001", 2000, a.SuccessTime) // matches
	b := pay(t, wx, "R20261125B002", 3000)
	credit("R20261125B002", 3000, b.SuccessTime)
	wx.Sandbox.SetPaidAmount("R20261125B002", 3100) // WeChat Pay says 31.00
	pay(t, wx, "R20261125C003", 1500)               // paid, never credited
	credit("R20261125D004", 800, e.Clock.Now())     // credited, never paid
	wx.Sandbox.AddBillOnly("2026-11-25", wxsandbox.Order{OutTradeNo: "OTHER-SYSTEM-9", AmountFen: 990, TransactionID: "4200000001",
		SuccessTime: e.Clock.Now(), Description: "其他"})
	// A payment at 23:59 credited after midnight still belongs to the 25th.
	e.Clock.Set(time.Date(2026, 11, 25, 15, 59, 0, 0, time.UTC))
	late := pay(t, wx, "R20261125E005", 500)
	e.Clock.Set(time.Date(2026, 11, 25, 16, 1, 0, 0, time.UTC))
	credit("R20261125E005", 500, late.SuccessTime)

	// Today's bill does not exist yet; the next morning at 10:30 the schedule matches yesterday.
	if _, err := wx.Client.TradeBillURL(ctx, "2026-11-26"); !errors.Is(err, wechatpay.ErrNoBill) {
		t.Fatalf("today's bill: %v", err)
	}
	e.Clock.Set(time.Date(2026, 11, 26, 2, 30, 0, 0, time.UTC))
	fin := e.StaffLogin("fin-user", "finance-pass-2026")
	e.Do("GET", "/v1/admin/wechat-bills/2026-11-25", nil, fin...).Expect(t, 404, "BILL_NOT_MATCHED")
	handler := wxbill.WeChatBillMatcher.Build(e.Deps).(func(context.Context, json.RawMessage) (*wxbill.Report, error))
	if _, err := handler(ctx, json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		OK                 bool
		BillLines, Matched int
		BillSettleFen      int64
		MissingOnOurSide   []wxbill.Item
		MissingOnTheirSide []wxbill.Item
		AmountsDiffer      []wxbill.Diff
		Discrepancies      int
	}
	e.Do("GET", "/v1/admin/wechat-bills/2026-11-25", nil, fin...).Expect(t, 200, "").Decode(t, &rep)
	if rep.OK || rep.BillLines != 5 || rep.Matched != 2 || rep.BillSettleFen != 2000+3100+1500+990+500 || rep.Discrepancies != 4 {
		t.Fatalf("report: %+v", rep)
	}
	if len(rep.MissingOnOurSide) != 2 || rep.MissingOnOurSide[0].No != "R20261125C003" || rep.MissingOnOurSide[1].No != "OTHER-SYSTEM-9" {
		t.Fatalf("missing on our side: %+v", rep.MissingOnOurSide)
	}
	if len(rep.MissingOnTheirSide) != 1 || rep.MissingOnTheirSide[0].No != "R20261125D004" || rep.MissingOnTheirSide[0].AmountFen != 800 {
		t.Fatalf("missing on theirs: %+v", rep.MissingOnTheirSide)
	}
	if len(rep.AmountsDiffer) != 1 || rep.AmountsDiffer[0].No != "R20261125B002" || rep.AmountsDiffer[0].OursFen != 3000 || rep.AmountsDiffer[0].TheirsFen != 3100 {
		t.Fatalf("differ: %+v", rep.AmountsDiffer)
	}
	e.Do("GET", "/v1/admin/wechat-bills/25-11-2026", nil, fin...).Expect(t, 400, "BAD_DAY")

	// A download whose bytes do not hash to what WeChat Pay announced is refused.
	u, err := wx.Client.TradeBillURL(ctx, "2026-11-25")
	if err != nil {
		t.Fatal(err)
	}
	u.HashValue = "0000000000000000000000000000000000000000"
	if _, err := wx.Client.DownloadBill(ctx, u); !errors.Is(err, wechatpay.ErrBillHash) {
		t.Fatalf("tampered: %v", err)
	}
	u.DownloadURL = "https://evil.example/v3/billdownload/file?token=x"
	if _, err := wx.Client.DownloadBill(ctx, u); !errors.Is(err, wechatpay.ErrMalformed) {
		t.Fatalf("foreign host: %v", err)
	}
	e.Reconcile(fin...)
}

// make dev's schedule (MatchDue) matches yesterday once: at start, and again only when a new day has
// begun; the staff route then has the day's report.
func TestMatchDueMatchesYesterdayOnce(t *testing.T) {
	e, wx := newWorld(t)
	ctx := context.Background()
	pay(t, wx, "R20261125A001", 2000)
	e.Clock.Set(time.Date(2026, 11, 26, 1, 0, 0, 0, time.UTC))
	s := wxbill.NewService(e.Deps)
	rep, err := s.MatchDue(ctx)
	if err != nil || rep == nil || rep.Day != "2026-11-25" || rep.BillLines != 1 || len(rep.MissingOurs) != 1 {
		t.Fatalf("first run: %+v, %v", rep, err)
	}
	if again, err := s.MatchDue(ctx); err != nil || again != nil {
		t.Fatalf("second run the same day: %+v, %v", again, err)
	}
	fin := e.StaffLogin("fin-user", "finance-pass-2026")
	var got struct {
		Day       string
		BillLines int
	}
	e.Do("GET", "/v1/admin/wechat-bills/2026-11-25", nil, fin...).Expect(t, 200, "").Decode(t, &got)
	if got.BillLines != 1 {
		t.Fatalf("report: %+v", got)
	}
	e.Clock.Set(time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC))
	if next, err := s.MatchDue(ctx); err != nil || next == nil || next.Day != "2026-11-26" {
		t.Fatalf("the next day: %+v, %v", next, err)
	}
}
