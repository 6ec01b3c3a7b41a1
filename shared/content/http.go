package content

import (
	"net/http"

	"onecard/shared/auth"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
)

func service(d *platform.Deps) *Service { return NewService(d.Store(), d.Now) }

const (
	ops    = auth.RoleOps
	maxReq = 256 << 10 // a 20,000-character body, even \u-escaped, fits
)

// schoolOf is the school a student route serves: ?schoolId= when named (no token needed), else the
// signed-in caller's (fn.SchoolOrUser).
func schoolOf(s *Service, r *http.Request) (string, error) {
	q := r.URL.Query()
	return s.SchoolFor(r.Context(), q.Get(fn.SchoolParam), q.Has(fn.SchoolParam))
}

func list(kind string) func(*Service) httpapi.Handler {
	return func(s *Service) httpapi.Handler {
		return func(w http.ResponseWriter, r *http.Request) error {
			limit, err := httpapi.Limit(r, 10, 50)
			if err != nil {
				return err
			}
			sch, err := schoolOf(s, r)
			if err != nil {
				return err
			}
			page, err := s.List(r.Context(), sch, kind, limit, r.URL.Query().Get("cursor"))
			if err != nil {
				return err
			}
			return httpapi.JSON(w, http.StatusOK, page)
		}
	}
}

func text(about bool) func(*Service) httpapi.Handler {
	return func(s *Service) httpapi.Handler {
		return func(w http.ResponseWriter, r *http.Request) error {
			sch, err := schoolOf(s, r)
			if err != nil {
				return err
			}
			help, ab, err := s.Texts(r.Context(), sch)
			if err != nil {
				return err
			}
			if about {
				return httpapi.JSON(w, http.StatusOK, ab)
			}
			return httpapi.JSON(w, http.StatusOK, help)
		}
	}
}

// Student routes: the published content of the school named by ?schoolId= (before login), or of the
// caller's current school.
var (
	NewsList = fn.HTTP{Name: "NewsList", Route: "GET /v1/news", Access: fn.SchoolOrUser,
		Actions: []string{iam.GetItem, iam.Query}, Build: fn.Using(service, list(KindNews))}

	NoticesList = fn.HTTP{Name: "NoticesList", Route: "GET /v1/notices", Access: fn.SchoolOrUser,
		Actions: []string{iam.GetItem, iam.Query}, Build: fn.Using(service, list(KindNotice))}

	NewsGet = fn.HTTP{Name: "NewsGet", Route: "GET /v1/news/{id}", Access: fn.SchoolOrUser,
		Actions: []string{iam.GetItem}, Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				sch, err := schoolOf(s, r)
				if err != nil {
					return err
				}
				d, err := s.Get(r.Context(), sch, r.PathValue("id"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, d)
			}
		})}

	HelpGet = fn.HTTP{Name: "HelpGet", Route: "GET /v1/help", Access: fn.SchoolOrUser,
		Actions: []string{iam.GetItem}, Build: fn.Using(service, text(false))}

	AboutGet = fn.HTTP{Name: "AboutGet", Route: "GET /v1/about", Access: fn.SchoolOrUser,
		Actions: []string{iam.GetItem}, Build: fn.Using(service, text(true))}

	// AgreementGet is the current user agreement and privacy policy (用户协议, 隐私政策) with their
	// version: the registration page shows it and sends the version back; a login that answers
	// consentRequired shows it again.
	AgreementGet = fn.HTTP{Name: "AgreementGet", Route: "GET /v1/agreement", Access: fn.SchoolOrUser,
		Actions: []string{iam.GetItem}, Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				sch, err := schoolOf(s, r)
				if err != nil {
					return err
				}
				a, err := s.Schools.Agreement(r.Context(), sch)
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, a.View())
			}
		})}
)

type draftBody struct {
	Kind   string `json:"kind"`
	Title  string `json:"title"`
	Body   string `json:"body"`
	Pinned bool   `json:"pinned"`
}

// Staff routes (ops; admin may do everything). Every change is audited with the fields before and after.
var (
	AdminNewsList = fn.HTTP{Name: "AdminNewsList", Route: "GET /v1/admin/news", Access: fn.Staff, Roles: []string{ops},
		Actions: []string{iam.Query}, Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				limit, err := httpapi.Limit(r, 20, 100)
				if err != nil {
					return err
				}
				q := r.URL.Query()
				page, err := s.StaffList(r.Context(), auth.Must(r.Context()), q.Get("kind"), limit, q.Get("cursor"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, page)
			}
		})}

	AdminNewsCreate = fn.HTTP{Name: "AdminNewsCreate", Route: "POST /v1/admin/news", Access: fn.Staff, Roles: []string{ops},
		MaxBody: maxReq, Actions: []string{iam.PutItem}, Build: fn.Using(service, func(s *Service) httpapi.Handler {
			// Always created (201): each POST is a new draft.
			return httpapi.Make(maxReq, func(r *http.Request, in *draftBody) (StaffView, bool, error) {
				it, err := s.Create(r.Context(), auth.Must(r.Context()), Draft(*in))
				if err != nil {
					return StaffView{}, false, err
				}
				return it.StaffView(), true, nil
			})
		})}

	AdminNewsUpdate = fn.HTTP{Name: "AdminNewsUpdate", Route: "PUT /v1/admin/news/{id}", Access: fn.Staff, Roles: []string{ops},
		MaxBody: maxReq, Actions: []string{iam.GetItem, iam.PutItem}, Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return httpapi.Act(maxReq, func(r *http.Request, in *struct {
				Title *string `json:"title"`
				Body  *string `json:"body"`
			}) (StaffView, error) {
				if in.Title == nil || in.Body == nil {
					return StaffView{}, fault.Field("MISSING_FIELD", "须同时提供 title 和 body")
				}
				it, err := s.Edit(r.Context(), auth.Must(r.Context()), r.PathValue("id"), *in.Title, *in.Body)
				if err != nil {
					return StaffView{}, err
				}
				return it.StaffView(), nil
			})
		})}

	AdminNewsUnpublish = fn.HTTP{Name: "AdminNewsUnpublish", Route: "DELETE /v1/admin/news/{id}", Access: fn.Staff, Roles: []string{ops},
		Actions: []string{iam.GetItem, iam.PutItem}, Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				if err := s.SetPublished(r.Context(), auth.Must(r.Context()), r.PathValue("id"), false); err != nil {
					return err
				}
				return httpapi.NoContent(w)
			}
		})}

	AdminNewsPublish = fn.HTTP{Name: "AdminNewsPublish", Route: "POST /v1/admin/news/{id}/publish", Access: fn.Staff, Roles: []string{ops},
		Actions: []string{iam.GetItem, iam.PutItem}, Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				if err := s.SetPublished(r.Context(), auth.Must(r.Context()), r.PathValue("id"), true); err != nil {
					return err
				}
				return httpapi.NoContent(w)
			}
		})}

	AdminNewsPin = fn.HTTP{Name: "AdminNewsPin", Route: "PUT /v1/admin/news/{id}/pin", Access: fn.Staff, Roles: []string{ops},
		Actions: []string{iam.GetItem, iam.PutItem}, Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				Pinned *bool `json:"pinned"`
			}) (StaffView, error) {
				if in.Pinned == nil {
					return StaffView{}, fault.Field("MISSING_FIELD", "缺少字段 pinned")
				}
				it, err := s.Pin(r.Context(), auth.Must(r.Context()), r.PathValue("id"), *in.Pinned)
				if err != nil {
					return StaffView{}, err
				}
				return it.StaffView(), nil
			})
		})}
)
