package corrections

import (
	"net/http"

	"onecard/shared/auth"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
)

func service(d *platform.Deps) *Service { return New(d.Store(), d.Now) }

var roles = []string{auth.RoleFinance}

// Staff routes (finance; a finance lead holds finance too; admin always).
var (
	AdminCorrectionPropose = fn.HTTP{Name: "AdminCorrectionPropose", Route: "POST /v1/admin/corrections", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.GetItem, iam.PutItem},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := service(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				var in Proposal
				if err := httpapi.Decode(r, httpapi.AppBodyLimit, &in); err != nil {
					return err
				}
				c, created, err := s.Propose(r.Context(), auth.Must(r.Context()), in, r.Header.Get("Idempotency-Key"))
				if err != nil {
					return err
				}
				status := http.StatusOK
				if created {
					status = http.StatusCreated
				}
				return httpapi.JSON(w, status, c)
			}
		}}

	AdminCorrections = fn.HTTP{Name: "AdminCorrections", Route: "GET /v1/admin/corrections", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.Query, iam.GetItem},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := service(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				school := auth.Must(r.Context()).School
				cs, err := s.List(r.Context(), school, r.URL.Query().Get("status"))
				if err != nil {
					return err
				}
				// leadFen: the school's correctionLeadFen, so the console marks what a finance lead must
				// approve (finance cannot read the school's settings).
				lead, err := s.LeadFen(r.Context(), school)
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, map[string]any{"items": cs, "leadFen": lead})
			}
		}}

	AdminCorrectionApprove = fn.HTTP{Name: "AdminCorrectionApprove", Route: "POST /v1/admin/corrections/{correctionId}/approve",
		Access: fn.Staff, Roles: roles, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := service(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				c, err := s.Approve(r.Context(), auth.Must(r.Context()), r.PathValue("correctionId"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, c)
			}
		}}

	AdminCorrectionReject = fn.HTTP{Name: "AdminCorrectionReject", Route: "POST /v1/admin/corrections/{correctionId}/reject",
		Access: fn.Staff, Roles: roles, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := service(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				var in struct {
					Reason string `json:"reason"`
				}
				if err := httpapi.Decode(r, httpapi.AppBodyLimit, &in); err != nil {
					return err
				}
				c, err := s.Reject(r.Context(), auth.Must(r.Context()), r.PathValue("correctionId"), in.Reason)
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, c)
			}
		}}
)
