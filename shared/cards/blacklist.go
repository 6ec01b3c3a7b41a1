package cards

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onecard/shared/store"
)

// BlacklistChange is one change of the blacklist log.
type BlacklistChange = blacklistChange

// Blacklist reads a school's blacklist log.
type Blacklist struct{ S *store.Store }

// Since returns the changes with a version greater than since, oldest first.
func (b Blacklist) Since(ctx context.Context, school string, since int64) ([]BlacklistChange, error) {
	in := &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk AND SK > :from"),
		ExpressionAttributeValues: store.Values{":pk": store.BlacklistPK(school), ":from": fmt.Sprintf("V#%016d#~", since)}.AV(),
		ConsistentRead:            aws.Bool(true),
	}
	var out []BlacklistChange
	for {
		var page []BlacklistChange
		last, err := b.S.QueryPage(ctx, in, &page)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if last == nil {
			return out, nil
		}
		in.ExclusiveStartKey = last
	}
}
