package cards

import (
	"context"
	"errors"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/csvin"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/secret"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// MaxImportRows bounds one import request (each new card hashes a password).
const MaxImportRows = 2000

// RowError is one refused CSV row (1-based line number).
type RowError struct {
	Line    int    `json:"line"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ImportReport counts what an import did.
type ImportReport struct {
	Created   int        `json:"created"`
	Unchanged int        `json:"unchanged"`
	Rejected  int        `json:"rejected"`
	Errors    []RowError `json:"errors"`
}

// ImportRow is one parsed CSV row.
type ImportRow struct {
	Line                              int
	StudentNo, Name, IDNumber, CardNo string
}

// ParseStudentCSV reads studentNo,name,idNumber,cardNo rows (an optional header line is skipped).
func ParseStudentCSV(body []byte) ([]ImportRow, error) {
	recs, err := csvin.Read(body, "studentNo,name,idNumber,cardNo", MaxImportRows)
	if err != nil {
		return nil, err
	}
	rows := make([]ImportRow, len(recs))
	for i, r := range recs {
		rows[i].Line = r.Line
		if f := r.Fields; len(f) == 4 {
			rows[i].StudentNo, rows[i].Name, rows[i].IDNumber, rows[i].CardNo = f[0], f[1], f[2], f[3]
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
// nothing; a row that contradicts what exists is reported, never applied.
func (s *Service) Import(ctx context.Context, p auth.Principal, rows []ImportRow) (*ImportReport, error) {
	sch, err := s.Schools.Get(ctx, p.School)
	if err != nil {
		return nil, err
	}
	rep := &ImportReport{Errors: []RowError{}}
	reject := func(line int, e *fault.Error) {
		rep.Rejected++
		rep.Errors = append(rep.Errors, RowError{line, e.Code, e.Message})
	}
	for _, row := range rows {
		if row.StudentNo == "" {
			reject(row.Line, fault.Field("BAD_ROW", "每行须有 4 列：studentNo,name,idNumber,cardNo"))
			continue
		}
		in := row.StudentNo
		if in[0] >= '0' && in[0] <= '9' {
			in = sch.Canonical(in)
		}
		bare, err := sch.StudentNumber(in)
		if err != nil {
			reject(row.Line, ErrBadStudentNoRow)
			continue
		}
		if n := utf8.RuneCountInString(row.Name); n < 1 || n > 32 {
			reject(row.Line, fault.Field("BAD_NAME", "姓名须为 1–32 个字符"))
			continue
		}
		id, err := NormalID(row.IDNumber)
		if err != nil {
			reject(row.Line, ErrBadIDNumber)
			continue
		}
		if !validCardNo(row.CardNo) {
			reject(row.Line, fault.Field("BAD_CARD_NO", "卡号须为 4–20 位数字"))
			continue
		}
		digest := s.IDDigest(id)
		var st student
		ok, err := s.S.Get(ctx, store.StudentKey(sch.ID, bare), &st)
		if err != nil {
			return nil, err
		}
		if ok {
			if st.CardNo == row.CardNo && st.IDDigest == digest && st.Name == row.Name {
				rep.Unchanged++
			} else {
				reject(row.Line, fault.E(fault.Conflict, "STUDENT_EXISTS", "该学号已存在且信息不同（换卡请走补卡流程）"))
			}
			continue
		}
		hash, err := secret.HashPassword(InitialPassword(id))
		if err != nil {
			return nil, err
		}
		now := s.Now().UTC()
		card := Card{Key: store.CardKey(sch.ID, row.CardNo), Type: "card", Account: AccountID(sch.ID, row.CardNo),
			SchoolID: sch.ID, CardNo: row.CardNo, StudentNo: sch.Canonical(bare), HolderName: row.Name, IDDigest: digest,
			PasswordHash: hash, Status: Active, PerTxnFen: sch.DefaultPerTxnFen, DailyFen: sch.DefaultDailyFen, CreatedAt: now}
		putCard, err := store.PutItem(card, "attribute_not_exists(PK)", nil)
		if err != nil {
			return nil, err
		}
		putStudent, err := store.PutItem(student{Key: store.StudentKey(sch.ID, bare), SchoolID: sch.ID, StudentNo: card.StudentNo,
			CardNo: row.CardNo, Name: row.Name, IDDigest: digest}, "attribute_not_exists(PK)", nil)
		if err != nil {
			return nil, err
		}
		err = s.S.Transact(ctx, []types.TransactWriteItem{putCard, putStudent}, "")
		var tc *store.TxCanceled
		if errors.As(err, &tc) {
			if tc.Failed(0) {
				reject(row.Line, fault.E(fault.Conflict, "CARD_NO_TAKEN", "该卡号已被使用"))
			} else {
				reject(row.Line, fault.E(fault.Conflict, "STUDENT_EXISTS", "该学号已存在"))
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		rep.Created++
	}
	return rep, staff.Audit(ctx, s.S, staff.Actor(p), "students.import", "school:"+sch.ID,
		map[string]any{"rows": len(rows), "created": rep.Created, "unchanged": rep.Unchanged, "rejected": rep.Rejected}, s.Now())
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
	if err := s.setStatus(ctx, c, Active, "failedPw = :z, failedId = :z", store.Values{":z": 0}); err != nil {
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
	hash, err := secret.HashPassword(InitialPassword(norm))
	if err != nil {
		return err
	}
	if err := s.clearTries(ctx, c); err != nil {
		return err
	}
	if c.Status == Locked {
		err = s.setStatus(ctx, c, Active, "passwordHash = :h, failedPw = :z, failedId = :z", store.Values{":h": hash, ":z": 0})
	} else {
		err = s.S.Update(ctx, c.Key, "SET passwordHash = :h, failedPw = :z, failedId = :z", "", nil, store.Values{":h": hash, ":z": 0}.AV())
	}
	if err != nil {
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
}

// Replace issues newCardNo in place of cardNo (补卡): the new card copies the holder, password, limits
// and binding; the old card is cancelled; the balance moves by a ledger transfer. Each step is
// idempotent, so repeating the request after a failure finishes the job.
func (s *Service) Replace(ctx context.Context, p auth.Principal, l *ledger.Ledger, cardNo, newCardNo string) (*ReplaceResult, error) {
	if !validCardNo(newCardNo) || newCardNo == cardNo {
		return nil, fault.Field("BAD_CARD_NO", "新卡号须为 4–20 位数字且不同于原卡号")
	}
	old, err := s.staffCard(ctx, p, cardNo)
	if err != nil {
		return nil, err
	}
	if old.ReplacedBy != "" && old.ReplacedBy != newCardNo {
		return nil, fault.E(fault.Conflict, "ALREADY_REPLACED", "该卡已补办为其他卡号")
	}
	if old.Status == Cancelled && old.ReplacedBy == "" {
		return nil, ErrCancelled
	}
	// 1. The new card.
	nc := *old
	nc.Key, nc.Account, nc.CardNo = store.CardKey(old.SchoolID, newCardNo), AccountID(old.SchoolID, newCardNo), newCardNo
	nc.Balance, nc.Seq, nc.Arrears, nc.Status, nc.FailedPw, nc.FailedID = 0, 0, false, Active, 0, 0
	nc.LostAt, nc.ReplacedBy, nc.GSI2PK, nc.GSI2SK, nc.CreatedAt = time.Time{}, "", "", "", s.Now().UTC()
	err = s.S.Put(ctx, nc, "attribute_not_exists(PK)", nil)
	if errors.Is(err, store.ErrConditionFailed) {
		// Either an earlier attempt of this replacement created it (carry on: never overwrite a card that
		// may already hold the moved balance), or the number belongs to someone else.
		existing, gerr := s.Cards.Get(ctx, old.SchoolID, newCardNo)
		if gerr != nil {
			return nil, gerr
		}
		if existing.StudentNo != old.StudentNo || existing.IDDigest != old.IDDigest || old.ReplacedBy != newCardNo && old.Status == Cancelled {
			return nil, fault.E(fault.Conflict, "CARD_NO_TAKEN", "该卡号已被使用")
		}
	} else if err != nil {
		return nil, err
	}
	// 2. Cancel the old card.
	if old.Status != Cancelled {
		if err := s.setStatus(ctx, old, Cancelled, "replacedBy = :r", store.Values{":r": newCardNo}); err != nil {
			return nil, err
		}
	}
	// 3. Move the balance, re-pointing the roster and the binding in the same transaction.
	old, err = s.Cards.Get(ctx, old.SchoolID, cardNo)
	if err != nil {
		return nil, err
	}
	sch, err := s.Schools.Get(ctx, old.SchoolID)
	if err != nil {
		return nil, err
	}
	bare, err := sch.StudentNumber(old.StudentNo)
	if err != nil {
		return nil, err
	}
	extra := []types.TransactWriteItem{
		store.UpdateItem(store.StudentKey(old.SchoolID, bare), "SET cardNo = :n", "attribute_exists(PK)", nil, store.Values{":n": newCardNo}.AV()),
	}
	if old.BoundUser != "" {
		extra = append(extra, store.UpdateItem(store.UserKey(old.BoundUser), "SET cards.#s = :n", "cards.#s = :o",
			map[string]string{"#s": old.SchoolID}, store.Values{":n": newCardNo, ":o": cardNo}.AV()))
	}
	moved := old.Balance
	if moved != 0 {
		_, err = l.Post(ctx, ledger.Movement{Scope: "staff", Key: "replace:" + old.SchoolID + ":" + cardNo, Extra: extra,
			Postings: []ledger.Posting{
				{Account: old.Account, Item: old.Key, AmountFen: -moved, Kind: ledger.KindReplace, Counterparty: nc.Account, Merchant: "补卡转出", AllowNegative: true},
				{Account: nc.Account, Item: nc.Key, AmountFen: moved, Kind: ledger.KindReplace, Counterparty: old.Account, Merchant: "补卡转入", AllowNegative: true},
			}})
	} else {
		err = s.S.Transact(ctx, extra, "")
		var tc *store.TxCanceled
		if errors.As(err, &tc) {
			err = nil // already re-pointed by an earlier attempt
		}
	}
	if err != nil {
		return nil, err
	}
	fresh, err := s.Cards.Get(ctx, old.SchoolID, newCardNo)
	if err != nil {
		return nil, err
	}
	if err := staff.Audit(ctx, s.S, staff.Actor(p), "card.replace", "card:"+cardNo,
		map[string]any{"newCardNo": newCardNo, "movedFen": moved}, s.Now()); err != nil {
		return nil, err
	}
	return &ReplaceResult{OldCardNo: cardNo, NewCardNo: newCardNo, MovedFen: moved, BalanceFen: fresh.Balance}, nil
}
