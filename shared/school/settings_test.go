package school_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"onecard/infra/seed"
	"onecard/shared/testkit"
)

func settings(w *testkit.Console) map[string]any {
	w.T.Helper()
	var s map[string]any
	w.Do("GET", "/v1/admin/school", nil, w.StaffOf("admin")...).Expect(w.T, 200, "").Decode(w.T, &s)
	return s
}

func TestSettingsReadAndWrite(t *testing.T) {
	w := newWorld(t)
	adm := w.StaffOf("admin")
	s := settings(w)
	want := map[string]any{"schoolId": "kmmc", "name": "昆明传媒学院", "timeZone": "Asia/Shanghai", "version": float64(0),
		"studentNoPrefix": "CUIK", "elecFenPerKWh": float64(60), "waterFenPerM3": float64(350), "nightStart": "23:00",
		"nightEnd": "07:00", "maxRechargeFen": float64(100000), "lowBalanceFen": float64(1000),
		"defaultPerTxnFen": float64(5000), "defaultDailyFen": float64(30000), "maxPerTxnFen": float64(50000),
		"maxDailyFen": float64(200000), "help": seed.HelpText, "about": seed.AboutText}
	for k, v := range want {
		if s[k] != v {
			t.Errorf("%s = %v, want %v", k, s[k], v)
		}
	}
	if a, _ := s["studentNoAliases"].([]any); len(a) != 1 || a[0] != "CUK" {
		t.Errorf("aliases %v", s["studentNoAliases"])
	}

	// What GET answers can be sent back with changes (read-only fields repeated unchanged).
	s["elecFenPerKWh"], s["nightStart"], s["studentNoAliases"], s["help"] = 65, "22:30", []string{"cuk", "KMMC"}, "新的帮助\r\n第二行"
	var got map[string]any
	w.Do("PUT", "/v1/admin/school", s, adm...).Expect(t, 200, "").Decode(t, &got)
	if got["version"] != float64(1) || got["elecFenPerKWh"] != float64(65) || got["nightStart"] != "22:30" || got["help"] != "新的帮助\n第二行" {
		t.Fatalf("after PUT: %v", got)
	}
	if a, _ := got["studentNoAliases"].([]any); len(a) != 2 || a[0] != "CUK" || a[1] != "KMMC" {
		t.Fatalf("aliases not normalised: %v", got["studentNoAliases"])
	}
	if settings(w)["version"] != float64(1) {
		t.Fatal("version not stored")
	}
	stu := w.Student("13800000001", "kmmc")
	var help struct{ Text string }
	w.Do("GET", "/v1/help", nil, stu...).Expect(t, 200, "").Decode(t, &help)
	if help.Text != "新的帮助\n第二行" {
		t.Fatalf("students see help %q", help.Text)
	}

	// The audit record names the admin and holds only what changed, before and after.
	var audit struct{ Items []map[string]any }
	w.Do("GET", "/v1/admin/audit", nil, adm...).Expect(t, 200, "").Decode(t, &audit)
	rec := audit.Items[0]
	d, _ := json.Marshal(rec["details"])
	wantDetails := `{"after":{"elecFenPerKWh":65,"help":"新的帮助\n第二行","nightStart":"22:30","studentNoAliases":["CUK","KMMC"]},` +
		`"before":{"elecFenPerKWh":60,"help":` + string(must(json.Marshal(seed.HelpText))) + `,"nightStart":"23:00","studentNoAliases":["CUK"]}}`
	if rec["action"] != "school.update" || rec["actor"] != "staff:admin-user" || rec["target"] != "school:kmmc" || string(d) != wantDetails {
		t.Fatalf("audit: %v\n%s", rec, d)
	}

	// A stale version is refused: two admins do not silently overwrite each other.
	s["lowBalanceFen"] = 500
	w.Do("PUT", "/v1/admin/school", s, adm...).Expect(t, 409, "SCHOOL_CHANGED")
	// Sending what is stored changes nothing and records nothing.
	n := len(audit.Items)
	w.Clock.Advance(time.Second)
	w.Do("PUT", "/v1/admin/school", got, adm...).Expect(t, 200, "")
	w.Do("GET", "/v1/admin/audit", nil, adm...).Expect(t, 200, "").Decode(t, &audit)
	if len(audit.Items) != n {
		t.Fatalf("a no-op PUT was audited: %v", audit.Items[0])
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// Aliases are what students type: removing one takes effect for binding at once.
func TestAliasesDriveStudentNumbers(t *testing.T) {
	w := newWorld(t)
	if err := seed.StudentsAndCards(context.Background(), w.Deps); err != nil {
		t.Fatal(err)
	}
	s := settings(w)
	s["studentNoAliases"] = []string{}
	w.Do("PUT", "/v1/admin/school", s, w.StaffOf("admin")...).Expect(t, 200, "")
	stu := w.Student("13800000002", "kmmc")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUK20230001", "cardPassword": "011237"}, stu...).Expect(t, 400, "BAD_STUDENT_NO")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "cuik20230001", "cardPassword": "011237"}, stu...).Expect(t, 200, "")
	var schools struct {
		Items []struct{ StudentNoPrefixes []string }
	}
	w.Do("GET", "/v1/schools", nil).Expect(t, 200, "").Decode(t, &schools)
	if p := schools.Items[0].StudentNoPrefixes; len(p) != 1 || p[0] != "CUIK" {
		t.Fatalf("/v1/schools prefixes %v", p)
	}
}

func TestSettingsValidation(t *testing.T) {
	w := newWorld(t)
	adm := w.StaffOf("admin")
	base := settings(w)
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return m
	}
	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"tariff as a decimal", with("elecFenPerKWh", 0.6), 400, "WRONG_TYPE"},
		{"tariff as a string", with("waterFenPerM3", "350"), 400, "WRONG_TYPE"},
		{"zero tariff", with("elecFenPerKWh", 0), 400, "BAD_TARIFF"},
		{"negative tariff", with("waterFenPerM3", -1), 400, "BAD_TARIFF"},
		{"tariff too high", with("elecFenPerKWh", 1001), 400, "BAD_TARIFF"},
		{"night hour 24:00", with("nightStart", "24:00"), 400, "BAD_NIGHT_HOURS"},
		{"night hour 7:00", with("nightEnd", "7:00"), 400, "BAD_NIGHT_HOURS"},
		{"night minute 60", with("nightEnd", "07:60"), 400, "BAD_NIGHT_HOURS"},
		{"night hours equal", with("nightStart", "07:00"), 400, "BAD_NIGHT_HOURS"},
		{"night hour with seconds", with("nightStart", "23:00:00"), 400, "BAD_NIGHT_HOURS"},
		{"recharge maximum below 1 元", with("maxRechargeFen", 99), 400, "BAD_RECHARGE_MAX"},
		{"recharge maximum above 10,000 元", with("maxRechargeFen", 1000001), 400, "BAD_RECHARGE_MAX"},
		{"low balance zero", with("lowBalanceFen", 0), 400, "BAD_LOW_BALANCE"},
		{"low balance too high", with("lowBalanceFen", 100001), 400, "BAD_LOW_BALANCE"},
		{"per-transaction above daily", with("defaultPerTxnFen", 40000), 400, "BAD_LIMITS"},
		{"default daily above the daily ceiling", with("defaultDailyFen", 200001), 400, "BAD_LIMITS"},
		{"default per-transaction above its ceiling", with("defaultPerTxnFen", 30000, "defaultDailyFen", 100000, "maxPerTxnFen", 20000), 400, "BAD_LIMITS"},
		{"ceiling per transaction above the daily one", with("maxPerTxnFen", 200001), 400, "BAD_LIMIT_CEILINGS"},
		{"daily ceiling above 10,000 元", with("maxDailyFen", 1000001), 400, "BAD_LIMIT_CEILINGS"},
		{"zero ceiling", with("maxPerTxnFen", 0), 400, "BAD_LIMIT_CEILINGS"},
		{"missing ceiling", with("maxDailyFen", nil), 400, "MISSING_FIELD"},
		{"alias with a digit", with("studentNoAliases", []string{"CU1"}), 400, "BAD_PREFIX"},
		{"alias of one letter", with("studentNoAliases", []string{"C"}), 400, "BAD_PREFIX"},
		{"alias repeating the prefix", with("studentNoAliases", []string{"cuik"}), 400, "BAD_PREFIX"},
		{"alias twice", with("studentNoAliases", []string{"CUK", "cuk"}), 400, "BAD_PREFIX"},
		{"six aliases", with("studentNoAliases", []string{"AA", "BB", "CC", "DD", "EE", "FF"}), 400, "BAD_PREFIX"},
		{"prefix with punctuation", with("studentNoPrefix", "CU-IK"), 400, "BAD_PREFIX"},
		{"canonical prefix changed", with("studentNoPrefix", "KMMC"), 422, "PREFIX_FIXED"},
		{"empty name", with("name", " "), 400, "BAD_SCHOOL_NAME"},
		{"name with a line break", with("name", "昆明\n传媒"), 400, "BAD_SCHOOL_NAME"},
		{"help too long", with("help", strings.Repeat("帮", 20001)), 400, "BAD_HELP_TEXT"},
		{"help with a control character", with("help", "a\x1bb"), 400, "BAD_HELP_TEXT"},
		{"about with a bidi override", with("about", "a\u202Eb"), 400, "BAD_ABOUT_TEXT"},
		{"school id changed", with("schoolId", "ynu"), 400, "READ_ONLY_FIELD"},
		{"time zone changed", with("timeZone", "UTC"), 400, "READ_ONLY_FIELD"},
		{"missing version", with("version", nil), 400, "MISSING_FIELD"},
		{"missing tariff", with("waterFenPerM3", nil), 400, "MISSING_FIELD"},
		{"missing aliases", with("studentNoAliases", nil), 400, "MISSING_FIELD"},
		{"unknown field", with("tariffs", map[string]any{}), 400, "UNKNOWN_FIELD"},
		{"not JSON", "{", 400, "MALFORMED_JSON"},
	}
	for _, c := range cases {
		if r := w.Do("PUT", "/v1/admin/school", c.body, adm...); r.Status != c.status || r.Code() != c.code {
			t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
		}
	}
	if s := settings(w); s["version"] != float64(0) {
		t.Fatalf("a refused PUT changed the settings: %v", s["version"])
	}
	// The edges are accepted; empty help and about are allowed.
	w.Do("PUT", "/v1/admin/school", with("elecFenPerKWh", 1000, "waterFenPerM3", 1, "nightStart", "00:00", "nightEnd", "23:59",
		"maxRechargeFen", 100, "lowBalanceFen", 100000, "defaultPerTxnFen", 1000000, "defaultDailyFen", 1000000,
		"maxPerTxnFen", 1000000, "maxDailyFen", 1000000,
		"help", "", "about", strings.Repeat("关", 20000), "schoolId", nil, "timeZone", nil), adm...).Expect(t, 200, "")
}
