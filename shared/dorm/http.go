package dorm

import (
	"context"
	"encoding/json"
	"net/http"

	"onecard/shared/accounts"
	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/devices"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/jobs"
	"onecard/shared/ledger"
	"onecard/shared/mail"
	"onecard/shared/plaintext"
	"onecard/shared/platform"
	"onecard/shared/recharge"
	"onecard/shared/school"
	"onecard/shared/secret"
	"onecard/shared/store"
)

// NewService wires the dorm service from d.
func NewService(d *platform.Deps) *Service {
	s := d.Store()
	return &Service{S: s, Repo: Repo{s}, Ledger: ledger.New(s, d.Now), Cards: cards.NewService(s, secret.NewDigester(d.Cfg.PIIKey), d.Now),
		Recharge: recharge.NewService(d), Power: NewPower(d), Now: d.Now}
}

// NewPower wires power control from d.
func NewPower(d *platform.Deps) Power {
	s := d.Store()
	return Power{S: s, Schools: school.Repo{S: s}, Now: d.Now}
}

// NewMeters wires meter charging from d.
func NewMeters(d *platform.Deps) Meters {
	s := d.Store()
	p := NewPower(d)
	return Meters{S: s, Ledger: ledger.New(s, d.Now), Schools: school.Repo{S: s}, Mail: mail.Sender{SES: d.SES, From: d.Cfg.MailFrom},
		Users: accounts.Users{S: s, PII: secret.NewDigester(d.Cfg.PIIKey)}, Now: d.Now, Power: &p}
}

// school of the caller: a student's current school is on their account, which may have changed since
// the token was issued, so read it.
func (s *Service) schoolOf(r *http.Request) (string, error) {
	u, ok, err := s.Cards.Users.Get(r.Context(), auth.Must(r.Context()).Subject)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", accounts.ErrUserGone
	}
	return u.SchoolID, nil
}

// Dorm routes.
var (
	DormBuildings = fn.HTTP{Name: "DormBuildings", Route: "GET /v1/dorms/buildings", Access: fn.User,
		Actions: []string{iam.GetItem, iam.Query}, Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				sch, err := s.schoolOf(r)
				if err != nil {
					return err
				}
				bs, err := s.Repo.Buildings(r.Context(), sch)
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, map[string]any{"items": bs})
			}
		})}

	DormRooms = fn.HTTP{Name: "DormRooms", Route: "GET /v1/dorms/rooms", Access: fn.User,
		Actions: []string{iam.GetItem, iam.Query}, Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				sch, err := s.schoolOf(r)
				if err != nil {
					return err
				}
				page, err := s.Repo.search(r, sch)
				if err != nil {
					return err
				}
				type item struct {
					RoomID   string `json:"roomId"`
					Building string `json:"building"`
					Room     string `json:"room"`
					Label    string `json:"label"`
				}
				out := []item{}
				for _, rm := range page.Items {
					out = append(out, item{rm.RoomID, rm.Building, rm.Room, rm.Label})
				}
				return httpapi.JSON(w, http.StatusOK, map[string]any{"items": out, "nextCursor": page.NextCursor})
			}
		})}

	DormRoomGet = fn.HTTP{Name: "DormRoomGet", Route: "GET /v1/dorms/rooms/{roomId}", Access: fn.User,
		Actions: []string{iam.GetItem, iam.Query}, Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				sch, err := s.schoolOf(r)
				if err != nil {
					return err
				}
				v, err := s.View(r.Context(), sch, r.PathValue("roomId"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, v)
			}
		})}

	DormRecharge = fn.HTTP{Name: "DormRecharge", Route: "POST /v1/dorms/rooms/{roomId}/recharge", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.Query, iam.GetSecretValue}, Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			// 201 with the WeChat order to pay, 200 with the card payment done.
			return httpapi.Make(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				Kind      string `json:"kind"`
				AmountFen int64  `json:"amountFen"`
				PayWith   string `json:"payWith"`
			}) (*RechargeAnswer, bool, error) {
				return s.RechargeRoom(r.Context(), auth.Must(r.Context()), r.PathValue("roomId"), in.Kind, in.AmountFen,
					in.PayWith, r.Header.Get("Idempotency-Key"))
			})
		})}

	DormTransactions = fn.HTTP{Name: "DormTransactions", Route: "GET /v1/dorms/rooms/{roomId}/transactions", Access: fn.User,
		Actions: []string{iam.GetItem, iam.Query}, Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				sch, err := s.schoolOf(r)
				if err != nil {
					return err
				}
				limit, err := httpapi.Limit(r, 20, 100)
				if err != nil {
					return err
				}
				q := r.URL.Query()
				rm, err := s.Repo.Room(r.Context(), sch, r.PathValue("roomId"))
				if err != nil {
					return err
				}
				kind := q.Get("kind")
				if kind == "" {
					kind = ElecWater
					if rm.AccountMode == Separate {
						kind = Elec
					}
				}
				if _, _, err := s.account(r.Context(), sch, rm.RoomID, kind); err != nil {
					return err
				}
				page, err := s.Ledger.History(r.Context(), AccountID(sch, rm.RoomID, kind), limit, q.Get("cursor"), q.Get("month"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, page)
			}
		})}

	// AdminDormsImport checks the rooms CSV and stores it as an import job (202; ImportRunner runs it),
	// or with ?dryRun=true answers what it would create.
	AdminDormsImport = fn.HTTP{Name: "AdminDormsImport", Route: "POST /v1/admin/dorms/import", Access: fn.Staff,
		Roles: []string{auth.RoleOps}, MaxBody: httpapi.DeviceBodyLimit,
		Actions: []string{iam.GetItem, iam.PutItem, iam.Query}, Build: func(d *platform.Deps) httpapi.Handler {
			s := NewService(d)
			return jobs.Upload(d, jobs.KindDorms, ParseCSV, func(r *http.Request, rows []ImportRow) (any, error) {
				return s.PreviewImport(r.Context(), auth.Must(r.Context()), rows)
			})
		}}

	AdminDormBuilding = fn.HTTP{Name: "AdminDormBuilding", Route: "PUT /v1/admin/dorms/buildings/{building}", Access: fn.Staff,
		Roles: []string{auth.RoleOps}, Actions: []string{iam.PutItem}, Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return httpapi.Act(httpapi.AppBodyLimit, func(r *http.Request, in *struct {
				Label       string `json:"label"`
				AccountMode string `json:"accountMode"`
			}) (*Building, error) {
				return s.PutBuilding(r.Context(), auth.Must(r.Context()), r.PathValue("building"), in.Label, in.AccountMode)
			})
		})}

	MeterCommands = fn.HTTP{Name: "MeterCommands", Route: "GET /v1/meter/commands", Access: fn.Signed, MaxBody: httpapi.DeviceBodyLimit,
		Actions: append([]string{iam.Query}, devices.Actions...), Build: func(d *platform.Deps) httpapi.Handler {
			p := NewPower(d)
			return devices.Handler(d, []string{devices.KindMeterGateway}, func(w http.ResponseWriter, r *http.Request, dev *devices.Device, _ []byte) error {
				cmds, err := p.Pending(r.Context(), dev.SchoolID, 100)
				if err != nil {
					return err
				}
				type item struct {
					CommandID string `json:"commandId"`
					MeterID   string `json:"meterId"`
					Action    string `json:"action"`
					RoomID    string `json:"roomId"`
				}
				out := []item{}
				for _, c := range cmds {
					out = append(out, item{c.CommandID, c.MeterID, c.Action, c.RoomID})
				}
				return httpapi.JSON(w, http.StatusOK, map[string]any{"items": out})
			})
		}}

	MeterCommandAck = fn.HTTP{Name: "MeterCommandAck", Route: "POST /v1/meter/commands/{commandId}/ack", Access: fn.Signed,
		MaxBody: httpapi.DeviceBodyLimit, Actions: append([]string{iam.UpdateItem}, devices.Actions...), Build: func(d *platform.Deps) httpapi.Handler {
			p := NewPower(d)
			return devices.Handler(d, []string{devices.KindMeterGateway}, func(w http.ResponseWriter, r *http.Request, dev *devices.Device, _ []byte) error {
				if err := p.Ack(r.Context(), dev.SchoolID, r.PathValue("commandId")); err != nil {
					return err
				}
				return httpapi.NoContent(w)
			})
		}}
)

// DormPowerSettle runs on a schedule: it queues the commands that flagged accounts need, including the
// cuts that waited for the morning.
var DormPowerSettle = fn.Event{Name: "DormPowerSettle", Description: "queue power commands for flagged dorm accounts; deferred cuts after night hours",
	Schedule: "rate(5 minutes)", Timeout: 60, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem, iam.Query},
	Build: func(d *platform.Deps) any {
		p := NewPower(d)
		s := d.Store()
		return func(ctx context.Context, _ json.RawMessage) error {
			ids, err := schoolIDs(ctx, s)
			if err != nil {
				return err
			}
			for _, id := range ids {
				rep, err := p.Settle(ctx, id)
				if err != nil {
					return err
				}
				d.Log.Info("power settle", "school", id, "off", rep.Off, "on", rep.On, "deferred", rep.Deferred, "cleared", rep.Cleared)
			}
			return nil
		}
	}}

func schoolIDs(ctx context.Context, s *store.Store) ([]string, error) {
	out, err := store.All[struct {
		ID string `dynamodbav:"schoolId"`
	}](ctx, s, store.Query{Index: store.GSI1, PK: store.SchoolListPK(), Project: []string{"schoolId"}})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(out))
	for i, o := range out {
		ids[i] = o.ID
	}
	return ids, nil
}

// search answers a room-list request (GET /v1/dorms/rooms and its staff twin) for school: the query's
// building (1–3 digits), text (at most 20 bytes), limit and cursor, checked before the table is read.
func (r Repo) search(req *http.Request, school string) (*RoomPage, error) {
	limit, err := httpapi.Limit(req, 50, 200)
	if err != nil {
		return nil, err
	}
	q := req.URL.Query()
	if b := q.Get("building"); b != "" && !plaintext.Digits(b, 1, 3) {
		return nil, ErrBadBuilding
	}
	if len(q.Get("q")) > 20 {
		return nil, ErrBadQuery
	}
	return r.Search(req.Context(), school, q.Get("building"), q.Get("q"), limit, q.Get("cursor"))
}
