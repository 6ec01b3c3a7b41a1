package imports_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/infra/seed"
	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/imports"
	"onecard/shared/jobs"
	"onecard/shared/testkit"
)

func TestMain(m *testing.M) { testkit.Main(m) }

type world struct {
	*testkit.Env
	it, ops []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	e := testkit.Seeded(t)
	w := &world{Env: e, it: e.StaffAs("it-user", "staff-password-1", seed.SchoolID, auth.RoleIT),
		ops: e.StaffAs("ops-user", "staff-password-1", seed.SchoolID, auth.RoleOps)}
	w.Do("PUT", "/v1/admin/dorms/buildings/8", map[string]string{"accountMode": "combined"}, w.ops...).Expect(t, 200, "")
	return w
}

// A roster that creates, renames, graduates, contradicts and refuses (the cases of the import).
const roster = "studentNo,name,idNumber,cardNo,class,status\n" +
	"CUIK20230001,张三丰,530102200001011237,10000001,新闻2301,在读\n" + // renamed, class added
	"CUIK20230002,李四,53010220010202562X,10000002,,graduated\n" + // graduated
	"CUIK20230003,王五,530102200203034322,10000099,,\n" + // another card: refused
	"CUIK20230004,赵六,110101200001010010,10000004,新闻2301,毕业\n" + // new
	"CUIK20230005,钱七,110101200001010010,10000005,,unknown\n" + // bad status
	"CUIK20230006,孙八,110101200001010010,10000006\n" + // new
	"CUIK20230006,孙八,110101200001010010,10000006\n" + // the same row again: unchanged
	"CUIK20230007,周九,110101200001010010,10000006\n" // the card just taken: refused

// items is the table's items (by PK and SK), without their salted hashes; without the import jobs' own,
// the audit trail and the staff members (created at wall-clock time) when data only.
func (w *world) items(dataOnly bool) map[string]string {
	w.T.Helper()
	out := map[string]string{}
	in := &dynamodb.ScanInput{TableName: aws.String(w.Deps.Cfg.Table)}
	for {
		res, err := w.Deps.DB.Scan(context.Background(), in)
		if err != nil {
			w.T.Fatal(err)
		}
		for _, it := range res.Items {
			pk := it["PK"].(*types.AttributeValueMemberS).Value
			sk := it["SK"].(*types.AttributeValueMemberS).Value
			if dataOnly && (strings.HasPrefix(pk, "IMPORT") || strings.HasPrefix(pk, "AUDIT") || strings.HasPrefix(pk, "STAFF#")) {
				continue
			}
			for k := range it {
				if strings.Contains(strings.ToLower(k), "hash") {
					delete(it, k) // salted: differs between two imports of the same row
				}
			}
			b, _ := json.Marshal(it)
			out[pk+" "+sk] = string(b)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// The route answers 202 with a job at once; ImportRunner runs it, and the job's report is the report
// the same rows give when imported in one go (cards.Service.Import, as the route ran it before).
func TestImportJobReportsWhatTheImportDoes(t *testing.T) {
	w := newWorld(t)
	ref := newWorld(t)
	rows, err := cards.ParseStudentCSV([]byte(roster))
	if err != nil {
		t.Fatal(err)
	}
	want, err := imports.NewRunner(ref.Deps).Cards.Import(context.Background(),
		auth.Principal{Subject: "it-user", Kind: auth.KindStaff, School: seed.SchoolID}, rows)
	if err != nil {
		t.Fatal(err)
	}
	if want.Created != 2 || want.Updated != 2 || want.Unchanged != 1 || want.Rejected != 3 {
		t.Fatalf("reference import: %+v", want)
	}

	var j jobs.Job
	r := w.Do("POST", "/v1/admin/students/import", roster, append(w.it, "Content-Type", "text/csv")...).Expect(t, 202, "")
	r.Decode(t, &j)
	if j.Status != jobs.StatusQueued || j.Rows != 8 || r.Header.Get("Location") != "/v1/admin/imports/"+j.JobID {
		t.Fatalf("job: %+v %s", j, r.Header.Get("Location"))
	}
	// Queued: nothing imported yet.
	var got jobs.Job
	w.Do("GET", "/v1/admin/imports/"+j.JobID, nil, w.it...).Expect(t, 200, "").Decode(t, &got)
	if got.Status != jobs.StatusQueued || got.Report != nil {
		t.Fatalf("before the run: %+v", got)
	}
	w.RunSchedule("ImportRunner")
	w.Do("GET", "/v1/admin/imports/"+j.JobID, nil, w.it...).Expect(t, 200, "").Decode(t, &got)
	if got.Status != jobs.StatusDone || got.Processed != 8 || got.Report == nil || !reflect.DeepEqual(*got.Report, *want) {
		t.Fatalf("job report %+v, the import's %+v", got.Report, want)
	}
	if a, b := w.items(true), ref.items(true); !reflect.DeepEqual(a, b) {
		for k := range a {
			if a[k] != b[k] {
				t.Errorf("%s: job %s, import %s", k, a[k], b[k])
			}
		}
		t.Fatal("the job's writes differ from the import's")
	}
	// The same file again changes nothing.
	var again jobs.Report
	w.Import("/v1/admin/students/import", roster, &again, w.it...)
	if again.Created != 0 || again.Updated != 0 || again.Unchanged != 5 || again.Rejected != 3 {
		t.Fatalf("again: %+v", again)
	}
	// The rooms import is a job too.
	var rooms jobs.Report
	w.Import("/v1/admin/dorms/import", "roomId,building,room,elecMeterId,waterMeterId\nWH-8D-1006,8,1006,E-WH-8D-1006,W-WH-8D-1006\nWH-8D-1099,8,1099,E-1,E-1\n", &rooms, w.ops...)
	if rooms.Unchanged+rooms.Created != 1 || rooms.Rejected != 1 || rooms.Errors[0].Code != "BAD_METER" || rooms.Errors[0].Line != 3 {
		t.Fatalf("rooms: %+v", rooms)
	}
}

// A run that dies halfway is taken over once its lease runs out: the second run skips the rows done and
// gives the report one run gives; running the finished job again changes nothing.
func TestARetriedJobDoesEachRowOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var j jobs.Job
	w.Do("POST", "/v1/admin/students/import", roster, append(w.it, "Content-Type", "text/csv")...).Expect(t, 202, "").Decode(t, &j)

	// The first run takes the job and dies after five rows.
	r := imports.NewRunner(w.Deps)
	taken, ok, err := r.Jobs.Take(ctx)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var rows []cards.ImportRow
	if err := r.Jobs.Rows(ctx, taken, &rows); err != nil {
		t.Fatal(err)
	}
	rec, err := r.Jobs.Recorder(ctx, taken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Cards.ImportJob(ctx, auth.Principal{Subject: "it-user", Kind: auth.KindStaff, School: seed.SchoolID}, rows[:5], rec); err != nil {
		t.Fatal(err)
	}
	// While its lease holds, no other run takes it.
	if n, err := r.RunDue(ctx); err != nil || n != 0 {
		t.Fatalf("a run took a leased job: %d %v", n, err)
	}
	w.Clock.Advance(jobs.Lease + time.Second)
	w.RunSchedule("ImportRunner")
	var got jobs.Job
	w.Do("GET", "/v1/admin/imports/"+j.JobID, nil, w.it...).Expect(t, 200, "").Decode(t, &got)
	if got.Status != jobs.StatusDone || got.Attempts != 2 || got.Report.Created != 2 || got.Report.Updated != 2 ||
		got.Report.Unchanged != 1 || got.Report.Rejected != 3 {
		t.Fatalf("retried job: %+v %+v", got, got.Report)
	}
	before := w.items(false)
	// Processing the finished job once more (a duplicate invocation) changes nothing.
	if err := r.Run(ctx, taken); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, w.items(false)) {
		t.Fatal("a second run of a finished job wrote")
	}
	var again jobs.Job
	w.Do("GET", "/v1/admin/imports/"+j.JobID, nil, w.it...).Expect(t, 200, "").Decode(t, &again)
	if !reflect.DeepEqual(again.Report, got.Report) {
		t.Fatalf("report changed: %+v", again.Report)
	}
}

// The preview answers what the import would do and writes nothing; the import then does exactly that.
func TestPreviewWritesNothingAndIsWhatTheImportDoes(t *testing.T) {
	w := newWorld(t)
	before := w.items(false)
	var pv cards.Preview
	w.Do("POST", "/v1/admin/students/import?dryRun=true", roster, append(w.it, "Content-Type", "text/csv")...).Expect(t, 200, "").Decode(t, &pv)
	if !reflect.DeepEqual(before, w.items(false)) {
		t.Fatal("the preview wrote")
	}
	if len(pv.Creates) != 2 || pv.Creates[0].StudentNo != "CUIK20230004" || pv.Creates[1].CardNo != "10000006" ||
		len(pv.Updates) != 2 || pv.Updates[0].StudentNo != "CUIK20230001" ||
		!reflect.DeepEqual(pv.Updates[0].Changes, []cards.FieldChange{{Field: "name", Before: "张三", After: "张三丰"}, {Field: "class", Before: "", After: "新闻2301"}}) ||
		!reflect.DeepEqual(pv.Updates[1].Changes, []cards.FieldChange{{Field: "status", Before: "active", After: "graduated"}}) {
		t.Fatalf("preview: %+v", pv)
	}
	var rep jobs.Report
	w.Import("/v1/admin/students/import", roster, &rep, w.it...)
	if !reflect.DeepEqual(rep, pv.ImportReport) {
		t.Fatalf("import %+v, preview %+v", rep, pv.ImportReport)
	}
	// The rooms preview too.
	before = w.items(false)
	var rp struct {
		Created, Unchanged, Rejected int
		Creates                      []struct{ RoomID string }
	}
	w.Do("POST", "/v1/admin/dorms/import?dryRun=true", "WH-8D-1099,8,1099,E-9,W-9\nWH-8D-1098,8,1098,E-9,W-8\n",
		append(w.ops, "Content-Type", "text/csv")...).Expect(t, 200, "").Decode(t, &rp)
	if rp.Created != 1 || rp.Rejected != 1 || len(rp.Creates) != 1 || rp.Creates[0].RoomID != "WH-8D-1099" {
		t.Fatalf("rooms preview: %+v", rp)
	}
	if !reflect.DeepEqual(before, w.items(false)) {
		t.Fatal("the rooms preview wrote")
	}
}

// Roles as before (it imports the roster, ops the rooms, admin both); a job is read only by whoever
// may start its kind, in its school.
func TestImportRoles(t *testing.T) {
	w := newWorld(t)
	w.PutStaff("other-it", "staff-password-1", "other", auth.RoleIT)
	fin := w.StaffAs("fin-user", "staff-password-1", seed.SchoolID, auth.RoleFinance)
	admin := w.StaffAs("admin-user", "staff-password-1", seed.SchoolID, auth.RoleAdmin)
	csv := "CUIK20230006,孙八,110101200001010010,10000006\n"
	w.Do("POST", "/v1/admin/students/import", csv, append(w.ops, "Content-Type", "text/csv")...).Expect(t, 403, "")
	w.Do("POST", "/v1/admin/students/import?dryRun=true", csv, append(fin, "Content-Type", "text/csv")...).Expect(t, 403, "")
	w.Do("POST", "/v1/admin/dorms/import", "WH-8D-1099,8,1099,E-9,W-9\n", append(w.it, "Content-Type", "text/csv")...).Expect(t, 403, "")
	var j jobs.Job
	w.Do("POST", "/v1/admin/students/import", csv, append(w.it, "Content-Type", "text/csv")...).Expect(t, 202, "").Decode(t, &j)
	w.Do("GET", "/v1/admin/imports/"+j.JobID, nil, fin...).Expect(t, 403, "")
	w.Do("GET", "/v1/admin/imports/"+j.JobID, nil, w.ops...).Expect(t, 404, "IMPORT_JOB_NOT_FOUND")
	w.Do("GET", "/v1/admin/imports/"+j.JobID, nil, w.StaffLogin("other-it", "staff-password-1")...).Expect(t, 404, "IMPORT_JOB_NOT_FOUND")
	w.Do("GET", "/v1/admin/imports/not-a-job", nil, w.it...).Expect(t, 404, "IMPORT_JOB_NOT_FOUND")
	w.Do("GET", "/v1/admin/imports/"+j.JobID, nil, admin...).Expect(t, 200, "")
	var rep jobs.Report
	w.Import("/v1/admin/dorms/import", "WH-8D-1099,8,1099,E-9,W-9\n", &rep, admin...)
	if rep.Created != 1 {
		t.Fatalf("admin's rooms import: %+v", rep)
	}
}

// A file that is not a CSV of the kind is answered 400 at once, and no job is stored.
func TestBadCSVIsRefusedAtOnce(t *testing.T) {
	w := newWorld(t)
	before := w.items(false)
	h := append(w.it, "Content-Type", "text/csv")
	w.Do("POST", "/v1/admin/students/import", "\xff\xfe not utf-8", h...).Expect(t, 400, "BAD_CSV")
	w.Do("POST", "/v1/admin/students/import", "studentNo,name,idNumber,cardNo\n", h...).Expect(t, 400, "EMPTY_CSV")
	w.Do("POST", "/v1/admin/students/import?dryRun=true", "a,\"b\n", h...).Expect(t, 400, "BAD_CSV")
	w.Do("POST", "/v1/admin/students/import", strings.Repeat("CUIK20230006,孙八,110101200001010010,10000006\n", cards.MaxImportRows+1), h...).Expect(t, 400, "TOO_MANY_ROWS")
	w.Do("POST", "/v1/admin/dorms/import", "", append(w.ops, "Content-Type", "text/csv")...).Expect(t, 400, "EMPTY_CSV")
	if !reflect.DeepEqual(before, w.items(false)) {
		t.Fatal("a refused file left something behind")
	}
}

// Rows larger than one item are kept across several (a DynamoDB item holds 400 KB) and read back whole.
func TestJobRowsAreChunked(t *testing.T) {
	e := testkit.New(t)
	s := jobs.NewService(e.Deps)
	type row struct {
		Line int
		Text string
	}
	var rows []any
	for i := range 3000 {
		rows = append(rows, row{i, strings.Repeat("宿", 100)})
	}
	j, err := s.Submit(context.Background(), "kmmc", jobs.KindDorms, "ops-user", rows)
	if err != nil {
		t.Fatal(err)
	}
	if j.Chunks < 3 {
		t.Fatalf("%d chunks for ~900 KB", j.Chunks)
	}
	var back []row
	if err := s.Rows(context.Background(), j, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 3000 || back[2999].Line != 2999 || back[0].Text != strings.Repeat("宿", 100) {
		t.Fatalf("rows back: %d", len(back))
	}
}
