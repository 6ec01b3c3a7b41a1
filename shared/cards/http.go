package cards

import (
	"net/http"
	"time"

	"onecard/shared/auth"
	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/jobs"
	"onecard/shared/ledger"
	"onecard/shared/platform"
	"onecard/shared/school"
	"onecard/shared/secret"
)

// View is a card as the student sees it (GET /v1/card).
type View struct {
	CardNo      string `json:"cardNo"`
	StudentNo   string `json:"studentNo"`
	HolderName  string `json:"holderName"`
	Status      string `json:"status"`
	BalanceFen  int64  `json:"balanceFen"`
	Arrears     bool   `json:"arrears"`
	Limits      Limits `json:"limits"`
	VirtualCard bool   `json:"virtualCard"`
	// SpentTodayFen is what readers have posted today (China time), counted against limits.dailyFen.
	SpentTodayFen int64 `json:"spentTodayFen"`
	// PasswordInitial: the card password is still the initial one (the ID's last six); the app asks
	// the student to change it.
	PasswordInitial bool `json:"passwordInitial"`
	// MaxRechargeFen is the most one recharge order may be (the school's setting); given where the
	// school is read anyway (GET /v1/card).
	MaxRechargeFen int64 `json:"maxRechargeFen,omitempty"`
}

// Limits are the 消费额度. The school's ceilings (the most a student may set) are given where the
// school is read anyway: GET /v1/card and the answer of PUT /v1/card/limits.
type Limits struct {
	PerTxnFen    int64 `json:"perTxnFen"`
	DailyFen     int64 `json:"dailyFen"`
	MaxPerTxnFen int64 `json:"maxPerTxnFen,omitempty"`
	MaxDailyFen  int64 `json:"maxDailyFen,omitempty"`
}

// withCeilings is v with the school's ceilings in its limits and its recharge maximum.
func withCeilings(v View, sch *school.School) View {
	v.Limits.MaxPerTxnFen, v.Limits.MaxDailyFen = sch.MaxPerTxnFen, sch.MaxDailyFen
	v.MaxRechargeFen = sch.MaxRechargeFen
	return v
}

// View returns the student's view of c at now (which day's spending counts as today's).
func (c *Card) View(now time.Time) View {
	return View{CardNo: c.CardNo, StudentNo: c.StudentNo, HolderName: MaskName(c.HolderName), Status: c.Status,
		BalanceFen: c.Balance, Arrears: c.Arrears, Limits: Limits{PerTxnFen: c.PerTxnFen, DailyFen: c.DailyFen}, VirtualCard: c.Virtual,
		SpentTodayFen: c.SpentOn(chinatime.Day(now)), PasswordInitial: !c.PwChanged}
}

func newService(d *platform.Deps) *Service {
	return NewService(d.Store(), secret.NewDigester(d.Cfg.PIIKey), d.Now)
}

// routes is what the card routes work with, built once per cold start: the service, the ledger and the
// function's dependencies (the imports' job store).
type routes struct {
	*Service
	Ledger *ledger.Ledger
	Deps   *platform.Deps
}

func newRoutes(d *platform.Deps) routes {
	return routes{Service: newService(d), Ledger: ledger.New(d.Store(), d.Now), Deps: d}
}

type passwordBody struct {
	CardPassword string `json:"cardPassword"`
}

// MeGet is GET /v1/me: the account and, once bound, its card. It lives here because it shows both.
var MeGet = fn.HTTP{Name: "MeGet", Route: "GET /v1/me", Access: fn.User,
	Actions: []string{iam.GetItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
		return func(w http.ResponseWriter, r *http.Request) error {
			u, err := s.user(r.Context(), auth.Must(r.Context()))
			if err != nil {
				return err
			}
			v := u.View()
			if no := u.CardFor(u.SchoolID); no != "" {
				c, err := s.Cards.Get(r.Context(), u.SchoolID, no)
				if err != nil && !fault.Is(err, ErrNoCard.Code) {
					return err
				}
				if err == nil && c.BoundUser == u.UserID {
					cv := c.View(s.Now())
					v.Card = &cv
				}
			}
			return httpapi.JSON(w, http.StatusOK, v)
		}
	})}

// Student card routes.
var (
	CardBind = fn.HTTP{Name: "CardBind", Route: "POST /v1/card/bind", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				StudentNo    string `json:"studentNo"`
				CardPassword string `json:"cardPassword"`
			}) (View, error) {
				c, err := s.Bind(r.Context(), auth.Must(r.Context()), in.StudentNo, in.CardPassword)
				if err != nil {
					return View{}, err
				}
				return c.View(s.Now()), nil
			})
		})}

	CardUnbind = fn.HTTP{Name: "CardUnbind", Route: "DELETE /v1/card/bind", Access: fn.User,
		Actions: []string{iam.GetItem, iam.UpdateItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				if err := s.Unbind(r.Context(), auth.Must(r.Context())); err != nil {
					return err
				}
				return httpapi.NoContent(w)
			}
		})}

	CardGet = fn.HTTP{Name: "CardGet", Route: "GET /v1/card", Access: fn.User,
		Actions: []string{iam.GetItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				_, c, err := s.Mine(r.Context(), auth.Must(r.Context()))
				if err != nil {
					return err
				}
				sch, err := s.Schools.Get(r.Context(), c.SchoolID)
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, withCeilings(c.View(s.Now()), sch))
			}
		})}

	CardVirtual = fn.HTTP{Name: "CardVirtual", Route: "POST /v1/card/virtual", Access: fn.User,
		Actions: []string{iam.GetItem, iam.UpdateItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				if err := s.OpenVirtual(r.Context(), auth.Must(r.Context())); err != nil {
					return err
				}
				return httpapi.NoContent(w)
			}
		})}

	// CardVirtualOff turns the virtual card off again: payment codes are refused (VIRTUAL_CARD_OFF)
	// until it is turned on.
	CardVirtualOff = fn.HTTP{Name: "CardVirtualOff", Route: "DELETE /v1/card/virtual", Access: fn.User,
		Actions: []string{iam.GetItem, iam.UpdateItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				if err := s.CloseVirtual(r.Context(), auth.Must(r.Context())); err != nil {
					return err
				}
				return httpapi.NoContent(w)
			}
		})}

	CardLossReport = fn.HTTP{Name: "CardLossReport", Route: "POST /v1/card/loss", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *passwordBody) error {
				return s.ReportLoss(r.Context(), auth.Must(r.Context()), in.CardPassword)
			})
		})}

	CardLossCancel = fn.HTTP{Name: "CardLossCancel", Route: "DELETE /v1/card/loss", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *passwordBody) error {
				return s.CancelLoss(r.Context(), auth.Must(r.Context()), in.CardPassword)
			})
		})}

	CardUnlock = fn.HTTP{Name: "CardUnlock", Route: "POST /v1/card/unlock", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.DeleteItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				IDNumber string `json:"idNumber"`
			}) error {
				return s.Unlock(r.Context(), auth.Must(r.Context()), in.IDNumber)
			})
		})}

	CardPassword = fn.HTTP{Name: "CardPassword", Route: "PUT /v1/card/password", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				OldPassword string `json:"oldPassword"`
				NewPassword string `json:"newPassword"`
			}) error {
				return s.ChangePassword(r.Context(), auth.Must(r.Context()), in.OldPassword, in.NewPassword)
			})
		})}

	CardPasswordReset = fn.HTTP{Name: "CardPasswordReset", Route: "POST /v1/card/password/reset", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.DeleteItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				Phone     string `json:"phone"`
				StudentNo string `json:"studentNo"`
				IDNumber  string `json:"idNumber"`
			}) error {
				return s.ResetPassword(r.Context(), auth.Must(r.Context()), in.Phone, in.StudentNo, in.IDNumber)
			})
		})}

	CardLimits = fn.HTTP{Name: "CardLimits", Route: "PUT /v1/card/limits", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				PerTxnFen    int64  `json:"perTxnFen"`
				DailyFen     int64  `json:"dailyFen"`
				CardPassword string `json:"cardPassword"` // required to raise either limit
			}) (Limits, error) {
				c, sch, err := s.SetLimits(r.Context(), auth.Must(r.Context()), in.PerTxnFen, in.DailyFen, in.CardPassword)
				if err != nil {
					return Limits{}, err
				}
				return withCeilings(c.View(s.Now()), sch).Limits, nil
			})
		})}
)

// Staff card routes.
var (
	// AdminStudentsImport checks the roster CSV and stores it as an import job (202; ImportRunner runs
	// it), or with ?dryRun=true answers what it would change.
	AdminStudentsImport = fn.HTTP{Name: "AdminStudentsImport", Route: "POST /v1/admin/students/import", Access: fn.Staff,
		Roles: []string{auth.RoleIT}, MaxBody: httpapi.DeviceBodyLimit,
		Actions: []string{iam.GetItem, iam.PutItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return jobs.Upload(s.Deps, jobs.KindStudents, ParseStudentCSV, func(r *http.Request, rows []ImportRow) (any, error) {
				return s.PreviewImport(r.Context(), auth.Must(r.Context()), rows)
			})
		})}

	AdminCardUnlock = fn.HTTP{Name: "AdminCardUnlock", Route: "POST /v1/admin/cards/{cardNo}/unlock", Access: fn.Staff,
		Roles: []string{auth.RoleIT}, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.DeleteItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				if err := s.StaffUnlock(r.Context(), auth.Must(r.Context()), r.PathValue("cardNo")); err != nil {
					return err
				}
				return httpapi.NoContent(w)
			}
		})}

	AdminCardResetPassword = fn.HTTP{Name: "AdminCardResetPassword", Route: "POST /v1/admin/cards/{cardNo}/reset-password", Access: fn.Staff,
		Roles: []string{auth.RoleIT}, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.DeleteItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				IDNumber string `json:"idNumber"`
			}) error {
				return s.StaffResetPassword(r.Context(), auth.Must(r.Context()), r.PathValue("cardNo"), in.IDNumber)
			})
		})}

	AdminCardReplace = fn.HTTP{Name: "AdminCardReplace", Route: "POST /v1/admin/cards/{cardNo}/replace", Access: fn.Staff,
		Roles: []string{auth.RoleFinance}, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			l := s.Ledger
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				NewCardNo   string `json:"newCardNo"`
				KeepBinding bool   `json:"keepBinding"`
				FeeFrom     string `json:"feeFrom"`
				ReceiptNo   string `json:"receiptNo"`
			}) (*ReplaceResult, error) {
				return s.ReplaceWithFee(r.Context(), auth.Must(r.Context()), l, r.PathValue("cardNo"), in.NewCardNo, in.KeepBinding,
					Fee{From: in.FeeFrom, ReceiptNo: in.ReceiptNo})
			})
		})}

	// AdminCardMoveBalance moves what is left on a cancelled card (left there by older code after its
	// 补卡) to the student's current card.
	AdminCardMoveBalance = fn.HTTP{Name: "AdminCardMoveBalance", Route: "POST /v1/admin/cards/{cardNo}/move-balance", Access: fn.Staff,
		Roles: []string{auth.RoleFinance}, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			l := s.Ledger
			return func(w http.ResponseWriter, r *http.Request) error {
				res, err := s.MoveBalance(r.Context(), auth.Must(r.Context()), l, r.PathValue("cardNo"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, res)
			}
		})}

	// AdminCardUnbind removes a card's binding to an account, with a reason (图文信息中心).
	AdminCardUnbind = fn.HTTP{Name: "AdminCardUnbind", Route: "POST /v1/admin/cards/{cardNo}/unbind", Access: fn.Staff,
		Roles: []string{auth.RoleIT}, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
			return httpapi.Command(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				Reason string `json:"reason"`
			}) error {
				return s.StaffUnbind(r.Context(), auth.Must(r.Context()), r.PathValue("cardNo"), in.Reason)
			})
		})}
)

// Cash at the counter (财务处).
var AdminCardCashTopUp = fn.HTTP{Name: "AdminCardCashTopUp", Route: "POST /v1/admin/cards/{cardNo}/cash-topup", Access: fn.Staff,
	Roles: []string{auth.RoleFinance}, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem}, Build: fn.Using(newRoutes, func(s routes) httpapi.Handler {
		l := s.Ledger
		return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
			AmountFen int64  `json:"amountFen"`
			ReceiptNo string `json:"receiptNo"`
		}) (*CashTopUpResult, error) {
			return s.CashTopUp(r.Context(), auth.Must(r.Context()), l, r.PathValue("cardNo"), in.AmountFen, in.ReceiptNo)
		})
	})}
