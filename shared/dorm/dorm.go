// Package dorm is 宿舍电费、冷水费: buildings and their account mode, rooms and their meters, the rooms'
// utility accounts (balances held through the ledger), recharges by WeChat Pay or from the card, meter
// charging, power control and low-balance mail.
package dorm

import (
	"context"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"onecard/shared/fault"
	"onecard/shared/store"
)

// Account modes (docs/dorm.md).
const (
	Combined = "combined" // 一号两用: one elec_water account pays electricity and cold water
	Separate = "separate" // an elec and a water account
)

// Account kinds.
const (
	ElecWater = "elec_water"
	Elec      = "elec"
	Water     = "water"
)

// Building is one dormitory building of a school, stored and answered as is: its key stays out of the
// answer.
type Building struct {
	store.Key   `json:"-"`
	SchoolID    string `dynamodbav:"schoolId" json:"-"`
	Building    string `dynamodbav:"building" json:"building"`
	Label       string `dynamodbav:"label" json:"label"`
	AccountMode string `dynamodbav:"accountMode" json:"accountMode"`
}

// Kinds returns the account kinds of a building's rooms.
func (b Building) Kinds() []string {
	if b.AccountMode == Separate {
		return []string{Elec, Water}
	}
	return []string{ElecWater}
}

// Room is one dormitory room.
type Room struct {
	store.Key
	store.InGSI1        // RoomsPK(school), sortKey(building, room)
	Type         string `dynamodbav:"type"`
	SchoolID     string `dynamodbav:"schoolId"`
	RoomID       string `dynamodbav:"roomId"`
	Building     string `dynamodbav:"building"`
	Room         string `dynamodbav:"room"`
	Label        string `dynamodbav:"label"`
	AccountMode  string `dynamodbav:"accountMode"`
	ElecMeterID  string `dynamodbav:"elecMeterId"`
	WaterMeter   string `dynamodbav:"waterMeterId"`
}

// AccountID names a room's account in the ledger.
func AccountID(school, roomID, kind string) string {
	return AccountKind + ":" + school + ":" + roomID + ":" + kind
}

// Account is a room's utility account; the ledger keeps balance and seq.
type Account struct {
	store.Key
	store.InGSI2        // PowerPK(school), <roomId>#<kind> while the meter must be switched
	Type         string `dynamodbav:"type"`
	Account      string `dynamodbav:"acct"`
	SchoolID     string `dynamodbav:"schoolId"`
	RoomID       string `dynamodbav:"roomId"`
	Kind         string `dynamodbav:"kind"`
	Balance      int64  `dynamodbav:"balance"`
	Seq          int64  `dynamodbav:"seq"`
	PaysElec     bool   `dynamodbav:"paysElec"`
	PowerOn      bool   `dynamodbav:"powerOn"`    // what the meter last acknowledged
	PendingCmd   string `dynamodbav:"pendingCmd"` // a command sent and not yet acknowledged
	LowPending   bool   `dynamodbav:"lowPending"` // the balance fell past the threshold: mail due
}

var roomIDRE = regexp.MustCompile(`^WH-(\d{1,3})D-(\d{1,5})$`)

// ErrBadRoom is a room id that is not of the WH-8D-1006 form.
var ErrBadRoom = fault.E(fault.NotFound, "ROOM_NOT_FOUND", "宿舍不存在，请核对楼栋和宿舍号")

// ParseRoomID splits WH-8D-1006 into building 8 and room 1006. Any case is accepted (wh-8d-1006).
func ParseRoomID(id string) (building, room string, ok bool) {
	m := roomIDRE.FindStringSubmatch(strings.ToUpper(id))
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// CanonicalRoomID is id as rooms are stored (WH-8D-1006), whatever case it was typed in; ok is false
// for an id that is not of that form.
func CanonicalRoomID(id string) (string, bool) {
	id = strings.ToUpper(strings.TrimSpace(id))
	if _, _, ok := ParseRoomID(id); !ok {
		return "", false
	}
	return id, true
}

// Label is how a room is named to people: 8栋1006宿舍.
func Label(building, room string) string { return building + "栋" + room + "宿舍" }

// sortKey orders rooms by building then room number.
func sortKey(building, room string) string {
	b, _ := strconv.Atoi(building)
	r, _ := strconv.Atoi(room)
	return fmt.Sprintf("%03d#%05d", b, r)
}

// Repo reads buildings and rooms.
type Repo struct{ S *store.Store }

// Buildings lists a school's buildings in order (an empty slice, never nil, for a school without).
func (r Repo) Buildings(ctx context.Context, school string) ([]Building, error) {
	first := store.BuildingKey(school, "") // the school's partition, and the buildings' sort-key prefix
	out, err := store.All[Building](ctx, r.S, store.Query{PK: first.PK, Prefix: first.SK})
	if err != nil {
		return nil, err
	}
	sortBuildings(out)
	return out, nil
}

func sortBuildings(bs []Building) {
	for i := 1; i < len(bs); i++ {
		for j := i; j > 0 && sortKey(bs[j].Building, "0") < sortKey(bs[j-1].Building, "0"); j-- {
			bs[j], bs[j-1] = bs[j-1], bs[j]
		}
	}
}

// Room reads a room; roomID may be in any case (the room's RoomID is the stored form).
func (r Repo) Room(ctx context.Context, school, roomID string) (*Room, error) {
	roomID, ok := CanonicalRoomID(roomID)
	if !ok {
		return nil, ErrBadRoom
	}
	var rm Room
	ok, err := r.S.Get(ctx, store.RoomKey(school, roomID), &rm)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBadRoom
	}
	return &rm, nil
}

// RoomAccounts reads a room of school and its accounts.
func (r Repo) RoomAccounts(ctx context.Context, school, roomID string) (*Room, []Account, error) {
	rm, err := r.Room(ctx, school, roomID)
	if err != nil {
		return nil, nil, err
	}
	accts, err := r.Accounts(ctx, school, rm.RoomID)
	if err != nil {
		return nil, nil, err
	}
	return rm, accts, nil
}

// Accounts reads a room's accounts (one query: they share the room's partition).
func (r Repo) Accounts(ctx context.Context, school, roomID string) ([]Account, error) {
	first := store.AccountKey(school, roomID, "") // the room's partition, and the accounts' sort-key prefix
	return store.All[Account](ctx, r.S, store.Query{PK: first.PK, Prefix: first.SK, Consistent: true})
}

// RoomPage is a page of the room list, in building and room order.
type RoomPage struct {
	Items      []Room
	NextCursor *string // nil on the last page
}

// ErrBadCursor is a room-list cursor this service did not give out.
var ErrBadCursor = fault.Field("BAD_CURSOR", "分页游标无效")

// Search lists rooms of a building whose number contains q (the mini program's 请输入宿舍 box), a page
// of at most limit after cursor. The cursor is opaque to clients: the last room of the previous page.
func (r Repo) Search(ctx context.Context, school, building, q string, limit int, cursor string) (*RoomPage, error) {
	q = strings.TrimSpace(q)
	query := store.Query{Index: store.GSI1, PK: store.RoomsPK(school)}
	if building != "" {
		b, _ := strconv.Atoi(building)
		query.Prefix = fmt.Sprintf("%03d#", b)
	}
	if q != "" {
		query.Filter = "contains(#r, :q) OR contains(#id, :q)"
		query.FilterNames = map[string]string{"#r": "room", "#id": "roomId"}
		query.FilterValues = store.Values{":q": strings.ToUpper(q)}
	} else {
		query.Limit = limit + 1 // one more tells whether a next page exists
	}
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(raw) > 20 {
			return nil, ErrBadCursor
		}
		id, ok := CanonicalRoomID(string(raw))
		if !ok || id != string(raw) {
			return nil, ErrBadCursor
		}
		b, rm, _ := ParseRoomID(id)
		start := store.RoomKey(school, id)
		query.Start, query.StartSK = &start, sortKey(b, rm)
	}
	page := &RoomPage{Items: []Room{}}
	for {
		var rooms []Room
		next, err := r.S.Page(ctx, query, &rooms)
		if err != nil {
			return nil, err
		}
		for _, rm := range rooms {
			if len(page.Items) == limit {
				// A room beyond this page exists: the page ends at the one before.
				c := base64.RawURLEncoding.EncodeToString([]byte(page.Items[limit-1].RoomID))
				page.NextCursor = &c
				return page, nil
			}
			page.Items = append(page.Items, rm)
		}
		if next == nil {
			return page, nil
		}
		if len(page.Items) == limit {
			// The page is full and the index goes on: the next page may be empty, which is harmless.
			c := base64.RawURLEncoding.EncodeToString([]byte(page.Items[limit-1].RoomID))
			page.NextCursor = &c
			return page, nil
		}
		query.Start, query.StartSK = &next.Key, next.SK
	}
}
