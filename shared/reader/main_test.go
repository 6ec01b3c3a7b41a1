package reader_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"onecard/infra/seed"
	"onecard/infra/sqsrunner"
	"onecard/shared/cards"
	"onecard/shared/devices"
	"onecard/shared/devicesig"
	"onecard/shared/ledger"
	"onecard/shared/reader"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

// The test devices: two canteen readers, a hot-water reader and a meter gateway.
var testDevices = []devices.Registration{
	{DeviceID: "POS-CANTEEN-01", Kind: devices.KindReader, Merchant: "第一食堂", Category: devices.CategoryCanteen},
	{DeviceID: "POS-CANTEEN-02", Kind: devices.KindReader, Merchant: "第二食堂", Category: devices.CategoryCanteen},
	{DeviceID: "HOTWATER-8D-01", Kind: devices.KindReader, Merchant: "8栋热水", Category: devices.CategoryHotWater},
	{DeviceID: "METERGW-01", Kind: devices.KindMeterGateway, Merchant: "宿舍电表网关"},
}

// deviceKey is a fixed test key per device id.
func deviceKey(id string) ed25519.PrivateKey {
	s := sha256.Sum256([]byte("test device " + id))
	return ed25519.NewKeyFromSeed(s[:])
}

// world is one test's table, queues, devices and students: testkit's World with the test devices.
type world struct {
	*testkit.World
	seq int64
}

func newWorld(t *testing.T) *world {
	w := &world{World: testkit.NewWorld(t), seq: 1795665600000}
	for _, reg := range testDevices {
		reg.PublicKey = base64.StdEncoding.EncodeToString(deviceKey(reg.DeviceID).Public().(ed25519.PublicKey))
		if _, err := (devices.Repo{S: testkit.Store(w.Deps)}).Put(context.Background(), reg, seed.SchoolID, w.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	w.Queues()
	return w
}

// consume starts the reader consumer on this test's queue with the template's settings.
func (w *world) consume(tune ...func(*sqsrunner.Runner)) *sqsrunner.Runner {
	return w.Consumer("ReaderQueue", tune...)
}

// nextSeq returns a fresh seq.
func (w *world) nextSeq() int64 { w.seq++; return w.seq }

// rec builds a record map occurring now (the test clock) for cardNo.
func (w *world) rec(kind string, fen int64, cardNo string) map[string]any {
	return map[string]any{"seq": w.nextSeq(), "occurredAt": w.Clock.Now().Format(time.RFC3339), "kind": kind,
		"amountFen": fen, "cardNo": cardNo}
}

// codeRec builds a record paid with a payment code.
func (w *world) codeRec(fen int64, code string) map[string]any {
	return map[string]any{"seq": w.nextSeq(), "occurredAt": w.Clock.Now().Format(time.RFC3339), "kind": "purchase",
		"amountFen": fen, "paymentCode": code}
}

// signed sends a request signed as device with its test key at the test clock; edit may change the
// request after signing (to break it).
func (w *world) signed(method, path, device string, body []byte, edit func(*http.Request)) *testkit.Resp {
	return w.signedWith(deviceKey(device), method, path, device, body, w.Clock.Now(), edit)
}

func (w *world) signedWith(priv ed25519.PrivateKey, method, path, device string, body []byte, at time.Time, edit func(*http.Request)) *testkit.Resp {
	w.T.Helper()
	req, err := http.NewRequest(method, w.API.URL+path, bytes.NewReader(body))
	if err != nil {
		w.T.Fatal(err)
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := devicesig.SignRequest(req, device, priv, body, at); err != nil {
		w.T.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.T.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &testkit.Resp{Status: res.StatusCode, Header: res.Header, Body: b}
}

type result struct {
	Seq    int64  `json:"seq"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// post sends records as device and returns the per-record results (the answer must be 200).
func (w *world) post(device string, recs ...map[string]any) []result {
	w.T.Helper()
	body, _ := json.Marshal(map[string]any{"records": recs})
	r := w.signed("POST", "/v1/reader/transactions", device, body, nil).Expect(w.T, 200, "")
	var out struct{ Results []result }
	r.Decode(w.T, &out)
	if len(out.Results) != len(recs) {
		w.T.Fatalf("%d results for %d records", len(out.Results), len(recs))
	}
	return out.Results
}

// statuses renders results as "accepted,duplicate,rejected:REASON,...".
func statuses(rs []result) string {
	var b bytes.Buffer
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.Status)
		if r.Reason != "" {
			b.WriteString(":" + r.Reason)
		}
	}
	return b.String()
}

// waitDone waits until every (device, seq) has been posted or disputed.
func (w *world) waitDone(device string, seqs ...int64) {
	w.T.Helper()
	s := testkit.Store(w.Deps)
	keys := make([]store.Key, 0, len(seqs))
	for _, q := range seqs {
		keys = append(keys, store.IdemKey(reader.Scope(device), strconv.FormatInt(q, 10)))
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := s.BatchGet(context.Background(), keys, "", nil)
		if err != nil {
			w.T.Fatal(err)
		}
		if len(got) == len(keys) {
			return
		}
		if time.Now().After(deadline) {
			w.T.Fatalf("%s: %d of %d records posted after 30 s", device, len(got), len(keys))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func seqsOf(recs ...map[string]any) []int64 {
	out := make([]int64, len(recs))
	for i, r := range recs {
		out[i] = r["seq"].(int64)
	}
	return out
}

// virtual is Bound with the virtual card (payment codes) switched on.
func (w *world) virtual(phone, studentNo, pw string) []string {
	w.T.Helper()
	h := w.Bound(phone, studentNo, pw)
	w.Do("POST", "/v1/card/virtual", nil, h...).Expect(w.T, 204, "")
	return h
}

// balances are the balances of the demo cards 10000001 to 10000003, as "b1 b2 b3".
func (w *world) balances() string {
	w.T.Helper()
	return fmt.Sprint(w.Card("10000001").Balance, w.Card("10000002").Balance, w.Card("10000003").Balance)
}

// login signs a student in again (after the clock moved past the token's life).
func (w *world) login(phone string) []string {
	w.T.Helper()
	var pair struct{ AccessToken string }
	w.Do("POST", "/v1/auth/login", map[string]string{"phone": phone, "password": "password-123"}).Expect(w.T, 200, "").Decode(w.T, &pair)
	return testkit.Bearer(pair.AccessToken)
}

// code asks for a payment code as the student h.
func (w *world) code(h []string) string {
	w.T.Helper()
	var out struct{ Code, ExpiresAt string }
	w.Do("POST", "/v1/card/payment-code", nil, h...).Expect(w.T, 200, "").Decode(w.T, &out)
	return out.Code
}

// history returns a card's entries, newest first, as "kind amount merchant status".
func (w *world) history(no string) []string {
	w.T.Helper()
	page, err := ledger.New(testkit.Store(w.Deps), w.Deps.Now).History(context.Background(), cards.AccountID("kmmc", no), 100, "", "")
	if err != nil {
		w.T.Fatal(err)
	}
	var out []string
	for _, it := range page.Items {
		out = append(out, fmt.Sprintf("%s %d %s", it.Kind, it.AmountFen, it.Merchant))
	}
	return out
}

// take receives n messages off this test's reader queue (no consumer runs), as one SQS event, so a test
// can hand them to consumers itself.
func (w *world) take(n int) events.SQSEvent {
	w.T.Helper()
	url := w.Queues()["ReaderQueue"]
	var ev events.SQSEvent
	for len(ev.Records) < n {
		res, err := w.Deps.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url,
			MaxNumberOfMessages: int32(n - len(ev.Records)), WaitTimeSeconds: 1})
		if err != nil {
			w.T.Fatal(err)
		}
		ev.Records = append(ev.Records, sqsrunner.Event(res.Messages, "", "").Records...)
	}
	return ev
}
