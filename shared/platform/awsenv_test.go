package platform

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

func TestAWSConfigFromEnvironment(t *testing.T) {
	env := map[string]string{
		"AWS_REGION": "ap-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "tok",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000", "AWS_ENDPOINT_URL_SESV2": "http://127.0.0.1:8005",
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:9000",
	}
	cfg := AWSConfig(func(k string) string { return env[k] })
	if cfg.Region != "ap-east-1" {
		t.Errorf("region %q", cfg.Region)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKID" || creds.SessionToken != "tok" {
		t.Errorf("credentials %+v, %v", creds, err)
	}
	for name, got := range map[string]*string{
		"http://127.0.0.1:8000": dynamodb.NewFromConfig(cfg).Options().BaseEndpoint,
		"http://127.0.0.1:8005": sesv2.NewFromConfig(cfg).Options().BaseEndpoint,
		"http://127.0.0.1:9000": secretsmanager.NewFromConfig(cfg).Options().BaseEndpoint,
	} {
		if got == nil || *got != name {
			t.Errorf("endpoint %v, want %s", got, name)
		}
	}
	// Without overrides the clients use AWS's endpoints.
	cfg = AWSConfig(func(k string) string { return map[string]string{"AWS_REGION": "ap-east-1"}[k] })
	if ep := dynamodb.NewFromConfig(cfg).Options().BaseEndpoint; ep != nil {
		t.Errorf("no override: endpoint %s", *ep)
	}
}
