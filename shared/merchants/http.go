package merchants

import (
	"net/http"

	"onecard/shared/auth"
	"onecard/shared/chinatime"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
)

// NewService builds the service from the function's dependencies.
func NewService(d *platform.Deps) *Service {
	return &Service{S: d.Store(), Now: d.Now}
}

// View is a merchant with the devices it owns today.
type View struct {
	Merchant
	Devices []string `json:"devices"`
}

var roles = []string{auth.RoleFinance}

// Staff routes (finance; admin always).
var (
	AdminMerchantCreate = fn.HTTP{Name: "AdminMerchantCreate", Route: "POST /v1/admin/merchants", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.GetItem, iam.PutItem},
		Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return httpapi.Make(httpapi.AppBodyLimit, func(r *http.Request, in *Input) (*Merchant, bool, error) {
				return s.Create(r.Context(), auth.Must(r.Context()), *in)
			})
		})}

	AdminMerchants = fn.HTTP{Name: "AdminMerchants", Route: "GET /v1/admin/merchants", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.Query},
		Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return httpapi.Answer(func(r *http.Request) (map[string]any, error) {
				ctx := r.Context()
				school := auth.Must(ctx).School
				ms, err := s.List(ctx, school)
				if err != nil {
					return nil, err
				}
				today := chinatime.Day(s.Now())
				out := make([]View, 0, len(ms))
				for _, m := range ms {
					ds, err := s.DevicesOn(ctx, school, m.MerchantID, today)
					if err != nil {
						return nil, err
					}
					out = append(out, View{Merchant: m, Devices: ds})
				}
				return map[string]any{"items": out}, nil
			})
		})}

	AdminMerchantUpdate = fn.HTTP{Name: "AdminMerchantUpdate", Route: "PUT /v1/admin/merchants/{merchantId}", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem},
		Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *Input) (*Merchant, error) {
				return s.Update(r.Context(), auth.Must(r.Context()), r.PathValue("merchantId"), *in)
			})
		})}

	AdminMerchantAssignDevice = fn.HTTP{Name: "AdminMerchantAssignDevice", Route: "POST /v1/admin/merchants/{merchantId}/devices",
		Access: fn.Staff, Roles: roles, Actions: []string{iam.GetItem, iam.PutItem, iam.Query},
		Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return httpapi.Make(httpapi.AppBodyLimit, func(r *http.Request, in *AssignInput) (map[string]any, bool, error) {
				a, created, err := s.Assign(r.Context(), auth.Must(r.Context()), r.PathValue("merchantId"), *in)
				if err != nil {
					return nil, false, err
				}
				hist, err := s.History(r.Context(), a.DeviceID)
				if err != nil {
					return nil, false, err
				}
				return map[string]any{"assignment": a, "history": hist}, created, nil
			})
		})}
)
