package merchants

import (
	"net/http"

	"onecard/shared/auth"
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
		Build: func(d *platform.Deps) httpapi.Handler {
			s := NewService(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				var in Input
				if err := httpapi.Decode(r, httpapi.AppBodyLimit, &in); err != nil {
					return err
				}
				m, created, err := s.Create(r.Context(), auth.Must(r.Context()), in)
				if err != nil {
					return err
				}
				status := http.StatusOK
				if created {
					status = http.StatusCreated
				}
				return httpapi.JSON(w, status, m)
			}
		}}

	AdminMerchants = fn.HTTP{Name: "AdminMerchants", Route: "GET /v1/admin/merchants", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.Query},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := NewService(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				ctx := r.Context()
				school := auth.Must(ctx).School
				ms, err := s.List(ctx, school)
				if err != nil {
					return err
				}
				today := Today(s.Now())
				out := make([]View, 0, len(ms))
				for _, m := range ms {
					ds, err := s.DevicesOn(ctx, school, m.MerchantID, today)
					if err != nil {
						return err
					}
					out = append(out, View{Merchant: m, Devices: ds})
				}
				return httpapi.JSON(w, http.StatusOK, map[string]any{"items": out})
			}
		}}

	AdminMerchantUpdate = fn.HTTP{Name: "AdminMerchantUpdate", Route: "PUT /v1/admin/merchants/{merchantId}", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := NewService(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				var in Input
				if err := httpapi.Decode(r, httpapi.AppBodyLimit, &in); err != nil {
					return err
				}
				m, err := s.Update(r.Context(), auth.Must(r.Context()), r.PathValue("merchantId"), in)
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, m)
			}
		}}

	AdminMerchantAssignDevice = fn.HTTP{Name: "AdminMerchantAssignDevice", Route: "POST /v1/admin/merchants/{merchantId}/devices",
		Access: fn.Staff, Roles: roles, Actions: []string{iam.GetItem, iam.PutItem, iam.Query},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := NewService(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				var in AssignInput
				if err := httpapi.Decode(r, httpapi.AppBodyLimit, &in); err != nil {
					return err
				}
				a, created, err := s.Assign(r.Context(), auth.Must(r.Context()), r.PathValue("merchantId"), in)
				if err != nil {
					return err
				}
				hist, err := s.History(r.Context(), a.DeviceID)
				if err != nil {
					return err
				}
				status := http.StatusOK
				if created {
					status = http.StatusCreated
				}
				return httpapi.JSON(w, status, map[string]any{"assignment": a, "history": hist})
			}
		}}
)
