package accounts

import (
	"crypto/hmac"
	"crypto/sha256"
	"net/http"
	"time"

	"onecard/shared/auth"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/mail"
	"onecard/shared/platform"
	"onecard/shared/school"
	"onecard/shared/secret"
)

func newService(d *platform.Deps) *Service { return FromDeps(d, nil) }

// FromDeps wires the service; wx answers code2session (the recharge package passes WeChat Pay's client).
func FromDeps(d *platform.Deps, wx OpenIDs) *Service {
	s := d.Store()
	// The refresh-token MAC key is derived from the JWT key so that one secret rotates both.
	m := hmac.New(sha256.New, d.Cfg.JWTKey)
	m.Write([]byte("refresh-token-mac"))
	return NewService(s, auth.NewTokens(d.Cfg.JWTKey, d.Cfg.AccessTTL, d.Now), secret.NewDigester(d.Cfg.PIIKey),
		mail.Sender{SES: d.SES, From: d.Cfg.MailFrom}, wx, d.Now, d.Cfg.RefreshTTL, m.Sum(nil))
}

// ResetCodeFloor is the least time the reset-code route takes to answer, whatever the phone (longer than
// a code's write and SES send usually take).
var ResetCodeFloor = 400 * time.Millisecond

// The account functions.
var (
	SchoolsList = fn.HTTP{Name: "SchoolsList", Route: "GET /v1/schools", Access: fn.Public,
		Actions: []string{iam.Query}, Build: func(d *platform.Deps) httpapi.Handler {
			repo := school.Repo{S: d.Store()}
			return func(w http.ResponseWriter, r *http.Request) error {
				all, err := repo.List(r.Context())
				if err != nil {
					return err
				}
				type item struct {
					SchoolID string   `json:"schoolId"`
					Name     string   `json:"name"`
					Prefixes []string `json:"studentNoPrefixes"`
				}
				out := struct {
					Items []item `json:"items"`
				}{Items: []item{}}
				for _, s := range all {
					out.Items = append(out.Items, item{s.ID, s.Name, s.Prefixes})
				}
				return httpapi.JSON(w, http.StatusOK, out)
			}
		}}

	AuthRegister = fn.HTTP{Name: "AuthRegister", Route: "POST /v1/auth/register", Access: fn.Public,
		Actions: []string{iam.GetItem, iam.PutItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Make(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				Phone            string `json:"phone"`
				Password         string `json:"password"`
				SchoolID         string `json:"schoolId"`
				AgreementVersion *int64 `json:"agreementVersion"`
			}) (map[string]string, bool, error) {
				// Always created (201): a phone registered before is a conflict, not a retry.
				id, err := s.Register(r.Context(), in.Phone, in.Password, in.SchoolID, in.AgreementVersion)
				return map[string]string{"userId": id}, true, err
			})
		})}

	AuthLogin = fn.HTTP{Name: "AuthLogin", Route: "POST /v1/auth/login", Access: fn.Public,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.ConditionCheckItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				Phone    string `json:"phone"`
				Password string `json:"password"`
			}) (*LoginAnswer, error) {
				return s.Login(r.Context(), in.Phone, in.Password)
			})
		})}

	AuthRefresh = fn.HTTP{Name: "AuthRefresh", Route: "POST /v1/auth/refresh", Access: fn.Public,
		Actions: []string{iam.GetItem, iam.UpdateItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				RefreshToken string `json:"refreshToken"`
			}) (*TokenPair, error) {
				return s.Refresh(r.Context(), in.RefreshToken)
			})
		})}

	AuthLogout = fn.HTTP{Name: "AuthLogout", Route: "POST /v1/auth/logout", Access: fn.User,
		Actions: []string{iam.UpdateItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				if err := s.Logout(r.Context(), auth.Must(r.Context())); err != nil {
					return err
				}
				return httpapi.NoContent(w)
			}
		})}

	AuthResetCode = fn.HTTP{Name: "AuthResetCode", Route: "POST /v1/auth/password-reset/code", Access: fn.Public,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.DeleteItem, iam.SendEmail}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				var in struct {
					Phone string `json:"phone"`
				}
				if err := httpapi.Decode(r, httpapi.AppBodyLimit, &in); err != nil {
					return err
				}
				// A known phone costs a write and an email, an unknown one a read: answer both no sooner
				// than ResetCodeFloor so the time does not tell which phones have accounts.
				start := time.Now()
				err := s.SendResetCode(r.Context(), in.Phone)
				time.Sleep(ResetCodeFloor - time.Since(start))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusAccepted, map[string]string{"status": "sent_if_bound"})
			}
		})}

	AuthResetPassword = fn.HTTP{Name: "AuthResetPassword", Route: "POST /v1/auth/password-reset", Access: fn.Public,
		Actions: []string{iam.GetItem, iam.UpdateItem, iam.DeleteItem, iam.Query}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				Phone       string `json:"phone"`
				Code        string `json:"code"`
				NewPassword string `json:"newPassword"`
			}) error {
				return s.ResetPassword(r.Context(), in.Phone, in.Code, in.NewPassword)
			})
		})}

	MePassword = fn.HTTP{Name: "MePassword", Route: "PUT /v1/me/password", Access: fn.User,
		Actions: []string{iam.GetItem, iam.UpdateItem, iam.Query}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				OldPassword string `json:"oldPassword"`
				NewPassword string `json:"newPassword"`
			}) error {
				return s.ChangePassword(r.Context(), auth.Must(r.Context()), in.OldPassword, in.NewPassword)
			})
		})}

	MePhone = fn.HTTP{Name: "MePhone", Route: "PUT /v1/me/phone", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.DeleteItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				NewPhone string `json:"newPhone"`
				Password string `json:"password"`
			}) error {
				return s.ChangePhone(r.Context(), auth.Must(r.Context()), in.NewPhone, in.Password)
			})
		})}

	MeEmailCode = fn.HTTP{Name: "MeEmailCode", Route: "POST /v1/me/email/code", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.DeleteItem, iam.SendEmail}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				var in struct {
					Email string `json:"email"`
				}
				if err := httpapi.Decode(r, httpapi.AppBodyLimit, &in); err != nil {
					return err
				}
				if err := s.SendEmailCode(r.Context(), auth.Must(r.Context()), in.Email); err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusAccepted, map[string]string{"status": "sent"})
			}
		})}

	MeEmail = fn.HTTP{Name: "MeEmail", Route: "PUT /v1/me/email", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.DeleteItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				Email    string `json:"email"`
				Code     string `json:"code"`
				Password string `json:"password"`
			}) error {
				return s.BindEmail(r.Context(), auth.Must(r.Context()), in.Email, in.Code, in.Password)
			})
		})}

	// MeConsent records the caller's acceptance of the current version of their school's user agreement
	// and privacy policy (after a login answered consentRequired).
	MeConsent = fn.HTTP{Name: "MeConsent", Route: "POST /v1/me/consent", Access: fn.User,
		Actions: []string{iam.GetItem, iam.UpdateItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				AgreementVersion *int64 `json:"agreementVersion"`
			}) error {
				return s.Consent(r.Context(), auth.Must(r.Context()), in.AgreementVersion)
			})
		})}

	MeSchool = fn.HTTP{Name: "MeSchool", Route: "PUT /v1/me/school", Access: fn.User,
		Actions: []string{iam.GetItem, iam.UpdateItem}, Build: fn.Using(newService, func(s *Service) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				SchoolID string `json:"schoolId"`
			}) error {
				return s.SwitchSchool(r.Context(), auth.Must(r.Context()), in.SchoolID)
			})
		})}
)

// MeView is GET /v1/me's answer; Card is filled by the cards package (nil until a card is bound).
type MeView struct {
	UserID      string `json:"userId"`
	Phone       string `json:"phone"`
	Email       string `json:"email"`
	SchoolID    string `json:"schoolId"`
	WechatBound bool   `json:"wechatBound"`
	// AgreementVersion is the version of the current school's user agreement the user accepted.
	AgreementVersion int64 `json:"agreementVersion"`
	Card             any   `json:"card"`
}

// View returns the public view of u.
func (u *User) View() MeView {
	return MeView{UserID: u.UserID, Phone: u.Phone, Email: u.Email, SchoolID: u.SchoolID, WechatBound: u.OpenID != "",
		AgreementVersion: u.Agreements[u.SchoolID]}
}
