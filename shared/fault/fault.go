// Package fault gives every error that can reach a client a kind, a stable code and a Chinese message.
//
// Domain code returns *fault.Error for anything the caller did or may fix; everything else is an internal
// error that httpapi turns into a 500 without its text. Kinds map to HTTP status in exactly one place
// (httpapi), so domain packages never think about status codes.
package fault

import (
	"errors"
	"fmt"
	"time"
)

// Kind classifies an error by what the caller can do about it.
type Kind int

const (
	Internal        Kind = iota // our fault; never shown in detail
	Invalid                     // 400: the request is malformed or a field is out of range
	Unauthenticated             // 401: not signed in, or bad credentials / signature
	Forbidden                   // 403: signed in but not allowed
	NotFound                    // 404
	Conflict                    // 409: already exists, already done, or state moved
	Rule                        // 422: a business rule refused it
	Locked                      // 423
	TooMany                     // 429: too soon or too many tries
	Unavailable                 // 503: a provider we depend on (WeChat Pay) did not answer; try again
	TooLarge                    // 413: the request body is over the route's limit
)

// Error is an error a client may see: Code and Message are public, Cause is for logs only.
type Error struct {
	Kind       Kind
	Code       string
	Message    string
	RetryAfter time.Duration // for TooMany
	// TriesLeft, when set, is how many more tries a secret check allows before it locks (triesLeft in
	// the answer), so that a client can warn before the last one.
	TriesLeft *int
	Cause     error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Cause }

// E builds a public error.
func E(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Wrap attaches an internal cause to a public error without exposing it.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.Cause = cause
	return &c
}

// After sets Retry-After on a TooMany error.
func (e *Error) After(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

// Left sets how many tries are left.
func (e *Error) Left(n int) *Error {
	c := *e
	c.TriesLeft = &n
	return &c
}

// As returns the public error inside err, if any.
func As(err error) (*Error, bool) {
	var fe *Error
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}

// Is reports whether err carries the given public code.
func Is(err error, code string) bool {
	fe, ok := As(err)
	return ok && fe.Code == code
}

// Common errors shared by several packages. Domain packages define their own next to their logic.
var (
	ErrBadJSON       = E(Invalid, "MALFORMED_JSON", "请求体不是合法的 JSON")
	ErrUnknownField  = E(Invalid, "UNKNOWN_FIELD", "请求中包含不支持的字段")
	ErrWrongType     = E(Invalid, "WRONG_TYPE", "请求字段类型不正确")
	ErrTooLarge      = E(TooLarge, "BODY_TOO_LARGE", "请求体过大")
	ErrUnauthorized  = E(Unauthenticated, "UNAUTHORIZED", "请先登录")
	ErrTokenInvalid  = E(Unauthenticated, "TOKEN_INVALID", "登录已失效，请重新登录")
	ErrForbidden     = E(Forbidden, "FORBIDDEN", "没有权限执行此操作")
	ErrNotFound      = E(NotFound, "NOT_FOUND", "请求的资源不存在")
	ErrIdemReused    = E(Conflict, "IDEMPOTENCY_KEY_REUSED", "该幂等键已用于另一笔不同的请求")
	ErrBadIdemKey    = E(Invalid, "BAD_IDEMPOTENCY_KEY", "Idempotency-Key 格式不正确（1–64 位字母、数字、-、_）")
	ErrInternal      = E(Internal, "INTERNAL", "服务暂时不可用，请稍后再试")
	ErrRouteNotFound = E(NotFound, "ROUTE_NOT_FOUND", "接口不存在")
)

// Field builds a 400 for one named field.
func Field(code, message string) *Error { return E(Invalid, code, message) }
