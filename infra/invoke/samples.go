package invoke

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"onecard/infra/apigw"
	"onecard/infra/localstack"
	"onecard/infra/samtemplate"
	"onecard/shared/catalog"
	"onecard/shared/chinatime"
	"onecard/shared/fn"
)

// Access is who calls a route, as the sample's headers show it.
type Access string

const (
	AccessPublic Access = "public"
	AccessUser   Access = "user"
	AccessStaff  Access = "staff"
	AccessSigned Access = "signed" // a device (X-Device-Id … X-Signature) or WeChat Pay
)

// Trigger is a catalog function as its sample event shows it.
type Trigger struct {
	samtemplate.Function
	Access Access
}

// Triggers lists every function of shared/catalog, in its order (HTTP, then queue and schedule).
func Triggers() []Trigger {
	var out []Trigger
	for _, f := range catalog.HTTP {
		out = append(out, Trigger{samtemplate.Function{Name: f.Name, Method: f.Method(), Path: f.Path()}, AccessOf(f.Access)})
	}
	for _, e := range catalog.Events {
		out = append(out, Trigger{samtemplate.Function{Name: e.Name, Queue: e.Queue, Batch: int64(e.BatchSize), Schedule: e.Schedule}, ""})
	}
	return out
}

// AccessOf maps a descriptor's access rule. A route a school shows before login (fn.SchoolOrUser) is
// public when its sample names the school (?schoolId=), so its sample may carry a token or not.
func AccessOf(a fn.Access) Access {
	switch a {
	case fn.User:
		return AccessUser
	case fn.Staff:
		return AccessStaff
	case fn.Signed:
		return AccessSigned
	}
	return AccessPublic
}

// Sample values for path parameters, by name; the demo data (infra/seed).
var pathSamples = map[string]string{
	"cardNo": "10000003", "orderNo": "OC20261125120000000001", "roomId": "WH-8D-1006",
	"commandId": "cmd-0001", "id": "n-0001", "deviceId": "POS-CANTEEN-01", "studentNo": "CUIK20230003",
}

// sampleTime is the fixed instant of generated samples (a fixed example date).
var sampleTime = time.Date(2026, 11, 25, 12, 0, 0, 0, chinatime.Zone)

// Skeleton returns a sample event for a function of the template: an HTTP API payload 2.0 request for a
// route (with the Authorization or device-signature placeholders its access needs, and body as its
// body), an SQS batch for a queue consumer, an EventBridge Scheduler event for a scheduled function.
// `go run ./infra/cmd/events` writes one for every function without an event file; edit the body and
// path values to something realistic.
func Skeleton(f samtemplate.Function, access Access, body string) ([]byte, error) {
	switch {
	case f.Method != "":
		return httpSkeleton(f, access, body)
	case f.Queue != "":
		return sqsSkeleton(f, body)
	case f.Schedule != "":
		return scheduleSkeleton(f)
	}
	return nil, fmt.Errorf("%s has no HttpApi, SQS or schedule event", f.Name)
}

func httpSkeleton(f samtemplate.Function, access Access, body string) ([]byte, error) {
	path := f.Path
	params := map[string]string{}
	for _, seg := range strings.Split(f.Path, "/") {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			name := strings.TrimSuffix(strings.Trim(seg, "{}"), "+")
			v, ok := pathSamples[name]
			if !ok {
				v = "sample-" + name
			}
			params[name] = v
			path = strings.Replace(path, seg, v, 1)
		}
	}
	if body == "" && (f.Method == http.MethodPost || f.Method == http.MethodPut || f.Method == http.MethodPatch) {
		body = "{}"
	}
	r := httptest.NewRequest(f.Method, "https://api.onecard.example.edu.cn"+path, strings.NewReader(body))
	for k, v := range params {
		r.SetPathValue(k, v)
	}
	r.RemoteAddr = "203.0.113.24:51324"
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	switch access {
	case AccessUser:
		r.Header.Set("Authorization", "Bearer {{userToken}}")
	case AccessStaff:
		r.Header.Set("Authorization", "Bearer {{staffToken}}")
	case AccessSigned:
		if strings.HasPrefix(f.Path, "/v1/reader/") || strings.HasPrefix(f.Path, "/v1/meter/") {
			id := "POS-CANTEEN-01"
			if strings.HasPrefix(f.Path, "/v1/meter/") {
				id = "METERGW-01"
			}
			r.Header.Set("X-Device-Id", id)
			r.Header.Set("X-Timestamp", "{{now}}")
			r.Header.Set("X-Nonce", "{{nonce}}")
			r.Header.Set("X-Signature", "{{deviceSignature}}")
		}
	}
	switch access {
	case AccessUser, AccessPublic:
		r.Header.Set("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN miniProgram/wx0000000000000000")
		r.Header.Set("Referer", "https://servicewechat.com/wx0000000000000000/12/page-frame.html")
	case AccessStaff:
		r.Header.Set("User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36")
	default:
		r.Header.Set("User-Agent", "onecard-device/1.0")
	}
	ev := apigw.Event(r, f.Method+" "+f.Path, []byte(body))
	ev.Headers["x-forwarded-for"] = "203.0.113.24"
	ev.Headers["x-forwarded-proto"] = "https"
	ev.Headers["x-forwarded-port"] = "443"
	ev.RequestContext.AccountID = "123456789012"
	ev.RequestContext.APIID = "a1b2c3d4e5"
	ev.RequestContext.DomainName = "a1b2c3d4e5.execute-api." + localstack.Region + ".amazonaws.com"
	ev.RequestContext.DomainPrefix = "a1b2c3d4e5"
	ev.RequestContext.RequestID = "Tz9xWgHfoAMEbHg="
	ev.RequestContext.Time = sampleTime.UTC().Format("02/Jan/2006:15:04:05 -0700")
	ev.RequestContext.TimeEpoch = sampleTime.UnixMilli()
	ev.RequestContext.HTTP.Protocol = "HTTP/1.1"
	ev.Headers["host"] = ev.RequestContext.DomainName
	ev.Headers["accept"] = "*/*"
	if body != "" {
		ev.Headers["content-length"] = fmt.Sprint(len(body))
	}
	// The event type always carries requestContext.authentication; API Gateway sends it only with mTLS.
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	delete(m["requestContext"].(map[string]any), "authentication")
	return marshal(ordered(m, "version", "routeKey", "rawPath", "rawQueryString", "headers", "queryStringParameters",
		"pathParameters", "requestContext", "body", "isBase64Encoded"))
}

// ordered writes m's keys in the given order (the order of AWS's samples) when marshalled.
type orderedMap struct {
	keys []string
	m    map[string]any
}

func ordered(m map[string]any, keys ...string) orderedMap { return orderedMap{keys, m} }

func (o orderedMap) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	n := 0
	for _, k := range o.keys {
		v, ok := o.m[k]
		if !ok {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteByte(':')
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

func sqsSkeleton(f samtemplate.Function, body string) ([]byte, error) {
	if body == "" {
		body = "{}"
	}
	arn := "arn:aws:sqs:" + localstack.Region + ":123456789012:onecard-" + f.Queue
	ev := events.SQSEvent{Records: []events.SQSMessage{{
		MessageId:     "059f36b4-87a3-44ab-83d2-661975830a7d",
		ReceiptHandle: "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
		Body:          body,
		Attributes: map[string]string{
			"ApproximateReceiveCount":          "1",
			"SentTimestamp":                    fmt.Sprint(sampleTime.UnixMilli()),
			"SenderId":                         "AROAEXAMPLE:ReaderIngest",
			"ApproximateFirstReceiveTimestamp": fmt.Sprint(sampleTime.UnixMilli() + 12),
		},
		MessageAttributes: map[string]events.SQSMessageAttribute{},
		Md5OfBody:         "",
		EventSource:       "aws:sqs",
		EventSourceARN:    arn,
		AWSRegion:         localstack.Region,
	}}}
	return marshal(ev)
}

func scheduleSkeleton(f samtemplate.Function) ([]byte, error) {
	// What EventBridge Scheduler delivers to a Lambda target when the schedule sets no Input.
	ev := events.EventBridgeEvent{
		Version:    "0",
		ID:         "7e1f6f4c-2b43-4a8e-9d0c-2a7e9f3c1b55",
		DetailType: "Scheduled Event",
		Source:     "aws.scheduler",
		AccountID:  "123456789012",
		Time:       sampleTime.UTC(),
		Region:     localstack.Region,
		Resources:  []string{"arn:aws:scheduler:" + localstack.Region + ":123456789012:schedule/default/onecard-" + f.Name},
		Detail:     json.RawMessage(`"{}"`),
	}
	return marshal(ev)
}

func marshal(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// CheckEvent reports what is wrong with a function's sample event: not the shape of its trigger, a
// route that is not the function's, or a missing Authorization placeholder on a signed-in route.
func CheckEvent(f samtemplate.Function, access Access, raw []byte) error {
	switch {
	case f.Method != "":
		var ev events.APIGatewayV2HTTPRequest
		if err := strictJSON(raw, &ev); err != nil {
			return fmt.Errorf("not an HTTP API payload 2.0 event: %w", err)
		}
		route := f.Method + " " + f.Path
		if ev.Version != "2.0" || ev.RouteKey != route || ev.RequestContext.RouteKey != route {
			return fmt.Errorf("version %q routeKey %q: want 2.0 and %q", ev.Version, ev.RouteKey, route)
		}
		if ev.RequestContext.HTTP.Method != f.Method {
			return fmt.Errorf("requestContext.http.method %q, want %s", ev.RequestContext.HTTP.Method, f.Method)
		}
		if !pathMatches(f.Path, ev.RawPath) || ev.RequestContext.HTTP.Path != ev.RawPath {
			return fmt.Errorf("rawPath %q (requestContext.http.path %q) is not a path of %s", ev.RawPath, ev.RequestContext.HTTP.Path, f.Path)
		}
		for name, v := range ev.PathParameters {
			if !strings.Contains(ev.RawPath, v) {
				return fmt.Errorf("pathParameters.%s %q is not in rawPath %q", name, v, ev.RawPath)
			}
		}
		for k := range ev.Headers {
			if k != strings.ToLower(k) {
				return fmt.Errorf("header %q: HTTP API lower-cases header names", k)
			}
		}
		if access == AccessUser || access == AccessStaff {
			if !strings.HasPrefix(ev.Headers["authorization"], "Bearer ") {
				return fmt.Errorf("a %s route needs headers.authorization (\"Bearer {{%sToken}}\")", access, access)
			}
		}
	case f.Queue != "":
		var ev events.SQSEvent
		if err := strictJSON(raw, &ev); err != nil {
			return fmt.Errorf("not an SQS event: %w", err)
		}
		if len(ev.Records) == 0 {
			return fmt.Errorf("an SQS event needs at least one record")
		}
		ids := map[string]bool{}
		for i, m := range ev.Records {
			if m.EventSource != "aws:sqs" || m.MessageId == "" || ids[m.MessageId] {
				return fmt.Errorf("record %d: eventSource %q, messageId %q (unique, required)", i, m.EventSource, m.MessageId)
			}
			ids[m.MessageId] = true
		}
		if f.Batch > 0 && int64(len(ev.Records)) > f.Batch {
			return fmt.Errorf("%d records, the queue's BatchSize is %d", len(ev.Records), f.Batch)
		}
	case f.Schedule != "":
		var ev events.EventBridgeEvent
		if err := strictJSON(raw, &ev); err != nil {
			return fmt.Errorf("not a scheduled event: %w", err)
		}
		if ev.DetailType != "Scheduled Event" || (ev.Source != "aws.scheduler" && ev.Source != "aws.events") {
			return fmt.Errorf("detail-type %q source %q: want a Scheduled Event", ev.DetailType, ev.Source)
		}
	}
	return nil
}

// strictJSON decodes raw into v, refusing fields v does not have (a misspelt key would be lost silently).
func strictJSON(raw []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// pathMatches reports whether path is an instance of the route pattern (with {param} segments).
func pathMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

func sortFunctions(fs []Function) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Name < fs[j].Name })
}
