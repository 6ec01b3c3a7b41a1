package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"onecard/shared/store"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type row struct {
	store.Key
	GSI1PK string `dynamodbav:",omitempty"`
	GSI1SK string `dynamodbav:",omitempty"`
	Kind   string `dynamodbav:"kind,omitempty"`
	Note   string `dynamodbav:"note,omitempty"`
}

// partition writes rows A#1..A#5 (kind odd/even) and B#1 under one partition, each also under an index
// partition of its own, and answers the store.
func partition(t *testing.T) (*store.Store, string) {
	t.Helper()
	d, _ := testkit.Deps(t)
	s := testkit.Store(d)
	pk := "QTEST#" + testkit.UniqueName(t)
	ctx := context.Background()
	put := func(sk, kind string) {
		r := row{Key: store.Key{PK: pk, SK: sk}, GSI1PK: "QIDX#" + pk, GSI1SK: "I#" + sk, Kind: kind, Note: "note " + sk}
		if err := s.Put(ctx, r, "", nil); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 5; i++ {
		put(fmt.Sprintf("A#%d", i), map[bool]string{true: "odd", false: "even"}[i%2 == 1])
	}
	put("B#1", "odd")
	return s, pk
}

func sks(rows []row) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.SK)
	}
	return out
}

func TestQueryConditions(t *testing.T) {
	t.Parallel()
	s, pk := partition(t)
	ctx := context.Background()
	cases := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"whole partition", store.Query{PK: pk, Consistent: true}, []string{"A#1", "A#2", "A#3", "A#4", "A#5", "B#1"}},
		{"prefix", store.Query{PK: pk, Prefix: "A#", Consistent: true}, []string{"A#1", "A#2", "A#3", "A#4", "A#5"}},
		{"after", store.Query{PK: pk, After: "A#4", Consistent: true}, []string{"A#5", "B#1"}},
		{"between", store.Query{PK: pk, From: "A#2", To: "A#4", Consistent: true}, []string{"A#2", "A#3", "A#4"}},
		{"from", store.Query{PK: pk, From: "A#5", Consistent: true}, []string{"A#5", "B#1"}},
		{"up to", store.Query{PK: pk, To: "A#2", Consistent: true}, []string{"A#1", "A#2"}},
		{"newest first", store.Query{PK: pk, Prefix: "A#", Newest: true, Consistent: true}, []string{"A#5", "A#4", "A#3", "A#2", "A#1"}},
		{"equal", store.Query{PK: pk, Prefix: "A#", Equal: map[string]any{"kind": "even"}, Consistent: true}, []string{"A#2", "A#4"}},
		{"filter", store.Query{PK: pk, Filter: "begins_with(#n, :n)", FilterNames: map[string]string{"#n": "note"},
			FilterValues: store.Values{":n": "note B"}, Consistent: true}, []string{"B#1"}},
		{"empty", store.Query{PK: pk + "-none", Consistent: true}, []string{}},
	}
	for _, c := range cases {
		got, err := store.All[row](ctx, s, c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(sks(got), c.want) {
			t.Errorf("%s: read %v, want %v", c.name, sks(got), c.want)
		}
	}
}

// TestQueryPagesContinue reads a partition and an index partition two items a page: every item comes
// once, in order, and the last page says there is nothing after it.
func TestQueryPagesContinue(t *testing.T) {
	t.Parallel()
	s, pk := partition(t)
	ctx := context.Background()
	for _, q := range []store.Query{
		{PK: pk, Limit: 2, Newest: true, Consistent: true},
		{Index: store.GSI1, PK: "QIDX#" + pk, Limit: 2, Newest: true},
	} {
		pages := 0
		var got []row
		err := store.Each(ctx, s, q, func(page []row) error {
			pages++
			got = append(got, page...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"B#1", "A#5", "A#4", "A#3", "A#2", "A#1"}; !reflect.DeepEqual(sks(got), want) {
			t.Errorf("index %q: read %v, want %v", q.Index, sks(got), want)
		}
		if pages < 3 {
			t.Errorf("index %q: %d pages of at most 2 items for 6 items", q.Index, pages)
		}
		// One page by hand: where it stopped is the second item, by its table key and index sort key.
		var page []row
		next, err := s.Page(ctx, q, &page)
		if err != nil || next == nil {
			t.Fatalf("index %q: first page: next %v, err %v", q.Index, next, err)
		}
		if next.Key != page[1].Key || (q.Index != "" && next.SK != page[1].GSI1SK) {
			t.Errorf("index %q: stopped at %+v, want the page's last item %+v", q.Index, next, page[1])
		}
	}
}

func TestQueryProjects(t *testing.T) {
	t.Parallel()
	s, pk := partition(t)
	got, err := store.All[row](context.Background(), s, store.Query{Index: store.GSI1, PK: "QIDX#" + pk, Project: []string{"kind"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 6 || got[0].Kind != "odd" || got[0].Note != "" || got[0].SK != "A#1" {
		t.Errorf("projection of kind read %+v", got)
	}
}

// A query that names two sort-key conditions, or an index the table does not have, is refused before it
// reaches the table.
func TestQueryShapeRefused(t *testing.T) {
	s := store.New(nil, "t") // a nil DB: a call would panic
	var out []row
	for _, q := range []store.Query{
		{PK: "X", Prefix: "A", After: "B"},
		{PK: "X", Index: "GSI9"},
		{PK: ""},
	} {
		if _, err := s.Page(context.Background(), q, &out); err == nil {
			t.Errorf("%+v: no error", q)
		}
	}
}
