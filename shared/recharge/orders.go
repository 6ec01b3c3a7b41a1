package recharge

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"onecard/shared/auth"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
	"onecard/shared/store"
	"onecard/shared/wechatpay"
)

// OrderPage is GET /v1/orders: the caller's orders, newest first.
type OrderPage struct {
	Items      []View  `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

var (
	errBadOrderCursor = fault.Field("BAD_CURSOR", "分页游标无效")
	// ErrOrderPaid refuses to cancel an order WeChat Pay has taken the money for (it is credited).
	ErrOrderPaid = fault.E(fault.Conflict, "ORDER_PAID", "订单已支付，无法取消")
)

// ListOrders lists the recharge orders userID made (card and dorm, every status), newest first, from
// the order items' GSI2 (store.UserOrdersPK). cursor is opaque: the last order's GSI2 sort key.
func ListOrders(ctx context.Context, s *store.Store, userID string, limit int, cursor string) (*OrderPage, error) {
	pk := store.UserOrdersPK(userID)
	q := store.Query{Index: store.GSI2, PK: pk, Newest: true, Limit: limit}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		sk := string(b)
		ts, no, ok := strings.Cut(sk, "#")
		if err != nil || !ok || !validOrderNo(no) {
			return nil, errBadOrderCursor
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000000Z", ts); err != nil {
			return nil, errBadOrderCursor
		}
		start := store.OrderKey(no)
		q.Start, q.StartSK = &start, sk
	}
	var orders []Order
	next, err := s.Page(ctx, q, &orders)
	if err != nil {
		return nil, err
	}
	page := &OrderPage{Items: make([]View, 0, len(orders))}
	for i := range orders {
		page.Items = append(page.Items, orders[i].View())
	}
	if next != nil && next.SK != "" {
		c := base64.RawURLEncoding.EncodeToString([]byte(next.SK))
		page.NextCursor = &c
	}
	return page, nil
}

// Cancel closes userID's pending order no: first at WeChat Pay (so the mini program can no longer pay
// it), then here. Cancelling a closed order answers it again; a paid order is ErrOrderPaid; another
// user's order is ORDER_NOT_FOUND, as a missing one. WeChat Pay answering ORDERPAID means the money was
// taken but its notification has not arrived (or was lost): the order is credited now, as the
// reconciler would, and the answer is ErrOrderPaid. Only answers WeChat Pay signed are acted on
// (wechatpay.IsAPICode); any other failure leaves the order pending with PAYMENT_UNAVAILABLE.
func (s *Service) Cancel(ctx context.Context, userID, no string) (*Order, error) {
	o, err := Get(ctx, s.S, no)
	if err != nil {
		return nil, err
	}
	if o.UserID != userID {
		return nil, errNoOrder
	}
	switch o.Status {
	case Closed:
		return o, nil
	case Paid:
		return nil, ErrOrderPaid
	}
	c, err := s.WeChat.Client(ctx)
	if err != nil {
		return nil, ErrPayUnavailable.Wrap(err)
	}
	err = c.CloseOrder(ctx, o.OrderNo)
	switch {
	case wechatpay.IsAPICode(err, "ORDERPAID"):
		tx, err := c.QueryOrder(ctx, o.OrderNo)
		if err == nil {
			err = s.Credit(ctx, c, o, tx)
		}
		if err != nil {
			if _, ok := fault.As(err); ok {
				return nil, err
			}
			return nil, ErrPayUnavailable.After(5 * time.Second).Wrap(err)
		}
		return nil, ErrOrderPaid
	case err == nil, wechatpay.IsAPICode(err, "ORDER_CLOSED"):
	case wechatpay.IsAPICode(err, "ORDER_NOT_EXIST") && o.PayParams == nil:
		// Never registered (its prepay failed): nothing at WeChat Pay can take money for it.
	default:
		return nil, ErrPayUnavailable.After(5 * time.Second).Wrap(err)
	}
	if err := s.markClosed(ctx, o); err != nil {
		return nil, err
	}
	// markClosed changes nothing on an order credited meanwhile: answer what the order is now.
	if o, err = Get(ctx, s.S, no); err != nil {
		return nil, err
	}
	if o.Status == Paid {
		return nil, ErrOrderPaid
	}
	return o, nil
}

// The caller's orders.
var (
	OrderList = fn.HTTP{Name: "OrderList", Route: "GET /v1/orders", Access: fn.User,
		Actions: []string{iam.GetItem, iam.Query}, Build: func(d *platform.Deps) httpapi.Handler {
			s := d.Store()
			return func(w http.ResponseWriter, r *http.Request) error {
				limit, err := httpapi.Limit(r, 20, 100)
				if err != nil {
					return err
				}
				page, err := ListOrders(r.Context(), s, auth.Must(r.Context()).Subject, limit, r.URL.Query().Get("cursor"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, page)
			}
		}}

	OrderCancel = fn.HTTP{Name: "OrderCancel", Route: "POST /v1/orders/{orderNo}/cancel", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.GetSecretValue}, Build: func(d *platform.Deps) httpapi.Handler {
			s := NewService(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				o, err := s.Cancel(r.Context(), auth.Must(r.Context()).Subject, r.PathValue("orderNo"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, o.View())
			}
		}}
)
