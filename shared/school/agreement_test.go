package school_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"onecard/infra/seed"
	"onecard/shared/school"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

type agreementView struct {
	SchoolID, Agreement, Privacy string
	Version                      int64
	PublishedAt                  *string
}

func agreement(w *testkit.Console, schoolID string) agreementView {
	w.T.Helper()
	var a agreementView
	w.Do("GET", "/v1/agreement?schoolId="+schoolID, nil).Expect(w.T, 200, "").Decode(w.T, &a)
	return a
}

// The user agreement and privacy policy: the demo's version 1 is readable before login; each save by an
// admin publishes the next version, readable at once; an editor who started from an older version
// gets 409; every version stays stored; each publication is audited.
func TestAgreementVersions(t *testing.T) {
	w := newWorld(t)
	adm := w.StaffOf("admin")
	a := agreement(w, "kmmc")
	if a.SchoolID != "kmmc" || a.Version != seed.AgreementVersion || a.Agreement != seed.AgreementText || a.Privacy != seed.PrivacyText ||
		a.PublishedAt == nil || !strings.HasSuffix(*a.PublishedAt, "+08:00") {
		t.Fatalf("demo agreement: %+v", a)
	}

	var got agreementView
	w.Do("PUT", "/v1/admin/school/agreement", map[string]any{"version": 1, "agreement": "新用户协议\r\n第二条", "privacy": " 新隐私政策 "}, adm...).
		Expect(t, 200, "").Decode(t, &got)
	if got.Version != 2 || got.Agreement != "新用户协议\n第二条" || got.Privacy != "新隐私政策" {
		t.Fatalf("after publishing: %+v", got)
	}
	if now := agreement(w, "kmmc"); now.Version != got.Version || now.Agreement != got.Agreement || now.Privacy != got.Privacy {
		t.Fatalf("public view %+v, published %+v", now, got)
	}
	// An editor who loaded version 1 does not overwrite version 2 unawares.
	w.Do("PUT", "/v1/admin/school/agreement", map[string]any{"version": 1, "agreement": "旧页面的协议", "privacy": "旧页面的政策"}, adm...).
		Expect(t, 409, "AGREEMENT_CHANGED")
	// Saving the same texts publishes nothing: there is nothing new to agree to.
	w.Do("PUT", "/v1/admin/school/agreement", map[string]any{"version": 2, "agreement": "新用户协议\n第二条", "privacy": "新隐私政策"}, adm...).
		Expect(t, 200, "").Decode(t, &got)
	if got.Version != 2 {
		t.Fatalf("an unchanged save made version %d", got.Version)
	}
	w.Do("PUT", "/v1/admin/school/agreement", map[string]any{"version": 2, "agreement": "新用户协议\n第二条", "privacy": "第三版隐私政策"}, adm...).
		Expect(t, 200, "").Decode(t, &got)
	if got.Version != 3 || agreement(w, "kmmc").Privacy != "第三版隐私政策" {
		t.Fatalf("third version: %+v", got)
	}

	// Every version stays as it was published (what a user accepted can be shown later).
	s := store.New(w.Deps.DB, w.Deps.Cfg.Table)
	for v, want := range map[int64]string{1: seed.AgreementText, 2: "新用户协议\n第二条", 3: "新用户协议\n第二条"} {
		var old school.Agreement
		if ok, err := s.Get(context.Background(), store.AgreementVersionKey("kmmc", v), &old); err != nil || !ok || old.Agreement != want {
			t.Fatalf("version %d: %v %v %+v", v, ok, err, old)
		}
	}
	// Seeding again (make dev restarts) does not take the school back to the demo's version.
	if err := seed.School(context.Background(), w.Deps); err != nil {
		t.Fatal(err)
	}
	if v := agreement(w, "kmmc").Version; v != 3 {
		t.Fatalf("after seeding again: version %d", v)
	}

	publications := 0
	for _, r := range w.Audit() {
		if r["action"] == "agreement.publish" {
			publications++
			if r["actor"] != "staff:admin-user" || r["target"] != "school:kmmc" {
				t.Errorf("audit record: %v", r)
			}
		}
	}
	if publications != 2 {
		t.Fatalf("%d publications audited, want 2", publications)
	}
}

func TestAgreementValidation(t *testing.T) {
	w := newWorld(t)
	adm := w.StaffOf("admin")
	cases := []struct {
		name string
		body any
		code string
	}{
		{"no version", map[string]any{"agreement": "a", "privacy": "p"}, "MISSING_FIELD"},
		{"no agreement", map[string]any{"version": 1, "privacy": "p"}, "MISSING_FIELD"},
		{"no privacy", map[string]any{"version": 1, "agreement": "a"}, "MISSING_FIELD"},
		{"empty agreement", map[string]any{"version": 1, "agreement": " \n ", "privacy": "p"}, "BAD_AGREEMENT_TEXT"},
		{"agreement too long", map[string]any{"version": 1, "agreement": strings.Repeat("协", 20001), "privacy": "p"}, "BAD_AGREEMENT_TEXT"},
		{"privacy with a control character", map[string]any{"version": 1, "agreement": "a", "privacy": "p\x1b[2J"}, "BAD_PRIVACY_TEXT"},
		{"privacy with a bidi override", map[string]any{"version": 1, "agreement": "a", "privacy": "\u202Ep"}, "BAD_PRIVACY_TEXT"},
		{"unknown field", map[string]any{"version": 1, "agreement": "a", "privacy": "p", "html": true}, "UNKNOWN_FIELD"},
	}
	for _, c := range cases {
		w.Do("PUT", "/v1/admin/school/agreement", c.body, adm...).Expect(t, 400, c.code)
	}
	w.Do("PUT", "/v1/admin/school/agreement", map[string]any{"version": 1, "agreement": "a", "privacy": "p"}, w.StaffOf("ops")...).Expect(t, 403, "FORBIDDEN")
	w.Do("PUT", "/v1/admin/school/agreement", map[string]any{"version": 1, "agreement": "a", "privacy": "p"}, w.Student("13800000021", "kmmc")...).
		Expect(t, 401, "TOKEN_INVALID")
	if a := agreement(w, "kmmc"); a.Version != 1 || a.Agreement != seed.AgreementText {
		t.Fatalf("a refused save changed the agreement: %+v", a)
	}

	// A school that has published none answers version 0 with empty texts; its first save is version 1.
	if err := (school.Repo{S: store.New(w.Deps.DB, w.Deps.Cfg.Table)}).Put(context.Background(),
		&school.School{ID: "ynu", Name: "云南大学", Prefixes: []string{"YNU"}}); err != nil {
		t.Fatal(err)
	}
	if a := agreement(w, "ynu"); a.Version != 0 || a.Agreement != "" || a.Privacy != "" || a.PublishedAt != nil {
		t.Fatalf("ynu before any: %+v", a)
	}
	w.PutConsoleStaff("ynu-admin", "ynu", "admin")
	w.Do("PUT", "/v1/admin/school/agreement", map[string]any{"version": 0, "agreement": "云大协议", "privacy": "云大政策"}, w.Login("ynu-admin")...).Expect(t, 200, "")
	if a := agreement(w, "ynu"); a.Version != 1 || a.Agreement != "云大协议" {
		t.Fatalf("ynu after its first: %+v", a)
	}
	if a := agreement(w, "kmmc"); a.Version != 1 {
		t.Fatalf("ynu's save moved kmmc to %d", a.Version)
	}
}

// Two admins publishing from the same version at once: exactly one new version, the other gets 409.
func TestAgreementConcurrentPublish(t *testing.T) {
	w := newWorld(t)
	adm := w.StaffOf("admin")
	const n = 4
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := w.Do("PUT", "/v1/admin/school/agreement", map[string]any{"version": 1, "agreement": "并发协议" + string(rune('A'+i)), "privacy": "p"}, adm...)
			codes[i] = r.Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 409:
		default:
			t.Fatalf("statuses %v", codes)
		}
	}
	if a := agreement(w, "kmmc"); ok != 1 || a.Version != 2 {
		t.Fatalf("statuses %v, version %d", codes, a.Version)
	}
}
