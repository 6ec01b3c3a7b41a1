package devices

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/devicesig"
	"onecard/shared/fault"
	"onecard/shared/httpapi"
	"onecard/shared/iam"
	"onecard/shared/platform"
	"onecard/shared/store"
)

// ErrWrongKind is a registered device calling a route of the other kind (a gateway posting card records).
var ErrWrongKind = fault.E(fault.Forbidden, "DEVICE_NOT_ALLOWED", "该类型的设备不能调用此接口")

// Actions are the AWS actions of Authenticate; every device route declares them.
var Actions = []string{iam.GetItem, iam.PutItem}

// Authenticator runs the device step of every device route.
type Authenticator struct {
	S   *store.Store
	Now func() time.Time
}

// nonce is the single-use record of a request nonce.
type nonce struct {
	store.Key
	TTL int64 `dynamodbav:"ttl"`
}

// Authenticate checks a device request in devicesig's order: headers and clock (no I/O), the device's
// registration (unknown or disabled: UNKNOWN_DEVICE, the same answer for both so that ids cannot be
// probed), the signature, and only then the nonce, with a conditional put, so that a forged request
// costs one read and no write. A device of a kind not in kinds is refused after it proved who it is.
//
// Every refusal is logged with the device id it claimed.
func (a Authenticator) Authenticate(ctx context.Context, r *http.Request, body []byte, kinds ...string) (*Device, error) {
	now := a.Now()
	target := r.RequestURI
	if target == "" || target[0] != '/' {
		target = r.URL.RequestURI()
	}
	claimed := r.Header.Get(devicesig.HeaderDeviceID)
	refuse := func(err error, why string) (*Device, error) {
		code := ""
		if fe, ok := fault.As(err); ok {
			code = fe.Code
		}
		id := claimed
		switch {
		case id == "":
			id = "(none)"
		case !ValidID(id):
			id = "(malformed)" // never log what a caller wrote in a header that failed the check
		}
		httpapi.Log(ctx).Warn("device refused", "device", id, "code", code, "why", why)
		return nil, err
	}
	sig, err := devicesig.Parse(r.Header, r.Method, target, body, now)
	if err != nil {
		return refuse(err, "headers")
	}
	dev, ok, err := Repo{a.S}.Get(ctx, sig.DeviceID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return refuse(devicesig.ErrUnknownDevice, "not registered")
	}
	if dev.Status != Active {
		return refuse(devicesig.ErrUnknownDevice, "disabled")
	}
	if err := sig.Verify(dev.PublicKey); err != nil {
		if _, public := fault.As(err); !public {
			return nil, err // a key of the wrong length in our own table
		}
		return refuse(err, "signature")
	}
	// Kept until the timestamp leaves the window; TTL deletes late, so an expired item counts as absent.
	n := nonce{Key: store.DeviceNonceKey(sig.NonceKey()), TTL: store.TTL(sig.NonceExpiry())}
	item, err := attributevalue.MarshalMap(n)
	if err != nil {
		return nil, err
	}
	_, err = a.S.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: &a.S.Table, Item: item,
		ConditionExpression:       aws.String(store.IfAbsent + " OR #ttl < :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": store.AttrTTL},
		ExpressionAttributeValues: store.Values{":now": now.Unix()}.AV()})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return refuse(devicesig.ErrNonceReused, "nonce")
	}
	if err != nil {
		return nil, err
	}
	if len(kinds) > 0 && !slices.Contains(kinds, dev.Kind) {
		return refuse(ErrWrongKind, "kind "+dev.Kind)
	}
	return dev, nil
}

// Handler adapts a device route: it reads the body (at most 1 MiB), authenticates the device (of one of
// kinds) and calls h with it; the request's logger names the device.
func Handler(d *platform.Deps, kinds []string, h func(w http.ResponseWriter, r *http.Request, dev *Device, body []byte) error) httpapi.Handler {
	a := Authenticator{S: d.Store(), Now: d.Now}
	return func(w http.ResponseWriter, r *http.Request) error {
		body, err := httpapi.ReadBody(r, httpapi.DeviceBodyLimit)
		if err != nil {
			return err
		}
		dev, err := a.Authenticate(r.Context(), r, body, kinds...)
		if err != nil {
			return err
		}
		ctx := httpapi.WithLogger(r.Context(), httpapi.Log(r.Context()).With("caller", "device:"+dev.DeviceID))
		return h(w, r.WithContext(ctx), dev, body)
	}
}
