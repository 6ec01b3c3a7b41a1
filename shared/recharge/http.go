package recharge

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"onecard/shared/accounts"
	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/ledger"
	"onecard/shared/platform"
	"onecard/shared/school"
	"onecard/shared/secret"
	"onecard/shared/wechatpay"
)

// NewService wires the recharge service from d.
func NewService(d *platform.Deps) *Service {
	s := d.Store()
	return &Service{S: s, Ledger: ledger.New(s, d.Now), WeChat: NewWeChatSource(d), Users: accounts.Users{S: s},
		Schools: school.Repo{S: s}, Now: d.Now}
}

// ErrCardCancelled refuses a recharge to a cancelled card (its balance moved to the replacement).
var ErrCardCancelled = cards.ErrCancelled

// CardTarget is the recharge target of a card.
func CardTarget(c *cards.Card) Target {
	return Target{Kind: "card", Account: c.Account, PK: c.PK, SK: c.SK, CardNo: c.CardNo}
}

// wechatAccounts is the accounts service with WeChat Pay's client answering code2session.
func wechatAccounts(d *platform.Deps) *accounts.Service {
	return accounts.FromDeps(d, NewWeChatSource(d))
}

// Recharge functions.
var (
	CardRecharge = fn.HTTP{Name: "CardRecharge", Route: "POST /v1/card/recharge", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.GetSecretValue}, Build: func(d *platform.Deps) httpapi.Handler {
			s := NewService(d)
			cs := cards.NewService(s.S, secret.NewDigester(d.Cfg.PIIKey), d.Now)
			// 201 also on a retry with the same Idempotency-Key: it answers the same order (docs/api/openapi.yaml).
			return httpapi.Make(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				AmountFen int64 `json:"amountFen"`
			}) (map[string]any, bool, error) {
				if err := CheckIdemKey(r.Header.Get("Idempotency-Key")); err != nil {
					return nil, false, err
				}
				u, c, err := cs.Mine(r.Context(), auth.Must(r.Context()))
				if err != nil {
					return nil, false, err
				}
				if c.Status == cards.Cancelled {
					return nil, false, ErrCardCancelled
				}
				o, err := s.Create(r.Context(), u, CardTarget(c), in.AmountFen, "一卡通充值", r.Header.Get("Idempotency-Key"))
				if err != nil {
					return nil, false, err
				}
				return map[string]any{"orderNo": o.OrderNo, "payParams": o.PayParams}, true, nil
			})
		}}

	OrderGet = fn.HTTP{Name: "OrderGet", Route: "GET /v1/orders/{orderNo}", Access: fn.User,
		Actions: []string{iam.GetItem}, Build: func(d *platform.Deps) httpapi.Handler {
			s := d.Store()
			return func(w http.ResponseWriter, r *http.Request) error {
				o, err := Get(r.Context(), s, r.PathValue("orderNo"))
				if err != nil {
					return err
				}
				if o.UserID != auth.Must(r.Context()).Subject {
					return errNoOrder // someone else's order looks exactly like a missing one
				}
				return httpapi.JSON(w, http.StatusOK, o.View())
			}
		}}

	// MeWechat binds the openid WeChat Pay needs (code2session). It lives here, where the WeChat client is.
	MeWechat = fn.HTTP{Name: "MeWechat", Route: "POST /v1/me/wechat", Access: fn.User,
		Actions: []string{iam.UpdateItem, iam.GetSecretValue}, Build: fn.Using(wechatAccounts, func(acc *accounts.Service) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				JSCode string `json:"jsCode"`
			}) error {
				if err := acc.BindWeChat(r.Context(), auth.Must(r.Context()), in.JSCode); err != nil {
					var we *wechatpay.WeixinError
					if errors.As(err, &we) && we.InvalidCode() {
						return accounts.ErrBadJSCode.Wrap(err)
					}
					if _, ok := fault.As(err); !ok {
						return ErrPayUnavailable.Wrap(err)
					}
					return err
				}
				return nil
			})
		})}

	// WeChatNotify is WeChat Pay's payment notification. Its answers follow WeChat Pay's convention
	// (204, or 4xx/5xx with {"code":"FAIL","message":…} so that WeChat Pay retries), not the API's error shape.
	WeChatNotify = fn.HTTP{Name: "WeChatNotify", Route: "POST /v1/payments/wechat/notify", Access: fn.Signed,
		MaxBody: wechatpay.MaxNotificationBytes, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.GetSecretValue},
		Build: func(d *platform.Deps) httpapi.Handler {
			return wechatAnswer(NewService(d).notify)
		}}
)

// wechatAnswer answers a WeChat Pay notification in WeChat Pay's convention: 204, or the status with
// {"code":"FAIL","message"} so that WeChat Pay retries.
func wechatAnswer(handle func(*http.Request) (int, string)) httpapi.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		status, msg := handle(r)
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return nil
		}
		return httpapi.JSON(w, status, map[string]string{"code": "FAIL", "message": msg})
	}
}

// notification reads a WeChat Pay notification's body (what: "notification", "refund notification",
// for the log) and the client that verifies it; without a client, the status and message to refuse with.
func (s *Service) notification(r *http.Request, what string) ([]byte, *wechatpay.Client, int, string) {
	log := httpapi.Log(r.Context())
	body, err := httpapi.ReadBody(r, wechatpay.MaxNotificationBytes)
	if err != nil {
		return nil, nil, http.StatusBadRequest, "body too large"
	}
	for _, h := range []string{"Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial"} {
		if r.Header.Get(h) == "" {
			log.Warn(what+" refused", "reason", "missing "+h)
			return nil, nil, http.StatusUnauthorized, "verification failed"
		}
	}
	c, err := s.WeChat.Client(r.Context())
	if err != nil {
		log.Error("wechat pay not configured", "err", err.Error())
		return nil, nil, http.StatusInternalServerError, "not configured"
	}
	return body, c, 0, ""
}

// notify handles one notification and says what to answer.
func (s *Service) notify(r *http.Request) (int, string) {
	ctx := r.Context()
	log := httpapi.Log(ctx)
	body, c, status, msg := s.notification(r, "notification")
	if c == nil {
		return status, msg
	}
	tx, err := c.ParseNotification(r.Header, body)
	switch {
	case errors.Is(err, wechatpay.ErrUnsupportedEvent):
		return http.StatusNoContent, ""
	case errors.Is(err, wechatpay.ErrMalformed):
		log.Warn("notification refused", "reason", "malformed")
		return http.StatusBadRequest, "malformed"
	case errors.Is(err, wechatpay.ErrDecrypt):
		log.Error("notification refused", "reason", "decrypt failed: check the APIv3 key")
		return http.StatusUnauthorized, "verification failed"
	case err != nil:
		log.Warn("notification refused", "reason", reason(err))
		return http.StatusUnauthorized, "verification failed"
	}
	o, err := Get(ctx, s.S, tx.OutTradeNo)
	if fault.Is(err, errNoOrder.Code) {
		// Authentic (the signature verified and the resource decrypted with our APIv3 key) and paid, yet no
		// order of ours: someone's money was taken for an order we cannot credit (lost order item, another
		// system sharing the merchant and notify URL). Error level, so the alarm sees it; the answer is
		// 204 because WeChat Pay's retries would change nothing and only repeat the alarm for 24 hours.
		// Staff find the payment in the merchant platform by transaction_id and refund or credit it.
		if tx.Paid() {
			log.Error("paid notification for an unknown order", "orderNo", tx.OutTradeNo,
				"transactionId", tx.TransactionID, "amountFen", tx.Amount.Total,
				"ourMerchant", tx.MchID == c.MchID() && tx.AppID == c.AppID())
		} else {
			log.Warn("notification for an unknown order", "orderNo", tx.OutTradeNo, "tradeState", tx.TradeState)
		}
		return http.StatusNoContent, ""
	}
	if err != nil {
		log.Error("notification: read order", "err", err.Error())
		return http.StatusInternalServerError, "try again"
	}
	if err := s.Credit(ctx, c, o, tx); err != nil {
		if errors.Is(err, wechatpay.ErrNotPaid) {
			return http.StatusNoContent, ""
		}
		if errors.Is(err, wechatpay.ErrMismatch) {
			log.Error("notification does not match its order", "orderNo", o.OrderNo, "err", err.Error())
			return http.StatusBadRequest, "order mismatch"
		}
		log.Error("notification: credit", "orderNo", o.OrderNo, "err", err.Error())
		return http.StatusInternalServerError, "try again"
	}
	return http.StatusNoContent, ""
}

func reason(err error) string {
	switch {
	case errors.Is(err, wechatpay.ErrSignTestProbe):
		return "signature probe"
	case errors.Is(err, wechatpay.ErrStale):
		return "stale timestamp"
	case errors.Is(err, wechatpay.ErrUnknownSerial):
		return "unknown serial"
	default:
		return "bad signature"
	}
}

// ReconcileAfter is how long an order waits for its notification before the reconciler asks WeChat Pay.
const ReconcileAfter = 5 * time.Minute

// RechargeReconciler runs on a schedule: it credits paid orders whose notification never came and closes
// expired ones.
var RechargeReconciler = fn.Event{Name: "RechargeReconciler", Description: "credit paid orders whose notification was lost; close expired ones; settle refunds",
	Schedule: "rate(2 minutes)", Timeout: 60, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.Query, iam.GetSecretValue},
	Build: func(d *platform.Deps) any {
		s := NewService(d)
		return func(ctx context.Context, _ json.RawMessage) (ReconcileReport, error) {
			ctx = httpapi.WithLogger(ctx, d.Log.With("fn", "RechargeReconciler"))
			rep, err := s.Reconcile(ctx, ReconcileAfter)
			d.Log.Info("recharge reconcile", "checked", rep.Checked, "credited", rep.Credited, "closed", rep.Closed,
				"pending", rep.StillPending, "failed", rep.Failed)
			if err != nil {
				return rep, err
			}
			rep.Refunds, err = s.ReconcileRefunds(ctx, RefundReconcileAfter)
			d.Log.Info("refund reconcile", "checked", rep.Refunds.Checked, "succeeded", rep.Refunds.Succeeded,
				"failed", rep.Refunds.Failed, "open", rep.Refunds.StillOpen, "errors", rep.Refunds.Errors)
			return rep, err
		}
	}}
