// Package apigw is a local stand-in for API Gateway's HTTP API: it turns each request into the payload
// 2.0 event that the function receives in AWS, hands it to that function's handler through the same
// aws-lambda-go-api-proxy adapter the Lambda main uses, and writes the response back.
package apigw

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"onecard/infra/samtemplate"
	"onecard/shared/fault"
	"onecard/shared/fn"
	"onecard/shared/httpapi"
	"onecard/shared/platform"
)

// Route is one served route.
type Route struct {
	Function string
	Method   string
	Path     string
}

// Server routes requests to function handlers.
type Server struct {
	mux    *http.ServeMux
	Routes []Route
	// Cors is the HTTP API's CorsConfiguration from the template (nil: none), applied as API Gateway
	// applies it.
	Cors *samtemplate.Cors
}

// Handler is the invocation of one function with one event, as Lambda would.
type Handler func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// New serves every HttpApi route of the template with the catalog's handler for that function. A
// template route whose function is not in the catalog is an error: nothing may be silently missing.
func New(t *samtemplate.Template, catalog []fn.HTTP, d *platform.Deps) (*Server, error) {
	byName := map[string]fn.HTTP{}
	for _, f := range catalog {
		byName[f.Name] = f
	}
	cors, err := t.Cors(samtemplate.Resolver{})
	if err != nil {
		return nil, err
	}
	s := &Server{mux: http.NewServeMux(), Cors: cors}
	for _, tf := range t.Functions() {
		if tf.Method == "" {
			continue
		}
		f, ok := byName[tf.Name]
		if !ok {
			return nil, fmt.Errorf("template function %s has no handler in shared/catalog", tf.Name)
		}
		adapter := httpadapter.NewV2(f.Handler(d))
		routeKey := tf.Method + " " + tf.Path
		s.mux.Handle(routeKey, s.invoke(routeKey, adapter.ProxyWithContext))
		s.Routes = append(s.Routes, Route{Function: tf.Name, Method: tf.Method, Path: tf.Path})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteError(w, r, fault.ErrRouteNotFound)
	})
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if s.Cors == nil || origin == "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	allow := s.Cors.AllowOrigin(origin)
	// A preflight is answered by API Gateway itself, whatever the path, and never reaches a function:
	// 204 with the configuration's headers for an allowed origin, without them for any other (the
	// browser then refuses the real request).
	if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
		if allow != "" {
			h.Set("Access-Control-Allow-Origin", allow)
			h.Set("Access-Control-Allow-Methods", strings.Join(s.Cors.AllowMethods, ","))
			h.Set("Access-Control-Allow-Headers", strings.Join(s.Cors.AllowHeaders, ","))
			if s.Cors.MaxAge > 0 {
				h.Set("Access-Control-Max-Age", fmt.Sprint(s.Cors.MaxAge))
			}
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if allow != "" {
		h.Set("Access-Control-Allow-Origin", allow)
		if len(s.Cors.ExposeHeaders) > 0 {
			h.Set("Access-Control-Expose-Headers", strings.Join(s.Cors.ExposeHeaders, ","))
		}
	}
	s.mux.ServeHTTP(w, r)
}

// maxPayload mirrors API Gateway's 10 MB request limit. Every route's own limit (64 KiB, 1 MiB for
// devices and uploads) is far below it, so a body between the two is refused by the function (413
// BODY_TOO_LARGE); in AWS a body over 10 MB is refused by API Gateway itself, in its own shape, which an
// HTTP API cannot change. Locally this refusal takes the shape of every other one.
const maxPayload = 10 << 20

var errPayloadTooLarge = fault.E(fault.TooLarge, "BODY_TOO_LARGE", "请求体不能超过 10 MB")

func (s *Server) invoke(routeKey string, h Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
		if err != nil || len(body) > maxPayload {
			httpapi.WriteError(w, r, errPayloadTooLarge)
			return
		}
		ev := Event(r, routeKey, body)
		res, err := h(r.Context(), ev)
		if err != nil {
			// What API Gateway answers when the function itself fails.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"message":"Internal Server Error"}`)
			return
		}
		if s.Cors != nil {
			// With CORS configured, API Gateway ignores the CORS headers a function returns.
			for k := range res.Headers {
				if strings.HasPrefix(strings.ToLower(k), "access-control-") {
					delete(res.Headers, k)
				}
			}
			for k := range res.MultiValueHeaders {
				if strings.HasPrefix(strings.ToLower(k), "access-control-") {
					delete(res.MultiValueHeaders, k)
				}
			}
		}
		Write(w, res)
	})
}

// Event builds the payload 2.0 event for r.
func Event(r *http.Request, routeKey string, body []byte) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			continue
		}
		headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	var cookies []string
	for _, c := range r.Cookies() {
		cookies = append(cookies, c.String())
	}
	query := map[string]string{}
	for k, vs := range r.URL.Query() {
		query[k] = strings.Join(vs, ",")
	}
	params := map[string]string{}
	_, pattern, _ := strings.Cut(routeKey, " ")
	for _, seg := range strings.Split(pattern, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.Trim(seg, "{}")
			params[name] = r.PathValue(name)
		}
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: routeKey, RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Cookies: cookies, Headers: headers, QueryStringParameters: query, PathParameters: params,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: "000000000000", APIID: "local", DomainName: r.Host, DomainPrefix: "local",
			RequestID: fmt.Sprintf("local-%d", now.UnixNano()), RouteKey: routeKey, Stage: "$default",
			Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path,
				Protocol: r.Proto, SourceIP: ip, UserAgent: r.UserAgent()},
		},
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	if len(query) == 0 {
		ev.QueryStringParameters = nil
	}
	if len(params) == 0 {
		ev.PathParameters = nil
	}
	return ev
}

// Write copies a function's response to w.
func Write(w http.ResponseWriter, res events.APIGatewayV2HTTPResponse) {
	for k, v := range res.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range res.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range res.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	status := res.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if res.IsBase64Encoded {
		b, _ := base64.StdEncoding.DecodeString(res.Body)
		_, _ = w.Write(b)
		return
	}
	_, _ = io.WriteString(w, res.Body)
}
