package fn

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"onecard/shared/platform"
)

// Start is the whole main of an HTTP function: build clients once, build the handler, serve.
func Start(f HTTP) {
	d, err := platform.Load(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		os.Exit(1)
	}
	lambda.Start(httpadapter.NewV2(f.Handler(d)).ProxyWithContext)
}

// StartEvent is the whole main of a queue- or schedule-triggered function.
func StartEvent(e Event) {
	d, err := platform.Load(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "config:", err)
		os.Exit(1)
	}
	lambda.Start(e.Build(d))
}
