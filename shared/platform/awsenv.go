package platform

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AWSConfig is a function's AWS configuration, read from the environment Lambda gives it: the region,
// the execution role's credentials, and the endpoint overrides AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> (the local emulators), which every client made from it honours, as with
// config.LoadDefaultConfig.
//
// It stands in for config.LoadDefaultConfig on purpose: that one links the shared-config-file, SSO,
// STS and instance-metadata credential providers, which a Lambda never uses: about 1.6 MiB of every
// function's binary (docs/benchmarks.md).
func AWSConfig(getenv func(string) string) aws.Config {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	cfg := aws.Config{Region: region, ConfigSources: []any{envEndpoints{getenv}}}
	if id := getenv("AWS_ACCESS_KEY_ID"); id != "" {
		cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id,
			getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN")))
	}
	if v := getenv("AWS_ENDPOINT_URL"); v != "" {
		cfg.BaseEndpoint = &v
	}
	return cfg
}

// envEndpoints answers the SDK clients' question for a service's endpoint (sdkID "DynamoDB", "SQS",
// "SESv2", "Secrets Manager") from AWS_ENDPOINT_URL_<SDKID in upper case, spaces as underscores>.
type envEndpoints struct{ getenv func(string) string }

func (e envEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := e.getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}
