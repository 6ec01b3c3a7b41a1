package wxbill

import (
	"context"
	"encoding/json"
	"net/http"

	"onecard/shared/auth"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
	"onecard/shared/recharge"
)

// NewService builds the service from the function's dependencies.
func NewService(d *platform.Deps) *Service {
	return &Service{S: d.Store(), Now: d.Now, WeChat: recharge.NewWeChatSource(d).Client, Log: d.Log}
}

// AdminWeChatBill is a day's matching report (finance; admin always).
var AdminWeChatBill = fn.HTTP{Name: "AdminWeChatBill", Route: "GET /v1/admin/wechat-bills/{day}", Access: fn.Staff,
	Roles: []string{auth.RoleFinance}, Actions: []string{iam.GetItem},
	Build: func(d *platform.Deps) httpapi.Handler {
		s := &Service{S: d.Store(), Now: d.Now}
		return func(w http.ResponseWriter, r *http.Request) error {
			rep, err := s.Get(r.Context(), auth.Must(r.Context()).School, r.PathValue("day"))
			if err != nil {
				return err
			}
			return httpapi.JSON(w, http.StatusOK, rep)
		}
	}}

// WeChatBillMatcher matches yesterday's trade bill every day at 10:30 China time (02:30 UTC), after
// WeChat Pay has made it; a failed run is logged and the next day's run does not repeat it (staff ask
// the lead to run it again, or it is matched by hand).
var WeChatBillMatcher = fn.Event{Name: "WeChatBillMatcher", Description: "download yesterday's WeChat Pay trade bill and match it with the ledger",
	Schedule: "cron(30 2 * * ? *)", Timeout: 120, Actions: []string{iam.PutItem, iam.Query, iam.GetSecretValue},
	Build: func(d *platform.Deps) any {
		s := NewService(d)
		return func(ctx context.Context, _ json.RawMessage) (*Report, error) {
			s := *s
			s.Log = d.Log.With("fn", "WeChatBillMatcher")
			return s.Match(ctx, Yesterday(s.Now()))
		}
	}}
