// Package settlement is a merchant's daily settlement (日结算): per Asia/Shanghai day, what the readers
// the merchant owned that day took, by device. The figures are the ledger's clearing entries of each
// device's clearing account (ext:merchant:<deviceId>, docs/decisions/0010), never recomputed from reader
// records: the net is exactly Ledger.ClearingDay of those accounts.
//
// The clearing entries date by the day the ledger posted them, not by the sale: an offline reader's
// record posted late lands in the day it was posted, which is still open (a day can be closed only once
// it is over). The settlement says so: Late counts the entries whose sale happened on an earlier day.
// Closing a day writes its figures once; a closed day answers them as closed, whatever happens later.
package settlement

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/merchants"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// Statuses of a day.
const (
	Open   = "open"
	Closed = "closed"
)

// Errors.
var (
	ErrBadPeriod = fault.Field("BAD_PERIOD", "结算期须为某一天（YYYY-MM-DD）或某个月（YYYY-MM）")
	ErrNotOver   = fault.E(fault.Rule, "DAY_NOT_OVER", "只能结算已经结束的日期（北京时间）")
)

// Late is what a day holds of sales made on earlier days (records posted late).
type Late struct {
	Count int   `json:"count" dynamodbav:"count"`
	Fen   int64 `json:"fen" dynamodbav:"fen"`
}

// Figures are the totals of a device, a day or a month: Count sales for GrossFen, Refunds reversals
// for RefundsFen (money given back, positive), NetFen = GrossFen - RefundsFen.
type Figures struct {
	Count      int   `json:"count" dynamodbav:"count"`
	GrossFen   int64 `json:"grossFen" dynamodbav:"grossFen"`
	Refunds    int   `json:"refunds" dynamodbav:"refunds"`
	RefundsFen int64 `json:"refundsFen" dynamodbav:"refundsFen"`
	NetFen     int64 `json:"netFen" dynamodbav:"netFen"`
	Late       Late  `json:"late" dynamodbav:"late"`
}

func (f *Figures) add(g Figures) {
	f.Count += g.Count
	f.GrossFen += g.GrossFen
	f.Refunds += g.Refunds
	f.RefundsFen += g.RefundsFen
	f.NetFen += g.NetFen
	f.Late.Count += g.Late.Count
	f.Late.Fen += g.Late.Fen
}

// DeviceDay is one device's part of a merchant's day.
type DeviceDay struct {
	DeviceID string `json:"deviceId" dynamodbav:"deviceId"`
	Account  string `json:"account" dynamodbav:"account"`
	Figures
}

// Day is a merchant's day, as stored once closed and as answered.
type Day struct {
	store.Key  `json:"-"`
	MerchantID string      `json:"merchantId" dynamodbav:"merchantId"`
	Name       string      `json:"name" dynamodbav:"name"`
	Day        string      `json:"day" dynamodbav:"day"`
	Status     string      `json:"status" dynamodbav:"status"`
	ClosedAt   *time.Time  `json:"closedAt,omitempty" dynamodbav:"closedAt,omitempty"`
	ClosedBy   string      `json:"closedBy,omitempty" dynamodbav:"closedBy,omitempty"`
	Devices    []DeviceDay `json:"devices" dynamodbav:"devices"`
	Note       string      `json:"note,omitempty" dynamodbav:"note,omitempty"`
	Type       string      `json:"-" dynamodbav:"type"` // "settlement"
	Figures
}

// Month is the days of a month up to today, each as Get answers it, and their sum.
type Month struct {
	MerchantID string `json:"merchantId"`
	Name       string `json:"name"`
	Month      string `json:"month"`
	Days       []Day  `json:"days"`
	Figures
}

// Service settles merchants' days.
type Service struct {
	S         *store.Store
	Now       func() time.Time
	Merchants *merchants.Service
}

// New builds the service on s.
func New(s *store.Store, now func() time.Time) *Service {
	return &Service{S: s, Now: now, Merchants: &merchants.Service{S: s, Now: now}}
}

// Account is the clearing account of a reader.
func Account(deviceID string) string { return "ext:merchant:" + deviceID }

// DeviceFigures sums one clearing day of a device's clearing account: a positive entry is a sale, a
// negative one money given back.
func (s *Service) DeviceFigures(ctx context.Context, deviceID, day string) (DeviceDay, error) {
	acct := Account(deviceID)
	dd := DeviceDay{DeviceID: deviceID, Account: acct}
	err := (&ledger.Ledger{S: s.S}).EachClearing(ctx, acct, day, func(c *ledger.ClearingEntry) {
		if c.AmountFen >= 0 {
			dd.Count++
			dd.GrossFen += c.AmountFen
		} else {
			dd.Refunds++
			dd.RefundsFen -= c.AmountFen
		}
		dd.NetFen += c.AmountFen
		if chinatime.Day(c.OccurredAt) < day {
			dd.Late.Count++
			dd.Late.Fen += c.AmountFen
		}
	})
	return dd, err
}

// compute is merchant m's day from the clearing entries of the devices it owned that day.
func (s *Service) compute(ctx context.Context, school string, m *merchants.Merchant, day string) (*Day, error) {
	devs, err := s.Merchants.DevicesOn(ctx, school, m.MerchantID, day)
	if err != nil {
		return nil, err
	}
	d := &Day{MerchantID: m.MerchantID, Name: m.Name, Day: day, Status: Open, Devices: []DeviceDay{}, Type: "settlement"}
	for _, id := range devs {
		dd, err := s.DeviceFigures(ctx, id, day)
		if err != nil {
			return nil, err
		}
		d.Devices = append(d.Devices, dd)
		d.add(dd.Figures)
	}
	if d.Late.Count > 0 {
		d.Note = fmt.Sprintf("含 %d 笔补传记录（共 %d 分）：交易发生在此前日期，按入账日计入本日", d.Late.Count, d.Late.Fen)
	}
	return d, nil
}

// Get is merchant id's day: as closed if it was, else as the ledger holds it now (open).
func (s *Service) Get(ctx context.Context, school, id, day string) (*Day, error) {
	if !merchants.ValidDay(day) {
		return nil, ErrBadPeriod
	}
	m, err := s.Merchants.Get(ctx, school, id)
	if err != nil {
		return nil, err
	}
	var closed Day
	ok, err := s.S.Get(ctx, store.SettlementKey(school, id, day), &closed)
	if err != nil {
		return nil, err
	}
	if ok {
		return &closed, nil
	}
	return s.compute(ctx, school, m, day)
}

// Close settles merchant id's day: its figures are written once, with the audit record, and answered
// from then on. Closing a closed day answers it as it was closed (created false). Only a day that is
// over in China time can close (DAY_NOT_OVER): the ledger posts nothing more to it.
func (s *Service) Close(ctx context.Context, p auth.Principal, id, day string) (*Day, bool, error) {
	if !merchants.ValidDay(day) {
		return nil, false, ErrBadPeriod
	}
	m, err := s.Merchants.Get(ctx, p.School, id)
	if err != nil {
		return nil, false, err
	}
	now := s.Now().UTC()
	if day >= chinatime.Day(now) {
		return nil, false, ErrNotOver
	}
	k := store.SettlementKey(p.School, id, day)
	var closed Day
	if ok, err := s.S.Get(ctx, k, &closed); err != nil || ok {
		return &closed, false, err
	}
	d, err := s.compute(ctx, p.School, m, day)
	if err != nil {
		return nil, false, err
	}
	d.Key, d.Status, d.ClosedAt, d.ClosedBy = k, Closed, &now, staff.Actor(p).ID
	put, err := store.PutItem(d, store.IfAbsent, nil)
	if err != nil {
		return nil, false, err
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{put, staff.AuditItem(staff.Actor(p), "settlement.close", "merchant:"+id,
		map[string]any{"day": day, "count": d.Count, "grossFen": d.GrossFen, "refundsFen": d.RefundsFen, "netFen": d.NetFen}, now)}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(0) {
		// Closed by someone else in between: theirs is the day's figures.
		if ok, err := s.S.Get(ctx, k, &closed); err != nil || !ok {
			return nil, false, errors.Join(err, ErrNotOver)
		}
		return &closed, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return d, true, nil
}

// GetMonth is merchant id's month (YYYY-MM): each day up to today as Get answers it, and their sum.
func (s *Service) GetMonth(ctx context.Context, school, id, month string) (*Month, error) {
	start, err := time.ParseInLocation("2006-01", month, chinatime.Zone)
	if err != nil || start.Format("2006-01") != month {
		return nil, ErrBadPeriod
	}
	m, err := s.Merchants.Get(ctx, school, id)
	if err != nil {
		return nil, err
	}
	out := &Month{MerchantID: id, Name: m.Name, Month: month, Days: []Day{}}
	today := chinatime.Day(s.Now())
	for t := start; t.Month() == start.Month(); t = t.AddDate(0, 0, 1) {
		day := t.Format(time.DateOnly)
		if day > today {
			break
		}
		d, err := s.Get(ctx, school, id, day)
		if err != nil {
			return nil, err
		}
		out.Days = append(out.Days, *d)
		out.add(d.Figures)
	}
	return out, nil
}
