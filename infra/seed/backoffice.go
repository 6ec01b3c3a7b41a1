package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/chinatime"
	"onecard/shared/ledger"
	"onecard/shared/platform"
	"onecard/shared/recharge"
	"onecard/shared/secret"
	"onecard/shared/store"
)

// The back office's demo (issue 15): a WeChat recharge of 张三 partly refunded, a cash top-up of 李四 at
// the counter, the 补卡 fee of 20 元, and a graduated class whose cards are not closed yet (POST
// /v1/admin/students/graduate {"class":"2019级新闻1班"} closes them).

// Demo orders and receipts.
const (
	DemoPaidOrderNo     = "R202611200930001234567890" // 张三, 50.00 元, paid by WeChat Pay
	DemoRefundNo        = "F202611200930001234567890-demo0001"
	DemoGradOrderNo     = "R202606010800009876543210" // 赵六 (graduated), 30.00 元
	DemoCashReceipt     = "XJ-20261125-001"           // 李四's cash top-up, 100.00 元
	DemoGradCashReceipt = "XJ-20260601-007"           // 钱七 (graduated), 15.00 元 in cash
	DemoGraduateClass   = "2019级新闻1班"
	DemoReplaceFeeFen   = 2000
)

// Graduates are the demo class marked graduated in the roster, their cards still open.
var Graduates = []cards.ImportRow{
	{Line: 1, StudentNo: "CUIK20190001", Name: "赵六", IDNumber: "530102200005051236", CardNo: "20190001", Class: DemoGraduateClass, Status: "graduated"},
	{Line: 2, StudentNo: "CUIK20190002", Name: "钱七", IDNumber: "530102200006162341", CardNo: "20190002", Class: DemoGraduateClass, Status: "graduated"},
	{Line: 3, StudentNo: "CUIK20190003", Name: "孙八", IDNumber: "530102199912273451", CardNo: "20190003", Class: DemoGraduateClass, Status: "graduated"},
}

// DemoPayment is a demo order as WeChat Pay keeps it: the local stack registers these with the sandbox
// (wxsandbox.Paid) so that refunding them (销户 of 赵六, a refund of 张三's order) works as it would.
type DemoPayment struct {
	OrderNo, TransactionID, RefundNo string
	AmountFen, RefundedFen           int64
	PaidAt                           time.Time
}

// DemoPayments are the demo's WeChat Pay payments.
var DemoPayments = []DemoPayment{
	{OrderNo: DemoPaidOrderNo, TransactionID: transactionID(DemoPaidOrderNo), RefundNo: DemoRefundNo, AmountFen: 5000, RefundedFen: 2000,
		PaidAt: time.Date(2026, 11, 20, 9, 30, 5, 0, chinatime.Zone)},
	{OrderNo: DemoGradOrderNo, TransactionID: transactionID(DemoGradOrderNo), AmountFen: 3000,
		PaidAt: time.Date(2026, 6, 1, 8, 0, 3, 0, chinatime.Zone)},
}

func transactionID(orderNo string) string { return "4200" + orderNo[1:17] }

// BackOffice writes the back office's demo; cashier is the staff member shown at the counter. It is
// idempotent: every money movement replays under its own key.
func BackOffice(ctx context.Context, d *platform.Deps, cashier string) error {
	s := d.Store()
	if err := s.Update(ctx, store.SchoolKey(SchoolID), "SET replaceFeeFen = :f", store.IfExists, nil,
		store.Values{":f": DemoReplaceFeeFen}.AV()); err != nil {
		return err
	}
	svc := cards.NewService(s, secret.NewDigester(d.Cfg.PIIKey), d.Now)
	rep, err := svc.Import(ctx, auth.Principal{Subject: "seed", Kind: auth.KindStaff, School: SchoolID}, Graduates)
	if err != nil {
		return err
	}
	if rep.Rejected > 0 {
		return fmt.Errorf("seed graduates: %+v", rep.Errors)
	}
	l := ledger.New(s, d.Now)
	zhang, zhao := DemoPayments[0], DemoPayments[1]
	// The WeChat Pay movements are posted on the days they happened, as the notifications posted them then:
	// the day's clearing entries (reports, WeChat bill matching) find them there.
	at := func(t time.Time) *ledger.Ledger { return ledger.New(s, func() time.Time { return t }) }
	if err := paidOrder(ctx, at(zhang.PaidAt), zhang.OrderNo, "10000001", zhang.AmountFen, zhang.RefundedFen, zhang.PaidAt); err != nil {
		return err
	}
	if err := demoRefund(ctx, at(zhang.PaidAt.Add(time.Hour)), zhang.PaidAt.Add(time.Hour)); err != nil {
		return err
	}
	if err := paidOrder(ctx, at(zhao.PaidAt), zhao.OrderNo, "20190001", zhao.AmountFen, 0, zhao.PaidAt); err != nil {
		return err
	}
	p := auth.Principal{Subject: cashier, Kind: auth.KindStaff, School: SchoolID, Roles: []string{auth.RoleFinance}}
	if _, err := svc.CashTopUp(ctx, p, l, "10000002", 10000, DemoCashReceipt); err != nil {
		return err
	}
	_, err = svc.CashTopUp(ctx, p, l, "20190002", 1500, DemoGradCashReceipt)
	return err
}

// paidOrder is a card recharge order paid by WeChat Pay and credited, as the notification leaves it.
func paidOrder(ctx context.Context, l *ledger.Ledger, no, cardNo string, fen, refunded int64, paid time.Time) error {
	t := recharge.Target{Kind: "card", Account: cards.AccountID(SchoolID, cardNo), PK: store.CardKey(SchoolID, cardNo).PK,
		SK: store.CardKey(SchoolID, cardNo).SK, CardNo: cardNo}
	o := recharge.Order{Key: store.OrderKey(no), Type: "order", OrderNo: no, UserID: "seed", SchoolID: SchoolID, Target: t,
		AmountFen: fen, Status: recharge.Paid, OpenID: "o-seed", Description: "一卡通充值", CreatedAt: paid.Add(-5 * time.Second).UTC(),
		ExpiresAt: paid.Add(30 * time.Minute).UTC(), PaidAt: paid.UTC(), TransactionID: transactionID(no), CreditedTo: &t, RefundedFen: refunded}
	put, err := store.PutItem(o, store.IfAbsent, nil)
	if err != nil {
		return err
	}
	_, err = l.Post(ctx, ledger.Movement{Scope: "wechat", Key: no, Input: []any{no, t.Account, fen},
		Postings: ledger.External(ledger.Posting{Account: t.Account, Item: t.Item(), AmountFen: fen, Kind: ledger.KindRecharge,
			Counterparty: "ext:wechat", Merchant: "微信充值", OccurredAt: paid}),
		Extra: []types.TransactWriteItem{put}})
	return err
}

// demoRefund is 20.00 元 of DemoPaidOrderNo given back by WeChat Pay, as a finished refund leaves it.
func demoRefund(ctx context.Context, l *ledger.Ledger, at time.Time) error {
	k := store.CardKey(SchoolID, "10000001")
	r := recharge.Refund{Key: store.RefundKey(DemoRefundNo), Type: "refund", RefundNo: DemoRefundNo, OrderNo: DemoPaidOrderNo,
		SchoolID: SchoolID, CardNo: "10000001", Account: cards.AccountID(SchoolID, "10000001"), PK2: k.PK, SK2: k.SK,
		AmountFen: 2000, TotalFen: 5000, Reason: "学生申请退款", Purpose: "staff", Status: recharge.RefundSucceeded,
		WeChatState: "SUCCESS", RefundID: "50302026112012345678901", RequestedBy: "admin", CreatedAt: at.UTC(), FinishedAt: at.Add(time.Minute).UTC()}
	put, err := store.PutItem(r, store.IfAbsent, nil)
	if err != nil {
		return err
	}
	_, err = l.Post(ctx, ledger.Movement{Scope: "refund", Key: DemoRefundNo, Input: []any{DemoRefundNo, DemoPaidOrderNo, int64(2000)},
		Postings: ledger.External(ledger.Posting{Account: r.Account, Item: k, AmountFen: -2000, Kind: recharge.KindRefund,
			Counterparty: recharge.RefundClearing, Merchant: "微信退款", OccurredAt: at}),
		Extra: []types.TransactWriteItem{put}})
	return err
}
