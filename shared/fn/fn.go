// Package fn describes a Lambda function of this project: its name in template.yaml, its route, who may
// call it, the AWS actions its code performs, and how to build its handler from platform.Deps.
//
// The same description is used by the function's main (Start), by the local API server and by the tests
// that keep template.yaml honest, so a route cannot exist in one place and not in another.
package fn

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"onecard/shared/auth"
	"onecard/shared/fault"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
	"onecard/shared/store"
)

// Access says who may call a route.
type Access int

const (
	Public Access = iota // anyone (register, login, school list)
	User                 // a student's access token
	Staff                // a staff token with one of Roles (admin always)
	Signed               // the handler verifies a signature itself (devices, WeChat Pay)
	// SchoolOrUser serves what a school shows before login (help, about, news, the user agreement): a
	// request that names its school (?schoolId=) is served as Public, without looking at a token or
	// reading a session; one that does not must carry a user's token, checked as for User, and is
	// served for the user's school (docs/decisions/0004).
	SchoolOrUser
)

// SchoolParam is the query parameter by which a SchoolOrUser request names its school.
const SchoolParam = "schoolId"

// checksUser tells whether a request to a route of access a may carry a user's token to check.
func (a Access) checksUser() bool { return a == User || a == SchoolOrUser }

// HTTP describes one HTTP-triggered function.
type HTTP struct {
	Name    string   // LogicalId in template.yaml, e.g. "AuthLogin"
	Route   string   // "POST /v1/auth/login", exactly as the template's HttpApi event
	Access  Access   // who may call it
	Roles   []string // for Staff: any of these
	Actions []string // AWS actions the code calls, e.g. "dynamodb:GetItem"; template.yaml grants exactly these
	Env     []string // extra environment variables from the template's parameters
	// MaxBody overrides the app body limit (device routes take 1 MiB).
	MaxBody int64
	Timeout int // seconds, when the global 10 s is not enough; at most MaxHTTPTimeout
	// OwnPassword marks the staff route that changes the caller's own password: the only one a member
	// may call while a password change is required (a new member, or after an admin's reset).
	OwnPassword bool
	Build       func(d *platform.Deps) httpapi.Handler
}

// Using is a route's Build from the service it works with: service is made once per cold start from the
// Deps, and h makes the handler over it.
func Using[S any](service func(*platform.Deps) S, h func(S) httpapi.Handler) func(*platform.Deps) httpapi.Handler {
	return func(d *platform.Deps) httpapi.Handler { return h(service(d)) }
}

// MaxHTTPTimeout is the HTTP API's integration timeout (30 s): API Gateway answers 503 after it, so a
// route's function running longer works for nobody. Longer work runs off the request path (a job
// polled by the client, as the books' reconcile does).
const MaxHTTPTimeout = 30

// Dir is the folder of the function's main under functions/.
func (f HTTP) Dir() string { return "functions/" + kebab(f.Name) }

// IAM is every AWS action the function performs: its own Actions, the read of the application secret
// (Start), and on a staff or user route the GetItem of the caller check in Handler. template.yaml
// grants exactly these.
func (f HTTP) IAM() []string {
	acts := withSecretRead(f.Actions)
	if (f.Access == Staff || f.Access.checksUser()) && !slices.Contains(acts, callerCheckAction) {
		acts = append(acts, callerCheckAction)
	}
	return acts
}

// Secrets names the template parameters of the secrets the function may read (each grant of
// secretsmanager:GetSecretValue is on exactly these).
func (f HTTP) Secrets() []string { return secretsOf(f.Actions) }

// SecretRead is the action that reads a Secrets Manager secret. Every function performs it on the
// application secret (its keys, on the first request); a function that lists it in its own Actions
// also reads the WeChat Pay secret.
const SecretRead = iam.GetSecretValue

// The template parameters that name the secrets.
const (
	AppSecretParam    = "AppSecretName"
	WeChatSecretParam = "WeChatPaySecretName"
)

func withSecretRead(actions []string) []string {
	acts := slices.Clone(actions)
	if !slices.Contains(acts, SecretRead) {
		acts = append(acts, SecretRead)
	}
	return acts
}

func secretsOf(actions []string) []string {
	if slices.Contains(actions, SecretRead) {
		return []string{AppSecretParam, WeChatSecretParam}
	}
	return []string{AppSecretParam}
}

// Method and Path split Route.
func (f HTTP) Method() string { m, _, _ := strings.Cut(f.Route, " "); return m }
func (f HTTP) Path() string   { _, p, _ := strings.Cut(f.Route, " "); return p }

// Handler builds the complete http.Handler: route match (so r.PathValue works), access check, body
// limit, panic recovery, error mapping and one structured log line per request.
func (f HTTP) Handler(d *platform.Deps) http.Handler {
	h := f.Build(d)
	tokens := auth.NewTokens(d.Cfg.JWTKey, d.Cfg.AccessTTL, d.Now)
	var callers *store.Store
	if f.Access == Staff || f.Access.checksUser() {
		callers = d.Store()
	}
	limit := f.MaxBody
	if limit == 0 {
		limit = httpapi.AppBodyLimit
	}
	mux := http.NewServeMux()
	mux.HandleFunc(f.Route, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit+1)
		ctx, err := f.check(r, tokens, callers, d.Now)
		if err != nil {
			httpapi.WriteError(w, r, err)
			return
		}
		r = r.WithContext(ctx)
		if err := h(w, r); err != nil {
			httpapi.WriteError(w, r, err)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteError(w, r, fault.ErrRouteNotFound)
	})
	return observe(f.Name, d.Log, mux)
}

// check verifies the caller and returns the context that carries it (and a logger naming it).
func (f HTTP) check(r *http.Request, tokens *auth.Tokens, callers *store.Store, now func() time.Time) (context.Context, error) {
	ctx := r.Context()
	switch f.Access {
	case Public, Signed:
		return ctx, nil
	case SchoolOrUser:
		if r.URL.Query().Has(SchoolParam) {
			return ctx, nil
		}
	}
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return ctx, fault.ErrUnauthorized
	}
	kind := auth.KindUser
	if f.Access == Staff {
		kind = auth.KindStaff
	}
	p, err := tokens.Verify(strings.TrimSpace(raw), kind)
	if err != nil {
		return ctx, err
	}
	if f.Access == Staff {
		var mustChange bool
		if p, mustChange, err = checkStaff(ctx, callers, p); err != nil {
			return ctx, err
		}
		if mustChange && !f.OwnPassword {
			return ctx, ErrPasswordChangeRequired
		}
		if !p.HasRole(f.Roles...) {
			return ctx, fault.ErrForbidden
		}
	} else if err := checkSession(ctx, callers, p, now()); err != nil {
		return ctx, err
	}
	ctx = httpapi.WithLogger(auth.With(ctx, p), httpapi.Log(ctx).With("caller", p.Kind+":"+p.Subject))
	return ctx, nil
}

// callerCheckAction is what the caller check reads with: the staff member's item, or the user's session.
const callerCheckAction = iam.GetItem

// sessionRecord is the part of a user's session (accounts.session, key store.SessionKey) that every
// user request reads, so that logging out, a password change or a reset, and a reused refresh token end
// the session's access tokens at once instead of when they expire (docs/decisions/0007).
type sessionRecord struct {
	Revoked   bool      `dynamodbav:"revoked"`
	ExpiresAt time.Time `dynamodbav:"expiresAt"`
}

var errSessionEnded = fault.E(fault.Unauthenticated, "TOKEN_REVOKED", "登录已失效，请重新登录")

// checkSession refuses an access token whose session was revoked, has expired, or never existed.
func checkSession(ctx context.Context, s *store.Store, p auth.Principal, now time.Time) error {
	if p.Family == "" {
		return errSessionEnded
	}
	var m sessionRecord
	ok, err := s.Get(ctx, store.SessionKey(p.Subject, p.Family), &m)
	if err != nil {
		return err
	}
	if !ok || m.Revoked || !now.Before(m.ExpiresAt) {
		return errSessionEnded
	}
	return nil
}

// staffRecord is the part of a staff item (staff.Member, key store.StaffKey) that every staff request
// reads, so that disabling a member, changing their roles or resetting their password takes effect on
// their next request instead of when their 8-hour token expires (docs/decisions/0003).
type staffRecord struct {
	Roles    []string `dynamodbav:"roles"`
	SchoolID string   `dynamodbav:"schoolId"`
	Disabled bool     `dynamodbav:"disabled"`
	TokenGen int64    `dynamodbav:"tokenGen"`
	// MustChange: the member signs in with a password an admin chose (a new member, a reset) and must
	// set their own before anything else.
	MustChange bool `dynamodbav:"mustChangePassword"`
}

// ErrPasswordChangeRequired refuses every staff route but the own-password one while the member's
// password is one an admin set.
var ErrPasswordChangeRequired = fault.E(fault.Forbidden, "PASSWORD_CHANGE_REQUIRED", "请先修改初始密码（新账号或密码被重置后须先设置自己的密码）")

var errStaffRevoked = fault.E(fault.Unauthenticated, "TOKEN_REVOKED", "账号已停用或登录已失效，请重新登录")

// checkStaff returns p with the member's current roles, or 401 when the member is gone or disabled,
// moved school, or the token is of an older generation (a password change or reset, a disable).
func checkStaff(ctx context.Context, s *store.Store, p auth.Principal) (auth.Principal, bool, error) {
	var m staffRecord
	ok, err := s.Get(ctx, store.StaffKey(p.Subject), &m)
	if err != nil {
		return p, false, err
	}
	if !ok || m.Disabled || m.SchoolID != p.School || p.Gen != m.TokenGen {
		return p, false, errStaffRevoked
	}
	p.Roles = m.Roles
	return p, m.MustChange, nil
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(s int) { r.status = s; r.ResponseWriter.WriteHeader(s) }

// observe attaches a request id and logger, marks the answer not to be stored, recovers panics into a
// 500 and logs the outcome.
func observe(name string, log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		reqID := r.Header.Get("X-Request-Id")
		if gw, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok && gw.RequestID != "" {
			reqID = gw.RequestID
		}
		l := log.With("requestId", reqID, "fn", name)
		ctx := httpapi.WithRequestID(httpapi.WithLogger(r.Context(), l), reqID)
		r = r.WithContext(ctx)
		// No answer of this API may be kept by a browser, the mini program's HTTP layer or a proxy: many
		// carry a token, a payment code or personal data. A handler may still set its own.
		w.Header().Set("Cache-Control", "no-store")
		rec := &recorder{ResponseWriter: w, status: 200}
		defer func() {
			if v := recover(); v != nil {
				l.Error("panic", "panic", fmt.Sprint(v))
				httpapi.WriteError(rec, r, fmt.Errorf("panic: %v", v))
			}
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelError
			}
			// Only method, route and status: never a body, header or query that may hold a secret.
			l.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "ms", time.Since(start).Milliseconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

func kebab(s string) string {
	var b strings.Builder
	for i, c := range s {
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(c + ('a' - 'A'))
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}
