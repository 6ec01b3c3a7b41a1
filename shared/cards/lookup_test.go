package cards_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"onecard/shared/cards"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

type lookupAnswer struct {
	Items []cards.StudentHit `json:"items"`
}

func (w *world) lookup(q string) []cards.StudentHit {
	w.T.Helper()
	var a lookupAnswer
	w.Do("GET", "/v1/admin/students?q="+url.QueryEscape(q), nil, w.StaffOf("it")...).Expect(w.T, 200, "").Decode(w.T, &a)
	return a.Items
}

// The card center finds a student by any of the ways a student identifies themself at the counter.
func TestLookupByStudentNumberNameOrCard(t *testing.T) {
	w := newWorld(t)
	w.Credit("10000003", 4200, "lookup-1")
	for _, q := range []string{"CUIK20230003", "cuk20230003", "20230003", "王五", "10000003", " 王五 "} {
		hits := w.lookup(q)
		if len(hits) != 1 {
			t.Fatalf("%q: %d hits %+v", q, len(hits), hits)
		}
		h := hits[0]
		if h.StudentNo != "CUIK20230003" || h.Name != "王五" || h.CardNo != "10000003" || h.Card == nil ||
			h.Card.BalanceFen != 4200 || h.Card.HolderName != "王五" || h.Card.Status != cards.Active {
			t.Fatalf("%q: %+v %+v", q, h, h.Card)
		}
	}
	for _, q := range []string{"王", "CUIK20239999", "99999999", "nobody"} {
		if hits := w.lookup(q); len(hits) != 0 {
			t.Fatalf("%q found %+v", q, hits)
		}
	}
	w.Do("GET", "/v1/admin/students?q=", nil, w.StaffOf("finance")...).Expect(t, 400, "BAD_QUERY")
	w.Do("GET", "/v1/admin/students?q=王五", nil, w.StaffOf("ops")...).Expect(t, 403, "FORBIDDEN")
	// The answer never carries the ID number or its digest.
	body := string(w.Do("GET", "/v1/admin/students?q=10000003", nil, w.StaffOf("it")...).Expect(t, 200, "").Body)
	for _, leak := range []string{"idDigest", "idNumber", "530102", "passwordHash"} {
		if strings.Contains(body, leak) {
			t.Fatalf("lookup answer carries %q: %s", leak, body)
		}
	}
}

// Namesakes are all listed.
func TestLookupListsNamesakes(t *testing.T) {
	w := newWorld(t)
	w.importCSV("studentNo,name,idNumber,cardNo\nCUIK20239001,王五,110101200001010010,10009001\n")
	hits := w.lookup("王五")
	if len(hits) != 2 || hits[0].StudentNo == hits[1].StudentNo {
		t.Fatalf("%+v", hits)
	}
}

// After 补卡 the old card number still finds the student; the card view shows the chain, and the
// history read through either number covers both cards.
func TestStaffCardAndHistoryFollowReplacement(t *testing.T) {
	w := newWorld(t)
	w.Credit("10000003", 1000, "hist-old")
	w.Do("POST", "/v1/admin/cards/10000003/replace", map[string]string{"newCardNo": "10000093"}, w.StaffOf("finance")...).Expect(t, 200, "")
	w.Credit("10000093", 300, "hist-new")

	hits := w.lookup("10000003")
	if len(hits) != 1 || hits[0].CardNo != "10000093" || hits[0].Card.CardNo != "10000093" {
		t.Fatalf("%+v", hits)
	}
	var old cards.StaffCard
	w.Do("GET", "/v1/admin/cards/10000003", nil, w.StaffOf("finance")...).Expect(t, 200, "").Decode(t, &old)
	if old.Status != cards.Cancelled || old.ReplacedBy != "10000093" || old.CurrentCardNo != "10000093" {
		t.Fatalf("old card: %+v", old)
	}
	var cur cards.StaffCard
	w.Do("GET", "/v1/admin/cards/10000093", nil, w.StaffOf("it")...).Expect(t, 200, "").Decode(t, &cur)
	if cur.Status != cards.Active || len(cur.Replaces) != 1 || cur.Replaces[0] != "10000003" || cur.BalanceFen != 1300 {
		t.Fatalf("new card: %+v", cur)
	}
	for _, no := range []string{"10000003", "10000093"} {
		var page cards.TxnPage
		w.Do("GET", "/v1/admin/cards/"+no+"/transactions", nil, w.StaffOf("it")...).Expect(t, 200, "").Decode(t, &page)
		onCard := map[string]int{}
		for _, l := range page.Items {
			onCard[l.CardNo]++
		}
		// old: the recharge and the move out; new: the move in and the recharge
		if onCard["10000003"] != 2 || onCard["10000093"] != 2 || page.Items[0].AmountFen != 300 {
			t.Fatalf("history via %s: %+v", no, page.Items)
		}
	}
	w.Do("GET", "/v1/admin/cards/55555555", nil, w.StaffOf("it")...).Expect(t, 404, "CARD_NOT_FOUND")
	w.Do("GET", "/v1/admin/cards/10000093/transactions?limit=0", nil, w.StaffOf("it")...).Expect(t, 400, "BAD_LIMIT")
	w.Reconciled()
}

// Roster entries imported before the name lookup existed are indexed when the roster is imported again.
func TestReimportIndexesOldRosterEntriesByName(t *testing.T) {
	w := newWorld(t)
	s := testkit.Store(w.Deps)
	k := store.StudentKey("kmmc", "20230002")
	_, err := s.DB.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{TableName: &s.Table, Key: k.AV(),
		UpdateExpression: strPtr("REMOVE GSI1PK, GSI1SK")})
	if err != nil {
		t.Fatal(err)
	}
	if hits := w.lookup("李四"); len(hits) != 0 {
		t.Fatalf("found before re-import: %+v", hits)
	}
	w.importCSV("studentNo,name,idNumber,cardNo\nCUIK20230002,李四,53010220010202562X,10000002\n")
	if hits := w.lookup("李四"); len(hits) != 1 || hits[0].StudentNo != "CUIK20230002" {
		t.Fatalf("after re-import: %+v", hits)
	}
}

func strPtr(s string) *string { return &s }

// importCSV posts a roster CSV as the card center does and expects every row taken.
func (w *world) importCSV(csv string) {
	w.T.Helper()
	var rep cards.ImportReport
	w.Import("/v1/admin/students/import", csv, &rep, w.StaffOf("it")...)
	if rep.Rejected != 0 {
		w.T.Fatalf("import: %+v", rep)
	}
}

// A roster import updates what changed (name, class, status) and nothing else; a student marked
// graduated or left can no longer bind, and says so only to whoever knows the card password.
func TestImportUpdatesTheRoster(t *testing.T) {
	w := newWorld(t)
	var rep cards.ImportReport
	csv := "studentNo,name,idNumber,cardNo,class,status\n" +
		"CUIK20230001,张三丰,530102200001011237,10000001,新闻2301,在读\n" + // renamed, class added
		"CUIK20230002,李四,53010220010202562X,10000002,,graduated\n" + // graduated
		"CUIK20230003,王五,530102200203034322,10000099,,\n" + // another card: 补卡's job, refused
		"CUIK20230004,赵六,110101200001010010,10000004,新闻2301,毕业\n" + // new, already graduated
		"CUIK20230005,钱七,110101200001010010,10000005,,unknown\n" // bad status
	w.Import("/v1/admin/students/import", csv, &rep, w.StaffOf("it")...)
	if rep.Created != 1 || rep.Updated != 2 || rep.Unchanged != 0 || rep.Rejected != 2 ||
		rep.Errors[0].Code != "STUDENT_EXISTS" || rep.Errors[1].Code != "BAD_STATUS" {
		t.Fatalf("%+v", rep)
	}
	hits := w.lookup("张三丰")
	if len(hits) != 1 || hits[0].Class != "新闻2301" || hits[0].Status != cards.StudentActive || hits[0].Card.HolderName != "张三丰" {
		t.Fatalf("renamed: %+v", hits)
	}
	if hits := w.lookup("张三"); len(hits) != 0 {
		t.Fatalf("the old name still finds: %+v", hits)
	}
	if hits := w.lookup("CUIK20230002"); len(hits) != 1 || hits[0].Status != cards.StudentGraduated {
		t.Fatalf("graduated: %+v", hits)
	}
	// the same file again changes nothing
	w.Import("/v1/admin/students/import", csv, &rep, w.StaffOf("it")...)
	if rep.Created != 0 || rep.Updated != 0 || rep.Unchanged != 3 {
		t.Fatalf("again: %+v", rep)
	}
	h := w.student("13800000071")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230002", "cardPassword": "000000"}, h...).Expect(t, 422, "BIND_FAILED")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230002", "cardPassword": "025620"}, h...).Expect(t, 422, "STUDENT_INACTIVE")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230001", "cardPassword": "011237"}, h...).Expect(t, 200, "")
}
