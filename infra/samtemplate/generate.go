// Package samtemplate generates template.yaml's function resources from shared/catalog and reads the
// template back (tables, queues, routes) for the local stack and the tests, so local and cloud use the
// same definitions.
package samtemplate

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"

	"onecard/shared/fn"
)

const marker = "  # @functions (generated below; do not edit by hand)\n"

// Generate returns template.yaml: base with one resource per function inserted at the marker.
func Generate(base []byte, https []fn.HTTP, events []fn.Event) ([]byte, error) {
	i := bytes.Index(base, []byte(marker))
	if i < 0 {
		return nil, fmt.Errorf("base template lacks the marker line %q", strings.TrimSpace(marker))
	}
	var b bytes.Buffer
	b.Write(base[:i+len(marker)])
	for _, f := range https {
		writeHTTP(&b, f)
	}
	for _, e := range events {
		writeEvent(&b, e)
	}
	b.Write(base[i+len(marker):])
	return b.Bytes(), nil
}

func writeHTTP(b *bytes.Buffer, f fn.HTTP) {
	fmt.Fprintf(b, "\n  %s:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildMethod: go1.x\n", f.Name)
	fmt.Fprintf(b, "    Properties:\n      CodeUri: %s/\n      Description: %q\n", f.Dir(), f.Route)
	if f.Timeout > 0 {
		fmt.Fprintf(b, "      Timeout: %d\n", f.Timeout)
	}
	fmt.Fprintf(b, "      Events:\n        Api:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref HttpApi\n")
	fmt.Fprintf(b, "            Method: %s\n            Path: %s\n", f.Method(), f.Path())
	writePolicies(b, f.IAM(), f.Secrets())
}

func writeEvent(b *bytes.Buffer, e fn.Event) {
	fmt.Fprintf(b, "\n  %s:\n    Type: AWS::Serverless::Function\n    Metadata:\n      BuildMethod: go1.x\n", e.Name)
	fmt.Fprintf(b, "    Properties:\n      CodeUri: %s/\n      Description: %q\n", e.Dir(), e.Description)
	if e.Timeout > 0 {
		fmt.Fprintf(b, "      Timeout: %d\n", e.Timeout)
	}
	b.WriteString("      Events:\n")
	switch {
	case e.Queue != "":
		fmt.Fprintf(b, "        Queue:\n          Type: SQS\n          Properties:\n            Queue: !GetAtt %s.Arn\n", e.Queue)
		fmt.Fprintf(b, "            BatchSize: %d\n", e.BatchSize)
		if e.WindowSeconds > 0 { // a FIFO queue's trigger takes no batching window
			fmt.Fprintf(b, "            MaximumBatchingWindowInSeconds: %d\n", e.WindowSeconds)
		}
		if e.MaxConcurrency > 0 {
			fmt.Fprintf(b, "            ScalingConfig:\n              MaximumConcurrency: %d\n", e.MaxConcurrency)
		}
		b.WriteString("            FunctionResponseTypes: [ReportBatchItemFailures]\n")
	case e.Schedule != "":
		fmt.Fprintf(b, "        Schedule:\n          Type: ScheduleV2\n          Properties:\n            ScheduleExpression: %q\n", e.Schedule)
	}
	writePolicies(b, e.IAM(), e.Secrets())
}

// writePolicies groups actions by service and scopes each group to the resource it may touch: secrets
// to the ones named by the template parameters in secrets.
func writePolicies(b *bytes.Buffer, actions, secrets []string) {
	groups := map[string][]string{}
	for _, a := range actions {
		svc, _, _ := strings.Cut(a, ":")
		if !slices.Contains(groups[svc], a) {
			groups[svc] = append(groups[svc], a)
		}
	}
	if len(groups) == 0 {
		return
	}
	svcs := make([]string, 0, len(groups))
	for s := range groups {
		svcs = append(svcs, s)
	}
	sort.Strings(svcs)
	b.WriteString("      Policies:\n        - Statement:\n")
	for _, svc := range svcs {
		acts := groups[svc]
		sort.Strings(acts)
		fmt.Fprintf(b, "            - Effect: Allow\n              Action: [%s]\n", strings.Join(acts, ", "))
		switch svc {
		case "dynamodb":
			b.WriteString("              Resource: [!GetAtt Table.Arn, !Sub \"${Table.Arn}/index/*\"]\n")
		case "sqs":
			b.WriteString("              Resource: [!GetAtt ReaderQueue.Arn]\n")
		case "secretsmanager":
			var arns []string
			for _, p := range secrets {
				arns = append(arns, "!Sub \"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${"+p+"}-*\"")
			}
			fmt.Fprintf(b, "              Resource: [%s]\n", strings.Join(arns, ", "))
		case "ses":
			b.WriteString("              Resource: [!Sub \"arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*\"]\n")
		default:
			b.WriteString("              Resource: \"*\"\n")
		}
	}
}
