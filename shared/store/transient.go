package store

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
)

// transientCodes are DynamoDB answers that say "not now" rather than "no": throttling, a transaction
// that lost a race, a server error. The same request, sent again a little later, may succeed.
var transientCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"RequestLimitExceeded":                   true,
	"TransactionConflictException":           true,
	"TransactionInProgressException":         true,
	"InternalServerError":                    true,
	"ServiceUnavailable":                     true,
}

// transientReasons are the cancellation reasons of a transaction that may go through when sent again.
var transientReasons = map[string]bool{
	"TransactionConflict":           true,
	"ThrottlingError":               true,
	"ProvisionedThroughputExceeded": true,
	"RequestLimitExceeded":          true,
}

// Transient reports whether err is a fault of the moment (throttling, a conflict with another
// transaction, a server error, a dropped connection) after which the same work may be tried again; a
// failed condition of ours or a malformed request is not.
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var tc *TxCanceled
	if errors.As(err, &tc) {
		for _, r := range tc.Reasons {
			if transientReasons[r] {
				return true
			}
		}
		return false
	}
	var api smithy.APIError
	if errors.As(err, &api) && transientCodes[api.ErrorCode()] {
		return true
	}
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
