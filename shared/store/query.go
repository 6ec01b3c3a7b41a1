package store

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Query reads one partition of the table or of an index, in sort-key order. It names what to read
// (a partition key built by this package, a sort-key range, equality filters) and never an attribute
// name: those live here, so a domain package cannot query an attribute the table does not have.
//
// At most one sort-key condition may be set: Prefix, After, or From and To (both: BETWEEN; one alone:
// >= or <=).
type Query struct {
	Index string // "" for the table, GSI1 or GSI2
	PK    string // the partition key's value

	Prefix   string // the sort key begins with Prefix
	After    string // the sort key is greater than After
	From, To string // the sort key is at least From and at most To

	// Equal keeps the items whose attributes equal the values (a filter: it runs after the read, so a
	// page can come back short or empty while more remain).
	Equal map[string]any
	// Filter is a filter expression for what Equal cannot say (the audit log's and the room list's text
	// search, the merged history's month); FilterNames and FilterValues are its placeholders.
	Filter       string
	FilterNames  map[string]string
	FilterValues Values

	Project    []string // read only these attributes (and the keys)
	Newest     bool     // sort key descending
	Limit      int      // items read per page; 0 reads pages of up to 1 MB
	Consistent bool     // strongly consistent (the table only)

	// Start continues after an item: its table key and, for an index, its sort key in the index.
	Start   *Key
	StartSK string
}

// keyNames are the key attributes of the table and each index.
func keyNames(index string) (pk, sk string, ok bool) {
	switch index {
	case "":
		return AttrPK, AttrSK, true
	case GSI1:
		return AttrGSI1PK, AttrGSI1SK, true
	case GSI2:
		return AttrGSI2PK, AttrGSI2SK, true
	}
	return "", "", false
}

var errQueryShape = errors.New("store: query with an unknown index or more than one sort-key condition")

// input is the QueryInput q describes.
func (q Query) input(table string) (*dynamodb.QueryInput, error) {
	pkName, skName, ok := keyNames(q.Index)
	conds := 0
	for _, set := range []bool{q.Prefix != "", q.After != "", q.From != "" || q.To != ""} {
		if set {
			conds++
		}
	}
	if !ok || conds > 1 || q.PK == "" {
		return nil, errQueryShape
	}
	names := map[string]string{"#pk": pkName}
	values := Values{":pk": q.PK}
	key := "#pk = :pk"
	switch {
	case q.Prefix != "":
		key += " AND begins_with(#sk, :sk)"
		values[":sk"] = q.Prefix
	case q.After != "":
		key += " AND #sk > :sk"
		values[":sk"] = q.After
	case q.From != "" && q.To != "":
		key += " AND #sk BETWEEN :from AND :to"
		values[":from"], values[":to"] = q.From, q.To
	case q.From != "":
		key += " AND #sk >= :from"
		values[":from"] = q.From
	case q.To != "":
		key += " AND #sk <= :to"
		values[":to"] = q.To
	}
	if strings.Contains(key, "#sk") {
		names["#sk"] = skName
	}
	in := &dynamodb.QueryInput{TableName: &table, KeyConditionExpression: &key}
	if q.Index != "" {
		in.IndexName = aws.String(q.Index)
	}
	var filters []string
	attrs := make([]string, 0, len(q.Equal))
	for a := range q.Equal {
		attrs = append(attrs, a)
	}
	sort.Strings(attrs) // one expression for one query, whatever the map's order
	for i, a := range attrs {
		n := strconv.Itoa(i)
		names["#f"+n] = a
		values[":f"+n] = q.Equal[a]
		filters = append(filters, "#f"+n+" = :f"+n)
	}
	if q.Filter != "" {
		filters = append(filters, "("+q.Filter+")")
		for k, v := range q.FilterNames {
			names[k] = v
		}
		for k, v := range q.FilterValues {
			values[k] = v
		}
	}
	if len(filters) > 0 {
		in.FilterExpression = aws.String(strings.Join(filters, " AND "))
	}
	if len(q.Project) > 0 {
		p := []string{"#pk", "#sk"}
		names["#sk"] = skName
		if q.Index != "" { // an index's items also carry the table key
			names["#tpk"], names["#tsk"] = AttrPK, AttrSK
			p = append(p, "#tpk", "#tsk")
		}
		for i, a := range q.Project {
			n := "#p" + strconv.Itoa(i)
			names[n] = a
			p = append(p, n)
		}
		in.ProjectionExpression = aws.String(strings.Join(p, ", "))
	}
	in.ExpressionAttributeNames = names
	in.ExpressionAttributeValues = values.AV()
	if q.Newest {
		in.ScanIndexForward = aws.Bool(false)
	}
	if q.Limit > 0 {
		in.Limit = aws.Int32(int32(q.Limit))
	}
	if q.Consistent {
		in.ConsistentRead = aws.Bool(true)
	}
	if q.Start != nil {
		start := q.Start.AV()
		if q.Index != "" {
			start[pkName] = &types.AttributeValueMemberS{Value: q.PK}
			start[skName] = &types.AttributeValueMemberS{Value: q.StartSK}
		}
		in.ExclusiveStartKey = start
	}
	return in, nil
}

// Next is where a page stopped: the last item read, to continue from (Query.Start and StartSK). A nil
// *Next means the partition is read to its end.
type Next struct {
	Key Key    // the item's table key
	SK  string // its sort key in the index the query read ("" for the table)
}

// Page reads one page of q into out (a pointer to a slice) and says where it stopped.
func (s *Store) Page(ctx context.Context, q Query, out any) (*Next, error) {
	in, err := q.input(s.Table)
	if err != nil {
		return nil, fail("store.Page", prefix(q.PK), err)
	}
	res, err := s.DB.Query(ctx, in)
	if err != nil {
		return nil, fail("store.Page", queryKind(in), err)
	}
	if err := attributevalue.UnmarshalListOfMaps(res.Items, out); err != nil {
		return nil, fail("store.Page: decoding", queryKind(in), err)
	}
	if res.LastEvaluatedKey == nil {
		return nil, nil
	}
	next := &Next{Key: Key{PK: str(res.LastEvaluatedKey[AttrPK]), SK: str(res.LastEvaluatedKey[AttrSK])}}
	if q.Index != "" {
		_, skName, _ := keyNames(q.Index)
		next.SK = str(res.LastEvaluatedKey[skName])
	}
	return next, nil
}

func str(av types.AttributeValue) string {
	if s, ok := av.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// Each reads q page by page to its end and hands every page to f; an error from f stops it. Limit, if
// set, is the page size.
func Each[T any](ctx context.Context, s *Store, q Query, f func(page []T) error) error {
	for {
		var page []T
		next, err := s.Page(ctx, q, &page)
		if err != nil {
			return err
		}
		if err := f(page); err != nil {
			return err
		}
		if next == nil {
			return nil
		}
		q.Start, q.StartSK = &next.Key, next.SK
	}
}

// All reads q to its end: for partitions known to be small (a school's merchants, a device's owners).
// It answers an empty slice, never nil, for an empty partition.
func All[T any](ctx context.Context, s *Store, q Query) ([]T, error) {
	out := []T{}
	err := Each(ctx, s, q, func(page []T) error {
		out = append(out, page...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Scan reads the whole table: only the reports that must see every item (the books' reconcile, the
// outstanding balance at a date) scan, and they run as jobs, off the request path (decision 0014).
type Scan struct {
	// Filter keeps the items it matches; FilterNames and FilterValues are its placeholders.
	Filter       string
	FilterNames  map[string]string
	FilterValues Values
	Project      []string // read only these attributes
	Consistent   bool
}

// ScanEach reads the table page by page and hands each page's items, undecoded, to f; an error from f
// stops it.
func (s *Store) ScanEach(ctx context.Context, sc Scan, f func(items []map[string]types.AttributeValue) error) error {
	in := &dynamodb.ScanInput{TableName: &s.Table}
	names := map[string]string{}
	for k, v := range sc.FilterNames {
		names[k] = v
	}
	if sc.Filter != "" {
		in.FilterExpression = aws.String(sc.Filter)
		in.ExpressionAttributeValues = sc.FilterValues.AV()
	}
	if len(sc.Project) > 0 {
		p := make([]string, len(sc.Project))
		for i, a := range sc.Project {
			p[i] = "#p" + strconv.Itoa(i)
			names[p[i]] = a
		}
		in.ProjectionExpression = aws.String(strings.Join(p, ", "))
	}
	if len(names) > 0 {
		in.ExpressionAttributeNames = names
	}
	if sc.Consistent {
		in.ConsistentRead = aws.Bool(true)
	}
	for {
		res, err := s.DB.Scan(ctx, in)
		if err != nil {
			return fail("store.ScanEach", "", err)
		}
		if err := f(res.Items); err != nil {
			return err
		}
		if res.LastEvaluatedKey == nil {
			return nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
