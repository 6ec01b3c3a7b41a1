package rie

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Upstreams are the emulators the Recorder forwards to, by endpoint URL.
type Upstreams struct {
	DynamoDB string
	SQS      string
	SESv2    string
}

// Recorder stands in front of the local AWS emulators as one endpoint for every service a function
// uses, forwards each call, and notes the IAM action it needs. It also answers Secrets Manager's
// GetSecretValue from local secrets, since no emulator of that service runs here.
//
// Point a function at it with Env; read what it did with Take. Give each emulator instance its own
// Recorder so calls are attributed to the right function.
type Recorder struct {
	srv     *http.Server
	addr    string
	proxies map[string]*httputil.ReverseProxy
	secrets func(name string) (string, bool)

	mu    sync.Mutex
	calls []Call
}

// Call is one AWS API call a function made.
type Call struct {
	Service   string   // signing name: dynamodb, sqs, ses, secretsmanager
	Operation string   // e.g. TransactWriteItems
	Actions   []string // IAM actions it needs, e.g. dynamodb:PutItem and dynamodb:UpdateItem for a transaction
	Status    int
	SecretID  string // for secretsmanager: the SecretId asked for
}

// NewRecorder starts a Recorder on a free loopback port. secrets returns the SecretString of a secret by
// the SecretId a function asks for (nil: no secrets).
func NewRecorder(up Upstreams, secrets func(name string) (string, bool)) (*Recorder, error) {
	if secrets == nil {
		secrets = func(string) (string, bool) { return "", false }
	}
	r := &Recorder{proxies: map[string]*httputil.ReverseProxy{}, secrets: secrets}
	for svc, raw := range map[string]string{"dynamodb": up.DynamoDB, "sqs": up.SQS, "ses": up.SESv2} {
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("upstream %s: %w", svc, err)
		}
		r.proxies[svc] = &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host // keep the host the request was signed for
		}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r.addr = ln.Addr().String()
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// URL is the Recorder's endpoint.
func (r *Recorder) URL() string { return "http://" + r.addr }

// Env points the AWS SDK of a function at the Recorder.
func (r *Recorder) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + r.URL(),
		"AWS_ENDPOINT_URL_SQS=" + r.URL(),
		"AWS_ENDPOINT_URL_SESV2=" + r.URL(),
		"AWS_ENDPOINT_URL_SECRETS_MANAGER=" + r.URL(),
	}
}

// Close stops the Recorder.
func (r *Recorder) Close() error { return r.srv.Close() }

// Take returns the calls recorded since the last Take and forgets them.
func (r *Recorder) Take() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// Actions returns the distinct IAM actions of calls, sorted.
func Actions(calls []Call) []string {
	var out []string
	for _, c := range calls {
		for _, a := range c.Actions {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	sort.Strings(out)
	return out
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request`)

func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	svc := ""
	if m := credentialScope.FindStringSubmatch(req.Header.Get("Authorization")); m != nil {
		svc = m[1]
	}
	target := req.Header.Get("X-Amz-Target")
	call := Call{Service: svc}
	switch svc {
	case "dynamodb", "sqs", "secretsmanager":
		_, call.Operation, _ = strings.Cut(target, ".")
	case "ses":
		call.Operation = sesV2Operation(req.Method, req.URL.Path)
	default:
		call.Service, call.Operation = "unknown", req.Method+" "+req.URL.Path
	}
	call.Actions = IAMActions(call.Service, call.Operation, body)
	if svc == "secretsmanager" {
		var in struct{ SecretId string }
		_ = json.Unmarshal(body, &in)
		call.SecretID = in.SecretId
	}
	rec := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	if svc == "secretsmanager" {
		r.secretsManager(rec, call.Operation, body)
	} else if p := r.proxies[svc]; p != nil {
		p.ServeHTTP(rec, req)
	} else {
		http.Error(rec, "no local emulator for "+call.Service, http.StatusBadGateway)
	}
	call.Status = rec.status
	r.mu.Lock()
	r.calls = append(r.calls, call)
	r.mu.Unlock()
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// IAMActions maps an API operation to the IAM actions it needs. A transaction needs the action of each
// item inside it (dynamodb:TransactWriteItems is not an IAM action); batch operations of SQS need the
// single-message action.
func IAMActions(service, op string, body []byte) []string {
	switch service {
	case "dynamodb":
		switch op {
		case "TransactWriteItems":
			var in struct {
				TransactItems []map[string]json.RawMessage
			}
			_ = json.Unmarshal(body, &in)
			var out []string
			for _, it := range in.TransactItems {
				for kind, action := range map[string]string{"Put": "PutItem", "Update": "UpdateItem",
					"Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"} {
					if _, ok := it[kind]; ok && !slices.Contains(out, "dynamodb:"+action) {
						out = append(out, "dynamodb:"+action)
					}
				}
			}
			sort.Strings(out)
			return out
		case "TransactGetItems":
			return []string{"dynamodb:GetItem"}
		}
		return []string{"dynamodb:" + op}
	case "sqs":
		return []string{"sqs:" + strings.TrimSuffix(op, "Batch")}
	case "ses":
		return []string{"ses:" + op}
	case "secretsmanager":
		return []string{"secretsmanager:" + op}
	}
	return []string{service + ":" + op}
}

// sesV2Operation names the SES v2 (REST) operation of a request.
func sesV2Operation(method, path string) string {
	p := strings.TrimPrefix(path, "/v2/email/")
	first, rest, _ := strings.Cut(p, "/")
	switch {
	case method == http.MethodPost && p == "outbound-emails":
		return "SendEmail"
	case method == http.MethodPost && p == "outbound-bulk-emails":
		return "SendBulkEmail"
	case method == http.MethodGet && p == "account":
		return "GetAccount"
	case first == "identities" && rest != "" && !strings.Contains(rest, "/"):
		switch method {
		case http.MethodGet:
			return "GetEmailIdentity"
		case http.MethodDelete:
			return "DeleteEmailIdentity"
		}
	case first == "suppression" && method == http.MethodGet:
		return "GetSuppressedDestination"
	}
	return method + " " + path
}

// secretsManager answers GetSecretValue from the local secrets, in the service's JSON protocol.
func (r *Recorder) secretsManager(w http.ResponseWriter, op string, body []byte) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	fail := func(status int, kind, msg string) {
		w.Header().Set("X-Amzn-ErrorType", kind)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": kind, "message": msg})
	}
	if op != "GetSecretValue" {
		fail(http.StatusBadRequest, "InvalidRequestException", op+" is not served locally")
		return
	}
	var in struct{ SecretId string }
	_ = json.Unmarshal(body, &in)
	v, ok := r.secrets(in.SecretId)
	if !ok {
		fail(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{
		"ARN":           "arn:aws:secretsmanager:local:000000000000:secret:" + in.SecretId + "-local",
		"Name":          in.SecretId,
		"SecretString":  v,
		"VersionId":     "00000000-0000-0000-0000-000000000001",
		"VersionStages": []string{"AWSCURRENT"},
		"CreatedDate":   float64(time.Now().Unix()),
	})
}
