package reader

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/store"
)

// Dispute is a record a reader approved that was not charged to the student; staff decide what happens
// (the merchant's claim, a thief's purchase on a lost card).
type Dispute struct {
	store.Key
	store.InGSI1           // DisputeListPK(school), <createdAt>#<deviceId>#<record key>
	Type         string    `dynamodbav:"type"` // "dispute"
	SchoolID     string    `dynamodbav:"schoolId"`
	DeviceID     string    `dynamodbav:"deviceId"`
	Merchant     string    `dynamodbav:"merchant"`
	Seq          int64     `dynamodbav:"seq"`
	CardNo       string    `dynamodbav:"cardNo"`
	Kind         string    `dynamodbav:"kind"`
	AmountFen    int64     `dynamodbav:"amountFen"`
	OccurredAt   time.Time `dynamodbav:"occurredAt"`
	PaidByCode   bool      `dynamodbav:"paidByCode"`
	Reason       string    `dynamodbav:"reason"`
	Status       string    `dynamodbav:"status"` // DisputeOpen, DisputeCharged or DisputeWaived
	CreatedAt    time.Time `dynamodbav:"createdAt"`
	// Set when finance staff resolve it (ResolveDispute).
	ResolvedBy  string `dynamodbav:"resolvedBy,omitempty"`
	ResolvedAt  string `dynamodbav:"resolvedAt,omitempty"` // RFC 3339, UTC
	Note        string `dynamodbav:"note,omitempty"`
	ChargedCard string `dynamodbav:"chargedCard,omitempty"` // the card charged: the record's, or the card that replaced it
}

// Dispute statuses.
const (
	DisputeOpen    = "open"
	DisputeCharged = "charged" // finance decided the student pays: the record is posted to the card
	DisputeWaived  = "waived"  // finance decided the student does not pay; the merchant's claim is settled outside the one-card
)

// disputeMarker takes the record's idempotency key, so that a resend is answered duplicate and the
// ledger never posts it (its hash matches no movement: the ledger answers IDEMPOTENCY_KEY_REUSED).
type disputeMarker struct {
	store.Key
	Hash     string    `dynamodbav:"hash"`
	Disputed bool      `dynamodbav:"disputed"`
	PostedAt time.Time `dynamodbav:"postedAt"`
}

// KeepDispute keeps m for staff instead of charging it: the dispute and the record's marker in one
// transaction, with extra items if given. kept is false when it was kept before, or posted by a
// concurrent delivery.
func KeepDispute(ctx context.Context, s *store.Store, m *Message, reason string, now time.Time, extra ...types.TransactWriteItem) (kept bool, err error) {
	return keepDispute(ctx, s, m, reason, now, nil, extra...)
}

// keepDispute is KeepDispute written only while check holds (the card as the decision read it); when
// it does not, the answer is ledger.ErrStale: decide again.
func keepDispute(ctx context.Context, s *store.Store, m *Message, reason string, now time.Time, check *types.TransactWriteItem, extra ...types.TransactWriteItem) (kept bool, err error) {
	now = now.UTC()
	d := Dispute{Key: store.DisputeKey(m.DeviceID, m.Seq), InGSI1: store.InGSI1{GSI1PK: store.DisputeListPK(m.SchoolID),
		GSI1SK: now.Format(time.RFC3339Nano) + "#" + m.DeviceID + "#" + m.Key()}, Type: "dispute",
		SchoolID: m.SchoolID, DeviceID: m.DeviceID, Merchant: m.Merchant, Seq: m.Seq, CardNo: m.CardNo,
		Kind: m.Kind, AmountFen: m.AmountFen, OccurredAt: m.OccurredAt.UTC(), PaidByCode: m.CodeID != "",
		Reason: reason, Status: DisputeOpen, CreatedAt: now}
	put, err := store.PutItem(d, store.IfAbsent, nil)
	if err != nil {
		return false, err
	}
	mark, err := store.PutItem(disputeMarker{Key: store.IdemKey(m.Scope(), m.Key()), Hash: "dispute:" + reason,
		Disputed: true, PostedAt: now}, store.IfAbsent, nil)
	if err != nil {
		return false, err
	}
	items := []types.TransactWriteItem{put, mark}
	if check != nil {
		items = append(items, *check) // index 2: its failure means decide again
	}
	err = s.Transact(ctx, append(items, extra...), "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) && (tc.Failed(0) || tc.Failed(1)) {
		return false, nil
	}
	if errors.As(err, &tc) && check != nil && tc.Failed(2) {
		return false, ledger.ErrStale
	}
	return err == nil, err
}

// DisputeView is one dispute as finance staff see it.
type DisputeView struct {
	DeviceID    string `json:"deviceId"`
	Merchant    string `json:"merchant"`
	Seq         int64  `json:"seq"`
	CardNo      string `json:"cardNo"`
	Kind        string `json:"kind"`
	AmountFen   int64  `json:"amountFen"`
	OccurredAt  string `json:"occurredAt"`
	PaidByCode  bool   `json:"paidByCode"`
	Reason      string `json:"reason"`
	Status      string `json:"status"`
	CreatedAt   string `json:"createdAt"`
	ResolvedBy  string `json:"resolvedBy,omitempty"`
	ResolvedAt  string `json:"resolvedAt,omitempty"`
	Note        string `json:"note,omitempty"`
	ChargedCard string `json:"chargedCard,omitempty"`
}

func (d *Dispute) view() DisputeView {
	v := DisputeView{DeviceID: d.DeviceID, Merchant: d.Merchant, Seq: d.Seq, CardNo: d.CardNo,
		Kind: d.Kind, AmountFen: d.AmountFen, OccurredAt: d.OccurredAt.In(chinatime.Zone).Format(time.RFC3339),
		PaidByCode: d.PaidByCode, Reason: d.Reason, Status: d.Status, CreatedAt: d.CreatedAt.In(chinatime.Zone).Format(time.RFC3339),
		ResolvedBy: d.ResolvedBy, Note: d.Note, ChargedCard: d.ChargedCard}
	if t, err := time.Parse(time.RFC3339Nano, d.ResolvedAt); err == nil {
		v.ResolvedAt = t.In(chinatime.Zone).Format(time.RFC3339)
	}
	return v
}

// DisputePage is GET /v1/admin/disputes.
type DisputePage struct {
	Items      []DisputeView `json:"items"`
	NextCursor *string       `json:"nextCursor"`
}

var errBadCursor = fault.Field("BAD_CURSOR", "分页游标无效")

var errBadStatus = fault.Field("BAD_STATUS", "status 须为 open、charged 或 waived")

// Disputes lists a school's disputes, newest first; status, when set, keeps only those in it (a page may
// then hold fewer than limit items and still have a next cursor).
func Disputes(ctx context.Context, s *store.Store, school string, limit int, cursor, status string) (*DisputePage, error) {
	q := store.Query{Index: store.GSI1, PK: store.DisputeListPK(school), Newest: true, Limit: limit}
	switch status {
	case "":
	case DisputeOpen, DisputeCharged, DisputeWaived:
		q.Equal = map[string]any{"status": status}
	default:
		return nil, errBadStatus
	}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		pk, sk, ok := strings.Cut(string(b), "|")
		start, isDispute := store.DisputeKeyOfPK(pk)
		if err != nil || !ok || !isDispute || len(b) > 200 {
			return nil, errBadCursor
		}
		q.Start, q.StartSK = &start, sk
	}
	var ds []Dispute
	next, err := s.Page(ctx, q, &ds)
	if err != nil {
		return nil, err
	}
	page := &DisputePage{Items: make([]DisputeView, 0, len(ds))}
	for i := range ds {
		page.Items = append(page.Items, ds[i].view())
	}
	if next != nil {
		// From the last item DynamoDB read, which with a filter need not be the last one returned.
		c := base64.RawURLEncoding.EncodeToString([]byte(next.Key.PK + "|" + next.SK))
		page.NextCursor = &c
	}
	return page, nil
}
