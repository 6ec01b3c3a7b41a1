// Package invoke runs the project's functions the way `sam local invoke` does, without SAM or Docker:
// the real bootstrap under the Lambda Runtime Interface Emulator (infra/rie), with the environment
// template.yaml gives it, pointed at the local emulators, fed a sample event from events/.
//
// `make invoke`, the every-function test and the cold-start benchmark all come through here.
package invoke

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"onecard/infra/localstack"
	"onecard/infra/rie"
	"onecard/infra/samtemplate"
	"onecard/infra/seed"
	"onecard/shared/platform"
)

// DevTable is the table of `make dev`.
const DevTable = "onecard-local"

// Local is a local stack ready for functions: emulators, a table with the demo data, the template's
// queues, and the secrets the template's dynamic references resolve to.
type Local struct {
	Root     string
	Template *samtemplate.Template
	Dev      bool // attached to a running `make dev` (its table, ports and secrets)
	Table    string
	Queues   localstack.Queues // LogicalId → URL
	Emu      rie.Upstreams     // emulator endpoints
	// Deps are clients on the stack with the same keys the functions get (for fixtures and checks).
	Deps *platform.Deps
	Log  io.Writer

	// appSecret holds the keys of the application secret, which the functions read from Secrets Manager
	// (the Recorder answers GetSecretValue with it): make dev's .cache/dev-secrets.json, or fresh keys.
	mu        sync.Mutex
	appSecret map[string]string

	fixture sync.Mutex // the demo user
	demoID  string

	wechatSecret string // the WeChat Pay secret's JSON, pointing at a sandbox
	wechatKeys   string // that sandbox's key folder (wxsandbox.LoadDevKeys), to sign notifications

	stop func()
}

// Options for Attach.
type Options struct {
	// UseDev attaches to a running `make dev` when there is one. Tests leave it false so they never touch
	// the developer's data.
	UseDev bool
	Log    io.Writer
}

// Attach finds or starts the emulators and prepares a table: `make dev`'s own when it runs (and
// UseDev), otherwise a fresh table and queues on the emulators named by AWS_ENDPOINT_URL_* (as under
// `make test`), otherwise on emulators it starts itself and stops on Close.
func Attach(ctx context.Context, opt Options) (*Local, error) {
	if opt.Log == nil {
		opt.Log = io.Discard
	}
	root, err := localstack.Root()
	if err != nil {
		return nil, err
	}
	tmpl, err := samtemplate.Load(root)
	if err != nil {
		return nil, err
	}
	l := &Local{Root: root, Template: tmpl, Log: opt.Log, stop: func() {}, appSecret: map[string]string{}}
	if opt.UseDev && devRunning(root) {
		if err := l.attachDev(ctx); err != nil {
			return nil, fmt.Errorf("make dev is running but: %w", err)
		}
		fmt.Fprintf(opt.Log, "invoke: using make dev's stack (table %s)\n", l.Table)
		return l, nil
	}
	if v := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); v != "" {
		l.Emu = rie.Upstreams{DynamoDB: v, SQS: os.Getenv("AWS_ENDPOINT_URL_SQS"), SESv2: os.Getenv("AWS_ENDPOINT_URL_SESV2")}
	} else {
		fmt.Fprintln(opt.Log, "invoke: make dev is not running; starting the emulators")
		st, err := localstack.Start(ctx, localstack.Options{Log: opt.Log})
		if err != nil {
			return nil, err
		}
		l.stop = st.Stop
		env := st.Env()
		l.Emu = rie.Upstreams{DynamoDB: env["AWS_ENDPOINT_URL_DYNAMODB"], SQS: env["AWS_ENDPOINT_URL_SQS"], SESv2: env["AWS_ENDPOINT_URL_SESV2"]}
	}
	if err := l.prepare(ctx); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Close stops what Attach started.
func (l *Local) Close() { l.stop() }

// devRunning reports whether `make dev` is up: its pid file exists and DynamoDB Local answers on its port.
func devRunning(root string) bool {
	p := localstack.PathsAt(root)
	if _, err := os.Stat(filepath.Join(p.StateDir, "dev.pids")); err != nil {
		return false
	}
	return !localstack.PortFree(localstack.DevPorts.DynamoDB)
}

func (l *Local) attachDev(ctx context.Context) error {
	p := localstack.PathsAt(l.Root)
	b, err := os.ReadFile(filepath.Join(p.CacheDir, "dev-secrets.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &l.appSecret); err != nil {
		return fmt.Errorf("dev-secrets.json: %w", err)
	}
	url := func(port int) string { return "http://127.0.0.1:" + strconv.Itoa(port) }
	l.Emu = rie.Upstreams{DynamoDB: url(localstack.DevPorts.DynamoDB), SQS: url(localstack.DevPorts.SQS), SESv2: url(localstack.DevPorts.SES)}
	l.Dev, l.Table = true, DevTable
	if err := l.clients(ctx); err != nil {
		return err
	}
	l.Queues = localstack.Queues{}
	for name, r := range l.Template.Resources {
		if r.Type != "AWS::SQS::Queue" {
			continue
		}
		res, err := l.Deps.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("queue %s: %w", name, err)
		}
		l.Queues[name] = *res.QueueUrl
	}
	l.wechatFromDev()
	return l.config()
}

// prepare creates a fresh table and queues, generates keys and writes the demo data.
func (l *Local) prepare(ctx context.Context) error {
	id := randomHex(4)
	l.Table = "invoke-" + id
	if err := l.clients(ctx); err != nil {
		return err
	}
	if err := localstack.CreateTable(ctx, l.Deps.DB, l.Template, l.Table); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	q, err := localstack.CreateQueues(ctx, l.Deps.SQS, l.Template, "invoke-"+id+"-")
	if err != nil {
		return err
	}
	l.Queues = q
	if err := l.config(); err != nil {
		return err
	}
	if err := seed.All(ctx, l.Deps, l.Root); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if l.wechatSecretName() != "" {
		if err := l.startWeChat(); err != nil {
			return fmt.Errorf("wechat pay sandbox: %w", err)
		}
	}
	return nil
}

// secretKey returns a key of the application secret. A key with no local value gets a fresh one, once
// per run: a key id ("…Kid") is "local" and a few hex digits, anything else base64 of 32 random bytes
// (the JWT, PII and payment-code keys all have that shape).
func (l *Local) secretKey(key string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if v, ok := l.appSecret[key]; ok {
		return v
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.StdEncoding.EncodeToString(b)
	if strings.HasSuffix(strings.ToLower(key), "kid") {
		v = "local" + hex.EncodeToString(b[:3])
	}
	l.appSecret[key] = v
	if l.Dev {
		fmt.Fprintf(l.Log, "invoke: .cache/dev-secrets.json has no %q; using a random value for this run\n", key)
	}
	return v
}

// SecretString is what Secrets Manager's GetSecretValue answers locally for secret name: the application
// secret's JSON under the template's AppSecretName, the WeChat Pay sandbox's configuration under its
// WeChatPaySecretName.
func (l *Local) SecretString(name string) (string, bool) {
	if wx := l.wechatSecretName(); wx != "" && name == wx && l.wechatSecret != "" {
		return l.wechatSecret, true
	}
	app, err := l.Template.Resolve(map[string]any{"Ref": "AppSecretName"}, samtemplate.Resolver{})
	if err != nil || name != app {
		return "", false
	}
	l.mu.Lock()
	b, _ := json.Marshal(l.appSecret)
	l.mu.Unlock()
	return string(b), true
}

// resolver gives the template's references their values on this stack.
func (l *Local) resolver() samtemplate.Resolver {
	refs := map[string]string{
		"Table": l.Table, "AWS::Region": localstack.Region, "AWS::AccountId": "000000000000",
		"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": "onecard-local",
	}
	attrs := map[string]string{
		"Table.Arn": "arn:aws:dynamodb:" + localstack.Region + ":000000000000:table/" + l.Table,
	}
	for q, url := range l.Queues {
		refs[q] = url
		qn := url[strings.LastIndex(url, "/")+1:]
		attrs[q+".Arn"] = "arn:aws:sqs:" + localstack.Region + ":000000000000:" + qn
		attrs[q+".QueueName"] = qn
		attrs[q+".QueueUrl"] = url
	}
	return samtemplate.Resolver{Refs: refs, Attrs: attrs,
		Secret: func(_, key string) (string, error) { return l.secretKey(key), nil }}
}

// config reads platform.Config from the template's Globals as the functions get them, with the keys of
// the application secret as the functions read them (SecretString).
func (l *Local) config() error {
	env, err := l.Template.Environment("", l.resolver())
	if err != nil {
		return err
	}
	env["APP_ENV"] = "local"
	cfg, err := platform.LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		return fmt.Errorf("the template's Globals do not make a valid configuration: %w", err)
	}
	for _, k := range appSecretKeys {
		l.secretKey(k)
	}
	raw, ok := l.SecretString(cfg.AppSecretID)
	if !ok {
		return fmt.Errorf("APP_SECRET_ID %q is not the template's AppSecretName", cfg.AppSecretID)
	}
	keys, err := platform.ParseAppSecret([]byte(raw))
	if err != nil {
		return err
	}
	if err := cfg.SetKeys(keys); err != nil {
		return err
	}
	l.Deps.Cfg = cfg
	return nil
}

// appSecretKeys are the keys of the application secret (platform.ParseAppSecret).
var appSecretKeys = []string{"jwtSecret", "piiKey", "paycodeKey", "paycodeKid"}

// AppSecretValues are the key values of the application secret on this stack (to prove they appear
// nowhere else, such as a function's environment).
func (l *Local) AppSecretValues() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, k := range appSecretKeys {
		if v := l.appSecret[k]; v != "" {
			out = append(out, v)
		}
	}
	return out
}

// clients builds Deps with clients on the emulators (config fills Deps.Cfg).
func (l *Local) clients(ctx context.Context) error {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(localstack.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(localstack.AccessKey, localstack.SecretKey, "")))
	if err != nil {
		return err
	}
	d := platform.New(platform.Config{Env: "local"}, awsCfg, platform.NewLogger(io.Discard))
	d.SetDB(dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		o.BaseEndpoint, o.DisableValidateResponseChecksum = aws.String(l.Emu.DynamoDB), true
	}))
	d.SQS = sqs.NewFromConfig(awsCfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(l.Emu.SQS) })
	d.SES = sesv2.NewFromConfig(awsCfg, func(o *sesv2.Options) { o.BaseEndpoint = aws.String(l.Emu.SESv2) })
	l.Deps = d
	return nil
}

// FunctionEnv is the environment of function name: template.yaml's variables resolved against this
// stack, the AWS settings of a Lambda sandbox pointing at endpoint (a Recorder, or the emulators when
// empty), and overrides last.
func (l *Local) FunctionEnv(name, endpoint string, overrides map[string]string) ([]string, error) {
	vars, err := l.Template.Environment(name, l.resolver())
	if err != nil {
		return nil, err
	}
	vars["AWS_ACCESS_KEY_ID"] = localstack.AccessKey
	vars["AWS_SECRET_ACCESS_KEY"] = localstack.SecretKey
	vars["AWS_EC2_METADATA_DISABLED"] = "true"
	if endpoint == "" {
		vars["AWS_ENDPOINT_URL_DYNAMODB"] = l.Emu.DynamoDB
		vars["AWS_ENDPOINT_URL_SQS"] = l.Emu.SQS
		vars["AWS_ENDPOINT_URL_SESV2"] = l.Emu.SESv2
	} else {
		for _, svc := range []string{"DYNAMODB", "SQS", "SESV2", "SECRETS_MANAGER"} {
			vars["AWS_ENDPOINT_URL_"+svc] = endpoint
		}
	}
	for k, v := range overrides {
		vars[k] = v
	}
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out, nil
}

// Function is one function of the template as the runner needs it.
type Function struct {
	Name     string // LogicalId
	CodeURI  string
	Timeout  int64
	MemoryMB int64
}

// Functions lists the template's functions, sorted by name.
func (l *Local) Functions() []Function {
	return templateFunctions(l.Template)
}

func templateFunctions(t *samtemplate.Template) []Function {
	var out []Function
	for _, f := range t.Functions() {
		to, mem := t.Settings(f.Name)
		out = append(out, Function{Name: f.Name, CodeURI: f.CodeUri, Timeout: to, MemoryMB: mem})
	}
	sortFunctions(out)
	return out
}

// Lookup returns the function named name.
func (l *Local) Lookup(name string) (Function, error) {
	for _, f := range l.Functions() {
		if f.Name == name {
			return f, nil
		}
	}
	var names []string
	for _, f := range l.Functions() {
		names = append(names, f.Name)
	}
	return Function{}, fmt.Errorf("template.yaml has no function %q; functions: %s", name, strings.Join(names, " "))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
