package wechatpay

import (
	"errors"
	"strings"
	"testing"
)

const sampleBill = BillHeaderAll + "\r\n" +
	"`2026-11-25 12:00:00,`wxd930ea5d5a258f4f,`1900000109,`0,`,`4200001234202611250000000001,`R20261125A001,`o-student-1,`JSAPI,`SUCCESS,`OTHERS,`CNY,`20.00,`0.00,`0,`0,`0.00,`0.00,`,`,`一卡通充值,`,`0.12000,`0.60%,`20.00,`0.00,`\r\n" +
	"`2026-11-25 18:30:00,`wxd930ea5d5a258f4f,`1900000109,`0,`,`4200001234202611250000000001,`R20261125A001,`o-student-1,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50300001,`RF20261125001,`5.50,`0.00,`ORIGINAL,`SUCCESS,`一卡通充值,`,`-0.03300,`0.60%,`0.00,`5.50,`\r\n" +
	BillSummaryHeader + "\r\n" +
	"`2,`20.00,`5.50,`0.00,`0.08700,`20.00,`5.50\r\n"

func TestParseTradeBill(t *testing.T) {
	b, err := ParseTradeBill([]byte(sampleBill))
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Rows) != 2 || b.Count != 2 || b.SettleFen != 2000 || b.RefundFen != 550 {
		t.Fatalf("%+v", b)
	}
	p, r := b.Rows[0], b.Rows[1]
	if p.OutTradeNo != "R20261125A001" || p.TradeState != "SUCCESS" || p.AmountFen != 2000 || p.RefundID != "" || p.TradeTime.UTC().Hour() != 4 {
		t.Fatalf("payment %+v", p)
	}
	if r.TradeState != "REFUND" || r.OutRefundNo != "RF20261125001" || r.RefundFen != 550 || r.AmountFen != 0 {
		t.Fatalf("refund %+v", r)
	}
	for name, bad := range map[string]string{
		"other header":     strings.Replace(sampleBill, "交易时间", "时间", 1),
		"summary mismatch": strings.Replace(sampleBill, "`2,`20.00", "`2,`21.00", 1),
		"count mismatch":   strings.Replace(sampleBill, "`2,`20.00", "`3,`20.00", 1),
		"no backtick":      strings.Replace(sampleBill, "`2026-11-25 12:00:00", "2026-11-25 12:00:00", 1),
		"float amount":     strings.Replace(sampleBill, "`20.00,`0.00,`0,`0", "`20.0,`0.00,`0,`0", 1),
		"missing summary":  strings.Split(sampleBill, BillSummaryHeader)[0],
		"a field too many": strings.Replace(sampleBill, "`0.60%,`20.00", "`0.60%,`x,`20.00", 1),
		"trailing garbage": sampleBill + "`1\r\n",
	} {
		if _, err := ParseTradeBill([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}
	for s, want := range map[string]int64{"0.00": 0, "20.00": 2000, "1234567.89": 123456789, "-0.50": -50} {
		if got, err := ParseYuan(s); err != nil || got != want {
			t.Errorf("ParseYuan(%q) = %d, %v", s, got, err)
		}
	}
}

// FuzzParseTradeBill: any input parses or is refused with ErrMalformed, never a panic; what parses
// adds up to its own summary.
func FuzzParseTradeBill(f *testing.F) {
	f.Add([]byte(sampleBill))
	f.Add([]byte(BillHeaderAll + "\n" + BillSummaryHeader + "\n`0,`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00\n"))
	f.Add([]byte("`,`,`\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		bill, err := ParseTradeBill(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error without ErrMalformed: %v", err)
			}
			return
		}
		var s, r int64
		for _, row := range bill.Rows {
			s += row.AmountFen
			r += row.RefundFen
		}
		if s != bill.SettleFen || r != bill.RefundFen || len(bill.Rows) != bill.Count {
			t.Fatalf("parsed bill does not add up: %+v", bill)
		}
	})
}
