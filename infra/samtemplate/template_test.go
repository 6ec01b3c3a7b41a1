package samtemplate_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"

	"onecard/infra/apigw"
	"onecard/infra/localstack"
	"onecard/infra/samtemplate"
	"onecard/shared/catalog"
	"onecard/shared/fn"
	"onecard/shared/platform"
)

func root(t *testing.T) string {
	r, err := localstack.Root()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The committed template.yaml and functions/*/main.go are exactly what `make template` writes.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	r := root(t)
	files, err := samtemplate.Files(r, catalog.HTTP, catalog.Events)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range files {
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale or missing: run `make template`", strings.TrimPrefix(path, r+"/"))
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(r, "functions", "*"))
	for _, d := range dirs {
		if _, ok := files[filepath.Join(d, "main.go")]; !ok {
			t.Errorf("functions/%s is not in shared/catalog (delete it or add it)", filepath.Base(d))
		}
	}
}

func TestTemplateShape(t *testing.T) {
	tmpl, err := samtemplate.Load(root(t))
	if err != nil {
		t.Fatal(err)
	}
	g, _ := tmpl.Globals["Function"].(map[string]any)
	if g["Runtime"] != "provided.al2023" || g["Handler"] != "bootstrap" {
		t.Errorf("globals: runtime %v handler %v", g["Runtime"], g["Handler"])
	}
	if arch, _ := g["Architectures"].([]any); len(arch) != 1 || arch[0] != "arm64" {
		t.Errorf("globals: architectures %v", g["Architectures"])
	}
	routes := map[string]string{}
	byName := map[string]fn.HTTP{}
	for _, f := range catalog.HTTP {
		byName[f.Name] = f
	}
	consumerTimeout := map[string]int64{}
	for _, f := range tmpl.Functions() {
		if _, err := os.Stat(filepath.Join(root(t), f.CodeUri, "main.go")); err != nil {
			t.Errorf("%s: CodeUri %s has no main.go", f.Name, f.CodeUri)
		}
		if f.Method != "" && f.Timeout > fn.MaxHTTPTimeout {
			t.Errorf("%s: Timeout %d s behind an HTTP API that gives up after %d s: run the work as a job", f.Name, f.Timeout, fn.MaxHTTPTimeout)
		}
		if f.Queue != "" {
			consumerTimeout[f.Queue] = f.Timeout
			if !f.ReportBatchItemFailures {
				t.Errorf("%s: SQS event without ReportBatchItemFailures", f.Name)
			}
		}
		if f.Method == "" {
			continue
		}
		key := f.Method + " " + f.Path
		if prev, dup := routes[key]; dup {
			t.Errorf("route %s served by both %s and %s", key, prev, f.Name)
		}
		routes[key] = f.Name
		c, ok := byName[f.Name]
		if !ok {
			t.Errorf("%s is in the template but not in shared/catalog", f.Name)
			continue
		}
		if c.Route != key {
			t.Errorf("%s: template route %q, catalog route %q", f.Name, key, c.Route)
		}
		// IAM: exactly the actions the code declares, nothing broader.
		want := slices.Clone(c.IAM())
		got := slices.Clone(f.Actions)
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(slices.Compact(want), slices.Compact(got)) {
			t.Errorf("%s: template grants %v, code declares %v", f.Name, got, want)
		}
		for _, a := range got {
			if strings.Contains(a, "*") || a == "dynamodb:Scan" && !strings.HasPrefix(f.Name, "Admin") {
				t.Errorf("%s: action %s is broader than a route needs", f.Name, a)
			}
		}
	}
	if len(routes) != len(catalog.HTTP) {
		t.Errorf("template serves %d routes, catalog has %d", len(routes), len(catalog.HTTP))
	}
	q := tmpl.Resources["ReaderQueue"]
	rp, _ := q.Properties["RedrivePolicy"].(map[string]any)
	if samtemplate.Int(rp, "maxReceiveCount") < 5 {
		t.Errorf("ReaderQueue maxReceiveCount %v < 5", rp["maxReceiveCount"])
	}
	if to := consumerTimeout["ReaderQueue"]; to > 0 && samtemplate.Int(q.Properties, "VisibilityTimeout") < 6*to {
		t.Errorf("ReaderQueue visibility %d < 6 × consumer timeout %d", samtemplate.Int(q.Properties, "VisibilityTimeout"), to)
	}
	alarm := tmpl.Resources["ReaderDLQDepthAlarm"]
	if alarm.Type != "AWS::CloudWatch::Alarm" || !strings.Contains(fmt.Sprint(alarm.Properties["Dimensions"]), "ReaderDLQ.QueueName") {
		t.Errorf("no DLQ depth alarm on ReaderDLQ: %+v", alarm)
	}
	for _, o := range []string{"ApiUrl", "TableName", "ReaderQueueUrl"} {
		if _, ok := tmpl.Outputs[o]; !ok {
			t.Errorf("output %s missing", o)
		}
	}
	// Default route throttling on the HTTP API: every route has a rate and a burst ceiling.
	api := tmpl.Resources["HttpApi"]
	drs, _ := api.Properties["DefaultRouteSettings"].(map[string]any)
	if rate, burst := samtemplate.Int(drs, "ThrottlingRateLimit"), samtemplate.Int(drs, "ThrottlingBurstLimit"); api.Type != "AWS::Serverless::HttpApi" ||
		rate <= 0 || burst < rate || rate > 1000 {
		t.Errorf("HttpApi has no default route throttling (rate %d/s, burst %d): %v", rate, burst, api.Properties)
	}
	tbl := tmpl.Resources["Table"].Properties
	if tbl["BillingMode"] != "PAY_PER_REQUEST" || tbl["TimeToLiveSpecification"] == nil || tbl["PointInTimeRecoverySpecification"] == nil {
		t.Errorf("table: billing %v, TTL %v, PITR %v", tbl["BillingMode"], tbl["TimeToLiveSpecification"], tbl["PointInTimeRecoverySpecification"])
	}
	if bytes, _ := os.ReadFile(filepath.Join(root(t), "template.yaml")); strings.Contains(string(bytes), "DynamoDBCrudPolicy") {
		t.Error("template uses DynamoDBCrudPolicy")
	}
}

// No key reaches a function through its configuration: the template names the application secret
// (APP_SECRET_ID) and resolves no secret into the environment at deploy time; every function may read
// that one secret, and only the payment functions the WeChat Pay secret as well.
func TestNoKeyMaterialInTheTemplate(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root(t), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "{{resolve:") {
		t.Error("template.yaml resolves a secret into the functions' configuration ({{resolve:…}})")
	}
	tmpl, err := samtemplate.Load(root(t))
	if err != nil {
		t.Fatal(err)
	}
	secret := func(name string) (string, error) { return "", fmt.Errorf("resolves secret %s", name) }
	for _, f := range tmpl.Functions() {
		env, err := tmpl.Environment(f.Name, samtemplate.Resolver{
			Refs:   map[string]string{"Table": "onecard", "ReaderQueue": "https://sqs/reader"},
			Secret: func(name, _ string) (string, error) { return secret(name) }})
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		for k := range env {
			if k != "APP_SECRET_ID" && k != "WECHATPAY_SECRET_ID" && k != "PAYCODE_RETIRED_KEYS" &&
				(strings.Contains(k, "SECRET") || strings.Contains(k, "KEY")) {
				t.Errorf("%s: environment variable %s looks like key material", f.Name, k)
			}
		}
		if env["APP_SECRET_ID"] != "onecard/app" {
			t.Errorf("%s: APP_SECRET_ID %q, want the AppSecretName parameter", f.Name, env["APP_SECRET_ID"])
		}
		var resources []string
		for _, r := range f.SecretResources {
			resources = append(resources, fmt.Sprint(r))
		}
		got := strings.Join(resources, " ")
		if !strings.Contains(got, "${AppSecretName}-*") || len(resources) > 2 ||
			len(resources) == 2 && !strings.Contains(got, "${WeChatPaySecretName}-*") {
			t.Errorf("%s: may read the secrets %s; want the application secret (and WeChat Pay's for payment functions)", f.Name, got)
		}
	}
}

// Every route of the template is served by the local gateway, and every route that is not public
// refuses a caller without credentials before touching anything (no emulator is needed to prove it:
// the clients here point nowhere).
func TestEveryRouteServedAndGuarded(t *testing.T) {
	tmpl, err := samtemplate.Load(root(t))
	if err != nil {
		t.Fatal(err)
	}
	awsCfg, _ := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion("ap-east-1"))
	cfg := platform.Config{Table: "none", JWTKey: bytes.Repeat([]byte("k"), 32), PIIKey: bytes.Repeat([]byte("p"), 32)}
	d := platform.New(cfg, awsCfg, platform.NewLogger(os.Stderr))
	srv, err := apigw.New(tmpl, catalog.HTTP, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(srv.Routes) != len(catalog.HTTP) {
		t.Fatalf("gateway serves %d routes, catalog has %d", len(srv.Routes), len(catalog.HTTP))
	}
	for _, f := range catalog.HTTP {
		if f.Access == fn.Public {
			continue
		}
		path := f.Path()
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, "{") {
				path = strings.Replace(path, seg, "x1", 1)
			}
		}
		req := httptest.NewRequest(f.Method(), path, strings.NewReader("{}"))
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || !strings.Contains(rec.Body.String(), `"code"`) {
			t.Errorf("%s without credentials: %d %s", f.Route, rec.Code, rec.Body.String())
		}
	}
}

// The HTTP API answers browsers on the origins of the AllowedOrigins parameter (its default: the local
// origins, which `make dev` and the tests use; a deployment passes its own), with the headers and
// methods the API uses and no credentials.
func TestHttpApiCors(t *testing.T) {
	tmpl, err := samtemplate.Load(root(t))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := tmpl.Parameters["AllowedOrigins"].(map[string]any)
	if p["Type"] != "CommaDelimitedList" {
		t.Fatalf("parameter AllowedOrigins: %v", p)
	}
	api, _ := tmpl.Resources["HttpApi"].Properties["CorsConfiguration"].(map[string]any)
	if ref, _ := api["AllowOrigins"].(map[string]any); ref["Ref"] != "AllowedOrigins" {
		t.Fatalf("HttpApi CorsConfiguration.AllowOrigins is %v, not !Ref AllowedOrigins", api["AllowOrigins"])
	}
	local, err := tmpl.Cors(samtemplate.Resolver{})
	if err != nil || local == nil {
		t.Fatalf("cors: %v %v", local, err)
	}
	for _, o := range []string{"http://127.0.0.1:3000", "http://localhost:3000", "http://localhost:5173"} {
		if !slices.Contains(local.AllowOrigins, o) {
			t.Errorf("local origins %v lack %s", local.AllowOrigins, o)
		}
	}
	if slices.Contains(local.AllowOrigins, "*") {
		t.Errorf("local origins allow every origin: %v", local.AllowOrigins)
	}
	for _, h := range []string{"Authorization", "Content-Type", "Idempotency-Key"} {
		if !slices.Contains(local.AllowHeaders, h) {
			t.Errorf("AllowHeaders %v lack %s", local.AllowHeaders, h)
		}
	}
	for _, f := range catalog.HTTP {
		if !slices.Contains(local.AllowMethods, f.Method()) {
			t.Errorf("AllowMethods %v lack %s (%s)", local.AllowMethods, f.Method(), f.Route)
		}
	}
	if local.AllowCredentials || local.MaxAge <= 0 || !slices.Contains(local.ExposeHeaders, "Retry-After") {
		t.Errorf("credentials %v, max age %d, exposed %v", local.AllowCredentials, local.MaxAge, local.ExposeHeaders)
	}
	deployed, err := tmpl.Cors(samtemplate.Resolver{Refs: map[string]string{"AllowedOrigins": "https://console.example.edu.cn,https://h5.example.edu.cn"}})
	if err != nil || !slices.Equal(deployed.AllowOrigins, []string{"https://console.example.edu.cn", "https://h5.example.edu.cn"}) {
		t.Errorf("a deployment's origins: %v %v", deployed, err)
	}
}
