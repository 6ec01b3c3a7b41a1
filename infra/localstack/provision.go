package localstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"onecard/infra/samtemplate"
)

// CreateTable creates table `name` from the template's AWS::DynamoDB::Table resource `Table`, with its
// keys and GSIs exactly as the template declares them. An existing table is left alone.
func CreateTable(ctx context.Context, db *dynamodb.Client, t *samtemplate.Template, name string) error {
	r, ok := t.Resources["Table"]
	if !ok || r.Type != "AWS::DynamoDB::Table" {
		return errors.New("template has no AWS::DynamoDB::Table named Table")
	}
	in := &dynamodb.CreateTableInput{TableName: &name, BillingMode: ddbtypes.BillingModePayPerRequest}
	for _, a := range list(r.Properties["AttributeDefinitions"]) {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(str(a["AttributeName"])), AttributeType: ddbtypes.ScalarAttributeType(str(a["AttributeType"]))})
	}
	in.KeySchema = keySchema(r.Properties["KeySchema"])
	for _, g := range list(r.Properties["GlobalSecondaryIndexes"]) {
		proj, _ := g["Projection"].(map[string]any)
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName:  aws.String(str(g["IndexName"])),
			KeySchema:  keySchema(g["KeySchema"]),
			Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(str(proj["ProjectionType"]))},
		})
	}
	_, err := db.CreateTable(ctx, in)
	var inUse *ddbtypes.ResourceInUseException
	if errors.As(err, &inUse) {
		return nil
	}
	return err
}

func keySchema(v any) []ddbtypes.KeySchemaElement {
	var out []ddbtypes.KeySchemaElement
	for _, k := range list(v) {
		out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(str(k["AttributeName"])),
			KeyType: ddbtypes.KeyType(str(k["KeyType"]))})
	}
	return out
}

func list(v any) []map[string]any {
	var out []map[string]any
	s, _ := v.([]any)
	for _, x := range s {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Queues maps a queue's LogicalId to its local URL.
type Queues map[string]string

// CreateQueues creates every AWS::SQS::Queue of the template, named prefix+LogicalId, dead-letter queues
// first, with the template's attributes (visibility timeout, retention, long polling, redrive policy,
// FIFO settings; a FIFO queue's name ends in .fifo).
func CreateQueues(ctx context.Context, c *sqs.Client, t *samtemplate.Template, prefix string) (Queues, error) {
	out := Queues{}
	pending := map[string]samtemplate.Resource{}
	for name, r := range t.Resources {
		if r.Type == "AWS::SQS::Queue" {
			pending[name] = r
		}
	}
	for len(pending) > 0 {
		progress := false
		for name, r := range pending {
			attrs := map[string]string{}
			for _, k := range []string{"VisibilityTimeout", "MessageRetentionPeriod", "ReceiveMessageWaitTimeSeconds", "DelaySeconds"} {
				if v := samtemplate.Int(r.Properties, k); v > 0 {
					attrs[k] = strconv.FormatInt(v, 10)
				}
			}
			// A FIFO queue (and its dead-letter queue, FIFO too) keeps SQS's rules: the name ends in .fifo,
			// and the deduplication and throughput settings are the template's.
			fifo := r.Properties["FifoQueue"] == true
			if fifo {
				attrs["FifoQueue"] = "true"
				for _, k := range []string{"DeduplicationScope", "FifoThroughputLimit", "ContentBasedDeduplication"} {
					if v, ok := r.Properties[k]; ok {
						attrs[k] = str(v)
					}
				}
			}
			if rp, ok := r.Properties["RedrivePolicy"].(map[string]any); ok {
				ga, _ := rp["deadLetterTargetArn"].(map[string]any)["Fn::GetAtt"].(string)
				dlq := ga[:len(ga)-len(".Arn")]
				dlqURL, ok := out[dlq]
				if !ok {
					continue // create the DLQ first
				}
				arn, err := queueArn(ctx, c, dlqURL)
				if err != nil {
					return nil, err
				}
				policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arn,
					"maxReceiveCount": strconv.FormatInt(samtemplate.Int(rp, "maxReceiveCount"), 10)})
				attrs["RedrivePolicy"] = string(policy)
			}
			qname := prefix + name
			if fifo {
				qname += ".fifo"
			}
			res, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(qname), Attributes: attrs})
			if err != nil {
				return nil, fmt.Errorf("create queue %s: %w", name, err)
			}
			out[name] = *res.QueueUrl
			delete(pending, name)
			progress = true
		}
		if !progress {
			return nil, errors.New("template queues: a redrive policy names a queue that does not exist")
		}
	}
	return out, nil
}

func queueArn(ctx context.Context, c *sqs.Client, url string) (string, error) {
	res, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", err
	}
	return res.Attributes["QueueArn"], nil
}
