package content_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"onecard/infra/seed"
	"onecard/shared/auth"
	"onecard/shared/content"
	"onecard/shared/fault"
	"onecard/shared/plaintext"
	"onecard/shared/school"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

type listItem struct {
	NewsID, Kind, Title, Summary, PublishedAt, UpdatedAt string
	Pinned                                               bool
}

type page struct {
	Items      []listItem
	NextCursor *string
}

func (w *world) create(h []string, kind, title, body string) string {
	w.T.Helper()
	var v struct{ NewsID, Status, Author string }
	w.Do("POST", "/v1/admin/news", map[string]any{"kind": kind, "title": title, "body": body}, h...).Expect(w.T, 201, "").Decode(w.T, &v)
	if v.NewsID == "" || v.Status != "published" {
		w.T.Fatalf("create answer: %+v", v)
	}
	w.Clock.Advance(time.Minute)
	return v.NewsID
}

func (w *world) list(path string, h []string) (titles []string) {
	w.T.Helper()
	items, _ := testkit.Pages[listItem](w.Env, path, 2, h...)
	for _, it := range items {
		titles = append(titles, it.Title)
	}
	return titles
}

func TestNewsAndNoticesListedPinnedFirstThenNewest(t *testing.T) {
	w := newWorld(t)
	ops := w.StaffOf("ops")
	stu := w.Student("13800000001", "kmmc")

	// An empty school answers an empty list, not null.
	r := w.Do("GET", "/v1/news", nil, stu...).Expect(t, 200, "")
	if !strings.Contains(string(r.Body), `"items":[]`) {
		t.Fatalf("empty list: %s", r.Body)
	}
	first := w.create(ops, "news", "新闻一", "第一条新闻的正文。")
	w.create(ops, "news", "新闻二", "第二条")
	w.create(ops, "notice", "通知一", "停电通知")
	w.create(ops, "news", "新闻三", "第三条")
	w.create(ops, "news", "新闻四", "第四条")
	w.Do("PUT", "/v1/admin/news/"+first+"/pin", map[string]any{"pinned": true}, ops...).Expect(t, 200, "")

	got := strings.Join(w.list("/v1/news", stu), ",")
	if got != "新闻一,新闻四,新闻三,新闻二" {
		t.Fatalf("news order: %s", got)
	}
	if got := strings.Join(w.list("/v1/notices", stu), ","); got != "通知一" {
		t.Fatalf("notices: %s", got)
	}
	var p page
	w.Do("GET", "/v1/news?limit=1", nil, stu...).Expect(t, 200, "").Decode(t, &p)
	if it := p.Items[0]; !it.Pinned || it.Kind != "news" || it.Summary != "第一条新闻的正文。" || !strings.HasSuffix(it.PublishedAt, "+08:00") {
		t.Fatalf("list item: %+v", it)
	}

	// The detail page has the whole body; a notice is read through the same route.
	var d map[string]any
	w.Do("GET", "/v1/news/"+first, nil, stu...).Expect(t, 200, "").Decode(t, &d)
	if d["body"] != "第一条新闻的正文。" || d["title"] != "新闻一" || d["pinned"] != true || d["author"] != nil || d["status"] != nil {
		t.Fatalf("detail: %v", d)
	}

	// Bad paging input is a 400, not a 500.
	for _, q := range []string{"?cursor=@@@", "?cursor=bm9wZQ", "?limit=0", "?limit=51", "?limit=x"} {
		if r := w.Do("GET", "/v1/news"+q, nil, stu...); r.Status != 400 {
			t.Fatalf("%s: %d %s", q, r.Status, r.Body)
		}
	}
	w.Do("GET", "/v1/news/12345", nil, stu...).Expect(t, 404, "NEWS_NOT_FOUND")
	w.Do("GET", "/v1/news/20261125120000999999", nil, stu...).Expect(t, 404, "NEWS_NOT_FOUND")
}

func TestSummaryIsShortAndOneLine(t *testing.T) {
	w := newWorld(t)
	body := strings.Repeat("一卡通", 30) + "\n\n第二段"
	w.create(w.StaffOf("ops"), "news", "长文", body)
	var p page
	w.Do("GET", "/v1/news", nil, w.Student("13800000002", "kmmc")...).Expect(t, 200, "").Decode(t, &p)
	s := p.Items[0].Summary
	if n := len([]rune(s)); n != 81 || !strings.HasSuffix(s, "…") || strings.Contains(s, "\n") {
		t.Fatalf("summary (%d): %q", n, s)
	}
}

func TestNewsValidation(t *testing.T) {
	w := newWorld(t)
	ops := w.StaffOf("ops")
	ok := map[string]any{"kind": "news", "title": "标题", "body": "正文"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range ok {
			m[a] = b
		}
		m[k] = v
		return m
	}
	cases := []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"title of 101 characters", with("title", strings.Repeat("标", 101)), 400, "BAD_TITLE"},
		{"empty title", with("title", "  "), 400, "BAD_TITLE"},
		{"title with a line break", with("title", "第一行\n第二行"), 400, "BAD_TITLE"},
		{"title with a bidi override", with("title", "invoice\u202Efdp.exe"), 400, "BAD_TITLE"},
		{"body of 20,001 characters", with("body", strings.Repeat("文", 20001)), 400, "BAD_BODY"},
		{"empty body", with("body", ""), 400, "BAD_BODY"},
		{"body with NUL", with("body", "a\x00b"), 400, "BAD_BODY"},
		{"body with an escape sequence", with("body", "\x1b[2J清屏"), 400, "BAD_BODY"},
		{"unknown kind", with("kind", "ad"), 400, "BAD_KIND"},
		{"missing kind", map[string]any{"title": "t", "body": "b"}, 400, "BAD_KIND"},
		{"unknown field", with("html", "<b>"), 400, "UNKNOWN_FIELD"},
		{"wrong type", with("pinned", "yes"), 400, "WRONG_TYPE"},
		{"not JSON", "title=x", 400, "MALFORMED_JSON"},
		{"empty request", "", 400, "EMPTY_BODY"},
		{"over the size limit", with("body", strings.Repeat("a", 300<<10)), 413, "BODY_TOO_LARGE"},
	}
	for _, c := range cases {
		r := w.Do("POST", "/v1/admin/news", c.body, ops...)
		if r.Status != c.status || r.Code() != c.code {
			t.Errorf("%s: got %d %s", c.name, r.Status, r.Body)
		}
	}

	// The limits themselves are accepted: 100 and 20,000 characters (Chinese, so 60 KB of UTF-8).
	title, body := strings.Repeat("标", 100), strings.Repeat("文", 19998)+"\n"
	var v struct{ NewsID, Title, Body string }
	w.Do("POST", "/v1/admin/news", map[string]any{"kind": "notice", "title": title, "body": " \r\n" + body + "尾"}, ops...).Expect(t, 201, "").Decode(t, &v)
	if v.Title != title || v.Body != body+"尾" {
		t.Fatalf("stored text differs: %d/%d characters", len([]rune(v.Title)), len([]rune(v.Body)))
	}

	// Markup is plain text: stored and served exactly as typed, never interpreted or escaped away.
	markup := `<script>alert("x")</script> & <b>粗体</b>`
	id := w.create(ops, "news", "<b>标题</b>", markup+"\r\n第二行\t缩进")
	r := w.Do("GET", "/v1/news/"+id, nil, w.Student("13800000003", "kmmc")...).Expect(t, 200, "")
	var d struct{ Title, Body string }
	r.Decode(t, &d)
	if d.Title != "<b>标题</b>" || d.Body != markup+"\n第二行\t缩进" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("served as %q %q (%s)", d.Title, d.Body, r.Header.Get("Content-Type"))
	}
	// encoding/json escapes <, > and & in the wire format, so even a client that pastes the raw
	// answer into HTML does not get live markup.
	if strings.Contains(string(r.Body), "<script>") {
		t.Fatalf("raw markup in the JSON text: %s", r.Body)
	}
}

func TestEditUnpublishPublishPinAreAudited(t *testing.T) {
	w := newWorld(t)
	ops := w.StaffOf("ops")
	stu := w.Student("13800000004", "kmmc")
	id := w.create(ops, "news", "原标题", "原正文")
	other := w.create(ops, "news", "另一条", "正文")

	var v map[string]any
	w.Do("PUT", "/v1/admin/news/"+id, map[string]any{"title": "新标题", "body": "新正文"}, ops...).Expect(t, 200, "").Decode(t, &v)
	if v["title"] != "新标题" || v["body"] != "新正文" || v["status"] != "published" || v["author"] != "ops-user" {
		t.Fatalf("edit answer: %v", v)
	}
	if v["updatedAt"] == v["publishedAt"] {
		t.Fatalf("updatedAt not moved: %v", v)
	}
	// Editing keeps the item's place: it is older, so it still comes second.
	if got := strings.Join(w.list("/v1/news", stu), ","); got != "另一条,新标题" {
		t.Fatalf("after edit: %s", got)
	}
	w.Do("PUT", "/v1/admin/news/"+id, map[string]any{"title": "只改标题"}, ops...).Expect(t, 400, "MISSING_FIELD")
	w.Do("PUT", "/v1/admin/news/"+id, map[string]any{"title": "x", "body": "\u2028"}, ops...).Expect(t, 400, "BAD_BODY")
	w.Do("PUT", "/v1/admin/news/20261125120000999999", map[string]any{"title": "x", "body": "y"}, ops...).Expect(t, 404, "NEWS_NOT_FOUND")
	w.Do("PUT", "/v1/admin/news/"+id+"/pin", map[string]any{}, ops...).Expect(t, 400, "MISSING_FIELD")

	// Unpublish: gone for students (list and page), still there for staff; twice is a 409.
	w.Clock.Advance(time.Second) // audit records of one instant have no order among themselves
	w.Do("DELETE", "/v1/admin/news/"+id, nil, ops...).Expect(t, 204, "")
	w.Do("DELETE", "/v1/admin/news/"+id, nil, ops...).Expect(t, 409, "NOT_PUBLISHED")
	w.Do("GET", "/v1/news/"+id, nil, stu...).Expect(t, 404, "NEWS_NOT_FOUND")
	if got := strings.Join(w.list("/v1/news", stu), ","); got != "另一条" {
		t.Fatalf("after unpublish: %s", got)
	}
	var all struct{ Items []map[string]any }
	w.Do("GET", "/v1/admin/news", nil, ops...).Expect(t, 200, "").Decode(t, &all)
	if len(all.Items) != 2 || all.Items[0]["newsId"] != other || all.Items[1]["status"] != "unpublished" {
		t.Fatalf("staff list: %v", all.Items)
	}
	w.Do("GET", "/v1/admin/news?kind=notice", nil, ops...).Expect(t, 200, "").Decode(t, &all)
	if len(all.Items) != 0 {
		t.Fatalf("kind filter: %v", all.Items)
	}
	w.Do("GET", "/v1/admin/news?kind=ad", nil, ops...).Expect(t, 400, "BAD_KIND")
	w.Do("GET", "/v1/admin/news?cursor=zz", nil, ops...).Expect(t, 400, "BAD_CURSOR")

	// Pinning an unpublished item is remembered; publishing again puts it back, now on top.
	w.Clock.Advance(time.Second)
	w.Do("PUT", "/v1/admin/news/"+id+"/pin", map[string]any{"pinned": true}, ops...).Expect(t, 200, "")
	w.Clock.Advance(time.Second)
	w.Do("POST", "/v1/admin/news/"+id+"/publish", nil, ops...).Expect(t, 204, "")
	w.Do("POST", "/v1/admin/news/"+id+"/publish", nil, ops...).Expect(t, 409, "ALREADY_PUBLISHED")
	if got := strings.Join(w.list("/v1/news", stu), ","); got != "新标题,另一条" {
		t.Fatalf("after publish and pin: %s", got)
	}
	// Pinning what is pinned changes nothing and records nothing.
	before := len(w.Audit())
	w.Do("PUT", "/v1/admin/news/"+id+"/pin", map[string]any{"pinned": true}, ops...).Expect(t, 200, "")
	w.Clock.Advance(time.Second)
	w.Do("PUT", "/v1/admin/news/"+id+"/pin", map[string]any{"pinned": false}, w.StaffOf("admin")...).Expect(t, 200, "")

	recs := w.Audit()
	if len(recs) != before+1 {
		t.Fatalf("audit records: %d then %d", before, len(recs))
	}
	want := []struct{ action, actor, before, after string }{
		{"news.unpin", "staff:admin-user", `{"pinned":true}`, `{"pinned":false}`},
		{"news.publish", "staff:ops-user", `{"status":"unpublished"}`, `{"status":"published"}`},
		{"news.pin", "staff:ops-user", `{"pinned":false}`, `{"pinned":true}`},
		{"news.unpublish", "staff:ops-user", `{"status":"published"}`, `{"status":"unpublished"}`},
		{"news.edit", "staff:ops-user", `{"body":"原正文","title":"原标题"}`, `{"body":"新正文","title":"新标题"}`},
	}
	for i, wt := range want {
		r := recs[i]
		d, _ := r["details"].(map[string]any)
		b, _ := json.Marshal(d["before"])
		a, _ := json.Marshal(d["after"])
		if r["action"] != wt.action || r["actor"] != wt.actor || r["target"] != "news:"+id || string(b) != wt.before || string(a) != wt.after {
			t.Errorf("audit %d: %v", i, r)
		}
	}
	last := recs[len(recs)-1]
	if d, _ := last["details"].(map[string]any); last["action"] != "news.create" || d["before"] != nil || d["after"].(map[string]any)["title"] != "原标题" {
		t.Errorf("create record: %v", last)
	}
}

// Content follows the school the student is in now (read from the user item), not the school their
// token was issued for; staff see and edit only their own school's items.
func TestContentFollowsTheStudentsCurrentSchool(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	other := &school.School{ID: "ynu", Name: "云南大学", Prefixes: []string{"YNU"}, Help: "云大帮助", About: "云大关于"}
	if err := (school.Repo{S: store.New(w.Deps.DB, w.Deps.Cfg.Table)}).Put(ctx, other); err != nil {
		t.Fatal(err)
	}
	w.PutConsoleStaff("ynu-ops", "ynu", "ops")
	kmmcItem := w.create(w.StaffOf("ops"), "news", "昆明传媒学院新闻", "正文")
	ynuItem := w.create(w.Login("ynu-ops"), "news", "云南大学新闻", "正文")

	stu := w.Student("13800000005", "kmmc")
	if got := strings.Join(w.list("/v1/news", stu), ","); got != "昆明传媒学院新闻" {
		t.Fatalf("kmmc student sees %s", got)
	}
	w.Do("GET", "/v1/news/"+ynuItem, nil, stu...).Expect(t, 404, "NEWS_NOT_FOUND")
	w.Do("PUT", "/v1/me/school", map[string]string{"schoolId": "ynu"}, stu...).Expect(t, 204, "")
	// Same token, issued for kmmc: the answer is already ynu's.
	if got := strings.Join(w.list("/v1/news", stu), ","); got != "云南大学新闻" {
		t.Fatalf("after switching school the student sees %s", got)
	}
	w.Do("GET", "/v1/news/"+kmmcItem, nil, stu...).Expect(t, 404, "NEWS_NOT_FOUND")
	var txt struct{ SchoolID, Text string }
	w.Do("GET", "/v1/help", nil, stu...).Expect(t, 200, "").Decode(t, &txt)
	if txt.SchoolID != "ynu" || txt.Text != "云大帮助" {
		t.Fatalf("help after switch: %+v", txt)
	}

	// Staff of kmmc cannot touch ynu's item, whatever their role.
	adm := w.StaffOf("admin")
	w.Do("PUT", "/v1/admin/news/"+ynuItem, map[string]any{"title": "x", "body": "y"}, adm...).Expect(t, 404, "NEWS_NOT_FOUND")
	w.Do("DELETE", "/v1/admin/news/"+ynuItem, nil, adm...).Expect(t, 404, "NEWS_NOT_FOUND")
	w.Do("PUT", "/v1/admin/news/"+ynuItem+"/pin", map[string]any{"pinned": true}, adm...).Expect(t, 404, "NEWS_NOT_FOUND")
	w.Do("POST", "/v1/admin/news/"+ynuItem+"/publish", nil, adm...).Expect(t, 404, "NEWS_NOT_FOUND")
}

// The demo school's help and about name where to go in person, as the manual does: 亦归楼 C区407
// 图文信息中心, and 财务处 for 补卡. The login page reads them without a token; a signed-in student gets
// the same texts without naming the school.
func TestHelpAndAboutOfTheDemoSchool(t *testing.T) {
	w := newWorld(t)
	var help, about struct{ SchoolID, Text string }
	w.Do("GET", "/v1/help?schoolId=kmmc", nil).Expect(t, 200, "").Decode(t, &help)
	w.Do("GET", "/v1/about?schoolId=kmmc", nil).Expect(t, 200, "").Decode(t, &about)
	if help.SchoolID != "kmmc" || !strings.Contains(help.Text, "CUIK+学号") || !strings.Contains(help.Text, "一号两用") {
		t.Fatalf("help: %+v", help)
	}
	const office = "亦归楼 C区407 图文信息中心"
	if !strings.Contains(help.Text, office) || !strings.Contains(help.Text, "财务处办理补卡") {
		t.Fatalf("help does not say where to go in person: %s", help.Text)
	}
	if !strings.Contains(about.Text, office) || !strings.Contains(about.Text, "财务处") || !strings.Contains(about.Text, "补卡") {
		t.Fatalf("about: %+v", about)
	}
	stu := w.Student("13800000006", "kmmc")
	var signedIn struct{ SchoolID, Text string }
	w.Do("GET", "/v1/help", nil, stu...).Expect(t, 200, "").Decode(t, &signedIn)
	if signedIn != help {
		t.Fatalf("signed in: %+v, before login: %+v", signedIn, help)
	}
	// The settings item that most requests read does not carry the texts.
	var raw map[string]any
	if _, err := store.New(w.Deps.DB, w.Deps.Cfg.Table).Get(context.Background(), store.SchoolKey("kmmc"), &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["help"]; ok {
		t.Fatal("help stored on the school's settings item")
	}
}

// Before login (the login and home pages) a school's published content is read by naming the school,
// without a token: unpublished items never show, another school's items never show, an unknown school
// is a 400. A token that comes along is not looked at when the school is named.
func TestContentBeforeLogin(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := (school.Repo{S: store.New(w.Deps.DB, w.Deps.Cfg.Table)}).Put(ctx,
		&school.School{ID: "ynu", Name: "云南大学", Prefixes: []string{"YNU"}, Help: "云大帮助", About: "云大关于"}); err != nil {
		t.Fatal(err)
	}
	w.PutConsoleStaff("ynu-ops", "ynu", "ops")
	ops := w.StaffOf("ops")
	shown := w.create(ops, "news", "公开的新闻", "正文")
	hidden := w.create(ops, "news", "已下架的新闻", "不应被看到的正文")
	pinnedThenHidden := w.create(ops, "notice", "已下架的通知", "正文")
	w.create(ops, "notice", "公开的通知", "正文")
	w.Do("PUT", "/v1/admin/news/"+pinnedThenHidden+"/pin", map[string]any{"pinned": true}, ops...).Expect(t, 200, "")
	w.Do("DELETE", "/v1/admin/news/"+hidden, nil, ops...).Expect(t, 204, "")
	w.Do("DELETE", "/v1/admin/news/"+pinnedThenHidden, nil, ops...).Expect(t, 204, "")
	ynuItem := w.create(w.Login("ynu-ops"), "news", "云南大学新闻", "正文")

	anon := []string(nil)
	if got := strings.Join(w.list("/v1/news?schoolId=kmmc", anon), ","); got != "公开的新闻" {
		t.Fatalf("news before login: %s", got)
	}
	if got := strings.Join(w.list("/v1/notices?schoolId=kmmc", anon), ","); got != "公开的通知" {
		t.Fatalf("notices before login: %s", got)
	}
	if got := strings.Join(w.list("/v1/news?schoolId=ynu", anon), ","); got != "云南大学新闻" {
		t.Fatalf("ynu news before login: %s", got)
	}
	var d struct{ Title, Body string }
	w.Do("GET", "/v1/news/"+shown+"?schoolId=kmmc", nil).Expect(t, 200, "").Decode(t, &d)
	if d.Title != "公开的新闻" || d.Body != "正文" {
		t.Fatalf("detail before login: %+v", d)
	}
	for _, id := range []string{hidden, pinnedThenHidden} {
		r := w.Do("GET", "/v1/news/"+id+"?schoolId=kmmc", nil).Expect(t, 404, "NEWS_NOT_FOUND")
		if strings.Contains(string(r.Body), "已下架的") || strings.Contains(string(r.Body), "正文") {
			t.Fatalf("an unpublished item leaks: %s", r.Body)
		}
	}
	w.Do("GET", "/v1/news/"+ynuItem+"?schoolId=kmmc", nil).Expect(t, 404, "NEWS_NOT_FOUND")
	var help struct{ SchoolID, Text string }
	w.Do("GET", "/v1/help?schoolId=ynu", nil).Expect(t, 200, "").Decode(t, &help)
	if help.SchoolID != "ynu" || help.Text != "云大帮助" {
		t.Fatalf("ynu help: %+v", help)
	}

	// An unknown or empty school is a 400 in the error shape, on every route.
	for _, p := range []string{"/v1/news", "/v1/notices", "/v1/news/" + shown, "/v1/help", "/v1/about", "/v1/agreement"} {
		for _, q := range []string{"?schoolId=nowhere", "?schoolId=", "?schoolId=" + strings.Repeat("k", 40)} {
			r := w.Do("GET", p+q, nil).Expect(t, 400, "BAD_SCHOOL")
			if e, _ := r.JSON()["error"].(map[string]any); e["message"] != "学校不存在" {
				t.Fatalf("%s%s: %s", p, q, r.Body)
			}
		}
		// Without a school the route is a signed-in one.
		w.Do("GET", p, nil).Expect(t, 401, "UNAUTHORIZED")
	}

	// A student signed in to kmmc who names ynu gets ynu's content, even with a logged-out token: a
	// named school is public, the token is not looked at.
	stu := w.Student("13800000010", "kmmc")
	if got := strings.Join(w.list("/v1/news?schoolId=ynu", stu), ","); got != "云南大学新闻" {
		t.Fatalf("naming ynu with a kmmc token: %s", got)
	}
	w.Do("POST", "/v1/auth/logout", nil, stu...).Expect(t, 204, "")
	w.Do("GET", "/v1/help?schoolId=kmmc", nil, stu...).Expect(t, 200, "")
	w.Do("GET", "/v1/help", nil, stu...).Expect(t, 401, "TOKEN_REVOKED")
}

// Student routes refuse callers without a student token; staff routes refuse students. (Every staff
// route's role denials are proven for the whole catalog in shared/catalog.)
func TestContentRoutesRefuseTheWrongCaller(t *testing.T) {
	w := newWorld(t)
	stu := w.Student("13800000007", "kmmc")
	ops := w.StaffOf("ops")
	for _, p := range []string{"/v1/news", "/v1/notices", "/v1/news/20261125120000123456", "/v1/help", "/v1/about", "/v1/agreement"} {
		w.Do("GET", p, nil).Expect(t, 401, "UNAUTHORIZED")
		w.Do("GET", p, nil, ops...).Expect(t, 401, "TOKEN_INVALID")
		w.Do("GET", p, nil, "Authorization", "Bearer not-a-token").Expect(t, 401, "TOKEN_INVALID")
	}
	w.Do("POST", "/v1/admin/news", map[string]any{"kind": "news", "title": "t", "body": "b"}, stu...).Expect(t, 401, "TOKEN_INVALID")
	for _, role := range []string{"finance", "it"} {
		w.Do("POST", "/v1/admin/news", map[string]any{"kind": "news", "title": "t", "body": "b"}, w.StaffOf(role)...).Expect(t, 403, "FORBIDDEN")
	}
	var all struct{ Items []any }
	w.Do("GET", "/v1/admin/news", nil, ops...).Expect(t, 200, "").Decode(t, &all)
	if len(all.Items) != 0 {
		t.Fatalf("refused requests created items: %v", all.Items)
	}
}

// The demo data of `make dev`: two news items (one pinned) and a notice, readable by students.
func TestDemoNews(t *testing.T) {
	w := newWorld(t)
	for range 2 { // seeding is idempotent
		if err := seed.News(context.Background(), w.Deps); err != nil {
			t.Fatal(err)
		}
	}
	stu := w.Student("13800000008", "kmmc")
	if got := strings.Join(w.list("/v1/news", stu), ","); got != "校园一信通付款码上线，手机即可刷卡消费,微信充值即时到账，无需再到圈存机领款" {
		t.Fatalf("news: %s", got)
	}
	var p page
	w.Do("GET", "/v1/notices", nil, stu...).Expect(t, 200, "").Decode(t, &p)
	if len(p.Items) != 1 || p.Items[0].PublishedAt != "2026-10-20T09:00:00+08:00" {
		t.Fatalf("notices: %+v", p.Items)
	}
	var d struct{ Body string }
	w.Do("GET", "/v1/news/"+p.Items[0].NewsID, nil, stu...).Expect(t, 200, "").Decode(t, &d)
	if !strings.Contains(d.Body, "23:00 至次日 07:00") {
		t.Fatalf("notice body: %s", d.Body)
	}
	for _, it := range seed.DemoNews() {
		if _, p := content.TitleRule.Check(it.Title); p != plaintext.OK {
			t.Errorf("demo title %q breaks the rules staff must follow", it.Title)
		}
		if _, p := content.BodyRule.Check(it.Body); p != plaintext.OK {
			t.Errorf("demo body of %q breaks the rules staff must follow", it.Title)
		}
	}
}

// Two staff editing one item: the second write finds the item moved on and gets 409, and the audit
// trail holds only the change that happened.
func TestConcurrentEditLoses(t *testing.T) {
	w := newWorld(t)
	ops := w.StaffOf("ops")
	id := w.create(ops, "news", "标题", "正文")
	db := &testkit.RacingDB{DB: w.Deps.DB}
	svc := content.NewService(store.New(db, w.Deps.Cfg.Table), w.Deps.Now)
	p := auth.Principal{Subject: "ops-user", Kind: auth.KindStaff, School: "kmmc", Roles: []string{"ops"}}
	db.Before = func() {
		w.Do("PUT", "/v1/admin/news/"+id, map[string]any{"title": "先到的标题", "body": "正文"}, ops...).Expect(t, 200, "")
	}
	if _, err := svc.Edit(context.Background(), p, id, "后到的标题", "正文"); !fault.Is(err, "NEWS_CHANGED") {
		t.Fatalf("late edit: %v", err)
	}
	var d struct{ Title string }
	w.Do("GET", "/v1/news/"+id, nil, w.Student("13800000009", "kmmc")...).Expect(t, 200, "").Decode(t, &d)
	if d.Title != "先到的标题" {
		t.Fatalf("title %q", d.Title)
	}
	edits := 0
	for _, r := range w.Audit() {
		if r["action"] == "news.edit" {
			edits++
		}
	}
	if edits != 1 {
		t.Fatalf("%d edit records", edits)
	}
}
