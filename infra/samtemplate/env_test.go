package samtemplate_test

import (
	"fmt"
	"maps"
	"testing"

	"onecard/infra/samtemplate"
)

const envTemplate = `
Parameters:
  MailFrom: {Type: String, Default: no-reply@example.edu.cn}
  AppSecretName: {Type: String, Default: onecard/app}
Globals:
  Function:
    Timeout: 10
    MemorySize: 512
    Environment:
      Variables:
        APP_ENV: aws
        TABLE_NAME: !Ref Table
        QUEUE_ARN: !GetAtt ReaderQueue.Arn
        MAIL_FROM: !Ref MailFrom
        JWT_SECRET: !Sub "{{resolve:secretsmanager:${AppSecretName}:SecretString:jwtSecret}}"
        REGION_TABLE: !Join ["/", [!Ref "AWS::Region", !Ref Table]]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 60
      Environment:
        Variables:
          APP_ENV: override
          LITERAL: !Sub "${!NotAVariable}"
`

func TestEnvironment(t *testing.T) {
	tmpl, err := samtemplate.Parse([]byte(envTemplate))
	if err != nil {
		t.Fatal(err)
	}
	r := samtemplate.Resolver{
		Refs:  map[string]string{"Table": "onecard-local", "AWS::Region": "ap-east-1"},
		Attrs: map[string]string{"ReaderQueue.Arn": "arn:aws:sqs:ap-east-1:000000000000:ReaderQueue"},
		Secret: func(name, key string) (string, error) {
			if name != "onecard/app" {
				return "", fmt.Errorf("secret %s", name)
			}
			return "local-" + key, nil
		},
	}
	got, err := tmpl.Environment("Fn", r)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"APP_ENV": "override", "TABLE_NAME": "onecard-local", "QUEUE_ARN": "arn:aws:sqs:ap-east-1:000000000000:ReaderQueue",
		"MAIL_FROM": "no-reply@example.edu.cn", "JWT_SECRET": "local-jwtSecret", "REGION_TABLE": "ap-east-1/onecard-local",
		"LITERAL": "${NotAVariable}",
	}
	if !maps.Equal(got, want) {
		t.Errorf("environment:\n got %v\nwant %v", got, want)
	}
	if to, mem := tmpl.Settings("Fn"); to != 60 || mem != 512 {
		t.Errorf("settings: timeout %d memory %d", to, mem)
	}
	if _, err := tmpl.Environment("Fn", samtemplate.Resolver{}); err == nil {
		t.Error("unresolvable !Ref Table: no error")
	}
}
