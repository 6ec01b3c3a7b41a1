package wxsandbox

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"onecard/shared/chinatime"
	"onecard/shared/wechatpay"
)

// Trade bills, as WeChat Pay serves them: GET /v3/bill/tradebill (signed answer: download_url, SHA1 hash)
// and GET /v3/billdownload/file?token= (a signed request, an unsigned answer: the file). A day's bill lists
// the orders paid that day (China time), with the fee WeChat Pay would take (0.60%); a day not over yet,
// or without a paid order, has no bill (400 NO_STATEMENT_EXIST). The token names the day, keyed with
// the APIv3 key, so the download serves the same bytes the hash was made of (a past day's paid orders do
// not change).

func (s *Sandbox) billRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /v3/bill/tradebill", s.v3(s.tradeBill))
	m.HandleFunc("GET /v3/billdownload/file", s.billDownload)
}

func (s *Sandbox) billToken(day string) string {
	mac := hmac.New(sha256.New, s.opts.APIv3Key)
	mac.Write([]byte("bill:" + day))
	return base64.RawURLEncoding.EncodeToString([]byte(day)) + "." + hex.EncodeToString(mac.Sum(nil)[:16])
}

func (s *Sandbox) tradeBill(r *http.Request, _ []byte) (int, any, error) {
	q := r.URL.Query()
	day := q.Get("bill_date")
	d, err := time.ParseInLocation(time.DateOnly, day, chinatime.Zone)
	if err != nil {
		return 0, nil, errf(400, "PARAM_ERROR", "bill_date 格式不正确")
	}
	if t := q.Get("bill_type"); t != "" && t != "ALL" {
		return 0, nil, errf(400, "PARAM_ERROR", "沙箱只提供 ALL 账单")
	}
	if !s.now().After(d.AddDate(0, 0, 1)) {
		return 0, nil, errf(400, "NO_STATEMENT_EXIST", "账单尚未生成")
	}
	bill := s.TradeBill(day)
	if bill == nil {
		return 0, nil, errf(400, "NO_STATEMENT_EXIST", "当日无交易，账单不存在")
	}
	sum := sha1.Sum(bill)
	base := "http://" + r.Host
	return 200, map[string]string{"hash_type": "SHA1", "hash_value": hex.EncodeToString(sum[:]),
		"download_url": base + "/v3/billdownload/file?token=" + s.billToken(day)}, nil
}

func (s *Sandbox) billDownload(w http.ResponseWriter, r *http.Request) {
	if why := s.checkMerchantRequest(r.Method, r.URL.RequestURI(), r.Header.Get("Authorization"), nil); why != "" {
		s.writeSigned(w, errf(401, "SIGN_ERROR", "签名错误：%s", why), 0, nil)
		return
	}
	tok := r.URL.Query().Get("token")
	enc, _, _ := strings.Cut(tok, ".")
	day, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || !hmac.Equal([]byte(tok), []byte(s.billToken(string(day)))) {
		s.writeSigned(w, errf(400, "PARAM_ERROR", "token 无效"), 0, nil)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write(s.TradeBill(string(day)))
}

// TradeBill is the ALL trade bill of day (YYYY-MM-DD, China time) from the paid orders, or nil when no
// order was paid that day.
func (s *Sandbox) TradeBill(day string) []byte {
	s.mu.Lock()
	var paid []Order
	for _, o := range s.orders {
		if o.TradeState == StateSuccess && chinatime.Day(o.SuccessTime) == day {
			paid = append(paid, *o)
		}
	}
	extra := s.billExtra[day]
	s.mu.Unlock()
	if len(paid) == 0 && len(extra) == 0 {
		return nil
	}
	// A total order: the download must serve the very bytes the hash was made of.
	sort.Slice(paid, func(i, j int) bool {
		if !paid[i].SuccessTime.Equal(paid[j].SuccessTime) {
			return paid[i].SuccessTime.Before(paid[j].SuccessTime)
		}
		return paid[i].OutTradeNo < paid[j].OutTradeNo
	})
	var b strings.Builder
	b.WriteString(wechatpay.BillHeaderAll + "\r\n")
	var total, fees int64 // fees in 1/1000 fen (the bill writes them with five decimals)
	line := func(o Order) {
		fee := o.AmountFen * 6 // 0.60% of the amount, in 1/1000 fen
		total += o.AmountFen
		fees += fee
		f := []string{o.SuccessTime.In(chinatime.Zone).Format(time.DateTime), o.AppID, o.MchID, "0", "", o.TransactionID, o.OutTradeNo, o.OpenID,
			"JSAPI", "SUCCESS", "OTHERS", "CNY", yuan(o.AmountFen), "0.00", "0", "0", "0.00", "0.00", "", "", o.Description, o.Attach,
			fmt.Sprintf("%d.%05d", fee/100000, fee%100000), "0.60%", yuan(o.AmountFen), "0.00", ""}
		b.WriteString("`" + strings.Join(f, ",`") + "\r\n")
	}
	for _, o := range paid {
		line(o)
	}
	for _, o := range extra {
		line(o)
	}
	n := len(paid) + len(extra)
	b.WriteString(wechatpay.BillSummaryHeader + "\r\n")
	fmt.Fprintf(&b, "`%d,`%s,`0.00,`0.00,`%d.%05d,`%s,`0.00\r\n", n, yuan(total), fees/100000, fees%100000, yuan(total))
	return []byte(b.String())
}

// AddBillOnly puts on day's bill a payment WeChat Pay took that the merchant never heard of (an order
// of another system, a lost order): what bill matching must find as missing on our side.
func (s *Sandbox) AddBillOnly(day string, o Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.billExtra == nil {
		s.billExtra = map[string][]Order{}
	}
	if o.MchID == "" {
		o.MchID, o.AppID = s.opts.MchID, s.opts.AppID
	}
	o.TradeState = StateSuccess
	s.billExtra[day] = append(s.billExtra[day], o)
}

// SetPaidAmount changes what WeChat Pay recorded for a paid order (a test of an amount that differs).
func (s *Sandbox) SetPaidAmount(outTradeNo string, fen int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[outTradeNo]
	if ok {
		o.AmountFen = fen
	}
	return ok
}

func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}
