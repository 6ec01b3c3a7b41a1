package wechatpay

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error this package returns for a refused message wraps exactly one of them, so
// callers branch with errors.Is and log the wrapped text, which names the check that failed but never a
// key, a signature or a decrypted payload.
var (
	// ErrBadSignature: the signature headers are missing, malformed, or do not verify.
	ErrBadSignature = errors.New("wechatpay: bad signature")
	// ErrSignTestProbe is WeChat Pay's signature probe (Wechatpay-Signature starting with
	// "WECHATPAY/SIGNTEST/"). It wraps ErrBadSignature: the probe exists to check that merchants refuse it.
	ErrSignTestProbe = fmt.Errorf("%w: WECHATPAY/SIGNTEST probe", ErrBadSignature)
	// ErrStale: Wechatpay-Timestamp is MaxClockSkew or more away from our clock (a replay, or a bad clock).
	ErrStale = errors.New("wechatpay: timestamp out of the accepted window")
	// ErrUnknownSerial: Wechatpay-Serial names a key we were not configured with.
	ErrUnknownSerial = errors.New("wechatpay: unknown WeChat Pay key serial")
	// ErrMalformed: the message verified (or could not be verified because it is not even shaped right) but
	// its JSON is not what the protocol says.
	ErrMalformed = errors.New("wechatpay: malformed message")
	// ErrDecrypt: the AEAD_AES_256_GCM resource does not decrypt with our APIv3 key.
	ErrDecrypt = errors.New("wechatpay: cannot decrypt resource")
	// ErrUnsupportedEvent: a verified notification that is not TRANSACTION.SUCCESS. Nothing to credit;
	// acknowledge it so WeChat Pay stops resending.
	ErrUnsupportedEvent = errors.New("wechatpay: not a TRANSACTION.SUCCESS notification")

	// ErrMismatch: a transaction does not belong to the order we compared it with (Transaction.Matches).
	ErrMismatch = errors.New("wechatpay: transaction does not match the order")
	// ErrNotPaid: the transaction matches the order but trade_state is not SUCCESS.
	ErrNotPaid = errors.New("wechatpay: transaction is not paid")

	// ErrInvalidArgument: a caller-supplied argument would be refused by WeChat Pay; nothing was sent.
	ErrInvalidArgument = errors.New("wechatpay: invalid argument")
	// ErrConfig: the Config lacks something this operation needs.
	ErrConfig = errors.New("wechatpay: invalid configuration")
)

// APIError is a non-2xx answer from a /v3 endpoint: {"code":"...","message":"..."}.
//
// Useful codes: ORDER_NOT_EXIST (404, query of an unknown out_trade_no), ORDERPAID (close of a paid
// order), INVALID_REQUEST (an out_trade_no reused with different parameters), SYSTEM_ERROR and other 5xx
// (retry later with the same out_trade_no), SIGN_ERROR (our key or serial is wrong).
type APIError struct {
	StatusCode int
	Code       string
	Message    string
	// Verified reports whether the error answer carried a valid WeChat Pay signature. 2xx answers are always
	// verified; an unsigned or badly signed error (say a 502 from a proxy) is still returned, with Verified
	// false, so the caller can log it and retry; IsAPICode never matches it.
	Verified bool
}

func (e *APIError) Error() string {
	return fmt.Sprintf("wechatpay: HTTP %d %s: %s", e.StatusCode, e.Code, e.Message)
}

// Temporary reports whether retrying the same call later may succeed.
func (e *APIError) Temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == 429 || e.Code == "SYSTEM_ERROR" || e.Code == "FREQUENCY_LIMITED"
}

// IsAPICode reports whether err is an APIError with the given code (e.g. "ORDER_NOT_EXIST") that WeChat
// Pay signed. An unverified answer's code is whatever sat between us and WeChat Pay chose to write (a
// proxy, or a man in the middle saying ORDER_NOT_EXIST about a paid order), so it never matches: callers
// act on a code only when it is authentic, and treat anything else as a failure to retry later.
func IsAPICode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Verified && ae.Code == code
}

// IsUnverified reports whether err is an error answer whose signature did not verify.
func IsUnverified(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && !ae.Verified
}

// WeixinError is an errcode != 0 answer from the WeChat open platform (jscode2session).
type WeixinError struct {
	ErrCode int
	ErrMsg  string
}

func (e *WeixinError) Error() string {
	return fmt.Sprintf("wechatpay: weixin errcode %d: %s", e.ErrCode, e.ErrMsg)
}

// InvalidCode reports whether the login code itself was refused (invalid, or already used), which is the
// user's problem (ask for a fresh wx.login), as opposed to our configuration or a WeChat outage.
func (e *WeixinError) InvalidCode() bool { return e.ErrCode == 40029 || e.ErrCode == 40163 }
