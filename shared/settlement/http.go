package settlement

import (
	"net/http"
	"strconv"

	"onecard/shared/auth"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
	"onecard/shared/reports"
)

func service(d *platform.Deps) *Service { return New(d.Store(), d.Now) }

var header = []string{"商户编号", "商户名称", "日期", "状态", "设备", "笔数", "消费金额（元）", "退款笔数", "退款金额（元）", "净额（元）", "补传笔数", "补传金额（元）", "说明"}

var statusText = map[string]string{Open: "未结算", Closed: "已结算"}

func row(m, name, day, status, device string, f Figures, note string) []string {
	return []string{m, name, day, statusText[status], device, strconv.Itoa(f.Count), reports.Yuan(f.GrossFen),
		strconv.Itoa(f.Refunds), reports.Yuan(f.RefundsFen), reports.Yuan(f.NetFen), strconv.Itoa(f.Late.Count), reports.Yuan(f.Late.Fen), note}
}

// dayRows are a day's lines: one per device, then the day's total (device 合计).
func dayRows(d *Day) [][]string {
	var rows [][]string
	for _, dd := range d.Devices {
		rows = append(rows, row(d.MerchantID, d.Name, d.Day, d.Status, dd.DeviceID, dd.Figures, ""))
	}
	return append(rows, row(d.MerchantID, d.Name, d.Day, d.Status, "合计", d.Figures, d.Note))
}

// Staff routes (finance; admin always).
var (
	AdminSettlement = fn.HTTP{Name: "AdminSettlement", Route: "GET /v1/admin/merchants/{merchantId}/settlements/{period}",
		Access: fn.Staff, Roles: []string{auth.RoleFinance}, Actions: []string{iam.GetItem, iam.Query},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := service(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				csv, err := reports.WantCSV(r)
				if err != nil {
					return err
				}
				ctx := r.Context()
				school, id, period := auth.Must(ctx).School, r.PathValue("merchantId"), r.PathValue("period")
				if len(period) == len("2006-01") {
					m, err := s.GetMonth(ctx, school, id, period)
					if err != nil {
						return err
					}
					if !csv {
						return httpapi.JSON(w, http.StatusOK, m)
					}
					rows := [][]string{header}
					for i := range m.Days {
						rows = append(rows, dayRows(&m.Days[i])...)
					}
					rows = append(rows, row(m.MerchantID, m.Name, m.Month, "", "月合计", m.Figures, ""))
					return reports.CSV(w, "结算-"+id+"-"+period+".csv", rows)
				}
				day, err := s.Get(ctx, school, id, period)
				if err != nil {
					return err
				}
				if !csv {
					return httpapi.JSON(w, http.StatusOK, day)
				}
				return reports.CSV(w, "结算-"+id+"-"+period+".csv", append([][]string{header}, dayRows(day)...))
			}
		}}

	AdminSettlementClose = fn.HTTP{Name: "AdminSettlementClose", Route: "POST /v1/admin/merchants/{merchantId}/settlements/{day}/close",
		Access: fn.Staff, Roles: []string{auth.RoleFinance}, Actions: []string{iam.GetItem, iam.PutItem, iam.Query},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := service(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				day, created, err := s.Close(r.Context(), auth.Must(r.Context()), r.PathValue("merchantId"), r.PathValue("day"))
				if err != nil {
					return err
				}
				status := http.StatusOK
				if created {
					status = http.StatusCreated
				}
				return httpapi.JSON(w, status, day)
			}
		}}
)
