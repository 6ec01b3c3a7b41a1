package invoke

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"onecard/infra/seed"
	"onecard/shared/accounts"
	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/chinatime"
	"onecard/shared/dorm"
	"onecard/shared/jobs"
	"onecard/shared/ledger"
	"onecard/shared/reconcile"
	"onecard/shared/reports"
	"onecard/shared/school"
	"onecard/shared/secret"
	"onecard/shared/staff"
	"onecard/shared/store"
)

// The demo user that `{{userToken}}` stands for: an account with 王五's card bound (it leaves 张三 and 李四
// free for the README's walk-through). Before each invoke the fixture puts it back as the events expect
// it, whatever earlier events did: the account exists with DemoPassword and a WeChat login (openid), the
// card is bound to it, the card password is the initial one (which also lifts a password lock), its
// virtual card is open, and the card has had 100.00 元 put on it once. A reported loss is left alone,
// so that CardLossCancel has something to cancel.
const (
	DemoPhone     = "13900000001"
	DemoPassword  = "password123"
	DemoStudentNo = "CUIK20230003"
	DemoCardNo    = "10000003"
	DemoCardPIN   = "034322" // the initial card password: the last six of 王五's ID number
	// OtherPhone is a second account, so that moving the demo user's phone to it is refused (409).
	OtherPhone = "13900000002"
)

// DemoUser returns the demo user's id after putting it back as described above.
func (l *Local) DemoUser(ctx context.Context) (string, error) {
	l.fixture.Lock()
	defer l.fixture.Unlock()
	s := store.New(l.Deps.DB, l.Table)
	digest := secret.NewDigester(l.Deps.Cfg.PIIKey)
	acc := accounts.NewService(s, nil, digest, nil, nil, time.Now, 0, nil)
	id, err := l.account(ctx, acc, DemoPhone)
	if err != nil {
		return "", err
	}
	if _, err := l.account(ctx, acc, OtherPhone); err != nil {
		return "", err
	}
	p := auth.Principal{Subject: id, Kind: auth.KindUser, School: seed.SchoolID}
	cs := cards.NewService(s, digest, time.Now)
	if _, _, err := cs.Mine(ctx, p); errors.Is(err, cards.ErrNotBound) {
		_, err = cs.Bind(ctx, p, DemoStudentNo, DemoCardPIN)
		if err != nil {
			fmt.Fprintf(l.Log, "invoke: the demo card could not be bound again: %v\n", err)
		}
	} else if err == nil {
		if err := cs.ResetPassword(ctx, p, DemoPhone, DemoStudentNo, demoIDNumber()); err != nil {
			fmt.Fprintf(l.Log, "invoke: the demo card password could not be reset: %v\n", err)
		}
	}
	// The virtual card is open (CardVirtualOff's sample turns it off; CardPaymentCode's needs it on).
	if err := cs.OpenVirtual(ctx, p); err != nil {
		fmt.Fprintf(l.Log, "invoke: the demo virtual card could not be opened: %v\n", err)
	}
	// A payment code authorises no more than the balance (none on an empty card): the demo card gets
	// 100.00 元 once, as a WeChat recharge would bring it (idempotent: later runs replay it).
	credit := ledger.Movement{Scope: "invoke", Key: "demo-balance", Postings: ledger.External(ledger.Posting{
		Account: cards.AccountID(seed.SchoolID, DemoCardNo), Item: store.CardKey(seed.SchoolID, DemoCardNo), AmountFen: 10000,
		Kind: ledger.KindRecharge, Counterparty: "ext:wechat", Merchant: "微信充值"})}
	if _, err := ledger.New(s, time.Now).Post(ctx, credit); err != nil {
		fmt.Fprintf(l.Log, "invoke: the demo card could not be credited: %v\n", err)
	}
	if u, ok, err := acc.Users.Get(ctx, id); err == nil && ok && u.OpenID == "" && l.wechatSecret != "" {
		// The mini program's WeChat login (code2session on the sandbox), so recharge events can pay.
		if c, err := l.wechatClient(); err == nil {
			wx := accounts.NewService(s, nil, digest, nil, c, time.Now, 0, nil)
			if err := wx.BindWeChat(ctx, p, "invoke-demo-wangwu"); err != nil {
				fmt.Fprintf(l.Log, "invoke: the demo user's WeChat login failed: %v\n", err)
			}
		}
	}
	l.demoID = id
	return id, nil
}

func (l *Local) demoUserID(ctx context.Context) (string, error) {
	l.fixture.Lock()
	id := l.demoID
	l.fixture.Unlock()
	if id != "" {
		return id, nil
	}
	return l.DemoUser(ctx)
}

// account registers phone (password DemoPassword) or finds it, and puts the password back if an event
// changed it.
func (l *Local) account(ctx context.Context, acc *accounts.Service, phone string) (string, error) {
	agreed, err := acc.Schools.AgreementVersion(ctx, seed.SchoolID) // the box the registration page ticks
	if err != nil {
		return "", fmt.Errorf("register demo account %s: %w", phone, err)
	}
	id, err := acc.Register(ctx, phone, DemoPassword, seed.SchoolID, &agreed)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, accounts.ErrPhoneTaken) {
		return "", fmt.Errorf("register demo account %s: %w", phone, err)
	}
	u, ok, err := acc.Users.ByPhone(ctx, phone)
	if err != nil || !ok {
		return "", fmt.Errorf("demo account %s: not found (%v)", phone, err)
	}
	if !secret.CheckPassword(u.PasswordHash, DemoPassword) {
		hash, err := secret.HashPassword(DemoPassword)
		if err != nil {
			return "", err
		}
		if err := acc.S.Update(ctx, store.UserKey(u.UserID), "SET passwordHash = :h", store.IfExists, nil,
			store.Values{":h": hash}.AV()); err != nil {
			return "", fmt.Errorf("demo account %s: restore password: %w", phone, err)
		}
	}
	return u.UserID, nil
}

func demoIDNumber() string {
	for _, st := range seed.Students {
		if st.StudentNo == DemoStudentNo {
			return st.IDNumber
		}
	}
	return ""
}

// UserToken logs the demo user in (a real session: user routes check it on every request) and returns
// its access token.
func (l *Local) UserToken(ctx context.Context) (string, error) {
	pair, err := l.login(ctx)
	if err != nil {
		return "", err
	}
	return pair.AccessToken, nil
}

// RefreshToken logs the demo user in and returns the session's refresh token.
func (l *Local) RefreshToken(ctx context.Context) (string, error) {
	pair, err := l.login(ctx)
	if err != nil {
		return "", err
	}
	return pair.RefreshToken, nil
}

// login is the demo user's login, through the accounts service as the functions wire it.
func (l *Local) login(ctx context.Context) (*accounts.TokenPair, error) {
	if _, err := l.demoUserID(ctx); err != nil {
		return nil, err
	}
	d := *l.Deps
	d.Cfg.Table, d.Now = l.Table, time.Now
	ans, err := accounts.FromDeps(&d, nil).Login(ctx, DemoPhone, DemoPassword)
	if err != nil {
		return nil, err
	}
	return &ans.TokenPair, nil
}

// DutyStaff is a second staff member (role ops) for the console's staff events to act on, so that they
// never disable or reset the demo admin. It is created when missing.
const (
	DutyStaff         = "duty.wang"
	DutyStaffPassword = "Kmmc-ops-local-2026"
)

// StaffToken logs the demo staff member (infra/local/demo/staff.json, every role) in, after writing it
// again as seeded (so an event that changed its password or roles does not lock the next one out) and
// making sure DutyStaff exists.
func (l *Local) StaffToken(ctx context.Context) (string, error) {
	login, err := seed.DemoStaff(l.Root)
	if err != nil {
		return "", err
	}
	if err := seed.Staff(ctx, l.Deps, login); err != nil {
		return "", fmt.Errorf("demo staff %s: %w", login.Username, err)
	}
	s := store.New(l.Deps.DB, l.Table)
	var m staff.Member
	if ok, err := s.Get(ctx, store.StaffKey(DutyStaff), &m); err != nil {
		return "", err
	} else if !ok {
		if err := staff.Put(ctx, s, DutyStaff, DutyStaffPassword, seed.SchoolID, []string{auth.RoleOps}); err != nil {
			return "", fmt.Errorf("staff %s: %w", DutyStaff, err)
		}
	}
	tok, _, err := staff.Login(ctx, s, l.tokens(), time.Now(), login.Username, login.Password)
	return tok, err
}

func (l *Local) tokens() *auth.Tokens {
	return auth.NewTokens(l.Deps.Cfg.JWTKey, l.Deps.Cfg.AccessTTL, time.Now)
}

// DeviceKey returns the demo private key of a device from infra/local/demo/devices.json.
func (l *Local) DeviceKey(deviceID string) (ed25519.PrivateKey, error) {
	path := filepath.Join(l.Root, "infra", "local", "demo", "devices.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("device keys: %w", err)
	}
	var seeds map[string]string
	if err := json.Unmarshal(b, &seeds); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := seeds[deviceID]
	if !ok {
		var ids []string
		for id := range seeds {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		return nil, fmt.Errorf("%s has no key for device %q (has %v)", path, deviceID, ids)
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != ed25519.SeedSize {
		return nil, fmt.Errorf("%s: key of %s is not base64 of a 32-byte seed", path, deviceID)
	}
	return ed25519.NewKeyFromSeed(raw), nil
}

// DemoMeterRoom is the room whose electricity account MeterCommandID works with (building 9: separate
// electricity and water accounts).
const DemoMeterRoom = "WH-9D-101"

// MeterCommandID returns a pending power command of the demo school ({{meterCommandId}}). When none is
// pending it makes one the way the system does: the demo room's electricity account is marked with the
// power state its balance does not call for and flagged, as the ledger hook flags an account whose
// balance crosses zero, and the power settlement, run at noon (cuts wait out the night), queues the
// command that puts it right.
func (l *Local) MeterCommandID(ctx context.Context) (string, error) {
	l.fixture.Lock()
	defer l.fixture.Unlock()
	s := store.New(l.Deps.DB, l.Table)
	y, m, d := time.Now().In(chinatime.Zone).Date()
	p := dorm.Power{S: s, Schools: school.Repo{S: s}, Now: func() time.Time { return time.Date(y, m, d, 12, 0, 0, 0, chinatime.Zone) }}
	if cmds, err := p.Pending(ctx, seed.SchoolID, 1); err != nil || len(cmds) > 0 {
		if err != nil {
			return "", err
		}
		return cmds[0].CommandID, nil
	}
	key := store.AccountKey(seed.SchoolID, DemoMeterRoom, "elec")
	var a dorm.Account
	if ok, err := s.Get(ctx, key, &a); err != nil || !ok {
		return "", fmt.Errorf("demo room %s: no electricity account (%v)", DemoMeterRoom, err)
	}
	err := s.Update(ctx, key, "SET powerOn = :on, GSI2PK = :pk, GSI2SK = :sk", "seq = :seq AND pendingCmd = :none", nil,
		store.Values{":on": a.Balance <= 0, ":pk": store.PowerPK(seed.SchoolID), ":sk": DemoMeterRoom + "#elec",
			":seq": a.Seq, ":none": ""}.AV())
	if err != nil {
		return "", fmt.Errorf("demo room %s: flag: %w", DemoMeterRoom, err)
	}
	if _, err := p.Settle(ctx, seed.SchoolID); err != nil {
		return "", err
	}
	cmds, err := p.Pending(ctx, seed.SchoolID, 1)
	if err != nil {
		return "", err
	}
	if len(cmds) == 0 {
		return "", errors.New("the power settlement queued no command")
	}
	return cmds[0].CommandID, nil
}

// ReconcileJobID returns a reconcile job of the local table ({{reconcileJobId}}): the one queued or
// running, else the latest done, else one queued now as POST /v1/admin/reconcile would.
func (l *Local) ReconcileJobID(ctx context.Context) (string, error) {
	s := reconcile.Service{S: store.New(l.Deps.DB, l.Table), Now: time.Now, Log: l.Deps.Log}
	if j, ok, err := s.Pending(ctx); err != nil || ok {
		return j.JobID, err
	}
	if j, ok, err := s.Latest(ctx); err != nil || ok {
		return j.JobID, err
	}
	j, _, err := s.Start(ctx, "staff:"+seed.SchoolID+"-invoke")
	return j.JobID, err
}

// ImportJobID queues a roster import job of the demo school ({{importJobId}}), of one row the demo data
// holds already (so running it changes nothing), as POST /v1/admin/students/import would.
func (l *Local) ImportJobID(ctx context.Context) (string, error) {
	s := jobs.Service{S: store.New(l.Deps.DB, l.Table), Now: time.Now}
	row := seed.Students[0]
	j, err := s.Submit(ctx, seed.SchoolID, jobs.KindStudents, "invoke", []any{row})
	return j.JobID, err
}

// LiabilityJobID returns an outstanding-balance job of the demo school for 2026-11-24
// ({{liabilityJobId}}): the one queued or running, else the latest done, else one queued now as POST
// /v1/admin/reports/liability would.
func (l *Local) LiabilityJobID(ctx context.Context) (string, error) {
	s := reports.Service{S: store.New(l.Deps.DB, l.Table), Now: time.Now}
	const date = "2026-11-24"
	if j, ok, err := s.PendingLiability(ctx, seed.SchoolID, date); err != nil || ok {
		return j.JobID, err
	}
	if j, ok, err := s.LatestLiability(ctx, seed.SchoolID, date); err != nil || ok {
		return j.JobID, err
	}
	j, _, err := s.StartLiability(ctx, seed.SchoolID, date, "staff:"+seed.SchoolID+"-invoke")
	return j.JobID, err
}
