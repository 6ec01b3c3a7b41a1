package jobs

import (
	"net/http"

	"onecard/shared/auth"
	"onecard/shared/httpapi"
	"onecard/shared/platform"
)

// NewService builds the service from the function's dependencies.
func NewService(d *platform.Deps) *Service { return &Service{S: d.Store(), Now: d.Now} }

// Upload is the handler of an import route: it reads the CSV and parses it (a file that is not a CSV of
// the kind, too large or with too many rows is answered 400 at once); with ?dryRun=true it answers
// preview's 200 and writes nothing; otherwise it stores the rows as a job of kind and answers 202 with
// the job, to poll at GET /v1/admin/imports/{jobId} (Location).
func Upload[Row any](d *platform.Deps, kind string, parse func([]byte) ([]Row, error), preview func(*http.Request, []Row) (any, error)) httpapi.Handler {
	s := NewService(d)
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := httpapi.ReadBody(r, httpapi.DeviceBodyLimit)
		if err != nil {
			return err
		}
		rows, err := parse(body)
		if err != nil {
			return err
		}
		if r.URL.Query().Get("dryRun") == "true" {
			pv, err := preview(r, rows)
			if err != nil {
				return err
			}
			return httpapi.JSON(w, http.StatusOK, pv)
		}
		all := make([]any, len(rows))
		for i := range rows {
			all[i] = rows[i]
		}
		p := auth.Must(r.Context())
		j, err := s.Submit(r.Context(), p.School, kind, p.Subject, all)
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/v1/admin/imports/"+j.JobID)
		return httpapi.JSON(w, http.StatusAccepted, j)
	}
}
