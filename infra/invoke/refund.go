package invoke

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"onecard/infra/seed"
	"onecard/infra/wxsandbox"
)

// signRefundNotification makes the body of a WeChatRefundNotify event ("{{wechatRefundNotification}}")
// the REFUND.SUCCESS notification of the demo refund (seed.DemoRefundNo), encrypted and signed with the
// sandbox's keys as WeChat Pay would, with its Wechatpay-* headers put in the event. The demo refund is
// done already, so the notification settles nothing twice: it is WeChat Pay's retry.
func (l *Local) signRefundNotification(_ context.Context, event []byte) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, errors.New("{{wechatRefundNotification}}: event is not a JSON object")
	}
	headers, _ := ev["headers"].(map[string]any)
	if b, _ := ev["body"].(string); b != "{{wechatRefundNotification}}" || headers == nil {
		return nil, errors.New("{{wechatRefundNotification}} must be the whole body of an event with headers")
	}
	if l.wechatKeys == "" {
		return nil, errors.New("{{wechatRefundNotification}}: no WeChat Pay sandbox keys")
	}
	opts, err := wxsandbox.LoadDevKeys(l.wechatKeys)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	body, hs, err := wxsandbox.SignedRefundNotification(opts, wxsandbox.Refund{OutRefundNo: seed.DemoRefundNo,
		RefundID: "50302026112012345678901", OutTradeNo: seed.DemoPaidOrderNo, TransactionID: "4200" + seed.DemoPaidOrderNo[1:17],
		MchID: opts.MchID, RefundFen: 2000, TotalFen: 5000, Status: wxsandbox.RefundSuccess,
		SuccessTime: now.Add(-time.Minute), NotificationID: newUUID()}, now)
	if err != nil {
		return nil, err
	}
	return signedEvent(ev, headers, body, hs)
}
