package wxsandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"onecard/shared/chinatime"
)

// Notification modes: how the next payments are notified. A mode stays until changed.
const (
	NotifyNormal    = "normal"    // one notification, retried until the merchant answers 2xx
	NotifyDrop      = "drop"      // pay, but never notify (the reconciler must find it)
	NotifyDuplicate = "duplicate" // two concurrent deliveries of the same notification
	NotifyDelay     = "delay"     // wait Mode.DelayMS before the first attempt
)

// Mode is the sandbox's fault-injection state.
type Mode struct {
	Notify  string `json:"notify"`
	DelayMS int64  `json:"delay_ms,omitempty"`
	// FailAPI is how many of the next API calls (/v3 and jscode2session) answer SYSTEM_ERROR.
	FailAPI int `json:"fail_api"`
	// Forge: a man in the middle answers some of the next /v3 calls instead of WeChat Pay (ForgeAPIAnswers).
	Forge Forgery `json:"forge,omitzero"`
}

// Delivery is one attempt to deliver a notification.
type Delivery struct {
	OutTradeNo     string    `json:"out_trade_no"`
	OutRefundNo    string    `json:"out_refund_no,omitempty"` // a refund's notification
	NotificationID string    `json:"notification_id"`
	Copy           int       `json:"copy"`    // 1, or 2 for the duplicate
	Attempt        int       `json:"attempt"` // 1 for the first try
	URL            string    `json:"url"`
	Status         int       `json:"status"` // HTTP status; 0 if the request failed
	Error          string    `json:"error,omitempty"`
	At             time.Time `json:"at"`
}

// ErrNotFound, ErrClosed, ErrNotPaid and ErrExpired are what Pay and Resend refuse with.
var (
	ErrNotFound = errors.New("wxsandbox: no such order")
	ErrClosed   = errors.New("wxsandbox: order is closed")
	ErrNotPaid  = errors.New("wxsandbox: order is not paid")
	ErrExpired  = errors.New("wxsandbox: order expired (time_expire has passed)")
)

// SetNotifyMode sets how the next payments are notified: NotifyNormal, NotifyDrop, NotifyDuplicate, or
// NotifyDelay with the given delay.
func (s *Sandbox) SetNotifyMode(mode string, delay time.Duration) error {
	switch mode {
	case NotifyNormal, NotifyDrop, NotifyDuplicate:
		delay = 0
	case NotifyDelay:
		if delay < 0 {
			return errors.New("wxsandbox: negative delay")
		}
	default:
		return fmt.Errorf("wxsandbox: unknown notify mode %q", mode)
	}
	s.mu.Lock()
	s.mode.Notify, s.mode.DelayMS = mode, delay.Milliseconds()
	s.mu.Unlock()
	return nil
}

// FailNextAPICalls makes the next n API calls answer 500 SYSTEM_ERROR (0 cancels).
func (s *Sandbox) FailNextAPICalls(n int) {
	s.mu.Lock()
	s.mode.FailAPI = max(n, 0)
	s.mu.Unlock()
}

// Forgery is what a man in the middle between the merchant and WeChat Pay answers: the error Code at HTTP
// Status, signed so that it does not verify (the headers of a genuine answer over a body they were not
// made for), for the next Count /v3 calls whose path ends with PathSuffix (any call if empty). Those calls
// never reach the sandbox's orders.
type Forgery struct {
	Count      int    `json:"count"`
	Status     int    `json:"status"`
	Code       string `json:"code"`
	PathSuffix string `json:"path_suffix,omitempty"`
}

// ForgeAPIAnswers sets the forgery (a zero Forgery, or Count 0, cancels). Typical: {1, 404,
// "ORDER_NOT_EXIST", ""} about a paid order, or {1, 400, "ORDER_CLOSED", "/close"}.
func (s *Sandbox) ForgeAPIAnswers(f Forgery) error {
	if f.Count <= 0 {
		f = Forgery{}
	} else if f.Status < 400 || f.Status > 599 || f.Code == "" {
		return errors.New("wxsandbox: a forged answer needs an error status (4xx/5xx) and a code")
	}
	s.mu.Lock()
	s.mode.Forge = f
	s.mu.Unlock()
	return nil
}

// takeForgery returns the forged answer for a call to path, if one is due.
func (s *Sandbox) takeForgery(path string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.mode.Forge
	if f.Count <= 0 || !strings.HasSuffix(path, f.PathSuffix) {
		return nil
	}
	e := errf(f.Status, f.Code, "forged by a man in the middle")
	if f.Count--; f.Count == 0 {
		*f = Forgery{}
	}
	return e
}

// Mode returns the current fault-injection state.
func (s *Sandbox) Mode() Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

func (s *Sandbox) takeFailure() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mode.FailAPI > 0 {
		s.mode.FailAPI--
		return true
	}
	return false
}

// Order returns a copy of the order, if placed.
func (s *Sandbox) Order(outTradeNo string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copyOf(s.orders, outTradeNo)
}

// Orders returns every order, oldest first.
func (s *Sandbox) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	return oldestFirst(s.orders, func(o *Order) (time.Time, string) { return o.CreatedAt, o.OutTradeNo })
}

// copyOf returns a copy of m[key]; the caller holds the sandbox's lock.
func copyOf[T any](m map[string]*T, key string) (T, bool) {
	v, ok := m[key]
	if !ok {
		var zero T
		return zero, false
	}
	return *v, true
}

// oldestFirst returns copies of m's values by creation time, then number; the caller holds the lock.
func oldestFirst[T any](m map[string]*T, order func(*T) (created time.Time, no string)) []T {
	ptrs := make([]*T, 0, len(m))
	for _, v := range m {
		ptrs = append(ptrs, v)
	}
	sort.Slice(ptrs, func(i, j int) bool {
		ci, ni := order(ptrs[i])
		cj, nj := order(ptrs[j])
		if !ci.Equal(cj) {
			return ci.Before(cj)
		}
		return ni < nj
	})
	out := make([]T, len(ptrs))
	for i, p := range ptrs {
		out[i] = *p
	}
	return out
}

// Deliveries returns every notification attempt so far, in order.
func (s *Sandbox) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// Reset forgets orders, deliveries and modes. Deliveries already in flight still run to their end.
func (s *Sandbox) Reset() {
	s.mu.Lock()
	s.orders = map[string]*Order{}
	s.refunds = map[string]*Refund{}
	s.refundOutcome = ""
	s.deliveries = nil
	s.mode = Mode{Notify: NotifyNormal}
	s.mu.Unlock()
}

// WaitIdle blocks until no notification delivery is in progress (including scheduled retries), or ctx ends.
func (s *Sandbox) WaitIdle(ctx context.Context) error {
	for {
		s.mu.Lock()
		idle, n := s.idle, s.inflight
		s.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Pay does what a payer does in the WeChat app: the order becomes SUCCESS and the notification is sent
// according to the current mode, in the background. Paying a paid order again changes nothing and sends
// nothing (use Resend). It returns the order as paid.
func (s *Sandbox) Pay(outTradeNo string) (Order, error) {
	s.mu.Lock()
	o, ok := s.orders[outTradeNo]
	if !ok {
		s.mu.Unlock()
		return Order{}, ErrNotFound
	}
	switch o.TradeState {
	case StateClosed:
		s.mu.Unlock()
		return Order{}, ErrClosed
	case StateSuccess:
		cp := *o
		s.mu.Unlock()
		return cp, nil
	}
	if o.TimeExpire != "" {
		if te, err := time.Parse(time.RFC3339, o.TimeExpire); err == nil && !s.now().Before(te) {
			s.mu.Unlock()
			return Order{}, ErrExpired
		}
	}
	now := s.now()
	o.TradeState = StateSuccess
	o.SuccessTime = now.Truncate(time.Second)
	o.TransactionID = "4200" + now.In(chinatime.Zone).Format("20060102") + randomString(16, "0123456789")
	o.NotificationID = newEventID()
	mode := s.mode
	cp := *o
	s.mu.Unlock()

	s.opts.Logger.Info("wxsandbox: order paid", "out_trade_no", cp.OutTradeNo, "transaction_id", cp.TransactionID, "notify", mode.Notify)
	switch mode.Notify {
	case NotifyDrop:
	case NotifyDuplicate:
		s.startDelivery(cp, 1, 0)
		s.startDelivery(cp, 2, 0)
	case NotifyDelay:
		s.startDelivery(cp, 1, time.Duration(mode.DelayMS)*time.Millisecond)
	default:
		s.startDelivery(cp, 1, 0)
	}
	return cp, nil
}

// Resend sends the notification of a paid order once more (same notification id, fresh encryption and
// signature), whatever the mode, as WeChat Pay's own retries do.
func (s *Sandbox) Resend(outTradeNo string) error {
	s.mu.Lock()
	o, ok := s.orders[outTradeNo]
	var cp Order
	if ok {
		cp = *o
	}
	s.mu.Unlock()
	switch {
	case !ok:
		return ErrNotFound
	case cp.TradeState != StateSuccess:
		return ErrNotPaid
	}
	s.startDelivery(cp, 1, 0)
	return nil
}

func (s *Sandbox) startDelivery(o Order, copyNo int, delay time.Duration) {
	s.startAsync(func() { s.deliver(o, copyNo, delay) })
}

// deliver posts one notification until the merchant answers 2xx or the retry schedule runs out.
func (s *Sandbox) deliver(o Order, copyNo int, delay time.Duration) {
	if !s.sleep(delay) {
		return
	}
	body, err := notificationBody(s.opts.APIv3Key, o)
	if err != nil {
		s.opts.Logger.Error("wxsandbox: cannot build notification", "err", err)
		return
	}
	for attempt := 1; ; attempt++ {
		status, err := s.post(o.NotifyURL, body)
		d := Delivery{
			OutTradeNo: o.OutTradeNo, NotificationID: o.NotificationID, Copy: copyNo, Attempt: attempt,
			URL: o.NotifyURL, Status: status, At: s.now(),
		}
		if err != nil {
			d.Error = err.Error()
		}
		s.mu.Lock()
		s.deliveries = append(s.deliveries, d)
		s.mu.Unlock()
		s.opts.Logger.Info("wxsandbox: notification attempt", "out_trade_no", o.OutTradeNo, "attempt", attempt, "status", status, "err", d.Error)
		if err == nil && status >= 200 && status < 300 {
			return
		}
		if attempt > len(s.opts.RetryDelays) || !s.sleep(s.opts.RetryDelays[attempt-1]) {
			return
		}
	}
}

func (s *Sandbox) sleep(d time.Duration) bool {
	if d <= 0 {
		return s.ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// notificationBody builds the outer JSON with the transaction encrypted under the APIv3 key.
func notificationBody(apiV3Key []byte, o Order) ([]byte, error) {
	plain, err := json.Marshal(transactionJSON(&o))
	if err != nil {
		return nil, err
	}
	nonce := randomString(12, alnum)
	ct, err := sealResource(apiV3Key, nonce, "transaction", plain)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id":            o.NotificationID,
		"create_time":   wechatTime(o.SuccessTime),
		"resource_type": "encrypt-resource",
		"event_type":    "TRANSACTION.SUCCESS",
		"summary":       "支付成功",
		"resource": map[string]string{
			"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
			"ciphertext": ct, "associated_data": "transaction", "nonce": nonce,
		},
	})
}

// notificationHeaders are the Wechatpay-* headers of one delivery of body, signed with the platform key
// at now.
func notificationHeaders(opts Options, body []byte, now time.Time) (map[string]string, error) {
	ts := fmt.Sprint(now.Unix())
	nonce := randomString(32, alnum)
	sig, err := signLines(opts.PlatformKey, ts, nonce, string(body))
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"Wechatpay-Timestamp":      ts,
		"Wechatpay-Nonce":          nonce,
		"Wechatpay-Signature":      sig,
		"Wechatpay-Serial":         opts.PlatformSerial,
		"Wechatpay-Signature-Type": authScheme,
	}, nil
}

// SignedNotification is the TRANSACTION.SUCCESS notification of the paid order o exactly as the sandbox
// delivers it: the transaction encrypted under the APIv3 key, and the Wechatpay-* headers signed with
// the platform key at now. It is for tools that post a notification themselves (make invoke's
// WeChatNotify sample); o needs OutTradeNo, AppID, MchID, AmountFen, OpenID, TransactionID, SuccessTime
// and NotificationID, and TradeState StateSuccess.
func SignedNotification(opts Options, o Order, now time.Time) (body []byte, headers map[string]string, err error) {
	if o.TradeState != StateSuccess {
		return nil, nil, ErrNotPaid
	}
	if body, err = notificationBody(opts.APIv3Key, o); err != nil {
		return nil, nil, err
	}
	headers, err = notificationHeaders(opts, body, now)
	return body, headers, err
}

// post sends one signed attempt; each attempt is signed afresh, so a late retry is not stale.
func (s *Sandbox) post(notifyURL string, body []byte) (int, error) {
	headers, err := notificationHeaders(s.opts, body, s.now())
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, notifyURL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/4.0 (wxsandbox)")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

// newEventID looks like WeChat Pay's notification ids (a UUID).
func newEventID() string {
	h := randomString(32, "0123456789abcdef")
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// controlRoutes is the JSON test API under /sandbox/.
func (s *Sandbox) controlRoutes(m *http.ServeMux) {
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(w http.ResponseWriter, err error) {
		status, code := http.StatusBadRequest, "INVALID_REQUEST"
		switch {
		case errors.Is(err, ErrNotFound):
			status, code = http.StatusNotFound, "ORDER_NOT_EXIST"
		case errors.Is(err, ErrClosed):
			code = "ORDER_CLOSED"
		case errors.Is(err, ErrExpired):
			code = "ORDER_EXPIRED"
		case errors.Is(err, ErrNotPaid):
			status, code = http.StatusConflict, "ORDER_NOT_PAID"
		}
		reply(w, status, map[string]string{"code": code, "message": err.Error()})
	}

	m.HandleFunc("POST /sandbox/orders/{no}/pay", func(w http.ResponseWriter, r *http.Request) {
		o, err := s.Pay(r.PathValue("no"))
		if err != nil {
			fail(w, err)
			return
		}
		reply(w, 200, map[string]string{
			"out_trade_no": o.OutTradeNo, "transaction_id": o.TransactionID, "trade_state": o.TradeState,
			"notify": s.Mode().Notify,
		})
	})
	m.HandleFunc("POST /sandbox/orders/{no}/notify", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Resend(r.PathValue("no")); err != nil {
			fail(w, err)
			return
		}
		reply(w, http.StatusAccepted, map[string]string{"out_trade_no": r.PathValue("no"), "notify": "sent"})
	})
	m.HandleFunc("GET /sandbox/orders/{no}", func(w http.ResponseWriter, r *http.Request) {
		o, ok := s.Order(r.PathValue("no"))
		if !ok {
			fail(w, ErrNotFound)
			return
		}
		reply(w, 200, o)
	})
	m.HandleFunc("GET /sandbox/orders", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, map[string]any{"orders": s.Orders()})
	})
	m.HandleFunc("GET /sandbox/notifications", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, map[string]any{"deliveries": s.Deliveries()})
	})
	m.HandleFunc("GET /sandbox/mode", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, s.Mode()) })
	m.HandleFunc("POST /sandbox/mode", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Mode       string `json:"mode"`
			MS         int64  `json:"ms"`
			Count      int    `json:"count"`
			Status     int    `json:"status"`
			Code       string `json:"code"`
			PathSuffix string `json:"path_suffix"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			fail(w, fmt.Errorf("body must be {\"mode\":...}: %v", err))
			return
		}
		switch req.Mode {
		case "fail_api":
			if req.Count <= 0 {
				fail(w, errors.New("fail_api needs a positive count"))
				return
			}
			s.FailNextAPICalls(req.Count)
		case "forge_api":
			if req.Count <= 0 {
				fail(w, errors.New("forge_api needs a positive count"))
				return
			}
			if err := s.ForgeAPIAnswers(Forgery{Count: req.Count, Status: req.Status, Code: req.Code, PathSuffix: req.PathSuffix}); err != nil {
				fail(w, err)
				return
			}
		case NotifyNormal:
			_ = s.SetNotifyMode(NotifyNormal, 0)
			s.FailNextAPICalls(0)
			_ = s.ForgeAPIAnswers(Forgery{})
		default:
			if err := s.SetNotifyMode(req.Mode, time.Duration(req.MS)*time.Millisecond); err != nil {
				fail(w, err)
				return
			}
		}
		reply(w, 200, s.Mode())
	})
	m.HandleFunc("POST /sandbox/reset", func(w http.ResponseWriter, r *http.Request) {
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
}

// Paid registers a payment WeChat Pay took before the sandbox started (the local stack's demo data), as
// WeChat Pay keeps it: querying, refunding and the day's bill then know it. refundedFen, when not zero,
// is a refund of it already finished (outRefundNo). Registering the same order again changes nothing.
func (s *Sandbox) Paid(o Order, outRefundNo string, refundedFen int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orders[o.OutTradeNo]; ok {
		return
	}
	if o.MchID == "" {
		o.MchID, o.AppID = s.opts.MchID, s.opts.AppID
	}
	o.TradeState = StateSuccess
	if o.CreatedAt.IsZero() {
		o.CreatedAt = o.SuccessTime
	}
	s.orders[o.OutTradeNo] = &o
	if refundedFen > 0 {
		s.refunds[outRefundNo] = &Refund{OutRefundNo: outRefundNo, RefundID: "50" + randomString(21, "0123456789"),
			OutTradeNo: o.OutTradeNo, TransactionID: o.TransactionID, MchID: o.MchID, RefundFen: refundedFen,
			TotalFen: o.AmountFen, Status: RefundSuccess, CreatedAt: o.SuccessTime, SuccessTime: o.SuccessTime}
	}
}
