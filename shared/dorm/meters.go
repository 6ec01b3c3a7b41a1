package dorm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/accounts"
	"onecard/shared/httpapi"
	"onecard/shared/ledger"
	"onecard/shared/school"
	"onecard/shared/store"
)

// Meter is a room's electricity or water meter and where its counting stands.
type Meter struct {
	store.Key
	Type        string    `dynamodbav:"type"`
	MeterID     string    `dynamodbav:"meterId"`
	SchoolID    string    `dynamodbav:"schoolId"`
	RoomID      string    `dynamodbav:"roomId"`
	Kind        string    `dynamodbav:"kind"`        // elec or water: what it measures
	AccountKind string    `dynamodbav:"accountKind"` // the account it charges
	LastReading int64     `dynamodbav:"lastReading"` // cumulative, hundredths of a unit
	LastReadAt  time.Time `dynamodbav:"lastReadAt"`
	Carry       int64     `dynamodbav:"carry"` // hundredths of a fen not yet charged
	// Uncharged is the consumption (hundredths of a unit) since the meter's last ledger entry: readings
	// that cost less than a fen add to it, and the next charge shows it in its quantity.
	Uncharged int64 `dynamodbav:"uncharged"`
	Started   bool  `dynamodbav:"started"`
	Resets    int64 `dynamodbav:"resets"`
}

// Reading is one cumulative meter reading (the queue message of a meter gateway).
type Reading struct {
	MeterID string    `json:"meterId"`
	Kind    string    `json:"kind"`
	Reading int64     `json:"reading"`
	ReadAt  time.Time `json:"readAt"`
}

// Outcome of applying a reading.
const (
	Charged   = "charged"   // consumption charged (possibly 0 fen, carried)
	Duplicate = "duplicate" // not newer than what the meter already reported
	Baseline  = "baseline"  // the first reading, or one after a reset or rollover: counting restarts
)

// Meters charges readings to rooms' accounts.
type Meters struct {
	S       *store.Store
	Ledger  *ledger.Ledger
	Schools school.Repo
	Mail    accounts.Mailer
	Users   accounts.Users // opens the rechargers' email addresses (the PII key)
	Now     func() time.Time
	Power   *Power // when set, ApplyMessages queues power commands right after charging
}

// ErrUnknownMeter is a reading for a meter that was never imported.
var ErrUnknownMeter = errors.New("dorm: unknown meter")

// Apply charges readings in order of meter and time. Each reading is idempotent: the ledger key is the
// meter and its cumulative reading, and the meter's position moves in the same transaction as the charge.
func (m Meters) Apply(ctx context.Context, rs []Reading) ([]string, []error) {
	idx := make([]int, len(rs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		ra, rb := rs[idx[a]], rs[idx[b]]
		if ra.MeterID != rb.MeterID {
			return ra.MeterID < rb.MeterID
		}
		return ra.ReadAt.Before(rb.ReadAt)
	})
	out, errs := make([]string, len(rs)), make([]error, len(rs))
	schools := map[string]*school.School{}
	for _, i := range idx {
		out[i], errs[i] = m.apply(ctx, rs[i], schools)
	}
	return out, errs
}

func (m Meters) apply(ctx context.Context, r Reading, schools map[string]*school.School) (string, error) {
	var mt Meter
	ok, err := m.S.Get(ctx, store.MeterKey(r.MeterID), &mt)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", ErrUnknownMeter
	}
	move := func(uncharged, carry int64, outcome string) (types.TransactWriteItem, string) {
		return store.MeterReadItem(mt.Key, r.Reading, r.ReadAt.UTC(), carry, uncharged,
			mt.Resets+boolInt(outcome == Baseline && mt.Started), mt.LastReading, mt.LastReadAt, mt.Started), outcome
	}
	switch {
	case mt.Started && !r.ReadAt.After(mt.LastReadAt):
		return Duplicate, nil // late or repeated: cumulative readings make it redundant
	case mt.Started && r.Reading == mt.LastReading:
		it, o := move(mt.Uncharged, mt.Carry, Charged)
		return o, m.update(ctx, it)
	case !mt.Started || r.Reading < mt.LastReading:
		// A first reading sets the baseline. A smaller cumulative number means the meter was replaced,
		// reset or rolled over: charging the difference would be wrong, so counting restarts from here
		// and the carry is kept for the next charge.
		if mt.Started {
			httpapi.Log(ctx).Warn("meter went backwards: new baseline", "meter", mt.MeterID, "from", mt.LastReading, "to", r.Reading)
		}
		it, o := move(mt.Uncharged, mt.Carry, Baseline)
		return o, m.update(ctx, it)
	}
	sch := schools[mt.SchoolID]
	if sch == nil {
		if sch, err = m.Schools.Get(ctx, mt.SchoolID); err != nil {
			return "", err
		}
		schools[mt.SchoolID] = sch
	}
	tariff := sch.ElecFenPerKWh
	if mt.Kind == Water {
		tariff = sch.WaterFenPerM3
	}
	delta := r.Reading - mt.LastReading
	fen, carry := Charge(delta, tariff, mt.Carry)
	if fen == 0 {
		it, _ := move(mt.Uncharged+delta, carry, Charged)
		return Charged, m.update(ctx, it)
	}
	it, _ := move(0, carry, Charged)
	unit := "kWh"
	if mt.Kind == Water {
		unit = "m³"
	}
	usage := &ledger.Usage{Quantity: mt.Uncharged + delta, Unit: unit, TariffFen: tariff}
	acct := store.AccountKey(mt.SchoolID, mt.RoomID, mt.AccountKind)
	merchant := "电费"
	if mt.Kind == Water {
		merchant = "冷水费"
	}
	res, err := m.Ledger.Post(ctx, ledger.Movement{Scope: "meter:" + mt.MeterID, Key: fmt.Sprint(r.Reading),
		Input: []any{mt.MeterID, r.Reading, fen},
		Postings: ledger.External(ledger.Posting{Account: AccountID(mt.SchoolID, mt.RoomID, mt.AccountKind), Item: acct, AmountFen: -fen,
			Kind: ledger.KindMeterCharge, Counterparty: "ext:utility:" + mt.Kind, Merchant: merchant, OccurredAt: r.ReadAt,
			AllowNegative: true, Usage: usage}),
		Extra: []types.TransactWriteItem{it}})
	if err != nil {
		return "", err
	}
	if !res.Replayed && len(res.Entries) == 1 {
		e := res.Entries[0]
		if e.BalanceBefore >= sch.LowBalanceFen && e.BalanceAfterFen < sch.LowBalanceFen {
			m.warnLow(ctx, mt, sch, e.BalanceAfterFen)
		}
	}
	return Charged, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (m Meters) update(ctx context.Context, it types.TransactWriteItem) error {
	err := m.S.Transact(ctx, []types.TransactWriteItem{it}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return errors.New("dorm: meter moved concurrently; the reading will be retried")
	}
	return err
}

// Recharger remembers who recharged a room, for the low-balance mail (kept 180 days).
type Recharger struct {
	store.Key
	UserID string    `dynamodbav:"userId"`
	LastAt time.Time `dynamodbav:"lastAt"`
	TTL    int64     `dynamodbav:"ttl"`
}

// RechargerWindow is how long a recharger keeps receiving a room's low-balance mail.
const RechargerWindow = 180 * 24 * time.Hour

// RechargerItem records userID as a recharger of the room.
func RechargerItem(school, roomID, userID string, now time.Time) types.TransactWriteItem {
	it, _ := store.PutItem(Recharger{Key: store.RechargerKey(school, roomID, userID),
		UserID: userID, LastAt: now.UTC(), TTL: store.TTL(now.Add(RechargerWindow))}, "", nil)
	return it
}

// warnLow mails everyone who recharged the room in the last 180 days (and has a bound email). It runs
// once per crossing: a replayed posting does not cross again. A failed mail is logged, not retried.
func (m Meters) warnLow(ctx context.Context, mt Meter, sch *school.School, balance int64) {
	if m.Mail == nil {
		return
	}
	now := m.Now()
	first := store.RechargerKey(mt.SchoolID, mt.RoomID, "") // the room's partition, and the rechargers' sort-key prefix
	rs, err := store.All[Recharger](ctx, m.S, store.Query{PK: first.PK, Prefix: first.SK})
	if err != nil {
		httpapi.Log(ctx).Error("low balance: rechargers", "err", err.Error())
		return
	}
	b, r, _ := ParseRoomID(mt.RoomID)
	label := Label(b, r)
	sent := 0
	for _, rc := range rs {
		if now.Sub(rc.LastAt) > RechargerWindow {
			continue
		}
		u, ok, err := m.Users.Get(ctx, rc.UserID)
		if err != nil || !ok || u.Email == "" {
			continue
		}
		body := fmt.Sprintf("您好！%s的%s余额为 %s 元，已低于 %s 元。余额不足时宿舍将会停电（夜间 %s–%s 不停电），请及时在\"校园一信通\"小程序充值。",
			label, accountName(mt.AccountKind), yuan(balance), yuan(sch.LowBalanceFen), sch.NightStart, sch.NightEnd)
		if err := m.Mail.Send(ctx, u.Email, "【校园一信通】"+label+"电费余额不足提醒", body); err != nil {
			httpapi.Log(ctx).Error("low balance mail", "err", err.Error())
			continue
		}
		sent++
	}
	httpapi.Log(ctx).Info("low balance warning", "room", mt.RoomID, "mails", sent)
}

func accountName(kind string) string {
	switch kind {
	case Elec:
		return "电费账户"
	case Water:
		return "冷水费账户"
	}
	return "电费冷水费账户"
}

// yuan formats fen as yuan with two decimals, in integer arithmetic.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}
