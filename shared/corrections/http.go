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

// rejection is the body of a reject.
type rejection struct {
	Reason string `json:"reason"`
}

// Staff routes (finance; a finance lead holds finance too; admin always).
var (
	AdminCorrectionPropose = fn.HTTP{Name: "AdminCorrectionPropose", Route: "POST /v1/admin/corrections", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.GetItem, iam.PutItem},
		Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return httpapi.Make(httpapi.AppBodyLimit, func(r *http.Request, in *Proposal) (*Correction, bool, error) {
				return s.Propose(r.Context(), auth.Must(r.Context()), *in, r.Header.Get("Idempotency-Key"))
			})
		})}

	AdminCorrections = fn.HTTP{Name: "AdminCorrections", Route: "GET /v1/admin/corrections", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.Query, iam.GetItem},
		Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return httpapi.Answer(func(r *http.Request) (map[string]any, error) {
				school := auth.Must(r.Context()).School
				cs, err := s.List(r.Context(), school, r.URL.Query().Get("status"))
				if err != nil {
					return nil, err
				}
				// leadFen: the school's correctionLeadFen, so the console marks what a finance lead must
				// approve (finance cannot read the school's settings).
				lead, err := s.LeadFen(r.Context(), school)
				return map[string]any{"items": cs, "leadFen": lead}, err
			})
		})}

	AdminCorrectionApprove = fn.HTTP{Name: "AdminCorrectionApprove", Route: "POST /v1/admin/corrections/{correctionId}/approve",
		Access: fn.Staff, Roles: roles, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem},
		Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return httpapi.Answer(func(r *http.Request) (*Correction, error) {
				return s.Approve(r.Context(), auth.Must(r.Context()), r.PathValue("correctionId"))
			})
		})}

	AdminCorrectionReject = fn.HTTP{Name: "AdminCorrectionReject", Route: "POST /v1/admin/corrections/{correctionId}/reject",
		Access: fn.Staff, Roles: roles, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem},
		Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *rejection) (*Correction, error) {
				return s.Reject(r.Context(), auth.Must(r.Context()), r.PathValue("correctionId"), in.Reason)
			})
		})}
)
