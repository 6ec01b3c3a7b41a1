package reports

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"onecard/shared/auth"
	"onecard/shared/chinatime"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
)

func service(d *platform.Deps) *Service { return &Service{S: d.Store(), Now: d.Now} }

var roles = []string{auth.RoleFinance}

// Staff routes (finance; admin always). Each answers JSON, or CSV with ?format=csv.
var (
	AdminReportRecharges = fn.HTTP{Name: "AdminReportRecharges", Route: "GET /v1/admin/reports/recharges", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.Query},
		Build: report(func(s *Service, w http.ResponseWriter, r *http.Request, csv bool) error {
			q := r.URL.Query()
			days, err := Days(q.Get("from"), q.Get("to"))
			if err != nil {
				return err
			}
			rep, err := s.Recharges(r.Context(), auth.Must(r.Context()).School, days)
			if err != nil {
				return err
			}
			if !csv {
				return httpapi.JSON(w, http.StatusOK, map[string]any{"channels": Channels, "days": rep})
			}
			rows := [][]string{{"日期", "渠道", "笔数", "充值金额（元）", "退款笔数", "退款金额（元）", "净额（元）"}}
			for _, d := range rep {
				for i, c := range d.Channels {
					rows = append(rows, []string{d.Day, Channels[i].Label, strconv.Itoa(c.Count), Yuan(c.InFen),
						strconv.Itoa(c.Refunds), Yuan(c.RefundsFen), Yuan(c.NetFen)})
				}
			}
			return CSV(w, "充值-"+days[0]+"-"+days[len(days)-1]+".csv", rows)
		})}

	// AdminReportDormConsumption is also the dorm office's (ops): consumption by building.
	AdminReportDormConsumption = fn.HTTP{Name: "AdminReportDormConsumption", Route: "GET /v1/admin/reports/dorm-consumption",
		Access: fn.Staff, Roles: []string{auth.RoleFinance, auth.RoleOps}, Actions: []string{iam.Query},
		Build: report(func(s *Service, w http.ResponseWriter, r *http.Request, csv bool) error {
			month := r.URL.Query().Get("month")
			rep, err := s.DormConsumption(r.Context(), auth.Must(r.Context()).School, month)
			if err != nil {
				return err
			}
			if !csv {
				return httpapi.JSON(w, http.StatusOK, map[string]any{"month": month, "buildings": rep})
			}
			rows := [][]string{{"月份", "楼栋", "扣费笔数", "电费（元）", "水费（元）", "合计（元）"}}
			for _, b := range rep {
				rows = append(rows, []string{month, b.Building + "栋", strconv.Itoa(b.Count), Yuan(b.Fen["elec"]), Yuan(b.Fen["water"]), Yuan(b.TotalFen)})
			}
			return CSV(w, "宿舍水电-"+month+".csv", rows)
		})}

	// AdminReportLiability answers the latest outstanding-balance report of ?date=; when there is none yet
	// it queues a run and answers 202 with the job, as GET /v1/admin/reconcile does.
	AdminReportLiability = fn.HTTP{Name: "AdminReportLiability", Route: "GET /v1/admin/reports/liability", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.GetItem, iam.PutItem},
		Build: report(func(s *Service, w http.ResponseWriter, r *http.Request, csv bool) error {
			ctx, school, date := r.Context(), auth.Must(r.Context()).School, r.URL.Query().Get("date")
			if err := CheckDate(date); err != nil {
				return err
			}
			last, ok, err := s.LatestLiability(ctx, school, date)
			if err != nil {
				return err
			}
			if !ok || last.Report == nil {
				j, _, err := s.StartLiability(ctx, school, date, staffName(r))
				if err != nil {
					return err
				}
				return liabilityAccepted(w, j)
			}
			rep := ReportOf(last)
			if p, ok, err := s.PendingLiability(ctx, school, date); err != nil {
				return err
			} else if ok {
				rep.Pending = &p
			}
			if !csv {
				return httpapi.JSON(w, http.StatusOK, rep)
			}
			return CSV(w, "卡余额-"+rep.Date+".csv", [][]string{
				{"日期", "截至（北京时间）", "卡数", "卡余额合计（元）", "欠款卡数", "宿舍账户数", "宿舍账户余额合计（元）", "统计完成于"},
				{rep.Date, rep.AsOf, strconv.Itoa(rep.Cards), Yuan(rep.CardsFen), strconv.Itoa(rep.Negative), strconv.Itoa(rep.DormAccounts),
					Yuan(rep.DormFen), rep.FinishedAt.In(chinatime.Zone).Format(time.RFC3339)},
			})
		})}

	// AdminReportLiabilityRun queues the report of {date} now (or answers the one queued or running for
	// it) and answers 202.
	AdminReportLiabilityRun = fn.HTTP{Name: "AdminReportLiabilityRun", Route: "POST /v1/admin/reports/liability", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.GetItem, iam.PutItem},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := service(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				var in struct {
					Date string `json:"date"`
				}
				if err := httpapi.Decode(r, httpapi.AppBodyLimit, &in); err != nil {
					return err
				}
				j, _, err := s.StartLiability(r.Context(), auth.Must(r.Context()).School, in.Date, staffName(r))
				if err != nil {
					return err
				}
				return liabilityAccepted(w, j)
			}
		}}

	// AdminReportLiabilityJob is one job of the caller's school, with its report once done.
	AdminReportLiabilityJob = fn.HTTP{Name: "AdminReportLiabilityJob", Route: "GET /v1/admin/reports/liability/jobs/{jobId}",
		Access: fn.Staff, Roles: roles, Actions: []string{iam.GetItem},
		Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return httpapi.Answer(func(r *http.Request) (LiabilityJob, error) {
				return s.LiabilityJob(r.Context(), auth.Must(r.Context()).School, r.PathValue("jobId"))
			})
		})}
)

// LiabilityReporter runs every minute: it runs the outstanding-balance reports staff asked for and keeps
// them. Most runs query one empty partition and stop.
var LiabilityReporter = fn.Event{Name: "LiabilityReporter", Description: "run the outstanding-balance reports staff asked for and keep them",
	Schedule: "rate(1 minute)", Timeout: 900,
	Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.DeleteItem, iam.Query, iam.Scan},
	Build: func(d *platform.Deps) any {
		s := service(d)
		return func(ctx context.Context, _ json.RawMessage) error {
			_, err := s.RunLiabilityDue(ctx, d.Log.With("fn", "LiabilityReporter"))
			return err
		}
	}}

// report builds the handler of a report that answers JSON, or CSV with ?format=csv: a bad ?format= is
// refused before answer runs.
func report(answer func(s *Service, w http.ResponseWriter, r *http.Request, csv bool) error) func(*platform.Deps) httpapi.Handler {
	return func(d *platform.Deps) httpapi.Handler {
		s := service(d)
		return func(w http.ResponseWriter, r *http.Request) error {
			csv, err := WantCSV(r)
			if err != nil {
				return err
			}
			return answer(s, w, r, csv)
		}
	}
}

// liabilityAccepted answers 202 with the job to poll and where to poll it.
func liabilityAccepted(w http.ResponseWriter, j LiabilityJob) error {
	w.Header().Set("Location", "/v1/admin/reports/liability/jobs/"+j.JobID)
	return httpapi.JSON(w, http.StatusAccepted, j)
}

func staffName(r *http.Request) string { return "staff:" + auth.Must(r.Context()).Subject }
