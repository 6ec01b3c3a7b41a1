package cards

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/csvin"
	"onecard/shared/fault"
	"onecard/shared/jobs"
	"onecard/shared/ledger"
	"onecard/shared/plaintext"
	"onecard/shared/school"
	"onecard/shared/secret"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// MaxImportRows bounds one import request (each new card hashes a password).
const MaxImportRows = 2000

// RowError is one refused CSV row (1-based line number).
type RowError = jobs.RowError

// ImportReport counts what an import did.
type ImportReport = jobs.Report

// ImportRow is one parsed CSV row.
type ImportRow struct {
	Line                              int
	StudentNo, Name, IDNumber, CardNo string
	Class                             string // optional (班级)
	Status                            string // optional: "" or active (在读), graduated (毕业), left (离校)
}

// Roster statuses. A student who is not active cannot bind their card; a card already bound keeps
// working until the card center closes it (销户).
const (
	StudentActive    = "active"
	StudentGraduated = "graduated"
	StudentLeft      = "left"
)

var statusWords = map[string]string{"": StudentActive, "active": StudentActive, "在读": StudentActive,
	"graduated": StudentGraduated, "毕业": StudentGraduated, "left": StudentLeft, "离校": StudentLeft}

// ParseStudentCSV reads studentNo,name,idNumber,cardNo[,class[,status]] rows (an optional header line is
// skipped).
func ParseStudentCSV(body []byte) ([]ImportRow, error) {
	recs, err := csvin.Read(body, "studentNo,name,idNumber,cardNo,class,status", MaxImportRows)
	if err != nil {
		return nil, err
	}
	rows := make([]ImportRow, len(recs))
	for i, r := range recs {
		rows[i].Line = r.Line
		if f := r.Fields; len(f) >= 4 && len(f) <= 6 {
			rows[i].StudentNo, rows[i].Name, rows[i].IDNumber, rows[i].CardNo = f[0], f[1], f[2], f[3]
			if len(f) > 4 {
				rows[i].Class = f[4]
			}
			if len(f) > 5 {
				rows[i].Status = f[5]
			}
		}
	}
	return rows, nil
}

func validCardNo(no string) bool {
	if len(no) < 4 || len(no) > 20 {
		return false
	}
	for i := 0; i < len(no); i++ {
		if no[i] < '0' || no[i] > '9' {
			return false
		}
	}
	return true
}

// Import creates the roster and the cards of the caller's school. Re-importing the same rows changes
// nothing; a row that contradicts what exists is reported, never applied. (The route runs it as a job:
// ImportJob; the seed and tools call it directly.)
func (s *Service) Import(ctx context.Context, p auth.Principal, rows []ImportRow) (*ImportReport, error) {
	rep, err := s.importRows(ctx, p, rows, importMode{})
	if err != nil {
		return nil, err
	}
	return rep, staff.Audit(ctx, s.S, staff.Actor(p), "students.import", "school:"+p.School, ImportAudit(len(rows), rep), s.Now())
}

// ImportJob is Import run by an import job: each row's outcome is recorded with its writes, and the
// rows an earlier run of the job did are counted, not done again. The caller audits (ImportAudit).
func (s *Service) ImportJob(ctx context.Context, p auth.Principal, rows []ImportRow, rec *jobs.Recorder) (*ImportReport, error) {
	return s.importRows(ctx, p, rows, importMode{rec: rec})
}

// ImportAudit is the audit record's details of a roster import.
func ImportAudit(rows int, rep *ImportReport) map[string]any {
	return map[string]any{"rows": rows, "created": rep.Created, "updated": rep.Updated, "unchanged": rep.Unchanged, "rejected": rep.Rejected}
}

// Preview is what an import of the rows would do now, written nowhere (POST
// /v1/admin/students/import?dryRun=true): the counts and refusals of the report, the rows it would
// create and the changes it would make.
type Preview struct {
	ImportReport
	Creates []PreviewCreate `json:"creates"`
	Updates []PreviewUpdate `json:"updates"`
}

// PreviewCreate is a student and card an import would create.
type PreviewCreate struct {
	Line      int    `json:"line"`
	StudentNo string `json:"studentNo"`
	Name      string `json:"name"`
	CardNo    string `json:"cardNo"`
	Class     string `json:"class"`
	Status    string `json:"status"`
}

// PreviewUpdate is a roster entry an import would change, field by field.
type PreviewUpdate struct {
	Line      int           `json:"line"`
	StudentNo string        `json:"studentNo"`
	CardNo    string        `json:"cardNo"`
	Changes   []FieldChange `json:"changes"`
}

// FieldChange is one field's value before and after (name, class or status).
type FieldChange struct {
	Field  string `json:"field"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// PreviewImport answers what Import would do with rows, writing nothing.
func (s *Service) PreviewImport(ctx context.Context, p auth.Principal, rows []ImportRow) (*Preview, error) {
	pv := &Preview{Creates: []PreviewCreate{}, Updates: []PreviewUpdate{}}
	rep, err := s.importRows(ctx, p, rows, importMode{preview: pv})
	if err != nil {
		return nil, err
	}
	pv.ImportReport = *rep
	return pv, nil
}

// importMode says how importRows runs: as the request's own import (zero), for a job (rec), or as a
// preview that writes nothing and tells what it would do (preview).
type importMode struct {
	rec     *jobs.Recorder
	preview *Preview
}

// dryRun is the state a preview would have made so far: the entries it would have written and the card
// numbers it would have taken, so that a file naming a student twice previews as it imports.
type dryRun struct {
	students map[string]student
	cards    map[string]bool
}

func (s *Service) importRows(ctx context.Context, p auth.Principal, rows []ImportRow, m importMode) (*ImportReport, error) {
	sch, err := s.Schools.Get(ctx, p.School)
	if err != nil {
		return nil, err
	}
	dry := dryRun{students: map[string]student{}, cards: map[string]bool{}}
	rep := &ImportReport{Errors: []RowError{}}
	for i, row := range rows {
		if o, ok := m.rec.Done(i); ok {
			rep.Add(o)
			continue
		}
		o, err := s.importRow(ctx, sch, row, i, m, &dry)
		if err != nil {
			return nil, err
		}
		o.Line = row.Line
		rep.Add(o)
	}
	return rep, nil
}

// importRow does (or, in a preview, weighs) one row and returns its outcome. The outcome is recorded
// with the row's writes; a row that writes nothing records it alone.
func (s *Service) importRow(ctx context.Context, sch *school.School, row ImportRow, i int, m importMode, dry *dryRun) (jobs.Outcome, error) {
	reject := func(e *fault.Error) (jobs.Outcome, error) {
		o := jobs.Outcome{Line: row.Line, Result: jobs.Rejected, Code: e.Code, Message: e.Message}
		return o, m.rec.Record(ctx, i, o)
	}
	if row.StudentNo == "" {
		return reject(fault.Field("BAD_ROW", "每行须有 4–6 列：studentNo,name,idNumber,cardNo[,class[,status]]"))
	}
	status, known := statusWords[strings.ToLower(row.Status)]
	if !known {
		return reject(fault.Field("BAD_STATUS", "状态须为 在读(active)、毕业(graduated) 或 离校(left)"))
	}
	if utf8.RuneCountInString(row.Class) > 32 {
		return reject(fault.Field("BAD_CLASS", "班级不能超过 32 个字符"))
	}
	in := row.StudentNo
	if in[0] >= '0' && in[0] <= '9' {
		in = sch.Canonical(in)
	}
	bare, err := sch.StudentNumber(in)
	if err != nil {
		return reject(ErrBadStudentNoRow)
	}
	if n := utf8.RuneCountInString(row.Name); n < 1 || n > 32 {
		return reject(fault.Field("BAD_NAME", "姓名须为 1–32 个字符"))
	}
	id, err := NormalID(row.IDNumber)
	if err != nil {
		return reject(ErrBadIDNumber)
	}
	if !validCardNo(row.CardNo) {
		return reject(fault.Field("BAD_CARD_NO", "卡号须为 4–20 位数字"))
	}
	digest := s.IDDigest(id)
	var st student
	ok := false
	if m.preview != nil {
		st, ok = dry.students[bare]
	}
	if !ok {
		if ok, err = s.S.Get(ctx, store.StudentKey(sch.ID, bare), &st); err != nil {
			return jobs.Outcome{}, err
		}
	}
	if ok {
		switch {
		case st.CardNo != row.CardNo || st.IDDigest != digest:
			return reject(fault.E(fault.Conflict, "STUDENT_EXISTS", "该学号已存在且卡号或身份证号不同（换卡请走补卡流程）"))
		case st.Name == row.Name && st.Class == row.Class && st.status() == status && st.GSI1PK != "":
			o := jobs.Outcome{Result: jobs.Unchanged}
			return o, m.rec.Record(ctx, i, o)
		}
		// A new name, class or status (or an entry imported before the name lookup, indexed now).
		o := jobs.Outcome{Result: jobs.Unchanged}
		if st.Name != row.Name || st.Class != row.Class || st.status() != status {
			o.Result = jobs.Updated
		}
		if m.preview != nil {
			if o.Result == jobs.Updated {
				u := PreviewUpdate{Line: row.Line, StudentNo: st.StudentNo, CardNo: st.CardNo, Changes: []FieldChange{}}
				for _, c := range []FieldChange{{"name", st.Name, row.Name}, {"class", st.Class, row.Class}, {"status", st.status(), status}} {
					if c.Before != c.After {
						u.Changes = append(u.Changes, c)
					}
				}
				m.preview.Updates = append(m.preview.Updates, u)
			}
			next := st
			next.Name, next.Class, next.Status, next.GSI1PK = row.Name, row.Class, status, "indexed"
			dry.students[bare] = next
			return o, nil
		}
		mark, err := m.rec.Item(i, o)
		if err != nil {
			return jobs.Outcome{}, err
		}
		if err := s.updateStudent(ctx, st, row.Name, row.Class, status, mark...); err != nil {
			return jobs.Outcome{}, err
		}
		return o, m.rec.Progress(ctx, i+1)
	}
	if m.preview != nil {
		taken := dry.cards[row.CardNo]
		if !taken {
			var c Card
			if taken, err = s.S.Get(ctx, store.CardKey(sch.ID, row.CardNo), &c); err != nil {
				return jobs.Outcome{}, err
			}
		}
		if taken {
			return reject(fault.E(fault.Conflict, "CARD_NO_TAKEN", "该卡号已被使用"))
		}
		entry := newStudent(sch.ID, bare, sch.Canonical(bare), row.CardNo, row.Name, digest)
		entry.Class, entry.Status = row.Class, status
		dry.students[bare], dry.cards[row.CardNo] = entry, true
		m.preview.Creates = append(m.preview.Creates, PreviewCreate{Line: row.Line, StudentNo: entry.StudentNo, Name: row.Name,
			CardNo: row.CardNo, Class: row.Class, Status: status})
		return jobs.Outcome{Result: jobs.Created}, nil
	}
	hash, err := secret.HashPassword(InitialPassword(id))
	if err != nil {
		return jobs.Outcome{}, err
	}
	now := s.Now().UTC()
	card := Card{Key: store.CardKey(sch.ID, row.CardNo), Type: "card", Account: AccountID(sch.ID, row.CardNo),
		SchoolID: sch.ID, CardNo: row.CardNo, StudentNo: sch.Canonical(bare), HolderName: row.Name, IDDigest: digest,
		PasswordHash: hash, Status: Active, PerTxnFen: sch.DefaultPerTxnFen, DailyFen: sch.DefaultDailyFen, CreatedAt: now}
	putCard, err := store.PutItem(card.NewItem(), store.IfAbsent, nil)
	if err != nil {
		return jobs.Outcome{}, err
	}
	entry := newStudent(sch.ID, bare, card.StudentNo, row.CardNo, row.Name, digest)
	entry.Class, entry.Status = row.Class, status
	entry.indexStatus()
	putStudent, err := store.PutItem(entry, store.IfAbsent, nil)
	if err != nil {
		return jobs.Outcome{}, err
	}
	o := jobs.Outcome{Result: jobs.Created}
	mark, err := m.rec.Item(i, o)
	if err != nil {
		return jobs.Outcome{}, err
	}
	err = s.S.Transact(ctx, append([]types.TransactWriteItem{putCard, putStudent}, mark...), "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		if tc.Failed(0) {
			return reject(fault.E(fault.Conflict, "CARD_NO_TAKEN", "该卡号已被使用"))
		}
		return reject(fault.E(fault.Conflict, "STUDENT_EXISTS", "该学号已存在"))
	}
	if err != nil {
		return jobs.Outcome{}, err
	}
	return o, m.rec.Progress(ctx, i+1)
}

// updateStudent writes a roster entry's new name, class and status, and the card's holder name with it.
func (s *Service) updateStudent(ctx context.Context, st student, name, class, status string, with ...types.TransactWriteItem) error {
	next := newStudent(st.SchoolID, st.PK[len("STUDENT#"+st.SchoolID+"#"):], st.StudentNo, st.CardNo, name, st.IDDigest)
	next.Class, next.Status = class, status
	next.indexStatus()
	put, err := store.PutItem(next, store.IfExists+" AND cardNo = :c", store.Values{":c": st.CardNo}.AV())
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{put}
	if name != st.Name {
		items = append(items, store.CardHolderItem(store.CardKey(st.SchoolID, st.CardNo), name))
	}
	return s.S.Transact(ctx, append(items, with...), "")
}

// ErrBadStudentNoRow is a row whose student number lacks the school's prefix.
var ErrBadStudentNoRow = fault.Field("BAD_STUDENT_NO", "学号格式不正确")

func (s *Service) staffCard(ctx context.Context, p auth.Principal, cardNo string) (*Card, error) {
	if !validCardNo(cardNo) {
		return nil, ErrNoCard
	}
	return s.Cards.Get(ctx, p.School, cardNo)
}

// StaffUnlock lifts a lock after the holder's identity was checked in person.
func (s *Service) StaffUnlock(ctx context.Context, p auth.Principal, cardNo string) error {
	c, err := s.staffCard(ctx, p, cardNo)
	if err != nil {
		return err
	}
	if c.Status != Locked {
		return ErrNotLocked
	}
	if err := s.clearTries(ctx, c); err != nil {
		return err
	}
	if err := s.setStatus(ctx, c, unlockTo(c), "lockedFrom = :lf", store.Values{":lf": ""}); err != nil {
		return err
	}
	return staff.Audit(ctx, s.S, staff.Actor(p), "card.unlock", "card:"+cardNo, nil, s.Now())
}

// StaffResetPassword sets the card password to the ID's last six; staff type the ID from the document.
func (s *Service) StaffResetPassword(ctx context.Context, p auth.Principal, cardNo, id string) error {
	c, err := s.staffCard(ctx, p, cardNo)
	if err != nil {
		return err
	}
	norm, err := NormalID(id)
	if err != nil {
		return err
	}
	if !s.Digest.Equal(c.IDDigest, "id-number", norm) {
		return ErrBadID
	}
	if err := s.resetPassword(ctx, c, norm); err != nil {
		return err
	}
	return staff.Audit(ctx, s.S, staff.Actor(p), "card.reset_password", "card:"+cardNo, nil, s.Now())
}

// ReplaceResult is the answer of 补卡.
type ReplaceResult struct {
	OldCardNo  string `json:"oldCardNo"`
	NewCardNo  string `json:"newCardNo"`
	MovedFen   int64  `json:"movedFen"`
	BalanceFen int64  `json:"balanceFen"`
	// KeptBinding: the account bound to the old card is bound to the new one (staff confirmed it is the
	// student's own); otherwise the old binding was removed and the student binds the new card again.
	KeptBinding bool `json:"keptBinding"`
	// FeeFen is the 补卡 fee charged (the school's replaceFeeFen), FeeFrom how it was paid (balance or
	// cash), ReceiptNo the cash receipt; BalanceFen is after the fee.
	FeeFen    int64  `json:"feeFen"`
	FeeFrom   string `json:"feeFrom,omitempty"`
	ReceiptNo string `json:"receiptNo,omitempty"`
}

// Errors of the staff card routes.
var (
	ErrAlreadyReplaced = fault.E(fault.Conflict, "ALREADY_REPLACED", "该卡已补办为其他卡号")
	ErrCardNoTaken     = fault.E(fault.Conflict, "CARD_NO_TAKEN", "该卡号已被使用")
	ErrNotCancelled    = fault.E(fault.Conflict, "CARD_NOT_CANCELLED", "该卡未注销，余额仍在卡上，无需转移")
	ErrNoCurrentCard   = fault.E(fault.Conflict, "NO_CURRENT_CARD", "该卡已注销且没有补办的新卡，无法转移余额")
	ErrCardNotBound    = fault.E(fault.Conflict, "CARD_NOT_BOUND", "该一卡通未绑定账号")
	ErrBadReason       = fault.Field("BAD_REASON", "请填写原因（不超过 200 字，不含控制字符）")
)

// ReasonRule is the reason staff give for unbinding a card (kept in the audit).
var ReasonRule = plaintext.Rule{Max: 200}

// maxDecide bounds how often a staff money step decides again after another writer moved the card.
const maxDecide = 10

// Replace issues newCardNo in place of cardNo (补卡): the new card copies the holder, password and
// limits; the old card is cancelled (with its cutoff, CutoffAt); the roster points at the new card; the
// balance moves by a ledger transfer. The binding of the old card is removed, unless keepBinding (staff
// confirmed the bound account is the student's own): then the new card is bound to it instead. Each
// step is idempotent, so repeating the request after a failure finishes the job.
//
// The card is cancelled before its balance moves, and the amount moved is decided from a read of the
// cancelled card, the transfer conditioned on that read (seq and blv): a posting that lands between the
// read and the transfer makes it decide again, so nothing is left behind on the old card. Postings to a
// cancelled card are refused everywhere else (a reader record decided on the active card fails its blv
// condition and is decided again: docs/reader-protocol.md).
func (s *Service) Replace(ctx context.Context, p auth.Principal, l *ledger.Ledger, cardNo, newCardNo string, keepBinding bool) (*ReplaceResult, error) {
	if !validCardNo(newCardNo) || newCardNo == cardNo {
		return nil, fault.Field("BAD_CARD_NO", "新卡号须为 4–20 位数字且不同于原卡号")
	}
	old, err := s.staffCard(ctx, p, cardNo)
	if err != nil {
		return nil, err
	}
	if old.ReplacedBy != "" && old.ReplacedBy != newCardNo {
		return nil, ErrAlreadyReplaced
	}
	if old.Status == Cancelled && old.ReplacedBy == "" {
		return nil, ErrCancelled
	}
	// 1. The new card.
	nc := *old
	nc.Key, nc.Account, nc.CardNo = store.CardKey(old.SchoolID, newCardNo), AccountID(old.SchoolID, newCardNo), newCardNo
	nc.Balance, nc.Seq, nc.Arrears, nc.Status, nc.BLV = 0, 0, false, Active, 0
	nc.LostAt, nc.ReplacedBy, nc.CutoffAt, nc.GSI2PK, nc.GSI2SK, nc.CreatedAt = time.Time{}, "", time.Time{}, "", "", s.Now().UTC()
	nc.Replaces = append(slices.Clone(old.Replaces), old.CardNo)
	if !keepBinding {
		nc.BoundUser = ""
	}
	err = s.S.Put(ctx, nc.NewItem(), store.IfAbsent, nil)
	if errors.Is(err, store.ErrConditionFailed) {
		// Either an earlier attempt of this replacement created it (carry on: never overwrite a card that
		// may already hold the moved balance), or the number belongs to someone else.
		existing, gerr := s.Cards.Get(ctx, old.SchoolID, newCardNo)
		if gerr != nil {
			return nil, gerr
		}
		if existing.StudentNo != old.StudentNo || existing.IDDigest != old.IDDigest || old.ReplacedBy != newCardNo && old.Status == Cancelled {
			return nil, ErrCardNoTaken
		}
		keepBinding = existing.BoundUser != "" // the first attempt decided
	} else if err != nil {
		return nil, err
	}
	// 2. Cancel the old card, from when it stopped being the student's: its loss report if it is lost.
	for attempt := 1; old.Status != Cancelled; attempt++ {
		cutoff := s.Now().UTC()
		if old.Status == Lost && !old.LostAt.IsZero() {
			cutoff = old.LostAt
		}
		err := s.setStatus(ctx, old, Cancelled, "replacedBy = :r, cutoffAt = :cut", store.Values{":r": newCardNo, ":cut": cutoff})
		if err == nil {
			break
		}
		if !fault.Is(err, ErrConcurrentState.Code) || attempt >= maxDecide {
			return nil, err
		}
		// A posting flipped its arrears (or a loss report came) meanwhile: read it again.
		if old, err = s.Cards.Get(ctx, old.SchoolID, cardNo); err != nil {
			return nil, err
		}
		if old.ReplacedBy != "" && old.ReplacedBy != newCardNo {
			return nil, ErrAlreadyReplaced
		}
	}
	// 3. The roster and the binding.
	sch, err := s.Schools.Get(ctx, old.SchoolID)
	if err != nil {
		return nil, err
	}
	bare, err := sch.StudentNumber(old.StudentNo)
	if err != nil {
		return nil, err
	}
	if err := s.S.SetStudentCardNo(ctx, store.StudentKey(old.SchoolID, bare), newCardNo); err != nil {
		return nil, err
	}
	if old.BoundUser != "" {
		if err := s.moveBinding(ctx, old, newCardNo, keepBinding); err != nil {
			return nil, err
		}
	}
	// 4. Move the balance.
	moved, err := s.moveReplaced(ctx, l, old.SchoolID, cardNo, newCardNo)
	if err != nil {
		return nil, err
	}
	fresh, err := s.Cards.Get(ctx, old.SchoolID, newCardNo)
	if err != nil {
		return nil, err
	}
	if err := staff.Audit(ctx, s.S, staff.Actor(p), "card.replace", "card:"+cardNo,
		map[string]any{"newCardNo": newCardNo, "movedFen": moved, "keepBinding": keepBinding}, s.Now()); err != nil {
		return nil, err
	}
	return &ReplaceResult{OldCardNo: cardNo, NewCardNo: newCardNo, MovedFen: moved, BalanceFen: fresh.Balance, KeptBinding: keepBinding}, nil
}

// moveBinding takes the binding off the replaced card old: the account is bound to newCardNo instead
// (keep), or to no card of the school. Each write is conditioned on what it undoes, so a repeat (or an
// account that unbound meanwhile) changes nothing.
func (s *Service) moveBinding(ctx context.Context, old *Card, newCardNo string, keep bool) error {
	var err error
	if keep {
		err = s.S.MoveUserCard(ctx, old.BoundUser, old.SchoolID, old.CardNo, newCardNo)
	} else {
		err = s.S.DropUserCard(ctx, old.BoundUser, old.SchoolID, old.CardNo)
	}
	if err != nil && !errors.Is(err, store.ErrConditionFailed) {
		return err
	}
	err = s.S.UnbindCard(ctx, old.Key, old.BoundUser)
	if errors.Is(err, store.ErrConditionFailed) {
		return nil
	}
	return err
}

// moveReplaced moves what the cancelled card cardNo holds to newCardNo, once (the transfer's marker
// answers a repeat). The amount is decided from a read of the old card and the transfer lands only
// while the card is as read; otherwise it is decided again.
func (s *Service) moveReplaced(ctx context.Context, l *ledger.Ledger, school, cardNo, newCardNo string) (int64, error) {
	scope, key := "staff", "replace:"+school+":"+cardNo
	for attempt := 1; ; attempt++ {
		var mk struct {
			Entries []ledger.EntryResult `dynamodbav:"entries"`
		}
		done, err := s.S.Get(ctx, store.IdemKey(scope, key), &mk)
		if err != nil {
			return 0, err
		}
		if done {
			for _, e := range mk.Entries {
				if e.Account == AccountID(school, cardNo) {
					return e.BalanceBefore - e.BalanceAfterFen, nil
				}
			}
			return 0, nil
		}
		old, err := s.Cards.Get(ctx, school, cardNo)
		if err != nil {
			return 0, err
		}
		if old.Status != Cancelled || old.ReplacedBy != newCardNo {
			return 0, ErrConcurrentState
		}
		if old.Balance == 0 {
			return 0, nil
		}
		err = s.transfer(ctx, l, old, store.CardKey(school, newCardNo), AccountID(school, newCardNo), scope, key,
			[]any{"replace", school, cardNo, newCardNo}, "补卡转出", "补卡转入", nil)
		if err == nil {
			return old.Balance, nil
		}
		if !fault.Is(err, ledger.ErrStale.Code) || attempt >= maxDecide {
			return 0, err
		}
	}
}

// transfer moves old's whole balance as read (old.Balance at old.Seq) to the card at toKey. The ledger
// refuses it (ErrStale) when the old card is no longer at the seq and blv read: the caller reads again.
func (s *Service) transfer(ctx context.Context, l *ledger.Ledger, old *Card, toKey store.Key, toAccount, scope, key string,
	input any, outLabel, inLabel string, extra []types.TransactWriteItem) error {
	lc := *l
	lc.Guard = func(k store.Key, st map[string]types.AttributeValue) error {
		if k == old.Key && (num(st, "seq") != old.Seq || num(st, "blv") != old.BLV) {
			return ledger.ErrStale
		}
		return nil
	}
	_, err := lc.Post(ctx, ledger.Movement{Scope: scope, Key: key, Input: input, Extra: extra,
		Postings: []ledger.Posting{
			{Account: old.Account, Item: old.Key, AmountFen: -old.Balance, Kind: ledger.KindReplace, Counterparty: toAccount, Merchant: outLabel, AllowNegative: true},
			{Account: toAccount, Item: toKey, AmountFen: old.Balance, Kind: ledger.KindReplace, Counterparty: old.Account, Merchant: inLabel, AllowNegative: true},
		}})
	return err
}

// MoveResult is the answer of moving a cancelled card's balance.
type MoveResult struct {
	CardNo     string `json:"cardNo"`
	ToCardNo   string `json:"toCardNo"`
	MovedFen   int64  `json:"movedFen"`
	BalanceFen int64  `json:"balanceFen"` // the current card's balance after the move
}

// MoveBalance moves what is left on the cancelled card cardNo (a credit or a charge that older code
// posted after its 补卡) to the student's current card: the card that replaced it, following
// replacements. The amount is the whole balance as read, moved only while the card is as read (else
// read again), keyed by the card's seq at that read, so a repeat, or two staff doing it at once, moves
// it once; with nothing left the answer moves 0. The audit record is written in the same transaction.
func (s *Service) MoveBalance(ctx context.Context, p auth.Principal, l *ledger.Ledger, cardNo string) (*MoveResult, error) {
	for attempt := 1; ; attempt++ {
		old, err := s.staffCard(ctx, p, cardNo)
		if err != nil {
			return nil, err
		}
		if old.Status != Cancelled {
			return nil, ErrNotCancelled
		}
		to, err := s.Current(ctx, old)
		if err != nil {
			return nil, err
		}
		res := &MoveResult{CardNo: cardNo, ToCardNo: to.CardNo, BalanceFen: to.Balance}
		if old.Balance == 0 {
			return res, nil
		}
		now := s.Now()
		audit := staff.AuditItem(staff.Actor(p), "card.move_balance", "card:"+cardNo,
			map[string]any{"toCardNo": to.CardNo, "movedFen": old.Balance, "fromSeq": old.Seq}, now)
		key := "move:" + old.SchoolID + ":" + cardNo + ":" + strconv.FormatInt(old.Seq, 10)
		err = s.transfer(ctx, l, old, to.Key, to.Account, "staff", key, []any{"move", old.SchoolID, cardNo, old.Seq, old.Balance, to.CardNo},
			"补卡余额转出", "补卡余额转入", []types.TransactWriteItem{audit})
		if err == nil {
			fresh, err := s.Cards.Get(ctx, to.SchoolID, to.CardNo)
			if err != nil {
				return nil, err
			}
			res.MovedFen, res.BalanceFen = old.Balance, fresh.Balance
			return res, nil
		}
		if !fault.Is(err, ledger.ErrStale.Code) || attempt >= maxDecide {
			return nil, err
		}
	}
}

// Current is the card the holder of c uses now: c itself unless it was cancelled, else the card that
// replaced it (following replacements); ErrNoCurrentCard when the chain ends at a cancelled card.
func (s *Service) Current(ctx context.Context, c *Card) (*Card, error) {
	cur := c
	for hops := 0; cur.Status == Cancelled; hops++ {
		if cur.ReplacedBy == "" || hops >= 10 {
			return nil, ErrNoCurrentCard
		}
		next, err := s.Cards.Get(ctx, cur.SchoolID, cur.ReplacedBy)
		if err != nil {
			return nil, err
		}
		cur = next
	}
	return cur, nil
}

// StaffUnbind removes the binding of cardNo to whichever account holds it (a stranger bound it, the
// student lost the phone), with the reason in the audit record, written in the same transaction.
func (s *Service) StaffUnbind(ctx context.Context, p auth.Principal, cardNo, reason string) error {
	reason, problem := ReasonRule.Check(reason)
	if problem != plaintext.OK {
		return ErrBadReason
	}
	c, err := s.staffCard(ctx, p, cardNo)
	if err != nil {
		return err
	}
	if c.BoundUser == "" {
		return ErrCardNotBound
	}
	items := []types.TransactWriteItem{
		store.UnbindCardItem(c.Key, c.BoundUser),
		staff.AuditItem(staff.Actor(p), "card.unbind", "card:"+cardNo, map[string]any{"userId": c.BoundUser, "reason": reason}, s.Now()),
	}
	// The account's side, when it points at this card (it may not: an account that bound another
	// school's card, or a binding left half-done by older code).
	var u struct {
		Cards map[string]string `dynamodbav:"cards"`
	}
	ok, err := s.S.Get(ctx, store.UserKey(c.BoundUser), &u)
	if err != nil {
		return err
	}
	if ok && u.Cards[c.SchoolID] == cardNo {
		items = append(items, store.DropUserCardItem(store.UserKey(c.BoundUser), c.SchoolID, cardNo))
	}
	err = s.S.Transact(ctx, items, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return ErrConcurrentState.Wrap(err)
	}
	return err
}
