package school

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/plaintext"
	"onecard/shared/platform"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// Limits of the settings a school admin may choose (all money in fen).
const (
	MaxTextChars     = 20000     // help and about
	MaxNameChars     = 64        // school name
	MaxAliases       = 5         // student-number prefix aliases
	MaxElecFen       = 1000      // 10.00 元 per kWh
	MaxWaterFen      = 5000      // 50.00 元 per m³
	MinRechargeMax   = 100       // a recharge maximum below 1 元 makes recharging impossible
	MaxRechargeMax   = 1_000_000 // 10,000.00 元 per operation
	MaxLowBalanceFen = 100_000   // 1,000.00 元
	MaxLimitFen      = 1_000_000 // card limits: the highest ceiling a school may set (10,000.00 元)
	// MaxCorrectionLeadFen is the highest correction amount a school may leave to finance alone (the
	// ledger's bound on one posting, 100,000.00 元).
	MaxCorrectionLeadFen = 10_000_000
)

// TextRule is the plain-text rule of help and about (they may be empty).
var TextRule = plaintext.Rule{Max: MaxTextChars, Multiline: true, AllowEmpty: true}

// Settings is what GET /v1/admin/school answers and PUT takes back. schoolId and timeZone are read-only
// (a PUT may repeat them unchanged); studentNoPrefix, the canonical prefix every stored student number
// starts with, cannot change once cards exist, so it is read-only too; version guards against two
// admins overwriting each other.
type Settings struct {
	SchoolID         string   `json:"schoolId"`
	TimeZone         string   `json:"timeZone"`
	Version          int64    `json:"version"`
	Name             string   `json:"name"`
	StudentNoPrefix  string   `json:"studentNoPrefix"`
	StudentNoAliases []string `json:"studentNoAliases"`
	ElecFenPerKWh    int64    `json:"elecFenPerKWh"`
	WaterFenPerM3    int64    `json:"waterFenPerM3"`
	NightStart       string   `json:"nightStart"`
	NightEnd         string   `json:"nightEnd"`
	MaxRechargeFen   int64    `json:"maxRechargeFen"`
	LowBalanceFen    int64    `json:"lowBalanceFen"`
	DefaultPerTxnFen int64    `json:"defaultPerTxnFen"`
	DefaultDailyFen  int64    `json:"defaultDailyFen"`
	MaxPerTxnFen     int64    `json:"maxPerTxnFen"`
	MaxDailyFen      int64    `json:"maxDailyFen"`
	// CorrectionLeadFen: corrections above it need a finance lead (optional in a PUT: left out, it stays).
	CorrectionLeadFen int64  `json:"correctionLeadFen"`
	ReplaceFeeFen     int64  `json:"replaceFeeFen"`
	Help              string `json:"help"`
	About             string `json:"about"`
}

// versioned is the school item with the settings revision (absent on items written by Repo.Put,
// which reads as 0).
type versioned struct {
	School
	Version int64 `dynamodbav:"version"`
}

func (v *versioned) settings() Settings {
	s := Settings{SchoolID: v.ID, TimeZone: v.TimeZone, Version: v.Version, Name: v.Name,
		StudentNoAliases: []string{}, ElecFenPerKWh: v.ElecFenPerKWh, WaterFenPerM3: v.WaterFenPerM3,
		NightStart: v.NightStart, NightEnd: v.NightEnd, MaxRechargeFen: v.MaxRechargeFen, LowBalanceFen: v.LowBalanceFen,
		DefaultPerTxnFen: v.DefaultPerTxnFen, DefaultDailyFen: v.DefaultDailyFen, MaxPerTxnFen: v.MaxPerTxnFen,
		MaxDailyFen: v.MaxDailyFen, CorrectionLeadFen: v.CorrectionLeadFen, ReplaceFeeFen: v.ReplaceFeeFen, Help: v.Help, About: v.About}
	if len(v.Prefixes) > 0 {
		s.StudentNoPrefix = v.Prefixes[0]
		s.StudentNoAliases = append(s.StudentNoAliases, v.Prefixes[1:]...)
	}
	return s
}

func (r Repo) getVersioned(ctx context.Context, id string) (*versioned, error) {
	if id == "" || len(id) > 32 {
		return nil, ErrUnknown
	}
	var v versioned
	ok, err := r.S.Get(ctx, store.SchoolKey(id), &v)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrUnknown
	}
	v.Defaults()
	if v.Help, v.About, err = r.Texts(ctx, id); err != nil {
		return nil, err
	}
	return &v, nil
}

// MaxReplaceFeeFen bounds the 补卡 fee (1,000.00 元).
const MaxReplaceFeeFen = 100_000

// SettingsInput is the body of PUT /v1/admin/school: every setting is required (a PUT replaces them
// all, so a field left out is an error rather than a silent zero).
type SettingsInput struct {
	SchoolID          *string  `json:"schoolId"`
	TimeZone          *string  `json:"timeZone"`
	Version           *int64   `json:"version"`
	Name              *string  `json:"name"`
	StudentNoPrefix   *string  `json:"studentNoPrefix"`
	StudentNoAliases  []string `json:"studentNoAliases"`
	ElecFenPerKWh     *int64   `json:"elecFenPerKWh"`
	WaterFenPerM3     *int64   `json:"waterFenPerM3"`
	NightStart        *string  `json:"nightStart"`
	NightEnd          *string  `json:"nightEnd"`
	MaxRechargeFen    *int64   `json:"maxRechargeFen"`
	LowBalanceFen     *int64   `json:"lowBalanceFen"`
	DefaultPerTxnFen  *int64   `json:"defaultPerTxnFen"`
	DefaultDailyFen   *int64   `json:"defaultDailyFen"`
	MaxPerTxnFen      *int64   `json:"maxPerTxnFen"`
	MaxDailyFen       *int64   `json:"maxDailyFen"`
	CorrectionLeadFen *int64   `json:"correctionLeadFen"`
	// ReplaceFeeFen is optional: left out, the fee stays as it is.
	ReplaceFeeFen *int64  `json:"replaceFeeFen"`
	Help          *string `json:"help"`
	About         *string `json:"about"`
}

var (
	ErrSettingsChanged   = fault.E(fault.Conflict, "SCHOOL_CHANGED", "学校设置刚被他人修改，请刷新后重试")
	ErrPrefixFixed       = fault.E(fault.Rule, "PREFIX_FIXED", "学号主前缀不能修改（已发卡的学号以它为准），可以增删别名")
	errReadOnly          = fault.Field("READ_ONLY_FIELD", "schoolId 与 timeZone 不能修改")
	errBadName           = fault.Field("BAD_SCHOOL_NAME", "学校名称须为 1–64 个字符，不能含控制字符")
	errBadPrefix         = fault.Field("BAD_PREFIX", "学号前缀须为 2–8 个英文字母，别名最多 5 个且不能重复")
	errBadTariff         = fault.Field("BAD_TARIFF", "电费须为 1–1000 分/度、水费须为 1–5000 分/吨的整数")
	errBadNight          = fault.Field("BAD_NIGHT_HOURS", "夜间时段须为 HH:MM 格式（00:00–23:59），起止不能相同")
	errBadRecharge       = fault.Field("BAD_RECHARGE_MAX", "单笔充值上限须为 100–1000000 分的整数")
	errBadLowBalance     = fault.Field("BAD_LOW_BALANCE", "低余额提醒阈值须为 1–100000 分的整数")
	errBadLimits         = fault.Field("BAD_LIMITS", "默认消费额度须为正整数（分），单笔不超过每日，且不超过学生可设的上限")
	errBadCeilings       = fault.Field("BAD_LIMIT_CEILINGS", "消费额度上限须为正整数（分），单笔上限不超过每日上限，每日上限不超过 1000000 分")
	errBadCorrectionLead = fault.Field("BAD_CORRECTION_LEAD", "调账需财务负责人审批的金额须为 1–10000000 分的整数")
	errBadReplaceFee     = fault.Field("BAD_REPLACE_FEE", "补卡费须为 0–100000 分的整数")
	errBadHelp           = fault.Field("BAD_HELP_TEXT", "使用帮助须为纯文本，最多 20000 个字符，不能含控制字符")
	errBadAbout          = fault.Field("BAD_ABOUT_TEXT", "关于须为纯文本，最多 20000 个字符，不能含控制字符")
)

func missing(field string) error {
	return fault.Field("MISSING_FIELD", "缺少字段 "+field)
}

// validHHMM accepts 00:00 to 23:59, two digits each.
func validHHMM(s string) bool {
	if len(s) != 5 || s[2] != ':' {
		return false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return (s[0] < '2' || s[0] == '2' && s[1] <= '3') && s[3] <= '5'
}

func validPrefix(p string) bool {
	if len(p) < 2 || len(p) > 8 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 'A' || p[i] > 'Z' {
			return false
		}
	}
	return true
}

// apply checks in against the current school and returns the school to store.
func (in *SettingsInput) apply(cur *versioned) (*School, error) {
	req := []struct {
		ok   bool
		name string
	}{{in.Version != nil, "version"}, {in.Name != nil, "name"}, {in.StudentNoPrefix != nil, "studentNoPrefix"},
		{in.StudentNoAliases != nil, "studentNoAliases"}, {in.ElecFenPerKWh != nil, "elecFenPerKWh"},
		{in.WaterFenPerM3 != nil, "waterFenPerM3"}, {in.NightStart != nil, "nightStart"}, {in.NightEnd != nil, "nightEnd"},
		{in.MaxRechargeFen != nil, "maxRechargeFen"}, {in.LowBalanceFen != nil, "lowBalanceFen"},
		{in.DefaultPerTxnFen != nil, "defaultPerTxnFen"}, {in.DefaultDailyFen != nil, "defaultDailyFen"},
		{in.MaxPerTxnFen != nil, "maxPerTxnFen"}, {in.MaxDailyFen != nil, "maxDailyFen"},
		{in.Help != nil, "help"}, {in.About != nil, "about"}}
	for _, f := range req {
		if !f.ok {
			return nil, missing(f.name)
		}
	}
	if in.SchoolID != nil && *in.SchoolID != cur.ID || in.TimeZone != nil && *in.TimeZone != cur.TimeZone {
		return nil, errReadOnly
	}
	next := cur.School
	name, p := plaintext.Rule{Max: MaxNameChars}.Check(*in.Name)
	if p != plaintext.OK {
		return nil, errBadName
	}
	next.Name = name
	prefix := strings.ToUpper(strings.TrimSpace(*in.StudentNoPrefix))
	if !validPrefix(prefix) {
		return nil, errBadPrefix
	}
	if len(cur.Prefixes) > 0 && prefix != strings.ToUpper(cur.Prefixes[0]) {
		return nil, ErrPrefixFixed
	}
	prefixes := []string{prefix}
	if len(in.StudentNoAliases) > MaxAliases {
		return nil, errBadPrefix
	}
	for _, a := range in.StudentNoAliases {
		a = strings.ToUpper(strings.TrimSpace(a))
		if !validPrefix(a) || slices.Contains(prefixes, a) {
			return nil, errBadPrefix
		}
		prefixes = append(prefixes, a)
	}
	next.Prefixes = prefixes
	if e, w := *in.ElecFenPerKWh, *in.WaterFenPerM3; e < 1 || e > MaxElecFen || w < 1 || w > MaxWaterFen {
		return nil, errBadTariff
	}
	next.ElecFenPerKWh, next.WaterFenPerM3 = *in.ElecFenPerKWh, *in.WaterFenPerM3
	if !validHHMM(*in.NightStart) || !validHHMM(*in.NightEnd) || *in.NightStart == *in.NightEnd {
		return nil, errBadNight
	}
	next.NightStart, next.NightEnd = *in.NightStart, *in.NightEnd
	if m := *in.MaxRechargeFen; m < MinRechargeMax || m > MaxRechargeMax {
		return nil, errBadRecharge
	}
	next.MaxRechargeFen = *in.MaxRechargeFen
	if l := *in.LowBalanceFen; l < 1 || l > MaxLowBalanceFen {
		return nil, errBadLowBalance
	}
	next.LowBalanceFen = *in.LowBalanceFen
	// 1 ≤ ceiling per payment ≤ daily ceiling ≤ 10,000 元, and new cards' limits within the ceilings.
	if mp, md := *in.MaxPerTxnFen, *in.MaxDailyFen; mp < 1 || md < 1 || mp > md || md > MaxLimitFen {
		return nil, errBadCeilings
	}
	next.MaxPerTxnFen, next.MaxDailyFen = *in.MaxPerTxnFen, *in.MaxDailyFen
	if pt, d := *in.DefaultPerTxnFen, *in.DefaultDailyFen; pt < 1 || d < 1 || pt > d || pt > next.MaxPerTxnFen || d > next.MaxDailyFen {
		return nil, errBadLimits
	}
	next.DefaultPerTxnFen, next.DefaultDailyFen = *in.DefaultPerTxnFen, *in.DefaultDailyFen
	if c := in.CorrectionLeadFen; c != nil {
		if *c < 1 || *c > MaxCorrectionLeadFen {
			return nil, errBadCorrectionLead
		}
		next.CorrectionLeadFen = *c
	}
	if f := in.ReplaceFeeFen; f != nil {
		if *f < 0 || *f > MaxReplaceFeeFen {
			return nil, errBadReplaceFee
		}
		next.ReplaceFeeFen = *f
	}
	var bad plaintext.Problem
	if next.Help, bad = TextRule.Check(*in.Help); bad != plaintext.OK {
		return nil, errBadHelp
	}
	if next.About, bad = TextRule.Check(*in.About); bad != plaintext.OK {
		return nil, errBadAbout
	}
	return &next, nil
}

// diff returns the settings that differ, as they were and as they become (for the audit record).
func diff(before, after Settings) (map[string]any, map[string]any) {
	b, a := map[string]any{}, map[string]any{}
	bv, av := reflect.ValueOf(before), reflect.ValueOf(after)
	t := bv.Type()
	for i := 0; i < t.NumField(); i++ {
		name := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		if name == "version" {
			continue
		}
		x, y := bv.Field(i).Interface(), av.Field(i).Interface()
		if !reflect.DeepEqual(x, y) {
			b[name], a[name] = x, y
		}
	}
	return b, a
}

// UpdateSettings replaces the settings of the caller's school if version is still current, and
// records who changed what (only the settings that changed, before and after) in the same
// transaction.
func (r Repo) UpdateSettings(ctx context.Context, p auth.Principal, in *SettingsInput, now time.Time) (*Settings, error) {
	cur, err := r.getVersioned(ctx, p.School)
	if err != nil {
		return nil, err
	}
	next, err := in.apply(cur)
	if err != nil {
		return nil, err
	}
	if *in.Version != cur.Version {
		return nil, ErrSettingsChanged
	}
	nv := &versioned{School: *next, Version: cur.Version + 1}
	nv.Key, nv.GSI1PK, nv.GSI1SK = store.SchoolKey(cur.ID), store.SchoolListPK(), cur.ID
	before, after := diff(cur.settings(), nv.settings())
	if len(after) == 0 {
		s := cur.settings()
		return &s, nil // nothing changed: no write, no audit record
	}
	cond, vals := "version = :v", store.Values{":v": cur.Version}
	if cur.Version == 0 {
		cond, vals = store.IfExists+" AND attribute_not_exists(version)", nil
	}
	var av map[string]types.AttributeValue
	if vals != nil {
		av = vals.AV()
	}
	putSchool, err := store.PutItem(nv, cond, av)
	if err != nil {
		return nil, err
	}
	putTexts, err := store.PutItem(textsOf(&nv.School), "", nil)
	if err != nil {
		return nil, err
	}
	err = r.S.Transact(ctx, []types.TransactWriteItem{putSchool, putTexts,
		staff.AuditItem(staff.Actor(p), "school.update", "school:"+cur.ID, map[string]any{"before": before, "after": after}, now)}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(0) {
		return nil, ErrSettingsChanged
	}
	if err != nil {
		return nil, err
	}
	s := nv.settings()
	return &s, nil
}

// School settings routes (admin).
var (
	AdminSchoolGet = fn.HTTP{Name: "AdminSchoolGet", Route: "GET /v1/admin/school", Access: fn.Staff, Roles: []string{auth.RoleAdmin},
		Actions: []string{iam.GetItem}, Build: func(d *platform.Deps) httpapi.Handler {
			repo := Repo{S: d.Store()}
			return func(w http.ResponseWriter, r *http.Request) error {
				v, err := repo.getVersioned(r.Context(), auth.Must(r.Context()).School)
				if err != nil {
					return err
				}
				return httpapi.JSON(w, http.StatusOK, v.settings())
			}
		}}

	AdminSchoolPut = fn.HTTP{Name: "AdminSchoolPut", Route: "PUT /v1/admin/school", Access: fn.Staff, Roles: []string{auth.RoleAdmin},
		Actions: []string{iam.GetItem, iam.PutItem}, MaxBody: adminBody, Build: adminPut(Repo.UpdateSettings)}
)

// adminBody is the most an admin PUT of the school's settings or agreement may send (they carry long texts).
const adminBody = 256 << 10

// adminPut builds the handler of an admin PUT on the caller's school: the body (adminBody at most) decoded
// into an In, handed to save with the caller and the time, and what save answers sent back as JSON.
func adminPut[In, Out any](save func(Repo, context.Context, auth.Principal, *In, time.Time) (Out, error)) func(*platform.Deps) httpapi.Handler {
	return func(d *platform.Deps) httpapi.Handler {
		repo := Repo{S: d.Store()}
		return httpapi.Act(adminBody, func(r *http.Request, in *In) (Out, error) {
			return save(repo, r.Context(), auth.Must(r.Context()), in, d.Now())
		})
	}
}
