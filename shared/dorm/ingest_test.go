package dorm_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"onecard/infra/localstack"
	"onecard/infra/seed"
	"onecard/shared/devicesig"
	"onecard/shared/dispatch"
	"onecard/shared/dorm"
	"onecard/shared/testkit"

	"github.com/aws/aws-lambda-go/events"
)

func demoKey(t testing.TB, id string) ed25519.PrivateKey {
	root, _ := localstack.Root()
	b, err := os.ReadFile(filepath.Join(root, "infra", "local", "demo", "devices.json"))
	if err != nil {
		t.Fatal(err)
	}
	var keys map[string]string
	_ = json.Unmarshal(b, &keys)
	seedBytes, err := base64.StdEncoding.DecodeString(keys[id])
	if err != nil || len(seedBytes) != ed25519.SeedSize {
		t.Fatalf("demo key %s: %v", id, err)
	}
	return ed25519.NewKeyFromSeed(seedBytes)
}

func (w *world) signed(method, path, device string, body []byte) *testkit.Resp {
	w.T.Helper()
	req, _ := http.NewRequest(method, w.API.URL+path, bytes.NewReader(body))
	if err := devicesig.SignRequest(req, device, demoKey(w.T, device), body, w.Clock.Now()); err != nil {
		w.T.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.T.Fatal(err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	return &testkit.Resp{Status: res.StatusCode, Header: res.Header, Body: buf.Bytes()}
}

// End to end: a gateway posts signed readings, the queue consumer charges them, the power is cut and the
// gateway fetches and acknowledges the command; replaying the batch changes nothing.
func TestMeterGatewayEndToEnd(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	if err := seed.Devices(ctx, w.Deps, mustRoot(t)); err != nil {
		t.Fatal(err)
	}
	w.Queues()
	w.Consumer("ReaderQueue")
	w.Clock.Set(time.Date(2026, 11, 25, 12, 0, 0, 0, time.FixedZone("CST", 8*3600)))
	at := func(min int) string {
		return w.Clock.Now().Add(time.Duration(min-60) * time.Minute).Format(time.RFC3339)
	}
	batch := []byte(fmt.Sprintf(`{"readings":[
		{"meterId":"E-WH-8D-1228","kind":"elec","reading":1000,"readAt":%q},
		{"meterId":"E-WH-8D-1228","kind":"elec","reading":1500,"readAt":%q},
		{"meterId":"W-WH-8D-1228","kind":"elec","reading":5,"readAt":%q},
		{"meterId":"NOPE","kind":"elec","reading":5,"readAt":%q},
		{"meterId":"E-WH-8D-1228","kind":"gas","reading":5,"readAt":%q}]}`, at(1), at(2), at(2), at(2), at(2)))
	var out struct {
		Results []struct {
			Index          int
			MeterID        string
			Status, Reason string
		}
	}
	w.signed("POST", "/v1/meter/readings", "METERGW-01", batch).Expect(t, 200, "").Decode(t, &out)
	got := ""
	for _, r := range out.Results {
		got += r.Status[:1] + r.Reason + " "
	}
	if got != "a a rKIND_MISMATCH rUNKNOWN_METER rBAD_KIND " {
		t.Fatalf("results: %q", got)
	}
	// A reader may not post readings.
	w.signed("POST", "/v1/meter/readings", "POS-CANTEEN-01", batch).Expect(t, 403, "DEVICE_NOT_ALLOWED")
	h := w.Bound("13600000010", "", "")
	waitFor(t, func() bool { return w.room(h, "WH-8D-1228").Accounts[0].BalanceFen == -300 })
	var cmds struct {
		Items []struct{ CommandID, MeterID, Action string }
	}
	// The consumer queues the cut right after charging (no night at noon).
	waitFor(t, func() bool {
		w.signed("GET", "/v1/meter/commands", "METERGW-01", nil).Expect(t, 200, "").Decode(t, &cmds)
		return len(cmds.Items) > 0
	})
	if len(cmds.Items) != 1 || cmds.Items[0].Action != "power_off" || cmds.Items[0].MeterID != "E-WH-8D-1228" {
		t.Fatalf("commands: %+v", cmds.Items)
	}
	w.signed("POST", "/v1/meter/commands/"+cmds.Items[0].CommandID+"/ack", "METERGW-01", nil).Expect(t, 204, "")
	w.signed("POST", "/v1/meter/commands/cUNKNOWN0/ack", "METERGW-01", nil).Expect(t, 404, "COMMAND_NOT_FOUND")
	if v := w.room(h, "WH-8D-1228"); v.Accounts[0].PowerOn {
		t.Fatal("power still on after the acknowledged cut")
	}
	// The gateway resends the same batch (it never saw our answer): duplicates, and nothing moves.
	w.signed("POST", "/v1/meter/readings", "METERGW-01", batch).Expect(t, 200, "").Decode(t, &out)
	if out.Results[0].Status != "duplicate" || out.Results[1].Status != "duplicate" {
		t.Fatalf("resend: %+v", out.Results)
	}
	if v := w.room(h, "WH-8D-1228"); v.Accounts[0].BalanceFen != -300 {
		t.Fatalf("resend charged: %+v", v.Accounts)
	}
	w.reconcile()
}

func TestQueueMessagesAreSplitByType(t *testing.T) {
	t.Parallel()
	ev := eventOf(`{"type":"meter_reading","meterId":"E1"}`, `{"type":"reader_record"}`, `not json`)
	recs, reads := dispatch.Split(ev)
	if len(recs.Records) != 2 || len(reads) != 1 {
		t.Fatalf("split: %d records, %d readings", len(recs.Records), len(reads))
	}
	if _, _, err := dorm.DecodeReadingMessage(`{"type":"meter_reading","meterId":"E1"}`); err == nil {
		t.Fatal("incomplete reading message accepted")
	}
}

func mustRoot(t *testing.T) string {
	root, err := localstack.Root()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// waitFor polls cond for up to thirty seconds (a loaded CI machine runs every package at once): the
// consumer runs on its own, as Lambda's would.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not reached within 30 s")
}

func eventOf(bodies ...string) events.SQSEvent {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint(i), Body: b})
	}
	return ev
}
