package staff

import (
	"net/http"
	"time"

	"onecard/shared/auth"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
)

// TokenTTL is the life of a staff token. Disabling a member or resetting their password ends it at
// once (fn checks the member on every request).
const TokenTTL = 8 * time.Hour

func newService(d *platform.Deps) *Service {
	return &Service{S: d.Store(), Tokens: auth.NewTokens(d.Cfg.JWTKey, TokenTTL, d.Now), Now: d.Now}
}

var admin = []string{auth.RoleAdmin}

// Staff management (admin). Every change is audited with the actor and the member's state before and
// after; passwords appear nowhere but as argon2id hashes in the member item.
var (
	AdminStaffList = fn.HTTP{Name: "AdminStaffList", Route: "GET /v1/admin/staff", Access: fn.Staff, Roles: admin,
		Actions: []string{iam.Query}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				limit, err := httpapi.Limit(r, 50, 200)
				if err != nil {
					return err
				}
				page, err := s.List(r.Context(), auth.Must(r.Context()), limit, r.URL.Query().Get("cursor"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, page)
			}
		})}

	AdminStaffCreate = fn.HTTP{Name: "AdminStaffCreate", Route: "POST /v1/admin/staff", Access: fn.Staff, Roles: admin,
		Actions: []string{iam.PutItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Make(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				Username string   `json:"username"`
				Password string   `json:"password"`
				Roles    []string `json:"roles"`
			}) (*View, bool, error) {
				// Always created (201): a username taken before is a conflict, not a retry.
				v, err := s.Create(r.Context(), auth.Must(r.Context()), in.Username, in.Password, in.Roles)
				return v, true, err
			})
		})}

	AdminStaffRoles = fn.HTTP{Name: "AdminStaffRoles", Route: "PUT /v1/admin/staff/{username}/roles", Access: fn.Staff, Roles: admin,
		Actions: []string{iam.GetItem, iam.UpdateItem, iam.PutItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				Roles []string `json:"roles"`
			}) (*View, error) {
				return s.SetRoles(r.Context(), auth.Must(r.Context()), r.PathValue("username"), in.Roles)
			})
		})}

	AdminStaffDisable = fn.HTTP{Name: "AdminStaffDisable", Route: "POST /v1/admin/staff/{username}/disable", Access: fn.Staff, Roles: admin,
		Actions: []string{iam.GetItem, iam.UpdateItem, iam.PutItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				if err := s.SetDisabled(r.Context(), auth.Must(r.Context()), r.PathValue("username"), true); err != nil {
					return err
				}
				return httpapi.NoContent(w)
			}
		})}

	AdminStaffEnable = fn.HTTP{Name: "AdminStaffEnable", Route: "POST /v1/admin/staff/{username}/enable", Access: fn.Staff, Roles: admin,
		Actions: []string{iam.GetItem, iam.UpdateItem, iam.PutItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				if err := s.SetDisabled(r.Context(), auth.Must(r.Context()), r.PathValue("username"), false); err != nil {
					return err
				}
				return httpapi.NoContent(w)
			}
		})}

	AdminStaffResetPassword = fn.HTTP{Name: "AdminStaffResetPassword", Route: "POST /v1/admin/staff/{username}/reset-password", Access: fn.Staff, Roles: admin,
		Actions: []string{iam.GetItem, iam.UpdateItem, iam.PutItem, iam.DeleteItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				NewPassword string `json:"newPassword"`
			}) error {
				return s.ResetPassword(r.Context(), auth.Must(r.Context()), r.PathValue("username"), in.NewPassword)
			})
		})}

	// AdminPassword is any staff member changing their own password.
	AdminPassword = fn.HTTP{Name: "AdminPassword", Route: "PUT /v1/admin/password", Access: fn.Staff, Roles: AllRoles, OwnPassword: true,
		Actions: []string{iam.GetItem, iam.UpdateItem, iam.PutItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				OldPassword string `json:"oldPassword"`
				NewPassword string `json:"newPassword"`
			}) (map[string]any, error) {
				tok, err := s.ChangeOwnPassword(r.Context(), auth.Must(r.Context()), in.OldPassword, in.NewPassword)
				if err != nil {
					return nil, err
				}
				return map[string]any{"token": tok, "expiresIn": int64(TokenTTL.Seconds())}, nil
			})
		})}
)
