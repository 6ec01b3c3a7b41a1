package wechatpay

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"onecard/shared/chinatime"
)

// The trade bill (交易账单): WeChat Pay's statement of one day's orders and refunds for the merchant.
// GET /v3/bill/tradebill?bill_date=YYYY-MM-DD&bill_type=ALL answers (signed) a download_url, valid a
// short while, with hash_type SHA1 and the hash_value of the file; the file is downloaded with a signed
// GET of that URL, and its answer is not signed (WeChat Pay's docs: skip the verification, check the hash
// instead). The file is text: a header line, one line per order or refund whose every field starts with a
// backtick (so Excel keeps long numbers as text), a summary header line and the summary line
// (总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额).
// Amounts are in 元 with two decimals (the fee with five).

// BillHeaderAll is the header line of an ALL trade bill (27 columns).
const BillHeaderAll = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"

// BillSummaryHeader is the header line of the summary.
const BillSummaryHeader = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"

// BillURL is the answer of GET /v3/bill/tradebill.
type BillURL struct {
	HashType    string `json:"hash_type"`
	HashValue   string `json:"hash_value"`
	DownloadURL string `json:"download_url"`
}

// BillRow is one line of a trade bill: a payment (TradeState SUCCESS, AmountFen) or a refund
// (TradeState REFUND, RefundFen, OutRefundNo).
type BillRow struct {
	TradeTime     time.Time `json:"tradeTime"`
	AppID         string    `json:"appid"`
	MchID         string    `json:"mchid"`
	TransactionID string    `json:"transactionId"`
	OutTradeNo    string    `json:"outTradeNo"`
	TradeType     string    `json:"tradeType"`
	TradeState    string    `json:"tradeState"`
	AmountFen     int64     `json:"amountFen"` // 应结订单金额
	RefundID      string    `json:"refundId,omitempty"`
	OutRefundNo   string    `json:"outRefundNo,omitempty"`
	RefundFen     int64     `json:"refundFen"` // 退款金额
	RefundState   string    `json:"refundState,omitempty"`
	Body          string    `json:"body"`
}

// TradeBill is a parsed trade bill with its summary.
type TradeBill struct {
	Rows      []BillRow
	Count     int   // 总交易单数
	SettleFen int64 // 应结订单总金额
	RefundFen int64 // 退款总金额
}

// ErrBillHash is a downloaded bill whose SHA1 differs from the hash_value WeChat Pay announced.
var ErrBillHash = errors.New("wechatpay: the downloaded bill does not match its hash")

// ErrNoBill is a day without a bill (WeChat Pay's NO_STATEMENT_EXIST: no trade that day, or not yet
// generated; bills are ready after 10:00 the next day).
var ErrNoBill = errors.New("wechatpay: no bill for that day")

// maxBill bounds a downloaded bill (a day of a campus's recharges is far below).
const maxBill = 64 << 20

// TradeBillURL asks for the download URL of day's ALL trade bill (day YYYY-MM-DD, China time).
func (c *Client) TradeBillURL(ctx context.Context, day string) (BillURL, error) {
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return BillURL{}, fmt.Errorf("%w: bill_date %q", ErrInvalidArgument, day)
	}
	body, err := c.call(ctx, http.MethodGet, "/v3/bill/tradebill", url.Values{"bill_date": {day}, "bill_type": {"ALL"}}, nil, http.StatusOK)
	if IsAPICode(err, "NO_STATEMENT_EXIST") {
		return BillURL{}, ErrNoBill
	}
	if err != nil {
		return BillURL{}, err
	}
	var u BillURL
	if err := json.Unmarshal(body, &u); err != nil || u.DownloadURL == "" || u.HashValue == "" {
		return BillURL{}, fmt.Errorf("%w: trade bill answer", ErrMalformed)
	}
	if u.HashType != "SHA1" {
		return BillURL{}, fmt.Errorf("%w: hash_type %q", ErrMalformed, u.HashType)
	}
	return u, nil
}

// DownloadBill downloads the file of u with a signed GET and checks its SHA1. The URL must be on
// WeChat Pay's API host (the configured base URL): the merchant's signature goes to nobody else.
func (c *Client) DownloadBill(ctx context.Context, u BillURL) ([]byte, error) {
	if !strings.HasPrefix(u.DownloadURL, c.cfg.BaseURL+"/") {
		return nil, fmt.Errorf("%w: download_url is not on %s", ErrMalformed, c.cfg.BaseURL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.DownloadURL, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("%w: download_url: %v", ErrMalformed, err)
	}
	auth, err := c.authorization(http.MethodGet, req.URL.RequestURI(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("User-Agent", "onecard-wechatpay/1 (Go)")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("wechatpay: bill download: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBill+1))
	if err != nil {
		return nil, fmt.Errorf("wechatpay: bill download: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &APIError{StatusCode: resp.StatusCode, Code: "HTTP_" + strconv.Itoa(resp.StatusCode), Message: http.StatusText(resp.StatusCode)}
	}
	if len(body) > maxBill {
		return nil, fmt.Errorf("%w: bill larger than %d bytes", ErrMalformed, maxBill)
	}
	sum := sha1.Sum(body)
	if subtle.ConstantTimeCompare([]byte(hex.EncodeToString(sum[:])), []byte(strings.ToLower(u.HashValue))) != 1 {
		return nil, ErrBillHash
	}
	return body, nil
}

// FetchTradeBill is day's trade bill, downloaded, hash-checked and parsed; a day without one is an empty
// bill.
func (c *Client) FetchTradeBill(ctx context.Context, day string) (*TradeBill, error) {
	u, err := c.TradeBillURL(ctx, day)
	if errors.Is(err, ErrNoBill) {
		return &TradeBill{}, nil
	}
	if err != nil {
		return nil, err
	}
	b, err := c.DownloadBill(ctx, u)
	if err != nil {
		return nil, err
	}
	return ParseTradeBill(b)
}

var yuanRE = regexp.MustCompile(`^-?[0-9]{1,12}\.[0-9]{2}$`)

// ParseYuan reads an amount of a bill ("6.00", "-0.50") as fen, exactly.
func ParseYuan(s string) (int64, error) {
	if !yuanRE.MatchString(s) {
		return 0, fmt.Errorf("%w: amount %q", ErrMalformed, s)
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	v := w*100 + f
	if neg {
		v = -v
	}
	return v, nil
}

// ParseTradeBill parses an ALL trade bill. It refuses anything else: another header, a line that is
// not backtick-quoted, a wrong number of fields, an amount that is not 元 with two decimals, a missing
// summary, or a summary that does not add up to the lines.
func ParseTradeBill(b []byte) (*TradeBill, error) {
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) < 3 || lines[0] != BillHeaderAll {
		return nil, fmt.Errorf("%w: not an ALL trade bill", ErrMalformed)
	}
	cols := len(strings.Split(BillHeaderAll, ","))
	bill := &TradeBill{Rows: []BillRow{}}
	i := 1
	for ; i < len(lines) && lines[i] != BillSummaryHeader; i++ {
		f, err := backticked(lines[i], cols)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		t, err := time.ParseInLocation(time.DateTime, f[0], chinatime.Zone)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: 交易时间 %q", ErrMalformed, i+1, f[0])
		}
		r := BillRow{TradeTime: t, AppID: f[1], MchID: f[2], TransactionID: f[5], OutTradeNo: f[6], TradeType: f[8], TradeState: f[9],
			RefundID: f[14], OutRefundNo: f[15], RefundState: f[19], Body: f[20]}
		if r.RefundID == "0" {
			r.RefundID = ""
		}
		if r.OutRefundNo == "0" {
			r.OutRefundNo = ""
		}
		if r.OutTradeNo == "" || r.TradeState == "" {
			return nil, fmt.Errorf("%w: line %d: no 商户订单号 or 交易状态", ErrMalformed, i+1)
		}
		if r.AmountFen, err = ParseYuan(f[12]); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		if r.RefundFen, err = ParseYuan(f[16]); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		bill.Rows = append(bill.Rows, r)
	}
	if i+2 != len(lines) {
		return nil, fmt.Errorf("%w: the summary is missing or not last", ErrMalformed)
	}
	s, err := backticked(lines[i+1], len(strings.Split(BillSummaryHeader, ",")))
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	n, err := strconv.Atoi(s[0])
	if err != nil || n < 0 {
		return nil, fmt.Errorf("%w: summary count %q", ErrMalformed, s[0])
	}
	bill.Count = n
	if bill.SettleFen, err = ParseYuan(s[1]); err != nil {
		return nil, err
	}
	if bill.RefundFen, err = ParseYuan(s[2]); err != nil {
		return nil, err
	}
	var settle, refund int64
	for _, r := range bill.Rows {
		settle += r.AmountFen
		refund += r.RefundFen
	}
	if n != len(bill.Rows) || settle != bill.SettleFen || refund != bill.RefundFen {
		return nil, fmt.Errorf("%w: the summary (%d lines, %d and %d fen) does not add up to the lines (%d, %d, %d)",
			ErrMalformed, n, bill.SettleFen, bill.RefundFen, len(bill.Rows), settle, refund)
	}
	return bill, nil
}

// backticked splits a line whose every field starts with a backtick into exactly n fields.
func backticked(line string, n int) ([]string, error) {
	if !strings.HasPrefix(line, "`") {
		return nil, fmt.Errorf("%w: a field without its backtick", ErrMalformed)
	}
	f := strings.Split(line[1:], ",`")
	if len(f) != n {
		return nil, fmt.Errorf("%w: %d fields, want %d", ErrMalformed, len(f), n)
	}
	return f, nil
}
