package store

import "context"

// Writes to login sessions (SessionKey) and one-time codes (CodeKey).

// RotateSession moves the session k from generation gen to next with the new refresh token's digest,
// only while it is still at gen and not revoked (else ErrConditionFailed: a reused token).
func (s *Store) RotateSession(ctx context.Context, k Key, gen, next int64, tokenHash string) error {
	return s.Update(ctx, k, "SET gen = :next, tokenHash = :h", "gen = :gen AND revoked = :f", nil,
		Values{":next": next, ":h": tokenHash, ":gen": gen, ":f": false}.AV())
}

// RevokeSession marks the session k revoked; ErrConditionFailed when there is no such session.
func (s *Store) RevokeSession(ctx context.Context, k Key) error {
	return s.Update(ctx, k, "SET revoked = :t", "attribute_exists(PK)", nil, Values{":t": true}.AV())
}

// CountCodeTry counts one more try of the code k, only while it is the code read (digest) with the tries
// read (else ErrConditionFailed: a concurrent try or a new code).
func (s *Store) CountCodeTry(ctx context.Context, k Key, tries int, digest string) error {
	return s.Update(ctx, k, "SET tries = tries + :one", "tries = :t AND digest = :d", nil,
		Values{":one": 1, ":t": tries, ":d": digest}.AV())
}
