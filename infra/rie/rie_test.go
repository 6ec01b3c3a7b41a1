package rie

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Makefile installs the same emulator version as Install.
func TestMakefilePinsTheSameVersion(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^RIE_VERSION\s*:=\s*(\S+)`).FindSubmatch(b)
	if m == nil || string(m[1]) != Version {
		t.Fatalf("Makefile RIE_VERSION %q, infra/rie.Version %q", m, Version)
	}
	// What the bench measures is what `make build` ships.
	flags := regexp.MustCompile(`(?m)^BUILD_FLAGS\s*:=\s*(.+)$`).FindSubmatch(b)
	want := `-tags lambda.norpc -trimpath -ldflags="-s -w"`
	if flags == nil || string(flags[1]) != want || strings.Join(BuildFlags, " ") != `-tags lambda.norpc -trimpath -ldflags=-s -w` {
		t.Fatalf("Makefile BUILD_FLAGS %q and infra/rie.BuildFlags %q differ from %s", flags, BuildFlags, want)
	}
}

// Lines as aws-lambda-rie prints them, cold start then warm.
const cold = `25 Nov 2026 17:37:29,128 [INFO] (rapid) INIT START(type: on-demand, phase: init)
25 Nov 2026 17:37:29,179 [INFO] (rapid) INIT RTDONE(status: success)
25 Nov 2026 17:37:29,179 [INFO] (rapid) INIT REPORT(durationMs: 50.453000)
25 Nov 2026 17:37:29,179 [INFO] (rapid) INVOKE START(requestId: 18d25d6a)
{"level":"INFO","msg":"request"}
25 Nov 2026 17:37:29,255 [INFO] (rapid) INVOKE RTDONE(status: success, produced bytes: 0, duration: 76.572000ms)
END RequestId: 18d25d6a
REPORT RequestId: 18d25d6a	Init Duration: 0.13 ms	Duration: 127.25 ms	Billed Duration: 128 ms	Memory Size: 512 MB	Max Memory Used: 512 MB	`

func TestParseDurations(t *testing.T) {
	r := &Result{Logs: splitLines(cold)}
	r.parse()
	if !r.Cold || r.Init != 50453*time.Microsecond || r.Duration != 76572*time.Microsecond {
		t.Fatalf("cold: init %v (cold %v), duration %v", r.Init, r.Cold, r.Duration)
	}
	// Without an RTDONE line (the runtime died), the REPORT's Duration less the init.
	r = &Result{Logs: []string{"INIT REPORT(durationMs: 20.000000)", "REPORT RequestId: x\tDuration: 50.00 ms\tBilled Duration: 50 ms"}}
	r.parse()
	if r.Duration != 30*time.Millisecond {
		t.Fatalf("crash: duration %v", r.Duration)
	}
}

func splitLines(s string) []string { return regexp.MustCompile("\n").Split(s, -1) }

func TestFunctionError(t *testing.T) {
	for body, want := range map[string]string{
		`{"errorMessage":"boom","errorType":"wrapError"}`:                  "wrapError",
		`{"errorType":"Runtime.ExitError","errorMessage":"exit status 2"}`: "Runtime.ExitError",
		`{"statusCode":500,"body":"{}"}`:                                   "",
		`{"batchItemFailures":[]}`:                                         "",
		`"just a string"`:                                                  "",
	} {
		got := ""
		if fe := functionError([]byte(body)); fe != nil {
			got = fe.Type
		}
		if got != want {
			t.Errorf("%s: error type %q, want %q", body, got, want)
		}
	}
}

func TestIAMActions(t *testing.T) {
	tx := `{"TransactItems":[{"Put":{}},{"Update":{}},{"ConditionCheck":{}},{"Put":{}}]}`
	cases := []struct {
		svc, op, body string
		want          []string
	}{
		{"dynamodb", "TransactWriteItems", tx, []string{"dynamodb:ConditionCheckItem", "dynamodb:PutItem", "dynamodb:UpdateItem"}},
		{"dynamodb", "TransactGetItems", `{}`, []string{"dynamodb:GetItem"}},
		{"dynamodb", "Query", `{}`, []string{"dynamodb:Query"}},
		{"sqs", "SendMessageBatch", `{}`, []string{"sqs:SendMessage"}},
		{"sqs", "DeleteMessageBatch", `{}`, []string{"sqs:DeleteMessage"}},
		{"ses", "SendEmail", ``, []string{"ses:SendEmail"}},
		{"secretsmanager", "GetSecretValue", `{}`, []string{"secretsmanager:GetSecretValue"}},
	}
	for _, c := range cases {
		if got := IAMActions(c.svc, c.op, []byte(c.body)); !slices.Equal(got, c.want) {
			t.Errorf("%s %s: %v, want %v", c.svc, c.op, got, c.want)
		}
	}
	if got := sesV2Operation("POST", "/v2/email/outbound-emails"); got != "SendEmail" {
		t.Errorf("SES v2 send: %q", got)
	}
}

func TestRecorderForwardsAndRecords(t *testing.T) {
	var gotTarget string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotTarget = r.Header.Get("X-Amz-Target")
		_, _ = io.WriteString(w, `{}`)
	}))
	defer up.Close()
	rec, err := NewRecorder(Upstreams{DynamoDB: up.URL}, func(name string) (string, bool) {
		return `{"k":"v"}`, name == "onecard/wechatpay"
	})
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Close()
	call := func(svc, target, body string) int {
		req, _ := http.NewRequest(http.MethodPost, rec.URL()+"/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20261125/ap-east-1/"+svc+"/aws4_request, SignedHeaders=host, Signature=00")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := call("dynamodb", "DynamoDB_20120810.TransactWriteItems", `{"TransactItems":[{"Put":{}},{"Delete":{}}]}`); st != 200 || gotTarget != "DynamoDB_20120810.TransactWriteItems" {
		t.Fatalf("dynamodb: status %d, upstream saw %q", st, gotTarget)
	}
	if st := call("secretsmanager", "secretsmanager.GetSecretValue", `{"SecretId":"onecard/wechatpay"}`); st != 200 {
		t.Fatalf("known secret: %d", st)
	}
	if st := call("secretsmanager", "secretsmanager.GetSecretValue", `{"SecretId":"nope"}`); st != 400 {
		t.Fatalf("unknown secret: %d", st)
	}
	if st := call("sqs", "AmazonSQS.SendMessage", `{}`); st != http.StatusBadGateway {
		t.Fatalf("no SQS upstream: %d", st)
	}
	got := Actions(rec.Take())
	want := []string{"dynamodb:DeleteItem", "dynamodb:PutItem", "secretsmanager:GetSecretValue", "sqs:SendMessage"}
	if !slices.Equal(got, want) {
		t.Fatalf("actions %v, want %v", got, want)
	}
	if len(rec.Take()) != 0 {
		t.Fatal("Take did not forget")
	}
}
