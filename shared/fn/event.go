package fn

import "onecard/shared/platform"

// Event describes a function triggered by a queue or a schedule rather than a route.
type Event struct {
	Name          string
	Description   string
	Queue         string // LogicalId of the SQS queue, for queue consumers
	BatchSize     int
	WindowSeconds int
	// MaxConcurrency caps the concurrent batches of a queue consumer (the event source mapping's
	// ScalingConfig.MaximumConcurrency, 2–1000); 0 leaves Lambda's default scaling.
	MaxConcurrency int
	Schedule       string // e.g. "rate(1 minute)", for scheduled functions
	Timeout        int    // seconds; the queue's visibility timeout must be ≥ 6× this
	Actions        []string
	// Build returns the Lambda handler (a func accepted by lambda.Start).
	Build func(d *platform.Deps) any
}

// Dir is the folder of the function's main under functions/.
func (e Event) Dir() string { return "functions/" + kebab(e.Name) }

// IAM is every AWS action the function performs: its own Actions and the read of the application secret
// (StartEvent). template.yaml grants exactly these.
func (e Event) IAM() []string { return withSecretRead(e.Actions) }

// Secrets names the template parameters of the secrets the function may read.
func (e Event) Secrets() []string { return secretsOf(e.Actions) }
