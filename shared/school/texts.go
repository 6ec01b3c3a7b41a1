package school

import (
	"context"

	"onecard/shared/store"
)

// texts is a school's 使用帮助 and 关于, plain text (docs/staff-console.md), in their own item.
type texts struct {
	store.Key
	SchoolID string `dynamodbav:"schoolId"`
	Help     string `dynamodbav:"help"`
	About    string `dynamodbav:"about"`
}

func textsOf(s *School) texts {
	return texts{Key: store.SchoolTextsKey(s.ID), SchoolID: s.ID, Help: s.Help, About: s.About}
}

// Texts returns the help and about texts of a school; a school that has none has empty ones. An
// unknown school is ErrUnknown.
func (r Repo) Texts(ctx context.Context, id string) (help, about string, err error) {
	if id == "" || len(id) > 32 {
		return "", "", ErrUnknown
	}
	var t texts
	ok, err := r.S.Get(ctx, store.SchoolTextsKey(id), &t)
	if err != nil {
		return "", "", err
	}
	if !ok {
		if _, err := r.Get(ctx, id); err != nil {
			return "", "", err
		}
	}
	return t.Help, t.About, nil
}
