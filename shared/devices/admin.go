package devices

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// Service is the staff side of the registry.
type Service struct {
	S   *store.Store
	Now func() time.Time
}

// Register records a device for the caller's school, with its audit entry in the same transaction.
// Registering the same device with the same details again is answered as done (created=false); the same
// id with anything different is DEVICE_EXISTS (a key change is a new device id, or disable and re-register
// under a new id, so that records never change hands silently).
func (s *Service) Register(ctx context.Context, p auth.Principal, in Registration) (*Device, bool, error) {
	pub, err := in.validate()
	if err != nil {
		return nil, false, err
	}
	now := s.Now()
	d := newDevice(in, pub, p.School, now)
	put, err := store.PutItem(d, store.IfAbsent, nil)
	if err != nil {
		return nil, false, err
	}
	details := map[string]any{"kind": in.Kind, "merchant": in.Merchant, "category": in.Category, "publicKey": in.PublicKey}
	err = s.S.Transact(ctx, []types.TransactWriteItem{put,
		staff.AuditItem(staff.Actor(p), "device.register", "device:"+in.DeviceID, details, now)}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(0) {
		cur, ok, gerr := Repo{s.S}.Get(ctx, in.DeviceID)
		if gerr != nil {
			return nil, false, gerr
		}
		if ok && cur.SchoolID == p.School && cur.Kind == in.Kind && bytes.Equal(cur.PublicKey, pub) &&
			cur.Merchant == in.Merchant && cur.Category == in.Category {
			return cur, false, nil
		}
		return nil, false, ErrExists
	}
	if err != nil {
		return nil, false, err
	}
	return &d, true, nil
}

// SetStatus enables or disables a device of the caller's school. Asking for the state it is already
// in changes nothing and is not audited.
func (s *Service) SetStatus(ctx context.Context, p auth.Principal, id, status string) error {
	if !ValidID(id) {
		return ErrNotFound
	}
	from := Active
	if status == Active {
		from = Disabled
	}
	now := s.Now()
	err := s.S.Transact(ctx, []types.TransactWriteItem{
		store.DeviceStatusItem(store.DeviceKey(id), status, from, p.School, now.UTC()),
		staff.AuditItem(staff.Actor(p), "device."+map[string]string{Active: "enable", Disabled: "disable"}[status], "device:"+id, nil, now),
	}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(0) {
		cur, ok, gerr := Repo{s.S}.Get(ctx, id)
		switch {
		case gerr != nil:
			return gerr
		case !ok || cur.SchoolID != p.School:
			return ErrNotFound
		case cur.Status == status:
			return nil
		}
		return ErrConcurrent
	}
	return err
}

// ErrConcurrent is a status change that raced another.
var ErrConcurrent = fault.E(fault.Conflict, "CONCURRENT_CHANGE", "设备状态已变化，请刷新后重试")

// List returns a page of the school's devices by id.
func (s *Service) List(ctx context.Context, school string, limit int, cursor string) ([]View, *string, error) {
	q := store.Query{Index: store.GSI1, PK: store.DeviceListPK(school), Limit: limit}
	if cursor != "" {
		id, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !ValidID(string(id)) {
			return nil, nil, fault.Field("BAD_CURSOR", "分页游标无效")
		}
		start := store.DeviceKey(string(id))
		q.Start, q.StartSK = &start, string(id)
	}
	var ds []Device
	last, err := s.S.Page(ctx, q, &ds)
	if err != nil {
		return nil, nil, err
	}
	out := make([]View, 0, len(ds))
	for i := range ds {
		out = append(out, ds[i].View())
	}
	var next *string
	if last != nil && len(ds) > 0 {
		c := base64.RawURLEncoding.EncodeToString([]byte(ds[len(ds)-1].DeviceID))
		next = &c
	}
	return out, next, nil
}

func service(d *platform.Deps) *Service { return &Service{S: d.Store(), Now: d.Now} }

// Staff routes (IT).
var (
	AdminDeviceRegister = fn.HTTP{Name: "AdminDeviceRegister", Route: "POST /v1/admin/devices", Access: fn.Staff,
		Roles: []string{auth.RoleIT}, Actions: []string{iam.GetItem, iam.PutItem},
		Build: fn.Using(service, func(s *Service) httpapi.Handler {
			return httpapi.Make(httpapi.AppBodyLimit, func(r *http.Request, in *Registration) (View, bool, error) {
				dev, created, err := s.Register(r.Context(), auth.Must(r.Context()), *in)
				if err != nil {
					return View{}, false, err
				}
				return dev.View(), created, nil
			})
		})}

	AdminDevices = fn.HTTP{Name: "AdminDevices", Route: "GET /v1/admin/devices", Access: fn.Staff,
		Roles: []string{auth.RoleIT}, Actions: []string{iam.Query},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := service(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				limit, err := httpapi.Limit(r, 50, 200)
				if err != nil {
					return err
				}
				items, next, err := s.List(r.Context(), auth.Must(r.Context()).School, limit, r.URL.Query().Get("cursor"))
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, map[string]any{"items": items, "nextCursor": next})
			}
		}}

	AdminDeviceDisable = statusRoute("AdminDeviceDisable", "disable", Disabled)
	AdminDeviceEnable  = statusRoute("AdminDeviceEnable", "enable", Active)
)

func statusRoute(name, verb, status string) fn.HTTP {
	return fn.HTTP{Name: name, Route: "POST /v1/admin/devices/{deviceId}/" + verb, Access: fn.Staff,
		Roles: []string{auth.RoleIT}, Actions: []string{iam.GetItem, iam.PutItem, iam.UpdateItem},
		Build: func(d *platform.Deps) httpapi.Handler {
			s := service(d)
			return func(w http.ResponseWriter, r *http.Request) error {
				if err := s.SetStatus(r.Context(), auth.Must(r.Context()), r.PathValue("deviceId"), status); err != nil {
					return err
				}
				return httpapi.NoContent(w)
			}
		}}
}
