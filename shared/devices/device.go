// Package devices is the registry of card readers and meter gateways, and the one step every device
// route runs before anything else: the Ed25519 request signature (shared/devicesig), the device's
// registration and the single use of the request's nonce.
//
// A device is registered by IT staff (POST /v1/admin/devices) with its public key, its school (the
// staff member's), and for a reader its merchant and category. Device ids are global: the signature
// headers name no school, so X-Device-Id alone finds the key.
package devices

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"time"
	"unicode/utf8"

	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/store"
)

// Kinds of device.
const (
	KindReader       = "reader"        // card reader: POS terminal, hot-water controller
	KindMeterGateway = "meter_gateway" // posts meter readings, fetches power commands
)

// Reader categories (docs/reader-protocol.md). The category decides the kind of record a reader may post.
const (
	CategoryCanteen  = "canteen"
	CategoryShop     = "shop"
	CategoryHotWater = "hot_water"
)

// Statuses.
const (
	Active   = "active"
	Disabled = "disabled"
)

// Device is a device item.
type Device struct {
	store.Key
	// DeviceListPK(school) / deviceId: the school's devices.
	store.InGSI1
	Type      string    `dynamodbav:"type"` // "device"
	DeviceID  string    `dynamodbav:"deviceId"`
	SchoolID  string    `dynamodbav:"schoolId"`
	Kind      string    `dynamodbav:"kind"`
	PublicKey []byte    `dynamodbav:"publicKey"` // 32 bytes
	Merchant  string    `dynamodbav:"merchant,omitempty"`
	Category  string    `dynamodbav:"category,omitempty"`
	Status    string    `dynamodbav:"status"`
	CreatedAt time.Time `dynamodbav:"createdAt"`
	UpdatedAt time.Time `dynamodbav:"updatedAt"`
}

// View is a device as staff see it.
type View struct {
	DeviceID  string `json:"deviceId"`
	Kind      string `json:"kind"`
	PublicKey string `json:"publicKey"`
	Merchant  string `json:"merchant,omitempty"`
	Category  string `json:"category,omitempty"`
	Status    string `json:"status"`
	CreatedAt string `json:"createdAt"`
	UpdatedAt string `json:"updatedAt"`
}

// View returns the staff view of d.
func (d *Device) View() View {
	return View{DeviceID: d.DeviceID, Kind: d.Kind, PublicKey: base64.StdEncoding.EncodeToString(d.PublicKey),
		Merchant: d.Merchant, Category: d.Category, Status: d.Status,
		CreatedAt: d.CreatedAt.In(chinatime.Zone).Format(time.RFC3339), UpdatedAt: d.UpdatedAt.In(chinatime.Zone).Format(time.RFC3339)}
}

// Errors.
var (
	ErrNotFound    = fault.E(fault.NotFound, "DEVICE_NOT_FOUND", "设备不存在")
	ErrExists      = fault.E(fault.Conflict, "DEVICE_EXISTS", "该设备编号已登记（信息不同）")
	ErrBadID       = fault.Field("BAD_DEVICE_ID", "设备编号须为 1–64 位字母、数字、-、_")
	ErrBadKind     = fault.Field("BAD_DEVICE_KIND", "kind 须为 reader 或 meter_gateway")
	ErrBadKey      = fault.Field("BAD_PUBLIC_KEY", "publicKey 须为 32 字节 Ed25519 公钥的标准 Base64")
	ErrBadMerchant = fault.Field("BAD_MERCHANT", "刷卡机须填写商户名称（1–32 个字符）")
	ErrBadCategory = fault.Field("BAD_CATEGORY", "刷卡机的 category 须为 canteen、shop 或 hot_water；网关不填")
)

// Registration is the body of POST /v1/admin/devices.
type Registration struct {
	DeviceID  string `json:"deviceId"`
	Kind      string `json:"kind"`
	PublicKey string `json:"publicKey"`
	Merchant  string `json:"merchant"`
	Category  string `json:"category"`
}

// validate checks a registration and returns the decoded public key.
func (in Registration) validate() (ed25519.PublicKey, error) {
	if !ValidID(in.DeviceID) {
		return nil, ErrBadID
	}
	if in.Kind != KindReader && in.Kind != KindMeterGateway {
		return nil, ErrBadKind
	}
	pub, err := base64.StdEncoding.Strict().DecodeString(in.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, ErrBadKey
	}
	n := utf8.RuneCountInString(in.Merchant)
	switch in.Kind {
	case KindReader:
		if n < 1 || n > 32 || !utf8.ValidString(in.Merchant) {
			return nil, ErrBadMerchant
		}
		if in.Category != CategoryCanteen && in.Category != CategoryShop && in.Category != CategoryHotWater {
			return nil, ErrBadCategory
		}
	case KindMeterGateway:
		if n > 32 || !utf8.ValidString(in.Merchant) {
			return nil, ErrBadMerchant
		}
		if in.Category != "" {
			return nil, ErrBadCategory
		}
	}
	return pub, nil
}

// ValidID reports whether id is a well-formed device id: 1–64 of A–Z a–z 0–9 - _.
func ValidID(id string) bool {
	if len(id) < 1 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Repo reads and writes devices.
type Repo struct{ S *store.Store }

// Get returns a device; ok is false when none is registered under id.
func (r Repo) Get(ctx context.Context, id string) (*Device, bool, error) {
	var d Device
	ok, err := r.S.Get(ctx, store.DeviceKey(id), &d)
	if err != nil || !ok {
		return nil, false, err
	}
	return &d, true, nil
}

// New builds the item of a registration in school at now (no validation; see Register).
func newDevice(in Registration, pub ed25519.PublicKey, school string, now time.Time) Device {
	now = now.UTC()
	return Device{Key: store.DeviceKey(in.DeviceID), InGSI1: store.InGSI1{GSI1PK: store.DeviceListPK(school), GSI1SK: in.DeviceID},
		Type: "device", DeviceID: in.DeviceID, SchoolID: school, Kind: in.Kind, PublicKey: pub,
		Merchant: in.Merchant, Category: in.Category, Status: Active, CreatedAt: now, UpdatedAt: now}
}

// Put writes a device as it is (seeding).
func (r Repo) Put(ctx context.Context, in Registration, school string, now time.Time) (*Device, error) {
	pub, err := in.validate()
	if err != nil {
		return nil, err
	}
	d := newDevice(in, pub, school, now)
	return &d, r.S.Put(ctx, d, "", nil)
}
