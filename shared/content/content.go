// Package content is what the mini program's home and 我的 pages show besides money: a school's news
// (热门新闻) and notices (通知), written by staff, and its help (使用帮助) and about (关于) texts.
//
// A school's published content is public: the login and home pages read it before anyone signs in, by
// naming the school (?schoolId=). Without a schoolId the request must be signed in, and it is served for
// the school the student is in now: the school is read from the user item, not from the token, so that
// after 切换学校 the next request shows the new school's content rather than the old one's until the
// access token expires (docs/decisions/0004). Only published items are ever served to students. Texts
// are plain text (shared/plaintext): clients render them as text, never as HTML.
package content

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/accounts"
	"onecard/shared/auth"
	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/plaintext"
	"onecard/shared/school"
	"onecard/shared/secret"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// Kinds of item.
const (
	KindNews   = "news"   // 热门新闻
	KindNotice = "notice" // 通知
)

// Status of an item.
const (
	Published   = "published"
	Unpublished = "unpublished"
)

// Limits of what staff write.
const (
	MaxTitle   = 100
	MaxBody    = 20000
	SummaryLen = 80
)

var (
	TitleRule = plaintext.Rule{Max: MaxTitle}
	BodyRule  = plaintext.Rule{Max: MaxBody, Multiline: true}
)

var (
	ErrNotFound     = fault.E(fault.NotFound, "NEWS_NOT_FOUND", "该新闻或通知不存在或已下架")
	ErrBadKind      = fault.Field("BAD_KIND", "kind 须为 news（新闻）或 notice（通知）")
	ErrChanged      = fault.E(fault.Conflict, "NEWS_CHANGED", "该内容刚被他人修改，请刷新后重试")
	ErrNotPublished = fault.E(fault.Conflict, "NOT_PUBLISHED", "该内容已下架")
	ErrPublished    = fault.E(fault.Conflict, "ALREADY_PUBLISHED", "该内容已发布")
	errBadCursor    = fault.Field("BAD_CURSOR", "分页游标无效")
)

func titleError(p plaintext.Problem) error {
	switch p {
	case plaintext.Empty:
		return fault.Field("BAD_TITLE", "标题不能为空")
	case plaintext.TooLong:
		return fault.Field("BAD_TITLE", "标题最多 100 个字符")
	default:
		return fault.Field("BAD_TITLE", "标题须为单行纯文本，不能含换行、控制字符或文字方向控制符")
	}
}

func bodyError(p plaintext.Problem) error {
	switch p {
	case plaintext.Empty:
		return fault.Field("BAD_BODY", "正文不能为空")
	case plaintext.TooLong:
		return fault.Field("BAD_BODY", "正文最多 20000 个字符")
	default:
		return fault.Field("BAD_BODY", "正文须为纯文本，不能含控制字符或文字方向控制符（换行和制表符可以）")
	}
}

// Item is one news item or notice.
type Item struct {
	store.Key
	store.InGSI1           // NewsListPK(school, kind), <1|0>#<publishedAt>#<id> while published
	SchoolID     string    `dynamodbav:"schoolId"`
	ID           string    `dynamodbav:"newsId"`
	Kind         string    `dynamodbav:"kind"`
	Title        string    `dynamodbav:"title"`
	Body         string    `dynamodbav:"body"`
	Pinned       bool      `dynamodbav:"pinned"`
	Status       string    `dynamodbav:"status"`
	PublishedAt  time.Time `dynamodbav:"publishedAt"`
	UpdatedAt    time.Time `dynamodbav:"updatedAt"`
	Author       string    `dynamodbav:"author"` // staff username; shown to staff only
	Rev          int64     `dynamodbav:"rev"`
}

const skTime = "2006-01-02T15:04:05.000000000Z" // fixed width, so GSI1SK sorts by time

// index puts the item in its list while it is published, pinned items first.
func (it *Item) index() {
	if it.Status != Published {
		it.GSI1PK, it.GSI1SK = "", ""
		return
	}
	pin := "0"
	if it.Pinned {
		pin = "1"
	}
	it.GSI1PK = store.NewsListPK(it.SchoolID, it.Kind)
	it.GSI1SK = pin + "#" + it.PublishedAt.UTC().Format(skTime) + "#" + it.ID
}

// state is what the audit trail records of an item.
func (it *Item) state() map[string]any {
	return map[string]any{"kind": it.Kind, "title": it.Title, "body": it.Body, "pinned": it.Pinned, "status": it.Status}
}

// changes returns the fields that differ between two states.
func changes(before, after map[string]any) (map[string]any, map[string]any) {
	b, a := map[string]any{}, map[string]any{}
	for k, v := range after {
		if before[k] != v {
			b[k], a[k] = before[k], v
		}
	}
	return b, a
}

func rfc(t time.Time) string { return t.In(chinatime.Zone).Format(time.RFC3339) }

// Summary is the start of a body for lists: line breaks become spaces, at most SummaryLen characters.
func Summary(body string) string {
	s := strings.Join(strings.Fields(body), " ")
	if utf8.RuneCountInString(s) <= SummaryLen {
		return s
	}
	r := []rune(s)
	return string(r[:SummaryLen]) + "…"
}

// ListItem is an entry of GET /v1/news and /v1/notices.
type ListItem struct {
	NewsID      string `json:"newsId"`
	Kind        string `json:"kind"`
	Title       string `json:"title"`
	Summary     string `json:"summary"`
	Pinned      bool   `json:"pinned"`
	PublishedAt string `json:"publishedAt"`
	UpdatedAt   string `json:"updatedAt"`
}

// Detail is GET /v1/news/{id}.
type Detail struct {
	NewsID      string `json:"newsId"`
	Kind        string `json:"kind"`
	Title       string `json:"title"`
	Body        string `json:"body"`
	Pinned      bool   `json:"pinned"`
	PublishedAt string `json:"publishedAt"`
	UpdatedAt   string `json:"updatedAt"`
}

// StaffView is an item as the console shows it.
type StaffView struct {
	Detail
	Status string `json:"status"`
	Author string `json:"author"`
}

func (it *Item) listItem() ListItem {
	return ListItem{it.ID, it.Kind, it.Title, Summary(it.Body), it.Pinned, rfc(it.PublishedAt), rfc(it.UpdatedAt)}
}

func (it *Item) detail() Detail {
	return Detail{it.ID, it.Kind, it.Title, it.Body, it.Pinned, rfc(it.PublishedAt), rfc(it.UpdatedAt)}
}

// StaffView returns the console's view of the item.
func (it *Item) StaffView() StaffView { return StaffView{it.detail(), it.Status, it.Author} }

// Page is one page of a list.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"nextCursor"`
}

// Service serves and edits content.
type Service struct {
	S       *store.Store
	Users   accounts.Users
	Schools school.Repo
	Now     func() time.Time
}

// NewService wires the service.
func NewService(s *store.Store, now func() time.Time) *Service {
	return &Service{S: s, Users: accounts.Users{S: s}, Schools: school.Repo{S: s}, Now: now}
}

// SchoolFor is the school a student route serves (see the package comment): the one named by
// schoolID when named (a request without a token; it must exist), else the signed-in caller's current
// school, from the user item.
func (s *Service) SchoolFor(ctx context.Context, schoolID string, named bool) (string, error) {
	if named {
		if _, err := s.Schools.Get(ctx, schoolID); err != nil {
			return "", err
		}
		return schoolID, nil
	}
	p, ok := auth.From(ctx)
	if !ok {
		return "", fault.ErrUnauthorized
	}
	u, ok, err := s.Users.Get(ctx, p.Subject)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", accounts.ErrUserGone
	}
	return u.SchoolID, nil
}

// validID: 14 digits of time and 6 random digits.
func validID(id string) bool {
	if len(id) != 20 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

func (s *Service) get(ctx context.Context, schoolID, id string) (*Item, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	var it Item
	ok, err := s.S.Get(ctx, store.NewsKey(schoolID, id), &it)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return &it, nil
}

// List returns the published items of kind in school sch: pinned first, then newest first.
func (s *Service) List(ctx context.Context, sch, kind string, limit int, cursor string) (*Page[ListItem], error) {
	q := store.Query{Index: store.GSI1, PK: store.NewsListPK(sch, kind), Newest: true, Limit: limit}
	if cursor != "" {
		sk, id, err := parseListCursor(cursor)
		if err != nil {
			return nil, err
		}
		start := store.NewsKey(sch, id)
		q.Start, q.StartSK = &start, sk
	}
	var items []Item
	next, err := s.S.Page(ctx, q, &items)
	if err != nil {
		return nil, err
	}
	out := &Page[ListItem]{Items: []ListItem{}}
	for i := range items {
		out.Items = append(out.Items, items[i].listItem())
	}
	if next != nil && len(items) > 0 {
		c := base64.RawURLEncoding.EncodeToString([]byte(next.SK))
		out.NextCursor = &c
	}
	return out, nil
}

// parseListCursor checks a cursor of List: the GSI1SK of the last item shown.
func parseListCursor(c string) (sk, id string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) > 80 {
		return "", "", errBadCursor
	}
	parts := strings.Split(string(b), "#")
	if len(parts) != 3 || (parts[0] != "0" && parts[0] != "1") || !validID(parts[2]) {
		return "", "", errBadCursor
	}
	if _, err := time.Parse(skTime, parts[1]); err != nil {
		return "", "", errBadCursor
	}
	return string(b), parts[2], nil
}

// Get returns a published item of school sch.
func (s *Service) Get(ctx context.Context, sch, id string) (*Detail, error) {
	it, err := s.get(ctx, sch, id)
	if err != nil {
		return nil, err
	}
	if it.Status != Published {
		return nil, ErrNotFound
	}
	d := it.detail()
	return &d, nil
}

// Text is GET /v1/help and /v1/about.
type Text struct {
	SchoolID string `json:"schoolId"`
	Text     string `json:"text"`
}

// Texts returns the help and about texts of school sch.
func (s *Service) Texts(ctx context.Context, sch string) (help, about Text, err error) {
	h, a, err := s.Schools.Texts(ctx, sch)
	if err != nil {
		return help, about, err
	}
	return Text{sch, h}, Text{sch, a}, nil
}

// Draft is what staff write.
type Draft struct {
	Kind   string
	Title  string
	Body   string
	Pinned bool
}

// checkText validates and normalises a title and body.
func checkText(title, body string) (string, string, error) {
	t, p := TitleRule.Check(title)
	if p != plaintext.OK {
		return "", "", titleError(p)
	}
	b, p := BodyRule.Check(body)
	if p != plaintext.OK {
		return "", "", bodyError(p)
	}
	return t, b, nil
}

// NewID returns a new item id: the time to the second and six random digits, so ids sort by time.
func NewID(now time.Time) (string, error) {
	r, err := secret.Code(6)
	if err != nil {
		return "", err
	}
	return now.UTC().Format("20060102150405") + r, nil
}

// Create publishes a new item in the staff member's school.
func (s *Service) Create(ctx context.Context, p auth.Principal, d Draft) (*Item, error) {
	if d.Kind != KindNews && d.Kind != KindNotice {
		return nil, ErrBadKind
	}
	title, body, err := checkText(d.Title, d.Body)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	id, err := NewID(now)
	if err != nil {
		return nil, err
	}
	it := &Item{Key: store.NewsKey(p.School, id), SchoolID: p.School, ID: id, Kind: d.Kind, Title: title, Body: body,
		Pinned: d.Pinned, Status: Published, PublishedAt: now, UpdatedAt: now, Author: p.Subject}
	it.index()
	put, err := store.PutItem(it, store.IfAbsent, nil)
	if err != nil {
		return nil, err
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{put,
		staff.AuditItem(staff.Actor(p), "news.create", "news:"+id, map[string]any{"before": nil, "after": it.state()}, now)}, "")
	if err != nil {
		return nil, err
	}
	return it, nil
}

// Put writes an item as it is, without audit (seeding only).
func (s *Service) Put(ctx context.Context, it *Item) error {
	it.Key = store.NewsKey(it.SchoolID, it.ID)
	it.index()
	return s.S.Put(ctx, it, "", nil)
}

// change reads the item, lets edit change it, and writes it back if nobody changed it meanwhile, in
// one transaction with an audit record of the fields that changed.
func (s *Service) change(ctx context.Context, p auth.Principal, id, action string, edit func(it *Item) error) (*Item, error) {
	it, err := s.get(ctx, p.School, id)
	if err != nil {
		return nil, err
	}
	before := it.state()
	rev := it.Rev
	if err := edit(it); err != nil {
		return nil, err
	}
	b, a := changes(before, it.state())
	if len(a) == 0 {
		return it, nil // nothing to change, nothing to record
	}
	now := s.Now().UTC()
	it.Rev, it.UpdatedAt = rev+1, now
	it.index()
	put, err := store.PutItem(it, store.IfExists+" AND rev = :r", store.Values{":r": rev}.AV())
	if err != nil {
		return nil, err
	}
	err = s.S.Transact(ctx, []types.TransactWriteItem{put,
		staff.AuditItem(staff.Actor(p), action, "news:"+id, map[string]any{"before": b, "after": a}, now)}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(0) {
		return nil, ErrChanged
	}
	if err != nil {
		return nil, err
	}
	return it, nil
}

// Edit replaces the title and body of an item (published or not); it keeps its place in the list.
func (s *Service) Edit(ctx context.Context, p auth.Principal, id, title, body string) (*Item, error) {
	title, body, err := checkText(title, body)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, p, id, "news.edit", func(it *Item) error {
		it.Title, it.Body = title, body
		return nil
	})
}

// SetPublished unpublishes (the item leaves the lists and its page answers 404) or publishes again
// (it returns to its former place: publishedAt is kept).
func (s *Service) SetPublished(ctx context.Context, p auth.Principal, id string, on bool) error {
	action := "news.unpublish"
	if on {
		action = "news.publish"
	}
	_, err := s.change(ctx, p, id, action, func(it *Item) error {
		switch {
		case on && it.Status == Published:
			return ErrPublished
		case !on && it.Status != Published:
			return ErrNotPublished
		}
		it.Status = Unpublished
		if on {
			it.Status = Published
		}
		return nil
	})
	return err
}

// Pin pins an item to the top of its list, or unpins it.
func (s *Service) Pin(ctx context.Context, p auth.Principal, id string, pinned bool) (*Item, error) {
	action := "news.unpin"
	if pinned {
		action = "news.pin"
	}
	return s.change(ctx, p, id, action, func(it *Item) error {
		it.Pinned = pinned
		return nil
	})
}

// StaffList returns every item of the staff member's school, published or not, newest first;
// kind, when set, keeps one kind.
func (s *Service) StaffList(ctx context.Context, p auth.Principal, kind string, limit int, cursor string) (*Page[StaffView], error) {
	if kind != "" && kind != KindNews && kind != KindNotice {
		return nil, ErrBadKind
	}
	all := store.NewsKey(p.School, "") // the school's partition, and the sort keys' prefix
	q := store.Query{PK: all.PK, Prefix: all.SK, Newest: true, Limit: limit}
	if kind != "" {
		q.Equal = map[string]any{"kind": kind}
	}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !validID(string(b)) {
			return nil, errBadCursor
		}
		start := store.NewsKey(p.School, string(b))
		q.Start = &start
	}
	var items []Item
	next, err := s.S.Page(ctx, q, &items)
	if err != nil {
		return nil, err
	}
	out := &Page[StaffView]{Items: []StaffView{}}
	for i := range items {
		out.Items = append(out.Items, items[i].StaffView())
	}
	// With a filter a page may hold fewer items than were read: continue after the last one read.
	if next != nil {
		c := base64.RawURLEncoding.EncodeToString([]byte(strings.TrimPrefix(next.Key.SK, all.SK)))
		out.NextCursor = &c
	}
	return out, nil
}
