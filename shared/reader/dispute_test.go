package reader_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"onecard/shared/auth"
	"onecard/shared/reader"
	"onecard/shared/testkit"
)

// keep makes a dispute as the consumer does.
func (w *world) keep(device, cardNo string, fen int64, reason string) int64 {
	w.T.Helper()
	m := &reader.Message{Type: reader.TypeRecord, DeviceID: device, SchoolID: "kmmc", Merchant: "第一食堂", Seq: w.nextSeq(),
		OccurredAt: w.Clock.Now().Add(-time.Hour), Kind: "purchase", AmountFen: fen, CardNo: cardNo, ReceivedAt: w.Clock.Now()}
	kept, err := reader.KeepDispute(context.Background(), testkit.Store(w.Deps), m, reason, w.Clock.Now())
	if err != nil || !kept {
		w.T.Fatalf("keep: %v %v", kept, err)
	}
	w.Clock.Advance(time.Second)
	return m.Seq
}

func (w *world) resolve(seq int64, decision, note string, h []string) *testkit.Resp {
	return w.Do("POST", fmt.Sprintf("/v1/admin/disputes/POS-CANTEEN-01/%d/resolve", seq),
		map[string]string{"decision": decision, "note": note}, h...)
}

func (w *world) disputes(query string) []reader.DisputeView {
	w.T.Helper()
	var page reader.DisputePage
	w.Do("GET", "/v1/admin/disputes"+query, nil, w.StaffOf(auth.RoleFinance)...).Expect(w.T, 200, "").Decode(w.T, &page)
	return page.Items
}

// Finance decide each dispute once: waive it (no money moves) or charge it (one ledger posting to the
// student's current card, with the dispute's new status and the audit record in the same transaction).
func TestResolvingDisputes(t *testing.T) {
	w := newWorld(t)
	w.Credit("10000001", 5000, "c1")
	w.Credit("10000002", 3000, "c2")
	waived := w.keep("POS-CANTEEN-01", "10000001", 2000, reader.DisputeCardLost)
	charged := w.keep("POS-CANTEEN-01", "10000001", 700, reader.DisputeCodeUsed)
	replaced := w.keep("POS-CANTEEN-01", "10000002", 450, reader.DisputeCardCancelled)
	fin := w.StaffOf(auth.RoleFinance)

	if got := w.disputes("?status=open"); len(got) != 3 {
		t.Fatalf("open: %+v", got)
	}
	w.Do("GET", "/v1/admin/disputes?status=closed", nil, fin...).Expect(t, 400, "BAD_STATUS")

	// Refusals, none of which changes anything.
	w.resolve(waived, "waive", "盗刷", w.StaffOf(auth.RoleOps)).Expect(t, 403, "FORBIDDEN")
	w.resolve(waived, "refund", "盗刷", fin).Expect(t, 400, "BAD_DECISION")
	w.resolve(waived, "waive", "  ", fin).Expect(t, 400, "BAD_NOTE")
	w.resolve(waived, "waive", "盗刷\u202e", fin).Expect(t, 400, "BAD_NOTE")
	w.resolve(waived+1000, "waive", "盗刷", fin).Expect(t, 404, "DISPUTE_NOT_FOUND")
	w.Do("POST", "/v1/admin/disputes/POS-CANTEEN-01/abc/resolve", map[string]string{"decision": "waive", "note": "x"}, fin...).Expect(t, 404, "DISPUTE_NOT_FOUND")
	if got := w.disputes("?status=open"); len(got) != 3 || w.Card("10000001").Balance != 5000 {
		t.Fatalf("a refusal changed something: %+v", got)
	}

	// Waive: the student keeps the money; asking again answers the same; the other decision is refused.
	var v reader.DisputeView
	w.resolve(waived, "waive", "挂失后他人盗刷，不向学生扣款", fin).Expect(t, 200, "").Decode(t, &v)
	if v.Status != "waived" || v.ResolvedBy != "staff:finance-user" || v.Note != "挂失后他人盗刷，不向学生扣款" || v.ResolvedAt == "" || v.ChargedCard != "" {
		t.Fatalf("waived: %+v", v)
	}
	w.resolve(waived, "waive", "再次确认", fin).Expect(t, 200, "")
	w.resolve(waived, "charge", "改为扣款", fin).Expect(t, 409, "DISPUTE_RESOLVED")
	if bal := w.Card("10000001").Balance; bal != 5000 {
		t.Fatalf("waive moved money: %d", bal)
	}

	// Charge: posted once, however often it is asked.
	for i := 0; i < 2; i++ {
		w.resolve(charged, "charge", "学生确认两笔都是本人消费", fin).Expect(t, 200, "").Decode(t, &v)
	}
	if v.Status != "charged" || v.ChargedCard != "10000001" {
		t.Fatalf("charged: %+v", v)
	}
	if bal := w.Card("10000001").Balance; bal != 4300 {
		t.Fatalf("balance after the charge %d, want 4300", bal)
	}
	if h := w.history("10000001"); len(h) != 2 || h[0] != "purchase -700 第一食堂" {
		t.Fatalf("history: %v", h)
	}
	w.resolve(charged, "waive", "改为不扣", fin).Expect(t, 409, "DISPUTE_RESOLVED")

	// A replaced card: the charge goes to the card the student holds now.
	w.Do("POST", "/v1/admin/cards/10000002/replace", map[string]string{"newCardNo": "10000092"}, fin...).Expect(t, 200, "")
	w.resolve(replaced, "charge", "补卡前的消费", fin).Expect(t, 200, "").Decode(t, &v)
	if v.ChargedCard != "10000092" || w.Card("10000092").Balance != 3000-450 || w.Card("10000002").Balance != 0 {
		t.Fatalf("replaced: %+v, new card %d", v, w.Card("10000092").Balance)
	}

	if got := w.disputes("?status=open"); len(got) != 0 {
		t.Fatalf("still open: %+v", got)
	}
	if got := w.disputes("?status=charged"); len(got) != 2 {
		t.Fatalf("charged: %+v", got)
	}
	var audit struct {
		Items []struct{ Action, Target string }
	}
	w.Do("GET", "/v1/admin/audit", nil, w.StaffOf(auth.RoleAdmin)...).Expect(t, 200, "").Decode(t, &audit)
	seen := map[string]int{}
	for _, e := range audit.Items {
		seen[e.Action]++
	}
	if seen["dispute.waive"] != 1 || seen["dispute.charge"] != 2 {
		t.Fatalf("audit: %+v", audit.Items)
	}
	w.Reconciled()
}

// Finance staff clicking twice, or two of them at once: the record is charged once.
func TestConcurrentChargesPostOnce(t *testing.T) {
	w := newWorld(t)
	w.Credit("10000003", 1000, "c1")
	seq := w.keep("POS-CANTEEN-01", "10000003", 300, reader.DisputeCardLost)
	fin := w.StaffOf(auth.RoleFinance)
	var wg sync.WaitGroup
	codes := make([]int, 6)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = w.resolve(seq, "charge", "本人消费", fin).Status
		}()
	}
	wg.Wait()
	for _, c := range codes {
		if c != 200 {
			t.Fatalf("statuses %v", codes)
		}
	}
	if bal := w.Card("10000003").Balance; bal != 700 {
		t.Fatalf("balance %d, want 700", bal)
	}
	w.Reconciled()
}
