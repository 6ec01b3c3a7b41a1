package wxsandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"
	"unicode/utf8"

	"onecard/shared/chinatime"
)

// Refunds, as WeChat Pay APIv3 serves them:
//
//	POST /v3/refund/domestic/refunds                  ask for a refund → the refund, usually PROCESSING
//	GET  /v3/refund/domestic/refunds/{out_refund_no}  query it
//
// A refund is accepted PROCESSING and then, in the background, finishes with the sandbox's refund
// outcome (SetRefundOutcome: SUCCESS by default, ABNORMAL or CLOSED; PROCESSING holds it until
// FinishRefund) and its signed, encrypted notification (REFUND.SUCCESS / REFUND.ABNORMAL / REFUND.CLOSED)
// goes to the request's notify_url, following the notify mode (drop: never sent).

// Refund states.
const (
	RefundProcessing = "PROCESSING"
	RefundSuccess    = "SUCCESS"
	RefundAbnormal   = "ABNORMAL"
	RefundClosed     = "CLOSED"
)

// Refund is the sandbox's record of one refund.
type Refund struct {
	OutRefundNo    string    `json:"out_refund_no"`
	RefundID       string    `json:"refund_id"`
	OutTradeNo     string    `json:"out_trade_no"`
	TransactionID  string    `json:"transaction_id"`
	MchID          string    `json:"mchid"`
	Reason         string    `json:"reason,omitempty"`
	NotifyURL      string    `json:"notify_url,omitempty"`
	RefundFen      int64     `json:"refund_fen"`
	TotalFen       int64     `json:"total_fen"`
	Status         string    `json:"status"`
	CreatedAt      time.Time `json:"created_at"`
	SuccessTime    time.Time `json:"success_time,omitzero"`
	NotificationID string    `json:"notification_id,omitempty"`
	request        string
}

// ErrNoRefund is what FinishRefund refuses an unknown refund with; ErrRefundFinal one already finished.
var (
	ErrNoRefund    = errors.New("wxsandbox: no such refund")
	ErrRefundFinal = errors.New("wxsandbox: refund already finished")
)

// SetRefundOutcome says how the next refunds finish: RefundSuccess (default), RefundAbnormal,
// RefundClosed, or RefundProcessing (they wait for FinishRefund).
func (s *Sandbox) SetRefundOutcome(status string) error {
	switch status {
	case RefundSuccess, RefundAbnormal, RefundClosed, RefundProcessing:
	default:
		return fmt.Errorf("wxsandbox: unknown refund outcome %q", status)
	}
	s.mu.Lock()
	s.refundOutcome = status
	s.mu.Unlock()
	return nil
}

// FinishRefund ends a PROCESSING refund with status (SUCCESS, ABNORMAL or CLOSED) and notifies it.
func (s *Sandbox) FinishRefund(outRefundNo, status string) error {
	if status != RefundSuccess && status != RefundAbnormal && status != RefundClosed {
		return fmt.Errorf("wxsandbox: a refund finishes SUCCESS, ABNORMAL or CLOSED, not %q", status)
	}
	s.mu.Lock()
	r, ok := s.refunds[outRefundNo]
	switch {
	case !ok:
		s.mu.Unlock()
		return ErrNoRefund
	case r.Status != RefundProcessing:
		s.mu.Unlock()
		return ErrRefundFinal
	}
	r.Status = status
	if status == RefundSuccess {
		r.SuccessTime = s.now().Truncate(time.Second)
	}
	r.NotificationID = newEventID()
	cp, mode := *r, s.mode.Notify
	s.mu.Unlock()
	if mode != NotifyDrop {
		s.startRefundDelivery(cp)
	}
	return nil
}

// ResendRefund sends the notification of a finished refund again.
func (s *Sandbox) ResendRefund(outRefundNo string) error {
	r, ok := s.RefundOf(outRefundNo)
	switch {
	case !ok:
		return ErrNoRefund
	case r.Status == RefundProcessing:
		return errors.New("wxsandbox: refund not finished")
	}
	s.startRefundDelivery(r)
	return nil
}

// RefundOf returns a copy of a refund.
func (s *Sandbox) RefundOf(outRefundNo string) (Refund, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyOf(s.refunds, outRefundNo)
}

// Refunds returns every refund, oldest first.
func (s *Sandbox) Refunds() []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	return oldestFirst(s.refunds, func(r *Refund) (time.Time, string) { return r.CreatedAt, r.OutRefundNo })
}

var outRefundNoRE = regexp.MustCompile(`^[0-9A-Za-z_\-|*@]{1,64}$`)

type refundRequest struct {
	TransactionID string `json:"transaction_id"`
	OutTradeNo    string `json:"out_trade_no"`
	OutRefundNo   string `json:"out_refund_no"`
	Reason        string `json:"reason"`
	NotifyURL     string `json:"notify_url"`
	Amount        struct {
		Refund   int64  `json:"refund"`
		Total    int64  `json:"total"`
		Currency string `json:"currency"`
	} `json:"amount"`
}

// refundWindow: WeChat Pay refuses refunds of orders paid more than a year ago.
const refundWindow = 365 * 24 * time.Hour

func (s *Sandbox) createRefund(_ *http.Request, body []byte) (int, any, error) {
	var req refundRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return 0, nil, errf(400, "PARAM_ERROR", "请求体不是合法的 JSON")
	}
	switch {
	case !outRefundNoRE.MatchString(req.OutRefundNo):
		return 0, nil, errf(400, "PARAM_ERROR", "out_refund_no 须为 1-64 位数字、字母、_-|*@")
	case req.OutTradeNo == "" && req.TransactionID == "":
		return 0, nil, errf(400, "PARAM_ERROR", "out_trade_no 与 transaction_id 须二选一")
	case req.Amount.Refund <= 0 || req.Amount.Total <= 0:
		return 0, nil, errf(400, "PARAM_ERROR", "amount.refund 与 amount.total 须为正整数（分）")
	case req.Amount.Currency != "CNY":
		return 0, nil, errf(400, "PARAM_ERROR", "amount.currency 须为 CNY")
	case utf8.RuneCountInString(req.Reason) > 80:
		return 0, nil, errf(400, "PARAM_ERROR", "reason 不能超过 80 个字符")
	}
	if req.NotifyURL != "" {
		if u, err := url.Parse(req.NotifyURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return 0, nil, errf(400, "PARAM_ERROR", "notify_url 须为完整的 http(s) 地址")
		}
	}
	canon, _ := json.Marshal(req)
	r, outcome, err := s.acceptRefund(req, string(canon))
	if err != nil {
		return 0, nil, err
	}
	if outcome != "" {
		s.startAsync(func() { _ = s.FinishRefund(r.OutRefundNo, outcome) })
	}
	return 200, refundJSON(&r, false), nil
}

// acceptRefund records a refund request (or finds its earlier self) and says how it is to finish ("" for
// not now).
func (s *Sandbox) acceptRefund(req refundRequest, canon string) (Refund, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.refunds[req.OutRefundNo]; ok {
		if r.request != canon {
			return Refund{}, "", errf(400, "INVALID_REQUEST", "同一 out_refund_no 的退款参数不一致")
		}
		return *r, "", nil
	}
	var o *Order
	if req.OutTradeNo != "" {
		o = s.orders[req.OutTradeNo]
	} else {
		for _, x := range s.orders {
			if x.TransactionID == req.TransactionID {
				o = x
			}
		}
	}
	switch {
	case o == nil:
		return Refund{}, "", errf(404, "RESOURCE_NOT_EXISTS", "订单不存在")
	case o.TradeState != StateSuccess:
		return Refund{}, "", errf(400, "INVALID_REQUEST", "订单未支付，不能退款")
	case req.Amount.Total != o.AmountFen:
		return Refund{}, "", errf(400, "INVALID_REQUEST", "订单金额与原订单不一致")
	case s.now().Sub(o.SuccessTime) > refundWindow:
		return Refund{}, "", errf(400, "INVALID_REQUEST", "交易时间超过一年的订单无法退款")
	}
	var taken int64
	for _, r := range s.refunds {
		if r.OutTradeNo == o.OutTradeNo && (r.Status == RefundProcessing || r.Status == RefundSuccess) {
			taken += r.RefundFen
		}
	}
	if taken+req.Amount.Refund > o.AmountFen {
		return Refund{}, "", errf(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
	}
	now := s.now()
	r := &Refund{OutRefundNo: req.OutRefundNo, OutTradeNo: o.OutTradeNo, TransactionID: o.TransactionID, MchID: o.MchID,
		Reason: req.Reason, NotifyURL: req.NotifyURL, RefundFen: req.Amount.Refund, TotalFen: o.AmountFen,
		Status: RefundProcessing, CreatedAt: now, request: canon,
		RefundID: "50" + now.In(chinatime.Zone).Format("20060102") + randomString(19, "0123456789")}
	s.refunds[r.OutRefundNo] = r
	s.opts.Logger.Info("wxsandbox: refund accepted", "out_refund_no", r.OutRefundNo, "refund_fen", r.RefundFen)
	outcome := s.refundOutcome
	switch outcome {
	case RefundProcessing:
		outcome = ""
	case "":
		outcome = RefundSuccess
	}
	return *r, outcome, nil
}

func (s *Sandbox) queryRefund(r *http.Request, _ []byte) (int, any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rf, ok := s.refunds[r.PathValue("no")]
	if !ok {
		return 0, nil, errf(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
	}
	return 200, refundJSON(rf, false), nil
}

// refundJSON is WeChat Pay's refund object: as answers give it (status), or as a notification encrypts
// it (refund_status, mchid).
func refundJSON(r *Refund, notification bool) map[string]any {
	m := map[string]any{
		"refund_id": r.RefundID, "out_refund_no": r.OutRefundNo, "transaction_id": r.TransactionID,
		"out_trade_no": r.OutTradeNo, "channel": "ORIGINAL", "user_received_account": "支付用户零钱",
		"amount": map[string]any{"total": r.TotalFen, "refund": r.RefundFen, "payer_total": r.TotalFen,
			"payer_refund": r.RefundFen, "settlement_refund": r.RefundFen, "settlement_total": r.TotalFen,
			"discount_refund": 0, "currency": "CNY"},
	}
	if !r.SuccessTime.IsZero() {
		m["success_time"] = wechatTime(r.SuccessTime)
	}
	if notification {
		m["mchid"] = r.MchID
		m["refund_status"] = r.Status
		delete(m, "channel")
		return m
	}
	m["status"] = r.Status
	m["create_time"] = wechatTime(r.CreatedAt)
	m["funds_account"] = "AVAILABLE"
	return m
}

// refundNotificationBody is the outer JSON with the refund encrypted under the APIv3 key.
func refundNotificationBody(apiV3Key []byte, r Refund, now time.Time) ([]byte, error) {
	plain, err := json.Marshal(refundJSON(&r, true))
	if err != nil {
		return nil, err
	}
	nonce := randomString(12, alnum)
	ct, err := sealResource(apiV3Key, nonce, "refund", plain)
	if err != nil {
		return nil, err
	}
	summary := map[string]string{RefundSuccess: "退款成功", RefundAbnormal: "退款异常", RefundClosed: "退款关闭"}[r.Status]
	return json.Marshal(map[string]any{
		"id": r.NotificationID, "create_time": wechatTime(now), "resource_type": "encrypt-resource",
		"event_type": "REFUND." + r.Status, "summary": summary,
		"resource": map[string]string{"original_type": "refund", "algorithm": "AEAD_AES_256_GCM",
			"ciphertext": ct, "associated_data": "refund", "nonce": nonce},
	})
}

// SignedRefundNotification is the notification of the finished refund r exactly as the sandbox
// delivers it, for tools that post one themselves.
func SignedRefundNotification(opts Options, r Refund, now time.Time) (body []byte, headers map[string]string, err error) {
	if body, err = refundNotificationBody(opts.APIv3Key, r, now); err != nil {
		return nil, nil, err
	}
	headers, err = notificationHeaders(opts, body, now)
	return body, headers, err
}

func (s *Sandbox) startRefundDelivery(r Refund) {
	if r.NotifyURL == "" {
		return
	}
	s.startAsync(func() {
		body, err := refundNotificationBody(s.opts.APIv3Key, r, s.now())
		if err != nil {
			s.opts.Logger.Error("wxsandbox: cannot build refund notification", "err", err)
			return
		}
		for attempt := 1; ; attempt++ {
			status, err := s.post(r.NotifyURL, body)
			d := Delivery{OutTradeNo: r.OutTradeNo, OutRefundNo: r.OutRefundNo, NotificationID: r.NotificationID, Copy: 1,
				Attempt: attempt, URL: r.NotifyURL, Status: status, At: s.now()}
			if err != nil {
				d.Error = err.Error()
			}
			s.mu.Lock()
			s.deliveries = append(s.deliveries, d)
			s.mu.Unlock()
			if err == nil && status >= 200 && status < 300 {
				return
			}
			if attempt > len(s.opts.RetryDelays) || !s.sleep(s.opts.RetryDelays[attempt-1]) {
				return
			}
		}
	})
}

// startAsync runs f in the background, counted by WaitIdle.
func (s *Sandbox) startAsync(f func()) {
	s.mu.Lock()
	if s.inflight == 0 {
		s.idle = make(chan struct{})
	}
	s.inflight++
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			s.mu.Lock()
			s.inflight--
			if s.inflight == 0 {
				close(s.idle)
			}
			s.mu.Unlock()
		}()
		f()
	}()
}

// refundRoutes adds the refund API and its controls.
func (s *Sandbox) refundRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /v3/refund/domestic/refunds", s.v3(s.createRefund))
	m.HandleFunc("GET /v3/refund/domestic/refunds/{no}", s.v3(s.queryRefund))
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	m.HandleFunc("GET /sandbox/refunds", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, map[string]any{"refunds": s.Refunds()})
	})
	m.HandleFunc("POST /sandbox/refunds/{no}/finish", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Status string `json:"status"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		if err := s.FinishRefund(r.PathValue("no"), in.Status); err != nil {
			reply(w, 400, map[string]string{"code": "INVALID_REQUEST", "message": err.Error()})
			return
		}
		reply(w, 200, map[string]string{"out_refund_no": r.PathValue("no"), "status": in.Status})
	})
	m.HandleFunc("POST /sandbox/refund-outcome", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Status string `json:"status"`
		}
		_ = json.NewDecoder(r.Body).Decode(&in)
		if err := s.SetRefundOutcome(in.Status); err != nil {
			reply(w, 400, map[string]string{"code": "INVALID_REQUEST", "message": err.Error()})
			return
		}
		reply(w, 200, map[string]string{"refund_outcome": in.Status})
	})
}
