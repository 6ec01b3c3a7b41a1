package cash

import (
	"context"
	"net/http"

	"onecard/shared/auth"
	"onecard/shared/chinatime"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
	"onecard/shared/store"
)

// AdminCashReport is a day's cash per cashier, to be matched with the till (GET /v1/admin/cash?day=).
var AdminCashReport = fn.HTTP{Name: "AdminCashReport", Route: "GET /v1/admin/cash", Access: fn.Staff,
	Roles: []string{auth.RoleFinance}, Actions: []string{iam.Query},
	Build: func(d *platform.Deps) httpapi.Handler {
		s := d.Store()
		return func(w http.ResponseWriter, r *http.Request) error {
			p := auth.Must(r.Context())
			day := r.URL.Query().Get("day")
			if day == "" {
				day = chinatime.Day(d.Now())
			}
			who, err := Cashiers(r.Context(), s, p.School)
			if err != nil {
				return err
			}
			rep, err := DayReport(r.Context(), s, p.School, day, who)
			if err != nil {
				return err
			}
			return httpapi.JSON(w, http.StatusOK, rep)
		}
	}}

// Cashiers lists the usernames of a school's staff, whose tills may hold entries (the school's staff
// list, store.StaffListPK: one query of a small partition, never a scan).
func Cashiers(ctx context.Context, s *store.Store, school string) ([]string, error) {
	members, err := store.All[struct {
		Username string `dynamodbav:"username"`
	}](ctx, s, store.Query{Index: store.GSI1, PK: store.StaffListPK(school), Project: []string{"username"}})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(members))
	for _, m := range members {
		out = append(out, m.Username)
	}
	return out, nil
}
