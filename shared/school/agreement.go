package school

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/iam"
	"onecard/shared/plaintext"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// A school's user agreement (用户协议) and privacy policy (隐私政策) are published together under one
// version number, 1, 2, 3…: registering accepts the current version (the login page's 已阅读并同意用户协议
// box), and a new version asks every user for consent again at their next login (docs/decisions/0004).
// Version 0 means the school has published none yet (both texts empty).

// AgreementRule is the plain-text rule of both texts: required, multi-line, at most MaxTextChars.
var AgreementRule = plaintext.Rule{Max: MaxTextChars, Multiline: true}

var (
	ErrAgreementChanged = fault.E(fault.Conflict, "AGREEMENT_CHANGED", "用户协议刚被他人修改，请刷新后重试")
	errBadAgreement     = fault.Field("BAD_AGREEMENT_TEXT", "用户协议须为纯文本，不能为空，最多 20000 个字符，不能含控制字符")
	errBadPrivacy       = fault.Field("BAD_PRIVACY_TEXT", "隐私政策须为纯文本，不能为空，最多 20000 个字符，不能含控制字符")
)

// agreementHead is the current version of a school's texts (store.AgreementKey): small, because every
// login and registration reads it.
type agreementHead struct {
	store.Key
	SchoolID    string    `dynamodbav:"schoolId"`
	Version     int64     `dynamodbav:"version"`
	PublishedAt time.Time `dynamodbav:"publishedAt"`
}

// Agreement is one published version (store.AgreementVersionKey), written once and never changed.
type Agreement struct {
	store.Key
	SchoolID    string    `dynamodbav:"schoolId"`
	Version     int64     `dynamodbav:"version"`
	Agreement   string    `dynamodbav:"agreement"`
	Privacy     string    `dynamodbav:"privacy"`
	PublishedAt time.Time `dynamodbav:"publishedAt"`
	Author      string    `dynamodbav:"author"` // staff username, "seed" for the demo's
}

// AgreementView is GET /v1/agreement and the answer of PUT /v1/admin/school/agreement.
type AgreementView struct {
	SchoolID    string  `json:"schoolId"`
	Version     int64   `json:"version"`
	Agreement   string  `json:"agreement"`
	Privacy     string  `json:"privacy"`
	PublishedAt *string `json:"publishedAt"` // null while the school has published none
}

// View returns the public view of the version.
func (a *Agreement) View() AgreementView {
	v := AgreementView{SchoolID: a.SchoolID, Version: a.Version, Agreement: a.Agreement, Privacy: a.Privacy}
	if a.Version > 0 {
		t := a.PublishedAt.In(chinatime.Zone).Format(time.RFC3339)
		v.PublishedAt = &t
	}
	return v
}

// AgreementVersion returns the current version of a school's texts (0: none published); an unknown
// school is ErrUnknown.
func (r Repo) AgreementVersion(ctx context.Context, id string) (int64, error) {
	if id == "" || len(id) > 32 {
		return 0, ErrUnknown
	}
	var h agreementHead
	ok, err := r.S.Get(ctx, store.AgreementKey(id), &h)
	if err != nil {
		return 0, err
	}
	if !ok {
		if _, err := r.Get(ctx, id); err != nil {
			return 0, err
		}
		return 0, nil
	}
	return h.Version, nil
}

// Agreement returns the current version of a school's texts, with empty texts at version 0; an unknown
// school is ErrUnknown.
func (r Repo) Agreement(ctx context.Context, id string) (*Agreement, error) {
	v, err := r.AgreementVersion(ctx, id)
	if err != nil || v == 0 {
		return &Agreement{SchoolID: id}, err
	}
	var a Agreement
	ok, err := r.S.Get(ctx, store.AgreementVersionKey(id, v), &a)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("school: agreement head names a version that was never written")
	}
	return &a, nil
}

// AgreementInput is the body of PUT /v1/admin/school/agreement: version is the one the editor started
// from (the current one), so that two editors cannot overwrite each other unawares.
type AgreementInput struct {
	Version   *int64  `json:"version"`
	Agreement *string `json:"agreement"`
	Privacy   *string `json:"privacy"`
}

// PublishAgreement makes the texts the next version of the school's, in one transaction with the audit
// record, if version is still the current one. Texts that equal the current ones publish nothing (there
// is nothing new to agree to) and answer the current version.
func (r Repo) PublishAgreement(ctx context.Context, p auth.Principal, in *AgreementInput, now time.Time) (*Agreement, error) {
	switch {
	case in.Version == nil:
		return nil, missing("version")
	case in.Agreement == nil:
		return nil, missing("agreement")
	case in.Privacy == nil:
		return nil, missing("privacy")
	}
	agreement, bad := AgreementRule.Check(*in.Agreement)
	if bad != plaintext.OK {
		return nil, errBadAgreement
	}
	privacy, bad := AgreementRule.Check(*in.Privacy)
	if bad != plaintext.OK {
		return nil, errBadPrivacy
	}
	cur, err := r.Agreement(ctx, p.School)
	if err != nil {
		return nil, err
	}
	if *in.Version != cur.Version {
		return nil, ErrAgreementChanged
	}
	if cur.Version > 0 && cur.Agreement == agreement && cur.Privacy == privacy {
		return cur, nil
	}
	next := &Agreement{SchoolID: p.School, Version: cur.Version + 1, Agreement: agreement, Privacy: privacy,
		PublishedAt: now.UTC(), Author: p.Subject}
	err = r.S.Transact(ctx, append(next.writes(cur.Version),
		staff.AuditItem(staff.Actor(p), "agreement.publish", "school:"+p.School, map[string]any{"version": next.Version}, now)), "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && (tc.Failed(0) || tc.Failed(1)) {
		return nil, ErrAgreementChanged
	}
	if err != nil {
		return nil, err
	}
	return next, nil
}

// writes are the head, moved from version prev to a's, and a's own item.
func (a *Agreement) writes(prev int64) []types.TransactWriteItem {
	a.Key = store.AgreementVersionKey(a.SchoolID, a.Version)
	head := agreementHead{Key: store.AgreementKey(a.SchoolID), SchoolID: a.SchoolID, Version: a.Version, PublishedAt: a.PublishedAt}
	cond, vals := "version = :v", store.Values{":v": prev}.AV()
	if prev == 0 {
		cond, vals = store.IfAbsent, nil
	}
	putHead, err1 := store.PutItem(head, cond, vals)
	putVersion, err2 := store.PutItem(a, store.IfAbsent, nil)
	if err := errors.Join(err1, err2); err != nil {
		panic(err) // plain structs of strings, numbers and times always marshal
	}
	return []types.TransactWriteItem{putHead, putVersion}
}

// SeedAgreement publishes version 1 of a school's texts unless it has published one already (seeding).
func (r Repo) SeedAgreement(ctx context.Context, id, agreement, privacy string, now time.Time) error {
	a := &Agreement{SchoolID: id, Version: 1, Agreement: agreement, Privacy: privacy, PublishedAt: now.UTC(), Author: "seed"}
	err := r.S.Transact(ctx, a.writes(0), "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && tc.Failed(0) {
		return nil
	}
	return err
}

// AdminAgreementPut publishes a new version of the school's user agreement and privacy policy (admin,
// who edits the school's other texts too).
var AdminAgreementPut = fn.HTTP{Name: "AdminAgreementPut", Route: "PUT /v1/admin/school/agreement", Access: fn.Staff,
	Roles: []string{auth.RoleAdmin}, Actions: []string{iam.GetItem, iam.PutItem}, MaxBody: adminBody,
	Build: adminPut(func(repo Repo, ctx context.Context, p auth.Principal, in *AgreementInput, now time.Time) (AgreementView, error) {
		a, err := repo.PublishAgreement(ctx, p, in, now)
		if err != nil {
			return AgreementView{}, err
		}
		return a.View(), nil
	})}
