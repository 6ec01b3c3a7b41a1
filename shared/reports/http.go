package reports

import (
	"net/http"
	"strconv"

	"onecard/shared/auth"
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
		Build: func(d *platform.Deps) httpapi.Handler {
			s := service(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				csv, err := WantCSV(r)
				if err != nil {
					return err
				}
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
			}
		}}

	AdminReportDormConsumption = fn.HTTP{Name: "AdminReportDormConsumption", Route: "GET /v1/admin/reports/dorm-consumption",
		Access: fn.Staff, Roles: roles, Actions: []string{iam.Query},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := service(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				csv, err := WantCSV(r)
				if err != nil {
					return err
				}
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
			}
		}}

	AdminReportLiability = fn.HTTP{Name: "AdminReportLiability", Route: "GET /v1/admin/reports/liability", Access: fn.Staff,
		Roles: roles, Actions: []string{iam.Scan}, Timeout: fn.MaxHTTPTimeout,
		Build: func(d *platform.Deps) httpapi.Handler {
			s := service(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				csv, err := WantCSV(r)
				if err != nil {
					return err
				}
				rep, err := s.LiabilityAt(r.Context(), auth.Must(r.Context()).School, r.URL.Query().Get("date"))
				if err != nil {
					return err
				}
				if !csv {
					return httpapi.JSON(w, http.StatusOK, rep)
				}
				return CSV(w, "卡余额-"+rep.Date+".csv", [][]string{
					{"日期", "截至（北京时间）", "卡数", "卡余额合计（元）", "欠款卡数", "宿舍账户数", "宿舍账户余额合计（元）"},
					{rep.Date, rep.AsOf, strconv.Itoa(rep.Cards), Yuan(rep.CardsFen), strconv.Itoa(rep.Negative), strconv.Itoa(rep.DormAccounts), Yuan(rep.DormFen)},
				})
			}
		}}
)
