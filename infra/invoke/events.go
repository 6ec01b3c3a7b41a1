package invoke

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"onecard/infra/seed"
	"onecard/shared/chinatime"
	"onecard/shared/devicesig"
)

// EventPath is where the sample event of function name lives: events/<LogicalId>.json.
func EventPath(root, name string) string { return filepath.Join(root, "events", name+".json") }

// Placeholders an event file may hold; Expand fills them in just before the invoke, so samples stay
// valid however old they are and hold no secret.
//
//	{{userToken}}        access token of the demo user (phone 13900000001, 王五's card bound)
//	{{refreshToken}}     refresh token of a fresh login of the demo user
//	{{staffToken}}       token of the demo staff member admin (every role), by a real staff login
//	{{staffUsername}}    the demo staff login of infra/local/demo/staff.json;  {{staffPassword}} its password
//	{{now}}              unix seconds;  {{nowMillis}} unix milliseconds;  {{nowRFC3339}} RFC 3339, +08:00
//	{{uuid}}             a random UUID (each occurrence its own)
//	{{nonce}}            a fresh device nonce (each occurrence its own)
//	{{deviceSignature}}  in the X-Signature header of a device route: the Ed25519 signature of the event's
//	                     method, path, X-Timestamp, X-Nonce and body with the X-Device-Id's demo key
//	                     (infra/local/demo/devices.json)
//	{{orderNo}}          a recharge order of the demo user's card (the same one each time)
//	{{meterCommandId}}   a pending power command for the demo meter gateway (one is queued when none is)
//	{{reconcileJobId}}   a reconcile job (the one queued or running, else the latest, else one queued now)
//	{{importJobId}}      a roster import job of the demo school (one queued now, of one demo row)
//	{{liabilityJobId}}   an outstanding-balance job of the demo school for 2026-11-24 (the one queued or
//	                     running, else the latest, else one queued now)
//	{{wechatNotification}} as the whole body: a fresh payment's notification, encrypted and signed with the
//	                     sandbox's keys as WeChat Pay does, with its Wechatpay-* headers put in the event
//	{{wechatRefundNotification}} as the whole body: the demo refund's REFUND.SUCCESS notification, the same way
var Placeholders = []string{"userToken", "refreshToken", "staffToken", "staffUsername", "staffPassword", "now", "nowMillis", "nowRFC3339", "uuid", "nonce", "deviceSignature",
	"orderNo", "meterCommandId", "reconcileJobId", "importJobId", "liabilityJobId", "wechatNotification", "wechatRefundNotification"}

var placeholder = regexp.MustCompile(`\{\{([A-Za-z0-9_]+)\}\}`)

// Expand fills in an event's placeholders against this stack, after putting the demo user back as the
// events expect it (see DemoUser).
func (l *Local) Expand(ctx context.Context, event []byte) ([]byte, error) {
	if _, err := l.DemoUser(ctx); err != nil {
		return nil, err
	}
	now := time.Now()
	var firstErr error
	out := placeholder.ReplaceAllFunc(event, func(m []byte) []byte {
		name := string(m[2 : len(m)-2])
		if name == "deviceSignature" || name == "wechatNotification" || name == "wechatRefundNotification" {
			return m // needs the rest of the event: done below
		}
		v, err := l.placeholder(ctx, name, now)
		if err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("{{%s}}: %w", name, err)
			}
			return nil
		}
		return []byte(v)
	})
	if firstErr != nil {
		return nil, firstErr
	}
	if bytes.Contains(out, []byte("{{wechatNotification}}")) {
		var err error
		if out, err = l.signNotification(ctx, out); err != nil {
			return nil, err
		}
	}
	if bytes.Contains(out, []byte("{{wechatRefundNotification}}")) {
		var err error
		if out, err = l.signRefundNotification(ctx, out); err != nil {
			return nil, err
		}
	}
	if bytes.Contains(out, []byte("{{deviceSignature}}")) {
		return l.signDevice(out)
	}
	return out, nil
}

// placeholder is the value of one placeholder (but deviceSignature).
func (l *Local) placeholder(ctx context.Context, name string, now time.Time) (string, error) {
	switch name {
	case "userToken":
		return l.UserToken(ctx)
	case "refreshToken":
		return l.RefreshToken(ctx)
	case "staffToken":
		return l.StaffToken(ctx)
	case "staffUsername", "staffPassword":
		login, err := seed.DemoStaff(l.Root)
		if err != nil {
			return "", err
		}
		v := login.Username
		if name == "staffPassword" {
			// An earlier event (PUT /v1/admin/password) may have changed it: put the demo one back.
			if err := seed.Staff(ctx, l.Deps, login); err != nil {
				return "", fmt.Errorf("demo staff %s: %w", login.Username, err)
			}
			v = login.Password
		}
		if strings.ContainsAny(v, `"\`) { // it may land in a JSON string inside a JSON string (a body)
			return "", fmt.Errorf("a demo login with a quote or backslash cannot be substituted")
		}
		return v, nil
	case "now":
		return strconv.FormatInt(now.Unix(), 10), nil
	case "nowMillis":
		return strconv.FormatInt(now.UnixMilli(), 10), nil
	case "nowRFC3339":
		return now.In(chinatime.Zone).Format(time.RFC3339), nil
	case "uuid":
		return newUUID(), nil
	case "nonce":
		return devicesig.NewNonce()
	case "orderNo":
		return l.OrderNo(ctx)
	case "meterCommandId":
		return l.MeterCommandID(ctx)
	case "reconcileJobId":
		return l.ReconcileJobID(ctx)
	case "importJobId":
		return l.ImportJobID(ctx)
	case "liabilityJobId":
		return l.LiabilityJobID(ctx)
	}
	return "", fmt.Errorf("unknown placeholder (known: %s)", strings.Join(Placeholders, ", "))
}

// signDevice replaces the X-Signature placeholder of an HTTP API event with the device's signature.
func (l *Local) signDevice(event []byte) ([]byte, error) {
	var ev map[string]any
	if err := json.Unmarshal(event, &ev); err != nil {
		return nil, fmt.Errorf("{{deviceSignature}}: event is not a JSON object: %w", err)
	}
	headers, _ := ev["headers"].(map[string]any)
	h := func(k string) string { s, _ := headers[k].(string); return s }
	if h("x-signature") != "{{deviceSignature}}" {
		return nil, fmt.Errorf("{{deviceSignature}} belongs in headers.x-signature")
	}
	ts, err := strconv.ParseInt(h("x-timestamp"), 10, 64)
	if err != nil {
		return nil, fmt.Errorf("{{deviceSignature}}: headers.x-timestamp must be unix seconds (use {{now}})")
	}
	key, err := l.DeviceKey(h("x-device-id"))
	if err != nil {
		return nil, err
	}
	rc, _ := ev["requestContext"].(map[string]any)
	httpd, _ := rc["http"].(map[string]any)
	method, _ := httpd["method"].(string)
	path, _ := ev["rawPath"].(string)
	if q, _ := ev["rawQueryString"].(string); q != "" {
		path += "?" + q
	}
	body := []byte{}
	if s, _ := ev["body"].(string); s != "" {
		body = []byte(s)
		if b64, _ := ev["isBase64Encoded"].(bool); b64 {
			if body, err = base64.StdEncoding.DecodeString(s); err != nil {
				return nil, fmt.Errorf("{{deviceSignature}}: body: %w", err)
			}
		}
	}
	headers["x-signature"] = devicesig.Sign(key, method, path, ts, h("x-nonce"), body)
	return json.MarshalIndent(ev, "", "  ")
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
