package seed

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/chinatime"
	"onecard/shared/corrections"
	"onecard/shared/ledger"
	"onecard/shared/merchants"
	"onecard/shared/platform"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// DemoMerchants own the demo readers from the first of the month the seed runs in.
var DemoMerchants = []struct {
	merchants.Input
	Device string
}{
	{merchants.Input{MerchantID: "CANTEEN-1", Name: "第一食堂", Category: "canteen"}, "POS-CANTEEN-01"},
	{merchants.Input{MerchantID: "HOTWATER-8", Name: "8栋热水", Category: "hot_water"}, "HOTWATER-8D-01"},
}

// DemoProposer is the finance member who proposed the demo correction: the demo admin (another member)
// approves or rejects it.
const DemoProposer = "finance.zhao"

// Books writes the back office's demo data: the two merchants owning the demo readers, a day of canteen
// records at POS-CANTEEN-01 (yesterday, China time, posted as the reader consumer posts them, after an
// opening balance on each demo card), and a correction awaiting approval. It is idempotent: a second run
// replays the same movements and finds the same items.
func Books(ctx context.Context, d *platform.Deps) error {
	s := d.Store()
	now := d.Now()
	p := auth.Principal{Subject: "seed", Kind: auth.KindStaff, School: SchoolID, Roles: []string{auth.RoleFinance}}
	ms := &merchants.Service{S: s, Now: d.Now}
	from := now.In(chinatime.Zone).Format("2006-01") + "-01"
	for _, m := range DemoMerchants {
		if _, _, err := ms.Create(ctx, p, m.Input); err != nil {
			return fmt.Errorf("merchant %s: %w", m.MerchantID, err)
		}
		if _, _, err := ms.Assign(ctx, p, m.MerchantID, merchants.AssignInput{DeviceID: m.Device, From: from}); err != nil &&
			!errors.Is(err, merchants.ErrAssigned) {
			return fmt.Errorf("assign %s: %w", m.Device, err)
		}
	}
	// The demo day is yesterday: the ledger posts as it did then (the opening balances at midnight, each
	// record two seconds after its sale), so the day's clearing entries are yesterday's, as a reader
	// online all day would have left them.
	y := now.In(chinatime.Zone).AddDate(0, 0, -1)
	day := time.Date(y.Year(), y.Month(), y.Day(), 0, 0, 0, 0, chinatime.Zone)
	at := day
	l := ledger.New(s, func() time.Time { return at })
	for _, no := range []string{"10000001", "10000002", "10000003"} {
		if _, err := l.Post(ctx, ledger.Movement{Scope: "seed", Key: "opening:card:" + no, Postings: ledger.External(ledger.Posting{
			Account: cards.AccountID(SchoolID, no), Item: store.CardKey(SchoolID, no), AmountFen: 20000,
			Kind: ledger.KindAdjustment, Counterparty: "ext:opening-balance", Merchant: "期初余额"})}); err != nil {
			return err
		}
	}
	// Yesterday's canteen: breakfast, lunch and dinner, as the reader's records (seq 900001…).
	meals := []struct {
		at   time.Duration
		card string
		fen  int64
	}{
		{7*time.Hour + 20*time.Minute, "10000001", 450}, {7*time.Hour + 35*time.Minute, "10000002", 600},
		{11*time.Hour + 50*time.Minute, "10000001", 1200}, {12*time.Hour + 5*time.Minute, "10000003", 1350},
		{12*time.Hour + 10*time.Minute, "10000002", 980}, {17*time.Hour + 40*time.Minute, "10000001", 1100},
		{18*time.Hour + 2*time.Minute, "10000003", 850},
	}
	for i, m := range meals {
		at = day.Add(m.at + 2*time.Second)
		// Input fixed: a run on a later day replays the first run's records instead of refusing the key.
		if _, err := l.Post(ctx, ledger.Movement{Scope: "reader:POS-CANTEEN-01", Key: fmt.Sprint(900001 + i), Input: []any{"seed-meal", i},
			Postings: ledger.External(ledger.Posting{Account: cards.AccountID(SchoolID, m.card), Item: store.CardKey(SchoolID, m.card),
				AmountFen: -m.fen, Kind: ledger.KindPurchase, Counterparty: "ext:merchant:POS-CANTEEN-01", Merchant: "第一食堂",
				OccurredAt: day.Add(m.at), AllowNegative: true})}); err != nil {
			return err
		}
	}
	// A correction awaiting approval, proposed by finance.zhao (who cannot approve it).
	var member staff.Member
	if ok, err := s.Get(ctx, store.StaffKey(DemoProposer), &member); err != nil {
		return err
	} else if !ok {
		pw := make([]byte, 16) // nobody signs in as finance.zhao locally
		_, _ = rand.Read(pw)
		if err := staff.Put(ctx, s, DemoProposer, hex.EncodeToString(pw), SchoolID, []string{auth.RoleFinance}); err != nil {
			return err
		}
	}
	proposer := auth.Principal{Subject: DemoProposer, Kind: auth.KindStaff, School: SchoolID, Roles: []string{auth.RoleFinance}}
	_, _, err := corrections.New(s, d.Now).Propose(ctx, proposer, corrections.Proposal{Target: corrections.TargetCard, CardNo: "10000002",
		AmountFen: 980, Reason: "第一食堂午餐重复扣款，退回"}, "seed-demo-correction")
	return err
}
