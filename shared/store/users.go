package store

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Writes to a user account (UserKey): its password, contacts, agreements, school, openid and the map of
// its bound cards (one card number per school).

// SetUserPassword replaces the password hash of userID's account, which must exist (else
// ErrConditionFailed).
func (s *Store) SetUserPassword(ctx context.Context, userID, hash string) error {
	return s.Update(ctx, UserKey(userID), "SET passwordHash = :h", "attribute_exists(PK)", nil,
		Values{":h": hash}.AV())
}

// UserPasswordItem is SetUserPassword of the account k as a transaction item.
func UserPasswordItem(k Key, hash string) types.TransactWriteItem {
	return UpdateItem(k, "SET passwordHash = :h", "attribute_exists(PK)", nil, Values{":h": hash}.AV())
}

// UserEmailItem sets the email of the account k (its digest and sealed address); the account must exist.
func UserEmailItem(k Key, digest, sealed string) types.TransactWriteItem {
	return UpdateItem(k, "SET emailDigest = :d, emailSealed = :e", "attribute_exists(PK)", nil,
		Values{":d": digest, ":e": sealed}.AV())
}

// ChangeUserPhone moves the account k from the phone oldDigest to newDigest (with its sealed number),
// only while the account still has oldDigest.
func ChangeUserPhone(k Key, oldDigest, newDigest, sealed string) types.TransactWriteItem {
	return UpdateItem(k, "SET phoneDigest = :n, phoneSealed = :s", "phoneDigest = :o", nil,
		Values{":n": newDigest, ":s": sealed, ":o": oldDigest}.AV())
}

// SetUserAgreement records that the account k accepted version of school's agreement, only when the
// account already has its agreements map (ErrConditionFailed otherwise: see InitUserAgreements).
func (s *Store) SetUserAgreement(ctx context.Context, k Key, school string, version int64) error {
	return s.Update(ctx, k, "SET agreements.#s = :v", "attribute_exists(agreements)", map[string]string{"#s": school},
		Values{":v": version}.AV())
}

// InitUserAgreements creates the agreements map of the account k with school's version, only when the
// account exists and has no map yet.
func (s *Store) InitUserAgreements(ctx context.Context, k Key, school string, version int64) error {
	return s.Update(ctx, k, "SET agreements = :m", "attribute_exists(PK) AND attribute_not_exists(agreements)", nil,
		Values{":m": map[string]int64{school: version}}.AV())
}

// SetUserSchool sets the school userID's account works in; the account must exist.
func (s *Store) SetUserSchool(ctx context.Context, userID, school string) error {
	return s.Update(ctx, UserKey(userID), "SET schoolId = :s", "attribute_exists(PK)", nil,
		Values{":s": school}.AV())
}

// SetUserOpenID stores the WeChat openid of userID's account; the account must exist.
func (s *Store) SetUserOpenID(ctx context.Context, userID, openID string) error {
	return s.Update(ctx, UserKey(userID), "SET openId = :o", "attribute_exists(PK)", nil,
		Values{":o": openID}.AV())
}

// UserCardsItem starts the bound-cards map of the account k with cardNo for school (for an account that
// has none); the account must exist.
func UserCardsItem(k Key, school, cardNo string) types.TransactWriteItem {
	return UpdateItem(k, "SET cards = :m", "attribute_exists(PK)", nil,
		Values{":m": map[string]string{school: cardNo}}.AV())
}

// UserCardItem sets the account k's card of school to cardNo in its existing bound-cards map; the
// account must exist.
func UserCardItem(k Key, school, cardNo string) types.TransactWriteItem {
	return UpdateItem(k, "SET cards.#s = :c", "attribute_exists(PK)", map[string]string{"#s": school},
		Values{":c": cardNo}.AV())
}

// UnbindUserCardItem takes school's card off the account k, whatever card it was; the account must exist.
func UnbindUserCardItem(k Key, school string) types.TransactWriteItem {
	return UpdateItem(k, "REMOVE cards.#s", "attribute_exists(PK)", map[string]string{"#s": school}, nil)
}

// DropUserCardItem takes school's card off the account k only while it is cardNo.
func DropUserCardItem(k Key, school, cardNo string) types.TransactWriteItem {
	return UpdateItem(k, "REMOVE cards.#s", "cards.#s = :c", map[string]string{"#s": school}, Values{":c": cardNo}.AV())
}

// MoveUserCard rebinds userID's account from cardNo to newCardNo in school, only while it is bound to
// cardNo (else ErrConditionFailed).
func (s *Store) MoveUserCard(ctx context.Context, userID, school, cardNo, newCardNo string) error {
	return s.Update(ctx, UserKey(userID), "SET cards.#s = :n", "cards.#s = :o", map[string]string{"#s": school},
		Values{":n": newCardNo, ":o": cardNo}.AV())
}

// DropUserCard takes school's card off userID's account, only while it is cardNo (else
// ErrConditionFailed).
func (s *Store) DropUserCard(ctx context.Context, userID, school, cardNo string) error {
	return s.Update(ctx, UserKey(userID), "REMOVE cards.#s", "cards.#s = :o", map[string]string{"#s": school},
		Values{":o": cardNo}.AV())
}
