// Package merchants keeps a school's merchants (商户: a canteen window, a shop, the hot-water service)
// and which merchant owns each card reader on each day. A reader posts its sales to its own clearing
// account (ext:merchant:<deviceId>, docs/decisions/0010); a merchant's day is the clearing days of the
// devices it owned that day (shared/settlement). A device belongs to one merchant at a time: an
// assignment names the first day (China time) it holds, and earlier days stay with the earlier owner.
package merchants

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/devices"
	"onecard/shared/fault"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// Categories of merchant (the reader categories).
var Categories = []string{devices.CategoryCanteen, devices.CategoryShop, devices.CategoryHotWater}

// Merchant is a merchant item.
type Merchant struct {
	store.Key  `json:"-"`
	MerchantID string    `dynamodbav:"merchantId" json:"merchantId"`
	SchoolID   string    `dynamodbav:"schoolId" json:"-"`
	Name       string    `dynamodbav:"name" json:"name"`
	Category   string    `dynamodbav:"category" json:"category"`
	Type       string    `dynamodbav:"type" json:"-"` // "merchant"
	CreatedAt  time.Time `dynamodbav:"createdAt" json:"createdAt"`
	UpdatedAt  time.Time `dynamodbav:"updatedAt" json:"updatedAt"`
}

// Assignment is one entry of a device's ownership history: the device belongs to the merchant from
// From (a China-time day) until the next assignment's From.
type Assignment struct {
	store.Key `json:"-"`
	// MerchantDevicesPK(school, merchantId) / MerchantDeviceSK(From, deviceId): the merchant's devices by day.
	store.InGSI1
	DeviceID   string    `dynamodbav:"deviceId" json:"deviceId"`
	MerchantID string    `dynamodbav:"merchantId" json:"merchantId"`
	SchoolID   string    `dynamodbav:"schoolId" json:"-"`
	From       string    `dynamodbav:"from" json:"from"`
	By         string    `dynamodbav:"by" json:"by"`
	At         time.Time `dynamodbav:"at" json:"at"`
	Type       string    `dynamodbav:"type" json:"-"` // "device_owner"
}

// Input is the body of POST /v1/admin/merchants and PUT /v1/admin/merchants/{merchantId}.
type Input struct {
	MerchantID string `json:"merchantId"`
	Name       string `json:"name"`
	Category   string `json:"category"`
}

// AssignInput is the body of POST /v1/admin/merchants/{merchantId}/devices.
type AssignInput struct {
	DeviceID string `json:"deviceId"`
	From     string `json:"from"`
}

// Errors.
var (
	ErrBadID       = fault.Field("BAD_MERCHANT_ID", "商户编号须为 1–32 位字母、数字、-、_")
	ErrBadName     = fault.Field("BAD_MERCHANT_NAME", "商户名称须为 1–32 个字符，不能含控制字符")
	ErrBadCategory = fault.Field("BAD_MERCHANT_CATEGORY", "商户类别须为 canteen、shop 或 hot_water")
	ErrBadDay      = fault.Field("BAD_DAY", "日期须为 YYYY-MM-DD 格式")
	ErrNotFound    = fault.E(fault.NotFound, "MERCHANT_NOT_FOUND", "商户不存在")
	ErrExists      = fault.E(fault.Conflict, "MERCHANT_EXISTS", "该商户编号已存在（信息不同）")
	ErrAssigned    = fault.E(fault.Conflict, "DEVICE_ASSIGNED", "该设备在这一天起已归属其他商户")
	ErrNotReader   = fault.E(fault.Rule, "NOT_A_READER", "只有刷卡机可以归属商户")
	ErrChanged     = fault.E(fault.Conflict, "MERCHANT_CHANGED", "商户信息刚被修改，请刷新后重试")
)

// ValidID reports whether id is a well-formed merchant id.
func ValidID(id string) bool { return len(id) <= 32 && devices.ValidID(id) }

// ValidDay reports whether day is a calendar day YYYY-MM-DD.
func ValidDay(day string) bool {
	t, err := time.Parse(time.DateOnly, day)
	return err == nil && t.Format(time.DateOnly) == day
}

func (in *Input) check(needID bool) error {
	if needID && !ValidID(in.MerchantID) {
		return ErrBadID
	}
	in.Name = strings.TrimSpace(in.Name)
	n := utf8.RuneCountInString(in.Name)
	if n < 1 || n > 32 || !utf8.ValidString(in.Name) || strings.ContainsFunc(in.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return ErrBadName
	}
	for _, c := range Categories {
		if in.Category == c {
			return nil
		}
	}
	return ErrBadCategory
}

// Service creates, lists and changes merchants and assigns devices to them.
type Service struct {
	S   *store.Store
	Now func() time.Time
}

// Create adds a merchant to the caller's school with its audit record. The same id with the same
// details again answers the merchant (created false); with other details, MERCHANT_EXISTS.
func (s *Service) Create(ctx context.Context, p auth.Principal, in Input) (*Merchant, bool, error) {
	if err := in.check(true); err != nil {
		return nil, false, err
	}
	now := s.Now().UTC()
	m := Merchant{Key: store.MerchantKey(p.School, in.MerchantID), MerchantID: in.MerchantID, SchoolID: p.School,
		Name: in.Name, Category: in.Category, Type: "merchant", CreatedAt: now, UpdatedAt: now}
	put, err := store.PutItem(m, store.IfAbsent, nil)
	if err != nil {
		return nil, false, err
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{put, staff.AuditItem(staff.Actor(p), "merchant.create", "merchant:"+in.MerchantID,
		map[string]any{"name": in.Name, "category": in.Category}, now)}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(0) {
		cur, gerr := s.Get(ctx, p.School, in.MerchantID)
		if gerr != nil {
			return nil, false, gerr
		}
		if cur.Name == in.Name && cur.Category == in.Category {
			return cur, false, nil
		}
		return nil, false, ErrExists
	}
	if err != nil {
		return nil, false, err
	}
	return &m, true, nil
}

// Update changes a merchant's name and category, audited with what it was. The same values again
// change nothing and record nothing.
func (s *Service) Update(ctx context.Context, p auth.Principal, id string, in Input) (*Merchant, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	if err := in.check(false); err != nil {
		return nil, err
	}
	cur, err := s.Get(ctx, p.School, id)
	if err != nil {
		return nil, err
	}
	if cur.Name == in.Name && cur.Category == in.Category {
		return cur, nil
	}
	now := s.Now().UTC()
	err = s.S.Transact(ctx, []types.TransactWriteItem{
		store.RenameMerchantItem(cur.Key, in.Name, in.Category, cur.Name, cur.Category, now),
		staff.AuditItem(staff.Actor(p), "merchant.update", "merchant:"+id, map[string]any{
			"before": map[string]any{"name": cur.Name, "category": cur.Category},
			"after":  map[string]any{"name": in.Name, "category": in.Category}}, now),
	}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return nil, ErrChanged
	}
	if err != nil {
		return nil, err
	}
	cur.Name, cur.Category, cur.UpdatedAt = in.Name, in.Category, now
	return cur, nil
}

// Get returns a merchant of school.
func (s *Service) Get(ctx context.Context, school, id string) (*Merchant, error) {
	if !ValidID(id) {
		return nil, ErrNotFound
	}
	var m Merchant
	ok, err := s.S.Get(ctx, store.MerchantKey(school, id), &m)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return &m, nil
}

// List returns every merchant of school, by id (a school has tens of them, one partition).
func (s *Service) List(ctx context.Context, school string) ([]Merchant, error) {
	return store.All[Merchant](ctx, s.S, store.Query{PK: store.MerchantsPK(school)})
}

// Assign makes merchant id the owner of a reader of the caller's school from day in.From on (China
// time); the days before stay with the earlier owner. Assigning the same device to the same merchant
// from the same day again answers the assignment (created false); to another merchant from the same
// day, DEVICE_ASSIGNED.
func (s *Service) Assign(ctx context.Context, p auth.Principal, id string, in AssignInput) (*Assignment, bool, error) {
	if !ValidDay(in.From) {
		return nil, false, ErrBadDay
	}
	if !devices.ValidID(in.DeviceID) {
		return nil, false, devices.ErrNotFound
	}
	if _, err := s.Get(ctx, p.School, id); err != nil {
		return nil, false, err
	}
	dev, ok, err := devices.Repo{S: s.S}.Get(ctx, in.DeviceID)
	if err != nil {
		return nil, false, err
	}
	if !ok || dev.SchoolID != p.School {
		return nil, false, devices.ErrNotFound
	}
	if dev.Kind != devices.KindReader {
		return nil, false, ErrNotReader
	}
	now := s.Now().UTC()
	gsi := store.InGSI1{GSI1PK: store.MerchantDevicesPK(p.School, id), GSI1SK: store.MerchantDeviceSK(in.From, in.DeviceID)}
	a := Assignment{Key: store.DeviceOwnerKey(in.DeviceID, in.From), InGSI1: gsi, DeviceID: in.DeviceID,
		MerchantID: id, SchoolID: p.School, From: in.From, By: staff.Actor(p).ID, At: now, Type: "device_owner"}
	put, err := store.PutItem(a, store.IfAbsent, nil)
	if err != nil {
		return nil, false, err
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{put, staff.AuditItem(staff.Actor(p), "merchant.assign_device",
		"merchant:"+id, map[string]any{"deviceId": in.DeviceID, "from": in.From}, now)}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(0) {
		var cur Assignment
		if ok, gerr := s.S.Get(ctx, a.Key, &cur); gerr != nil || !ok {
			return nil, false, errors.Join(gerr, ErrAssigned)
		}
		if cur.MerchantID == id {
			return &cur, false, nil
		}
		return nil, false, ErrAssigned
	}
	if err != nil {
		return nil, false, err
	}
	return &a, true, nil
}

// History is a device's owners, oldest first.
func (s *Service) History(ctx context.Context, deviceID string) ([]Assignment, error) {
	return store.All[Assignment](ctx, s.S, store.Query{PK: store.DeviceOwnerPK(deviceID)})
}

// OwnerOn is the merchant that owns deviceID on day ("" when none yet).
func (s *Service) OwnerOn(ctx context.Context, deviceID, day string) (string, error) {
	q := store.Query{PK: store.DeviceOwnerPK(deviceID), To: store.DeviceOwnerKey(deviceID, day).SK,
		Newest: true, Limit: 1, Consistent: true}
	var page []Assignment
	if _, err := s.S.Page(ctx, q, &page); err != nil {
		return "", err
	}
	if len(page) == 0 {
		return "", nil
	}
	return page[0].MerchantID, nil
}

// DevicesOn is the devices merchant id of school owned on day, sorted: every device ever assigned to
// it on or before day, less those another merchant took over by then.
func (s *Service) DevicesOn(ctx context.Context, school, id, day string) ([]string, error) {
	seen := map[string]bool{}
	q := store.Query{Index: store.GSI1, PK: store.MerchantDevicesPK(school, id), To: store.MerchantDevicesUpTo(day)}
	err := store.Each(ctx, s.S, q, func(page []Assignment) error {
		for _, a := range page {
			seen[a.DeviceID] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := []string{}
	for d := range seen {
		owner, err := s.OwnerOn(ctx, d, day)
		if err != nil {
			return nil, err
		}
		if owner == id {
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out, nil
}
