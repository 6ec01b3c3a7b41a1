package dorm

import (
	"context"
	"errors"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/accounts"
	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/csvin"
	"onecard/shared/fault"
	"onecard/shared/jobs"
	"onecard/shared/ledger"
	"onecard/shared/recharge"
	"onecard/shared/secret"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// Service implements the dorm routes.
type Service struct {
	S        *store.Store
	Repo     Repo
	Ledger   *ledger.Ledger
	Cards    *cards.Service
	Recharge *recharge.Service
	Power    Power
	Now      func() time.Time
}

var (
	ErrBadKind       = fault.Field("BAD_KIND", "账户类型与该宿舍不符：6、7、8 栋为 elec_water（一号两用），9 栋为 elec 或 water")
	ErrBadPayWith    = fault.Field("BAD_PAY_WITH", "payWith 须为 wechat 或 card")
	ErrBadAmount     = fault.Field("BAD_AMOUNT", "充值金额须为大于 0 的整数（单位：分），且不超过单笔上限")
	ErrCardNotUsable = fault.E(fault.Rule, "CARD_NOT_ACTIVE", "一卡通当前不可用于支付（已挂失、锁定或注销）")
)

// RoomView is GET /v1/dorms/rooms/{roomId}.
type RoomView struct {
	RoomID   string        `json:"roomId"`
	Label    string        `json:"label"`
	Building string        `json:"building"`
	Mode     string        `json:"accountMode"`
	Accounts []AccountView `json:"accounts"`
}

// AccountView is one account of a room.
type AccountView struct {
	Kind       string `json:"kind"`
	BalanceFen int64  `json:"balanceFen"`
	PowerOn    bool   `json:"powerOn"`
}

// View returns a room with its accounts.
func (s *Service) View(ctx context.Context, school, roomID string) (*RoomView, error) {
	rm, accts, err := s.Repo.RoomAccounts(ctx, school, roomID)
	if err != nil {
		return nil, err
	}
	v := &RoomView{RoomID: rm.RoomID, Label: rm.Label, Building: rm.Building, Mode: rm.AccountMode, Accounts: []AccountView{}}
	for _, a := range accts {
		on := a.PowerOn
		if !a.PaysElec {
			on = true // a water account has no power switch
		}
		v.Accounts = append(v.Accounts, AccountView{Kind: a.Kind, BalanceFen: a.Balance, PowerOn: on})
	}
	return v, nil
}

func (s *Service) account(ctx context.Context, school, roomID, kind string) (*Room, *Account, error) {
	rm, err := s.Repo.Room(ctx, school, roomID)
	if err != nil {
		return nil, nil, err
	}
	var a Account
	ok, err := s.S.Get(ctx, store.AccountKey(school, rm.RoomID, kind), &a)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, ErrBadKind
	}
	return rm, &a, nil
}

// RechargeAnswer is what a dorm recharge returns; Label names the room in words so a wrong room is noticed.
type RechargeAnswer struct {
	OrderNo        string `json:"orderNo,omitempty"`
	PayParams      any    `json:"payParams,omitempty"`
	TxnID          string `json:"txnId,omitempty"`
	BalanceFen     *int64 `json:"balanceFen,omitempty"` // the room account's balance after a card payment
	CardBalanceFen *int64 `json:"cardBalanceFen,omitempty"`
	RoomID         string `json:"roomId"`
	Label          string `json:"label"`
	Kind           string `json:"kind"`
	AmountFen      int64  `json:"amountFen"`
}

// RechargeRoom tops up a room's account, by WeChat Pay (an order, credited on payment: the bool is true)
// or from the caller's card (one ledger transaction moving the money: false). Anyone may
// recharge any room.
func (s *Service) RechargeRoom(ctx context.Context, p auth.Principal, roomID, kind string, amountFen int64, payWith, idemKey string) (*RechargeAnswer, bool, error) {
	if payWith != "wechat" && payWith != "card" {
		return nil, false, ErrBadPayWith
	}
	if err := recharge.CheckIdemKey(idemKey); err != nil {
		return nil, false, err
	}
	u, ok, err := s.Cards.Users.Get(ctx, p.Subject)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, accounts.ErrUserGone
	}
	sch, err := s.Cards.Schools.Get(ctx, u.SchoolID)
	if err != nil {
		return nil, false, err
	}
	rm, a, err := s.account(ctx, u.SchoolID, roomID, kind)
	if err != nil {
		return nil, false, err
	}
	if amountFen <= 0 || amountFen > sch.MaxRechargeFen {
		return nil, false, ErrBadAmount
	}
	ans := &RechargeAnswer{RoomID: rm.RoomID, Label: rm.Label, Kind: kind, AmountFen: amountFen}
	now := s.Now()
	if payWith == "wechat" {
		t := recharge.Target{Kind: "dorm", Account: a.Account, PK: a.PK, SK: a.SK, RoomID: rm.RoomID, AccountKind: kind, Label: rm.Label}
		o, err := s.Recharge.Create(ctx, u, t, amountFen, rm.Label+accountName(kind)+"充值", idemKey)
		if err != nil {
			return nil, false, err
		}
		if err := s.S.Transact(ctx, []types.TransactWriteItem{RechargerItem(u.SchoolID, rm.RoomID, u.UserID, now)}, ""); err != nil {
			return nil, false, err
		}
		ans.OrderNo, ans.PayParams = o.OrderNo, o.PayParams
		return ans, true, nil
	}
	_, c, err := s.Cards.Mine(ctx, p)
	if err != nil {
		return nil, false, err
	}
	if c.Status != cards.Active {
		return nil, false, ErrCardNotUsable
	}
	key := idemKey
	if key == "" {
		key = "auto-" + secret.Token(12) // no key given: this request is its own movement
	}
	res, err := s.Ledger.Post(ctx, ledger.Movement{Scope: "app:" + u.UserID, Key: key,
		Input: []any{"dorm", rm.RoomID, kind, amountFen, c.CardNo},
		Postings: []ledger.Posting{
			{Account: c.Account, Item: c.Key, AmountFen: -amountFen, Kind: ledger.KindDormTransfer, Counterparty: a.Account,
				Merchant: rm.Label + accountName(kind), OccurredAt: now},
			{Account: a.Account, Item: a.Key, AmountFen: amountFen, Kind: ledger.KindDormTransfer, Counterparty: c.Account,
				Merchant: "一卡通转入", OccurredAt: now},
		},
		Extra: []types.TransactWriteItem{RechargerItem(u.SchoolID, rm.RoomID, u.UserID, now)},
	})
	if err != nil {
		return nil, false, err
	}
	ans.TxnID = res.TxnID
	if e, ok := res.EntryFor(a.Account); ok {
		ans.BalanceFen = &e.BalanceAfterFen
	}
	if e, ok := res.EntryFor(c.Account); ok {
		ans.CardBalanceFen = &e.BalanceAfterFen
	}
	if _, err := s.Power.Settle(ctx, u.SchoolID); err != nil {
		// The flag is set in the ledger transaction; the scheduled settle will queue the command.
		_ = err
	}
	return ans, false, nil
}

// ImportRow is one row of the dorm CSV: roomId,building,room,elecMeterId,waterMeterId.
type ImportRow struct {
	Line                                          int
	RoomID, Building, Room, ElecMeter, WaterMeter string
}

// ImportReport counts what an import did.
type ImportReport struct {
	Created   int              `json:"created"`
	Unchanged int              `json:"unchanged"`
	Rejected  int              `json:"rejected"`
	Errors    []cards.RowError `json:"errors"`
}

var (
	meterRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// ParseCSV reads the dorm CSV (an optional header line is skipped).
func ParseCSV(body []byte) ([]ImportRow, error) {
	recs, err := csvin.Read(body, "roomId,building,room,elecMeterId,waterMeterId", 5000)
	if err != nil {
		return nil, err
	}
	rows := make([]ImportRow, len(recs))
	for i, r := range recs {
		rows[i].Line = r.Line
		if f := r.Fields; len(f) == 5 {
			rows[i].RoomID, rows[i].Building, rows[i].Room, rows[i].ElecMeter, rows[i].WaterMeter = f[0], f[1], f[2], f[3], f[4]
		}
	}
	return rows, nil
}

// Import creates rooms, their accounts (as the building's mode says) and their meters. Re-importing
// the same rows changes nothing; a contradicting row is reported. (The route runs it as a job:
// ImportJob; the seed calls it directly.)
func (s *Service) Import(ctx context.Context, p auth.Principal, rows []ImportRow) (*ImportReport, error) {
	rep, err := s.importRows(ctx, p, rows, nil, nil)
	if err != nil {
		return nil, err
	}
	out := &ImportReport{Created: rep.Created, Unchanged: rep.Unchanged, Rejected: rep.Rejected, Errors: rep.Errors}
	return out, staff.Audit(ctx, s.S, staff.Actor(p), "dorms.import", "school:"+p.School, ImportAudit(len(rows), rep), s.Now())
}

// ImportJob is Import run by an import job (each row's outcome recorded with its writes; the rows an
// earlier run did are counted, not done again). The caller audits (ImportAudit).
func (s *Service) ImportJob(ctx context.Context, p auth.Principal, rows []ImportRow, rec *jobs.Recorder) (*jobs.Report, error) {
	return s.importRows(ctx, p, rows, rec, nil)
}

// ImportAudit is the audit record's details of a rooms import.
func ImportAudit(rows int, rep *jobs.Report) map[string]any {
	return map[string]any{"rows": rows, "created": rep.Created, "unchanged": rep.Unchanged, "rejected": rep.Rejected}
}

// Preview is what an import of the rows would do now, written nowhere (POST
// /v1/admin/dorms/import?dryRun=true): the report's counts and refusals and the rooms it would create.
type Preview struct {
	jobs.Report
	Creates []PreviewRoom `json:"creates"`
}

// PreviewRoom is a room an import would create.
type PreviewRoom struct {
	Line       int    `json:"line"`
	RoomID     string `json:"roomId"`
	ElecMeter  string `json:"elecMeterId"`
	WaterMeter string `json:"waterMeterId"`
}

// PreviewImport answers what Import would do with rows, writing nothing.
func (s *Service) PreviewImport(ctx context.Context, p auth.Principal, rows []ImportRow) (*Preview, error) {
	pv := &Preview{Creates: []PreviewRoom{}}
	rep, err := s.importRows(ctx, p, rows, nil, pv)
	if err != nil {
		return nil, err
	}
	pv.Report = *rep
	return pv, nil
}

func (s *Service) importRows(ctx context.Context, p auth.Principal, rows []ImportRow, rec *jobs.Recorder, pv *Preview) (*jobs.Report, error) {
	buildings, err := s.Repo.Buildings(ctx, p.School)
	if err != nil {
		return nil, err
	}
	byNo := map[string]Building{}
	for _, b := range buildings {
		byNo[b.Building] = b
	}
	dry := map[string]Room{}       // preview: the rooms it would have created so far
	dryMeters := map[string]bool{} // and the meters they would have taken
	rep := &jobs.Report{Errors: []cards.RowError{}}
	for i, row := range rows {
		if o, ok := rec.Done(i); ok {
			rep.Add(o)
			continue
		}
		reject := func(e *fault.Error) error {
			o := jobs.Outcome{Line: row.Line, Result: jobs.Rejected, Code: e.Code, Message: e.Message}
			rep.Add(o)
			return rec.Record(ctx, i, o)
		}
		var rerr error
		if id, ok := CanonicalRoomID(row.RoomID); ok {
			row.RoomID = id // wh-8d-1006 is WH-8D-1006
		}
		b, r, ok := ParseRoomID(row.RoomID)
		bld, known := byNo[b]
		switch {
		case !ok || b != row.Building || r != row.Room:
			rerr = reject(fault.Field("BAD_ROOM", "宿舍编号须形如 WH-8D-1006，且与楼栋、房间号一致"))
		case !known:
			rerr = reject(fault.Field("UNKNOWN_BUILDING", "楼栋不存在，请先设置楼栋"))
		case !meterRE.MatchString(row.ElecMeter) || !meterRE.MatchString(row.WaterMeter) || row.ElecMeter == row.WaterMeter:
			rerr = reject(fault.Field("BAD_METER", "电表、水表编号须为 1–64 位字母数字，且互不相同"))
		case pv != nil:
			o, err := s.previewRoom(ctx, p.School, row, dry, dryMeters)
			if err != nil {
				return nil, err
			}
			if o.Result == jobs.Created {
				pv.Creates = append(pv.Creates, PreviewRoom{Line: row.Line, RoomID: row.RoomID, ElecMeter: row.ElecMeter, WaterMeter: row.WaterMeter})
			}
			o.Line = row.Line
			rep.Add(o)
		default:
			o := jobs.Outcome{Result: jobs.Created}
			mark, err := rec.Item(i, o)
			if err != nil {
				return nil, err
			}
			created, err := s.importRoom(ctx, p.School, bld, row, mark)
			if fe, isFault := fault.As(err); isFault {
				rerr = reject(fe)
				break
			}
			if err != nil {
				return nil, err
			}
			if !created {
				o.Result = jobs.Unchanged
				if rerr = rec.Record(ctx, i, o); rerr != nil {
					break
				}
			}
			rep.Add(o)
			rerr = rec.Progress(ctx, i+1)
		}
		if rerr != nil {
			return nil, rerr
		}
	}
	return rep, nil
}

// previewRoom weighs one valid row as importRoom would do it, writing nothing.
func (s *Service) previewRoom(ctx context.Context, school string, row ImportRow, dry map[string]Room, dryMeters map[string]bool) (jobs.Outcome, error) {
	existing, ok := dry[row.RoomID]
	if !ok {
		var err error
		if ok, err = s.S.Get(ctx, store.RoomKey(school, row.RoomID), &existing); err != nil {
			return jobs.Outcome{}, err
		}
	}
	if ok {
		if existing.ElecMeterID == row.ElecMeter && existing.WaterMeter == row.WaterMeter {
			return jobs.Outcome{Result: jobs.Unchanged}, nil
		}
		e := fault.E(fault.Conflict, "ROOM_EXISTS", "该宿舍已存在且电表、水表不同")
		return jobs.Outcome{Result: jobs.Rejected, Code: e.Code, Message: e.Message}, nil
	}
	for _, m := range []string{row.ElecMeter, row.WaterMeter} {
		taken := dryMeters[m]
		if !taken {
			var mt Meter
			var err error
			if taken, err = s.S.Get(ctx, store.MeterKey(m), &mt); err != nil {
				return jobs.Outcome{}, err
			}
		}
		if taken {
			e := fault.E(fault.Conflict, "METER_TAKEN", "电表或水表编号已被其他宿舍使用")
			return jobs.Outcome{Result: jobs.Rejected, Code: e.Code, Message: e.Message}, nil
		}
	}
	dry[row.RoomID] = Room{ElecMeterID: row.ElecMeter, WaterMeter: row.WaterMeter}
	dryMeters[row.ElecMeter], dryMeters[row.WaterMeter] = true, true
	return jobs.Outcome{Result: jobs.Created}, nil
}

func (s *Service) importRoom(ctx context.Context, school string, bld Building, row ImportRow, with []types.TransactWriteItem) (bool, error) {
	var existing Room
	ok, err := s.S.Get(ctx, store.RoomKey(school, row.RoomID), &existing)
	if err != nil {
		return false, err
	}
	if ok {
		if existing.ElecMeterID == row.ElecMeter && existing.WaterMeter == row.WaterMeter {
			return false, nil
		}
		return false, fault.E(fault.Conflict, "ROOM_EXISTS", "该宿舍已存在且电表、水表不同")
	}
	rm := Room{Key: store.RoomKey(school, row.RoomID), InGSI1: store.InGSI1{GSI1PK: store.RoomsPK(school), GSI1SK: sortKey(row.Building, row.Room)},
		Type: "room", SchoolID: school, RoomID: row.RoomID, Building: row.Building, Room: row.Room,
		Label: Label(row.Building, row.Room), AccountMode: bld.AccountMode, ElecMeterID: row.ElecMeter, WaterMeter: row.WaterMeter}
	var items []types.TransactWriteItem
	add := func(v any) error {
		it, err := store.PutItem(v, store.IfAbsent, nil)
		items = append(items, it)
		return err
	}
	if err := add(rm); err != nil {
		return false, err
	}
	for _, k := range bld.Kinds() {
		if err := add(Account{Key: store.AccountKey(school, row.RoomID, k), Type: "dorm_account", Account: AccountID(school, row.RoomID, k),
			SchoolID: school, RoomID: row.RoomID, Kind: k, PaysElec: k != Water, PowerOn: true}); err != nil {
			return false, err
		}
	}
	elecAcct, waterAcct := ElecWater, ElecWater
	if bld.AccountMode == Separate {
		elecAcct, waterAcct = Elec, Water
	}
	for _, m := range []Meter{
		{Key: store.MeterKey(row.ElecMeter), Type: "meter", MeterID: row.ElecMeter, SchoolID: school, RoomID: row.RoomID, Kind: Elec, AccountKind: elecAcct},
		{Key: store.MeterKey(row.WaterMeter), Type: "meter", MeterID: row.WaterMeter, SchoolID: school, RoomID: row.RoomID, Kind: Water, AccountKind: waterAcct},
	} {
		if err := add(m); err != nil {
			return false, err
		}
	}
	err = s.S.Transact(ctx, append(items, with...), "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return false, fault.E(fault.Conflict, "METER_TAKEN", "电表或水表编号已被其他宿舍使用")
	}
	return err == nil, err
}

// PutBuilding creates or changes a building's label and account mode (a mode change applies to rooms
// imported afterwards; existing rooms keep their accounts).
func (s *Service) PutBuilding(ctx context.Context, p auth.Principal, building, label, mode string) (*Building, error) {
	if !regexp.MustCompile(`^\d{1,3}$`).MatchString(building) {
		return nil, fault.Field("BAD_BUILDING", "楼栋须为 1–3 位数字")
	}
	if mode != Combined && mode != Separate {
		return nil, fault.Field("BAD_ACCOUNT_MODE", "accountMode 须为 combined 或 separate")
	}
	if label == "" {
		label = building + "栋"
	}
	if utf8.RuneCountInString(label) > 20 {
		return nil, fault.Field("BAD_LABEL", "楼栋名称不超过 20 个字符")
	}
	b := Building{Key: store.BuildingKey(p.School, building), SchoolID: p.School, Building: building, Label: label, AccountMode: mode}
	if err := s.S.Put(ctx, b, "", nil); err != nil {
		return nil, err
	}
	return &b, staff.Audit(ctx, s.S, staff.Actor(p), "dorms.building", "building:"+building, map[string]any{"label": label, "accountMode": mode}, s.Now())
}

var (
	ErrBadBuilding = fault.Field("BAD_BUILDING", "楼栋须为 1–3 位数字")
	ErrBadQuery    = fault.Field("BAD_QUERY", "搜索内容过长")
)
