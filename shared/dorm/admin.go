package dorm

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"onecard/shared/auth"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/ledger"
	"onecard/shared/platform"
	"onecard/shared/store"
)

// The dorm office's view of rooms (role ops): a search over the school's rooms and a room's detail with
// everything the office is asked about at the window — balances, meters, power, commands the meter
// gateway has not acknowledged yet, and the latest entries.

// AdminRoomItem is one room of the staff search.
type AdminRoomItem struct {
	RoomID      string `json:"roomId"`
	Building    string `json:"building"`
	Room        string `json:"room"`
	Label       string `json:"label"`
	AccountMode string `json:"accountMode"`
}

// AdminAccount is one account of a room: its balance and its electricity switch (PowerOn is what the
// meter last acknowledged; an account that pays no electricity has no switch).
type AdminAccount struct {
	Kind       string `json:"kind"`
	Account    string `json:"account"`
	BalanceFen int64  `json:"balanceFen"`
	PaysElec   bool   `json:"paysElec"`
	PowerOn    bool   `json:"powerOn"`
	PendingCmd string `json:"pendingCommandId,omitempty"`
}

// AdminMeter is a room's meter and where its counting stands: LastReading is the cumulative reading in
// Unit with two decimals ("1234.56"), as the meter sent it.
type AdminMeter struct {
	MeterID     string     `json:"meterId"`
	Kind        string     `json:"kind"`
	AccountKind string     `json:"accountKind"`
	Unit        string     `json:"unit"`
	LastReading *string    `json:"lastReading"`
	LastReadAt  *time.Time `json:"lastReadAt"`
}

// AdminCommand is a power command sent to a room's meter and not acknowledged yet.
type AdminCommand struct {
	CommandID string    `json:"commandId"`
	MeterID   string    `json:"meterId"`
	Kind      string    `json:"kind"`
	Action    string    `json:"action"`
	CreatedAt time.Time `json:"createdAt"`
}

// AdminTxn is one line of a room's recent history, with the account it is on.
type AdminTxn struct {
	AccountKind string `json:"accountKind"`
	ledger.TxnView
}

// AdminRoom is GET /v1/admin/dorms/rooms/{roomId}.
type AdminRoom struct {
	AdminRoomItem
	Accounts        []AdminAccount `json:"accounts"`
	Meters          []AdminMeter   `json:"meters"`
	PendingCommands []AdminCommand `json:"pendingCommands"`
	Transactions    []AdminTxn     `json:"transactions"`
}

// recentTxns is how many entries the room detail shows.
const recentTxns = 20

// AdminRoomDetail reads a room of school with its accounts, meters, pending commands and recent entries.
func (s *Service) AdminRoomDetail(ctx context.Context, school, roomID string) (*AdminRoom, error) {
	rm, accts, err := s.Repo.RoomAccounts(ctx, school, roomID)
	if err != nil {
		return nil, err
	}
	out := &AdminRoom{AdminRoomItem: itemOf(*rm), Accounts: []AdminAccount{}, Meters: []AdminMeter{},
		PendingCommands: []AdminCommand{}, Transactions: []AdminTxn{}}
	var ids []string
	for _, a := range accts {
		out.Accounts = append(out.Accounts, AdminAccount{Kind: a.Kind, Account: a.Account, BalanceFen: a.Balance, PaysElec: a.PaysElec,
			PowerOn: a.PowerOn || !a.PaysElec, PendingCmd: a.PendingCmd})
		ids = append(ids, AccountID(school, rm.RoomID, a.Kind))
		if a.PendingCmd == "" {
			continue
		}
		var c Command
		ok, err := s.S.Get(ctx, store.CommandKey(a.PendingCmd), &c)
		if err != nil {
			return nil, err
		}
		if ok && c.Status != "acked" && c.SchoolID == school {
			out.PendingCommands = append(out.PendingCommands, AdminCommand{CommandID: c.CommandID, MeterID: c.MeterID, Kind: c.Kind,
				Action: c.Action, CreatedAt: c.CreatedAt})
		}
	}
	for _, id := range []string{rm.ElecMeterID, rm.WaterMeter} {
		if id == "" {
			continue
		}
		var m Meter
		ok, err := s.S.Get(ctx, store.MeterKey(id), &m)
		if err != nil {
			return nil, err
		}
		if !ok || m.SchoolID != school {
			continue
		}
		v := AdminMeter{MeterID: m.MeterID, Kind: m.Kind, AccountKind: m.AccountKind, Unit: "kWh"}
		if m.Kind == Water {
			v.Unit = "m³"
		}
		if m.Started {
			r := hundredths(m.LastReading)
			at := m.LastReadAt
			v.LastReading, v.LastReadAt = &r, &at
		}
		out.Meters = append(out.Meters, v)
	}
	if len(ids) > 0 {
		entries, _, err := s.Ledger.MergedHistory(ctx, ids, recentTxns, "", "")
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			out.Transactions = append(out.Transactions, AdminTxn{AccountKind: e.Account[strings.LastIndex(e.Account, ":")+1:], TxnView: e.View()})
		}
	}
	return out, nil
}

func itemOf(rm Room) AdminRoomItem {
	return AdminRoomItem{RoomID: rm.RoomID, Building: rm.Building, Room: rm.Room, Label: rm.Label, AccountMode: rm.AccountMode}
}

// hundredths formats a count of hundredths as a decimal with two places ("1234.05").
func hundredths(n int64) string {
	sign := ""
	if n < 0 {
		sign, n = "-", -n
	}
	frac := strconv.FormatInt(n%100, 10)
	if len(frac) == 1 {
		frac = "0" + frac
	}
	return sign + strconv.FormatInt(n/100, 10) + "." + frac
}

func adminService(d *platform.Deps) *Service {
	s := d.Store()
	return &Service{S: s, Repo: Repo{s}, Ledger: ledger.New(s, d.Now), Now: d.Now}
}

// Staff routes of the dorm office (ops; admin always).
var (
	AdminDormRooms = fn.HTTP{Name: "AdminDormRooms", Route: "GET /v1/admin/dorms/rooms", Access: fn.Staff,
		Roles: []string{auth.RoleOps}, Actions: []string{iam.Query},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := adminService(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				page, err := s.Repo.search(r, auth.Must(r.Context()).School)
				if err != nil {
					return err
				}
				out := []AdminRoomItem{}
				for _, rm := range page.Items {
					out = append(out, itemOf(rm))
				}
				return httpapi.JSON(w, http.StatusOK, map[string]any{"items": out, "nextCursor": page.NextCursor})
			}
		}}

	AdminDormRoom = fn.HTTP{Name: "AdminDormRoom", Route: "GET /v1/admin/dorms/rooms/{roomId}", Access: fn.Staff,
		Roles: []string{auth.RoleOps}, Actions: []string{iam.GetItem, iam.Query},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := adminService(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				v, err := s.AdminRoomDetail(r.Context(), auth.Must(r.Context()).School, r.PathValue("roomId"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, v)
			}
		}}
)
