// Package httpapi is the HTTP glue shared by every function: strict JSON decoding, the public error
// shape, request ids and the access log line.
package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"onecard/shared/fault"
)

// Handler is an http handler that returns its error instead of writing it, so that the one place
// below decides what a client sees.
type Handler func(w http.ResponseWriter, r *http.Request) error

// Body limits (docs/api/openapi.yaml).
const (
	AppBodyLimit    = 64 << 10
	DeviceBodyLimit = 1 << 20
)

type ctxKey int

const (
	logKey ctxKey = iota
	reqIDKey
)

// WithLogger stores the request's logger in ctx.
func WithLogger(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, logKey, l)
}

// Log returns the request's logger (request id and function already attached).
func Log(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(logKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// WithRequestID stores the request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, reqIDKey, id)
}

// RequestID returns the id the gateway gave this request.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(reqIDKey).(string)
	return s
}

// ReadBody reads at most limit bytes; a larger body is a 413 BODY_TOO_LARGE.
func ReadBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		if tooLarge(err) {
			return nil, fault.ErrTooLarge
		}
		return nil, fault.ErrBadJSON.Wrap(err)
	}
	if int64(len(b)) > limit {
		return nil, fault.ErrTooLarge
	}
	return b, nil
}

// Decode reads a JSON body strictly: no unknown fields, right types, one value, within the limit.
func Decode(r *http.Request, limit int64, v any) error {
	b, err := ReadBody(r, limit)
	if err != nil {
		return err
	}
	return DecodeBytes(b, v)
}

// DecodeBytes is Decode for a body already read.
func DecodeBytes(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return fault.E(fault.Invalid, "EMPTY_BODY", "请求体不能为空")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var synErr *json.SyntaxError
		switch {
		case errors.As(err, &typeErr):
			return &fault.Error{Kind: fault.Invalid, Code: fault.ErrWrongType.Code,
				Message: "字段 " + typeErr.Field + " 类型不正确", Cause: err}
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return &fault.Error{Kind: fault.Invalid, Code: fault.ErrUnknownField.Code,
				Message: "不支持的字段: " + field, Cause: err}
		case errors.As(err, &synErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
			return fault.ErrBadJSON.Wrap(err)
		default:
			return fault.ErrBadJSON.Wrap(err)
		}
	}
	if dec.More() {
		return fault.E(fault.Invalid, "MALFORMED_JSON", "请求体只能包含一个 JSON 对象")
	}
	// A trailing token that is not a value (e.g. "}") is also malformed.
	if _, err := dec.Token(); err != io.EOF {
		return fault.E(fault.Invalid, "MALFORMED_JSON", "请求体只能包含一个 JSON 对象")
	}
	return nil
}

// JSON writes v with the given status.
func JSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}

// NoContent writes 204.
func NoContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type errorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		TriesLeft  *int   `json:"triesLeft,omitempty"`
		RetryAfter int64  `json:"retryAfter,omitempty"`
	} `json:"error"`
}

// Status maps an error kind to its HTTP status. This is the only such mapping in the project.
func Status(k fault.Kind) int {
	switch k {
	case fault.Invalid:
		return http.StatusBadRequest
	case fault.Unauthenticated:
		return http.StatusUnauthorized
	case fault.Forbidden:
		return http.StatusForbidden
	case fault.NotFound:
		return http.StatusNotFound
	case fault.Conflict:
		return http.StatusConflict
	case fault.Rule:
		return http.StatusUnprocessableEntity
	case fault.Locked:
		return http.StatusLocked
	case fault.TooMany:
		return http.StatusTooManyRequests
	case fault.Unavailable:
		return http.StatusServiceUnavailable
	case fault.TooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusInternalServerError
	}
}

// WriteError writes err in the documented error shape (docs/api/openapi.yaml). Internal errors are logged and answered without detail.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	if tooLarge(err) {
		err = fault.ErrTooLarge // a handler that read past the route's body limit (http.MaxBytesReader)
	}
	fe, ok := fault.As(err)
	if !ok || fe.Kind == fault.Internal {
		Log(r.Context()).Error("internal error", "err", err.Error())
		fe = fault.ErrInternal
	} else if fe.Cause != nil {
		Log(r.Context()).Info("request refused", "code", fe.Code, "cause", fe.Cause.Error())
	}
	status := Status(fe.Kind)
	var body errorBody
	if (fe.Kind == fault.TooMany || fe.Kind == fault.Unavailable || fe.Kind == fault.Locked) && fe.RetryAfter > 0 {
		secs := int64(fe.RetryAfter.Seconds() + 0.999)
		w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
		body.Error.RetryAfter = secs
	}
	body.Error.Code, body.Error.Message, body.Error.TriesLeft = fe.Code, fe.Message, fe.TriesLeft
	_ = JSON(w, status, body)
}

// tooLarge reports whether err is the body limit's (fn wraps every body in http.MaxBytesReader).
func tooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// Upload is the handler of a staff file upload (a CSV import): the raw body, at most DeviceBodyLimit,
// read by parse, then applied by apply, whose report is the 200 answer.
func Upload[Rows, Report any](parse func([]byte) (Rows, error), apply func(*http.Request, Rows) (Report, error)) Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := ReadBody(r, DeviceBodyLimit)
		if err != nil {
			return err
		}
		rows, err := parse(body)
		if err != nil {
			return err
		}
		rep, err := apply(r, rows)
		if err != nil {
			return err
		}
		return JSON(w, http.StatusOK, rep)
	}
}

// Command is the whole handler of a route that takes a JSON body, acts on it and answers 204: the body
// is decoded strictly into In (within limit), then call acts. The route's own code is only call.
func Command[In any](limit int64, call func(r *http.Request, in *In) error) Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in In
		if err := Decode(r, limit, &in); err != nil {
			return err
		}
		if err := call(r, &in); err != nil {
			return err
		}
		return NoContent(w)
	}
}

// Answer is the whole handler of a route that reads and answers 200 with call's result.
func Answer[Out any](call func(r *http.Request) (Out, error)) Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		out, err := call(r)
		if err != nil {
			return err
		}
		return JSON(w, http.StatusOK, out)
	}
}

// Act is the whole handler of a route that takes a JSON body (decoded strictly into In, within limit),
// acts on it and answers 200 with call's result.
func Act[In, Out any](limit int64, call func(r *http.Request, in *In) (Out, error)) Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in In
		if err := Decode(r, limit, &in); err != nil {
			return err
		}
		out, err := call(r, &in)
		if err != nil {
			return err
		}
		return JSON(w, http.StatusOK, out)
	}
}

// Make is Act for a route that creates something: 201 when call created it, 200 with what stands when
// the same request came before (an idempotent retry).
func Make[In, Out any](limit int64, call func(r *http.Request, in *In) (out Out, created bool, err error)) Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		var in In
		if err := Decode(r, limit, &in); err != nil {
			return err
		}
		out, created, err := call(r, &in)
		if err != nil {
			return err
		}
		status := http.StatusOK
		if created {
			status = http.StatusCreated
		}
		return JSON(w, status, out)
	}
}
