package dorm

import (
	"context"
	"errors"
	"net/http"
	"sort"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/accounts"
	"onecard/shared/auth"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/store"
)

// MaxMyRooms is how many rooms an account keeps on its dorm page (我的宿舍) per school.
const MaxMyRooms = 5

// Errors of "my rooms".
var (
	ErrMyRoomsFull = fault.E(fault.Rule, "MY_ROOMS_FULL", "最多保存 5 个宿舍，请先移除一个")
	ErrMyRoomsBusy = fault.E(fault.Conflict, "CONCURRENT_CHANGE", "我的宿舍正在被修改，请刷新后重试")
)

// myRooms is the rooms an account saved in one school, its own item in the user's partition (the user
// item belongs to shared/accounts). Rooms maps a room id to when it was added (Unix microseconds), so
// the page lists them in the order they were saved; ver guards the cap against concurrent adds.
type myRooms struct {
	store.Key
	Type     string           `dynamodbav:"type"`
	UserID   string           `dynamodbav:"userId"`
	SchoolID string           `dynamodbav:"schoolId"`
	Rooms    map[string]int64 `dynamodbav:"rooms"`
	Ver      int64            `dynamodbav:"ver"`
}

// caller is the signed-in user's id and current school (read from the account: it may have changed
// since the token was issued).
func (s *Service) caller(ctx context.Context, p auth.Principal) (userID, school string, err error) {
	u, ok, err := s.Cards.Users.Get(ctx, p.Subject)
	if err != nil {
		return "", "", err
	}
	if !ok {
		return "", "", accounts.ErrUserGone
	}
	return u.UserID, u.SchoolID, nil
}

func (s *Service) readMyRooms(ctx context.Context, userID, school string) (*myRooms, bool, error) {
	var m myRooms
	ok, err := s.S.Get(ctx, store.MyRoomsKey(userID, school), &m)
	return &m, ok, err
}

// MyRooms lists the caller's saved rooms of their current school, oldest first, each with its label and
// balances.
func (s *Service) MyRooms(ctx context.Context, p auth.Principal) ([]RoomView, error) {
	userID, school, err := s.caller(ctx, p)
	if err != nil {
		return nil, err
	}
	m, _, err := s.readMyRooms(ctx, userID, school)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(m.Rooms))
	for id := range m.Rooms {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if m.Rooms[ids[i]] != m.Rooms[ids[j]] {
			return m.Rooms[ids[i]] < m.Rooms[ids[j]]
		}
		return ids[i] < ids[j]
	})
	out := []RoomView{}
	for _, id := range ids {
		v, err := s.View(ctx, school, id)
		if fault.Is(err, ErrBadRoom.Code) {
			continue // not a room of this school (any more): nothing to show
		}
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, nil
}

// AddMyRoom saves a room on the caller's dorm page (at most MaxMyRooms) and answers it with its label
// in words, so a wrong room is noticed. Saving a saved room again changes nothing.
func (s *Service) AddMyRoom(ctx context.Context, p auth.Principal, roomID string) (*RoomView, error) {
	userID, school, err := s.caller(ctx, p)
	if err != nil {
		return nil, err
	}
	v, err := s.View(ctx, school, roomID)
	if err != nil {
		return nil, err
	}
	for range 5 {
		m, exists, err := s.readMyRooms(ctx, userID, school)
		if err != nil {
			return nil, err
		}
		if _, ok := m.Rooms[v.RoomID]; ok {
			return v, nil
		}
		if len(m.Rooms) >= MaxMyRooms {
			return nil, ErrMyRoomsFull
		}
		next := myRooms{Key: store.MyRoomsKey(userID, school), Type: "my_rooms", UserID: userID, SchoolID: school,
			Rooms: map[string]int64{v.RoomID: s.Now().UnixMicro()}, Ver: m.Ver + 1}
		for id, at := range m.Rooms {
			next.Rooms[id] = at
		}
		// The write holds only on the list as read: two adds at once cannot pass the cap together.
		cond, vals := store.IfAbsent, map[string]types.AttributeValue(nil)
		if exists {
			cond, vals = "ver = :v", store.Values{":v": m.Ver}.AV()
		}
		err = s.S.Put(ctx, next, cond, vals)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, store.ErrConditionFailed) {
			return nil, err
		}
	}
	return nil, ErrMyRoomsBusy
}

// RemoveMyRoom takes a room off the caller's dorm page; removing a room that is not there changes
// nothing.
func (s *Service) RemoveMyRoom(ctx context.Context, p auth.Principal, roomID string) error {
	id, ok := CanonicalRoomID(roomID)
	if !ok {
		return ErrBadRoom
	}
	userID, school, err := s.caller(ctx, p)
	if err != nil {
		return err
	}
	// ver moves with every change, so an add that read the list before this removal reads it again.
	err = s.S.RemoveMyRoom(ctx, store.MyRoomsKey(userID, school), id)
	if errors.Is(err, store.ErrConditionFailed) {
		return nil
	}
	return err
}

// "My rooms" routes: the rooms the dorm page opens on.
var (
	DormMyRooms = fn.HTTP{Name: "DormMyRooms", Route: "GET /v1/me/rooms", Access: fn.User,
		Actions: []string{iam.GetItem, iam.Query}, Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				rooms, err := s.MyRooms(r.Context(), auth.Must(r.Context()))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, map[string]any{"items": rooms, "max": MaxMyRooms})
			}
		})}

	DormMyRoomAdd = fn.HTTP{Name: "DormMyRoomAdd", Route: "PUT /v1/me/rooms/{roomId}", Access: fn.User,
		Actions: []string{iam.GetItem, iam.PutItem, iam.Query}, Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				v, err := s.AddMyRoom(r.Context(), auth.Must(r.Context()), r.PathValue("roomId"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, v)
			}
		})}

	DormMyRoomRemove = fn.HTTP{Name: "DormMyRoomRemove", Route: "DELETE /v1/me/rooms/{roomId}", Access: fn.User,
		Actions: []string{iam.GetItem, iam.UpdateItem}, Build: fn.Using(NewService, func(s *Service) httpapi.Handler {
			return func(w http.ResponseWriter, r *http.Request) error {
				if err := s.RemoveMyRoom(r.Context(), auth.Must(r.Context()), r.PathValue("roomId")); err != nil {
					return err
				}
				return httpapi.NoContent(w)
			}
		})}
)
