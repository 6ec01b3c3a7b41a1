package cards_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/ledger"
	"onecard/shared/secret"
	"onecard/shared/store"
	"onecard/shared/testkit"
)

func (w *world) card(no string) *cards.Card {
	w.T.Helper()
	c, err := (cards.Repo{S: testkit.Store(w.Deps)}).Get(context.Background(), "kmmc", no)
	if err != nil {
		w.T.Fatal(err)
	}
	return c
}

// audited reports whether the audit trail has action on target.
func (w *world) audited(action, target string) bool {
	w.T.Helper()
	var audit struct {
		Items []struct {
			Action, Target string
			Details        map[string]any
		}
	}
	w.Do("GET", "/v1/admin/audit", nil, w.StaffOf("admin")...).Expect(w.T, 200, "").Decode(w.T, &audit)
	for _, a := range audit.Items {
		if a.Action == action && a.Target == target {
			return true
		}
	}
	return false
}

// 补卡 does not hand the new card to whoever had bound the old one: unless staff confirm the account is
// the student's own (keepBinding), the binding is removed and the student binds the new card again.
func TestReplaceDropsTheBindingUnlessKept(t *testing.T) {
	w := newWorld(t)
	h := w.Bound("13800000031", "CUIK20230001", "011237")
	var res cards.ReplaceResult
	w.Do("POST", "/v1/admin/cards/10000001/replace", map[string]string{"newCardNo": "10000091"}, w.StaffOf("finance")...).Expect(t, 200, "").Decode(t, &res)
	if res.KeptBinding {
		t.Fatalf("%+v", res)
	}
	w.Do("GET", "/v1/card", nil, h...).Expect(t, 422, "CARD_NOT_BOUND")
	if old, nc := w.card("10000001"), w.card("10000091"); old.BoundUser != "" || nc.BoundUser != "" {
		t.Fatalf("bound: old %q new %q", old.BoundUser, nc.BoundUser)
	}
	// A repeat keeps it so; the student binds the new card with the card password.
	w.Do("POST", "/v1/admin/cards/10000001/replace", map[string]string{"newCardNo": "10000091"}, w.StaffOf("finance")...).Expect(t, 200, "")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230001", "cardPassword": "011237"}, h...).Expect(t, 200, "")
	var v cards.View
	w.Do("GET", "/v1/card", nil, h...).Expect(t, 200, "").Decode(t, &v)
	if v.CardNo != "10000091" {
		t.Fatalf("%+v", v)
	}
	w.Reconciled()
}

// Card-centre staff unbind a card from an account, with a reason, audited; the account no longer sees
// it and the student can bind it again.
func TestStaffUnbind(t *testing.T) {
	w := newWorld(t)
	stranger := w.Bound("13800000032", "CUIK20230002", "025620")
	it := w.StaffOf("it")
	w.Do("POST", "/v1/admin/cards/10000002/unbind", map[string]string{"reason": ""}, it...).Expect(t, 400, "BAD_REASON")
	w.Do("POST", "/v1/admin/cards/10000002/unbind", map[string]string{"reason": "非本人绑定"}, w.StaffOf("finance")...).Expect(t, 403, "FORBIDDEN")
	w.Do("POST", "/v1/admin/cards/10000002/unbind", map[string]string{"reason": "非本人绑定，学生持证件办理"}, it...).Expect(t, 204, "")
	w.Do("GET", "/v1/card", nil, stranger...).Expect(t, 422, "CARD_NOT_BOUND")
	if c := w.card("10000002"); c.BoundUser != "" {
		t.Fatalf("still bound to %q", c.BoundUser)
	}
	w.Do("POST", "/v1/admin/cards/10000002/unbind", map[string]string{"reason": "再次"}, it...).Expect(t, 409, "CARD_NOT_BOUND")
	w.Do("POST", "/v1/admin/cards/10009999/unbind", map[string]string{"reason": "x"}, it...).Expect(t, 404, "CARD_NOT_FOUND")
	if !w.audited("card.unbind", "card:10000002") {
		t.Fatal("unbind not audited")
	}
	owner := w.student("13800000033")
	w.Do("POST", "/v1/card/bind", map[string]string{"studentNo": "CUIK20230002", "cardPassword": "025620"}, owner...).Expect(t, 200, "")
}

// beforeMove runs hook once, just before the transaction that writes the 补卡 transfer's marker:
// another writer posting to the old card between the replacement's read and its transfer.
type beforeMove struct {
	store.DB
	once sync.Once
	hook func()
}

func (b *beforeMove) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		if it.Put != nil {
			if pk, _ := it.Put.Item["PK"].(*types.AttributeValueMemberS); pk != nil && strings.HasPrefix(pk.Value, "IDEM#staff#replace:") {
				b.once.Do(b.hook)
			}
		}
	}
	return b.DB.TransactWriteItems(ctx, in, opts...)
}

// The amount a 补卡 moves is decided from a read inside the retried transfer: a posting that lands on
// the old card between the read and the transfer is moved too, nothing is left on the cancelled card.
func TestReplaceMovesWhatLandsDuringTheMove(t *testing.T) {
	w := newWorld(t)
	w.Credit("10000003", 4000, "c1")
	db := &beforeMove{DB: w.Deps.DB, hook: func() { w.Credit("10000003", 700, "late-credit") }}
	s := cards.NewService(store.New(db, w.Deps.Cfg.Table), secret.NewDigester(w.Deps.Cfg.PIIKey), w.Clock.Now)
	l := ledgerOf(w.Env)
	l.S = s.S
	p := auth.Principal{Subject: "finance-user", Kind: auth.KindStaff, School: "kmmc", Roles: []string{auth.RoleFinance}}
	res, err := s.Replace(context.Background(), p, l, "10000003", "10000093", false)
	if err != nil {
		t.Fatal(err)
	}
	if old, nc := w.card("10000003"), w.card("10000093"); old.Balance != 0 || nc.Balance != 4700 || res.MovedFen != 4700 {
		t.Fatalf("old %d new %d moved %d", old.Balance, nc.Balance, res.MovedFen)
	}
	w.Reconciled()
}

// Finance move a balance left on a cancelled card (by older code: a credit or a charge posted after its
// 补卡) to the student's current card: once, audited, through the ledger.
func TestMoveBalanceLeftOnACancelledCard(t *testing.T) {
	w := newWorld(t)
	fin := w.StaffOf("finance")
	w.Credit("10000001", 1000, "c1")
	w.Do("POST", "/v1/admin/cards/10000001/move-balance", nil, fin...).Expect(t, 409, "CARD_NOT_CANCELLED")
	w.Do("POST", "/v1/admin/cards/10000001/replace", map[string]string{"newCardNo": "10000081"}, fin...).Expect(t, 200, "")
	w.Do("POST", "/v1/admin/cards/10000081/replace", map[string]string{"newCardNo": "10000082"}, fin...).Expect(t, 200, "")
	// What older code left: a payment credited to the first, cancelled card.
	w.Credit("10000001", 500, "late-wechat")
	var res cards.MoveResult
	w.Do("POST", "/v1/admin/cards/10000001/move-balance", nil, w.StaffOf("it")...).Expect(t, 403, "FORBIDDEN")
	w.Do("POST", "/v1/admin/cards/10000001/move-balance", nil, fin...).Expect(t, 200, "").Decode(t, &res)
	if res.MovedFen != 500 || res.ToCardNo != "10000082" || res.BalanceFen != 1500 {
		t.Fatalf("%+v", res)
	}
	// Again: nothing left, nothing moves.
	w.Do("POST", "/v1/admin/cards/10000001/move-balance", nil, fin...).Expect(t, 200, "").Decode(t, &res)
	if res.MovedFen != 0 || res.BalanceFen != 1500 {
		t.Fatalf("repeat: %+v", res)
	}
	// A debt left by older code (purchases posted to the cancelled card) follows the student too.
	_, err := ledgerOf(w.Env).Post(context.Background(), ledger.Movement{Scope: "test", Key: "old-purchase", Postings: ledger.External(ledger.Posting{
		Account: "card:kmmc:10000001", Item: store.CardKey("kmmc", "10000001"), AmountFen: -600, Kind: ledger.KindPurchase,
		Counterparty: "ext:merchant:POS-CANTEEN-01", AllowNegative: true})})
	if err != nil {
		t.Fatal(err)
	}
	w.Do("POST", "/v1/admin/cards/10000001/move-balance", nil, fin...).Expect(t, 200, "").Decode(t, &res)
	if res.MovedFen != -600 || res.BalanceFen != 900 {
		t.Fatalf("debt: %+v", res)
	}
	if c := w.card("10000001"); c.Balance != 0 {
		t.Fatalf("old card %d", c.Balance)
	}
	if !w.audited("card.move_balance", "card:10000001") {
		t.Fatal("not audited")
	}
	w.Reconciled()
}
