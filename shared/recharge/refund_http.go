package recharge

import (
	"errors"
	"net/http"

	"onecard/shared/auth"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
	"onecard/shared/staff"
	"onecard/shared/wechatpay"
)

// Refund routes.
var (
	// AdminOrderRefund refunds part or all of a paid card recharge through WeChat Pay (财务处).
	AdminOrderRefund = fn.HTTP{Name: "AdminOrderRefund", Route: "POST /v1/admin/orders/{orderNo}/refunds", Access: fn.Staff,
		Roles: []string{auth.RoleFinance}, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.GetSecretValue},
		Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				AmountFen int64  `json:"amountFen"`
				Reason    string `json:"reason"`
			}) (*Refund, error) {
				p := auth.Must(r.Context())
				return s.Refund(r.Context(), RefundInput{School: p.School, Actor: staff.Actor(p), OrderNo: r.PathValue("orderNo"),
					AmountFen: in.AmountFen, Reason: in.Reason, Key: r.Header.Get("Idempotency-Key")})
			})
		})}

	// AdminRefundGet reads a refund; one not final yet is asked about at WeChat Pay first.
	AdminRefundGet = fn.HTTP{Name: "AdminRefundGet", Route: "GET /v1/admin/refunds/{refundNo}", Access: fn.Staff,
		Roles: []string{auth.RoleFinance}, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.GetSecretValue},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := NewService(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				rf, err := s.GetRefund(r.Context(), auth.Must(r.Context()).School, r.PathValue("refundNo"))
				if err != nil {
					return err
				}
				if fresh, err := s.RefreshRefund(r.Context(), rf); err == nil {
					rf = fresh
				} else if _, ok := fault.As(err); ok {
					return err
				} else {
					// WeChat Pay did not answer (or not verifiably): show what we know.
					httpapi.Log(r.Context()).Warn("refund query", "refundNo", rf.RefundNo, "err", err.Error())
				}
				return httpapi.JSON(w, http.StatusOK, rf)
			}
		}}

	// WeChatRefundNotify is WeChat Pay's refund notification (REFUND.SUCCESS / ABNORMAL / CLOSED), answered
	// in WeChat Pay's convention like WeChatNotify.
	WeChatRefundNotify = fn.HTTP{Name: "WeChatRefundNotify", Route: "POST /v1/payments/wechat/refund-notify", Access: fn.Signed,
		MaxBody: wechatpay.MaxNotificationBytes, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.GetSecretValue},
		Build: func(d *platform.Deps) httpapi.Handler {
			return wechatAnswer(NewService(d).refundNotify)
		}}
)

// refundNotify handles one refund notification and says what to answer.
func (s *Service) refundNotify(r *http.Request) (int, string) {
	ctx := r.Context()
	log := httpapi.Log(ctx)
	body, c, status, msg := s.notification(r, "refund notification")
	if c == nil {
		return status, msg
	}
	wr, err := c.ParseRefundNotification(r.Header, body)
	switch {
	case errors.Is(err, wechatpay.ErrUnsupportedEvent):
		return http.StatusNoContent, ""
	case errors.Is(err, wechatpay.ErrMalformed):
		log.Warn("refund notification refused", "reason", "malformed")
		return http.StatusBadRequest, "malformed"
	case errors.Is(err, wechatpay.ErrDecrypt):
		log.Error("refund notification refused", "reason", "decrypt failed: check the APIv3 key")
		return http.StatusUnauthorized, "verification failed"
	case errors.Is(err, wechatpay.ErrConfig):
		log.Error("refund notification: configuration", "err", err.Error())
		return http.StatusInternalServerError, "not configured"
	case err != nil:
		log.Warn("refund notification refused", "reason", reason(err))
		return http.StatusUnauthorized, "verification failed"
	}
	rf, ok, err := s.getRefund(ctx, wr.OutRefundNo)
	if err != nil {
		log.Error("refund notification: read refund", "err", err.Error())
		return http.StatusInternalServerError, "try again"
	}
	if !ok {
		// Authentic, yet no refund of ours: someone refunded in the merchant platform by hand, or another
		// system shares the merchant. Nothing to settle; the alarm sees the line.
		log.Error("refund notification for an unknown refund", "refundNo", wr.OutRefundNo, "orderNo", wr.OutTradeNo,
			"state", wr.State(), "amountFen", wr.Amount.Refund)
		return http.StatusNoContent, ""
	}
	if _, err := s.applyWeChat(ctx, c, rf, wr); err != nil {
		if errors.Is(err, wechatpay.ErrMismatch) {
			log.Error("refund notification does not match its refund", "refundNo", rf.RefundNo, "err", err.Error())
			return http.StatusBadRequest, "refund mismatch"
		}
		log.Error("refund notification: settle", "refundNo", rf.RefundNo, "err", err.Error())
		return http.StatusInternalServerError, "try again"
	}
	return http.StatusNoContent, ""
}
