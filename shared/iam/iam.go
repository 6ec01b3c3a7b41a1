// Package iam names the AWS actions that functions call, once: a function's descriptor lists the ones
// its code calls (fn.HTTP.Actions, fn.Event.Actions) and the generator grants exactly those in
// template.yaml. A TransactWriteItems is authorised per item action (PutItem, UpdateItem, DeleteItem,
// ConditionCheckItem), so it has no name of its own here.
package iam

// DynamoDB.
const (
	GetItem            = "dynamodb:GetItem"
	PutItem            = "dynamodb:PutItem"
	UpdateItem         = "dynamodb:UpdateItem"
	DeleteItem         = "dynamodb:DeleteItem"
	ConditionCheckItem = "dynamodb:ConditionCheckItem"
	Query              = "dynamodb:Query"
	Scan               = "dynamodb:Scan"
	BatchGetItem       = "dynamodb:BatchGetItem"
)

// SES, SQS, Secrets Manager.
const (
	SendEmail      = "ses:SendEmail"
	SendMessage    = "sqs:SendMessage" // also covers SendMessageBatch
	GetSecretValue = "secretsmanager:GetSecretValue"
)
