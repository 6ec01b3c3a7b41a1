package dorm

// Power control keeps dorm meters' power in step with their accounts: the ledger hook flags an account
// whose balance disagrees with its meter, Settle queues power_off and power_on commands (never a cut at
// night), and Ack records what the meter did.

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"onecard/shared/chinatime"
	"onecard/shared/fault"
	"onecard/shared/ledger"
	"onecard/shared/school"
	"onecard/shared/secret"
	"onecard/shared/store"
)

// Power commands (docs/dorm.md).
const (
	PowerOff = "power_off"
	PowerOn  = "power_on"
)

// Command is a power command for a room's electricity meter.
type Command struct {
	store.Key
	store.InGSI1           // CommandsPK(school), created at, while pending
	Type         string    `dynamodbav:"type"`
	CommandID    string    `dynamodbav:"commandId"`
	SchoolID     string    `dynamodbav:"schoolId"`
	RoomID       string    `dynamodbav:"roomId"`
	Kind         string    `dynamodbav:"kind"`
	MeterID      string    `dynamodbav:"meterId"`
	Action       string    `dynamodbav:"action"`
	Status       string    `dynamodbav:"status"` // pending, acked
	CreatedAt    time.Time `dynamodbav:"createdAt"`
	AckedAt      time.Time `dynamodbav:"ackedAt,omitempty"`
}

func init() { ledger.Register(AccountKind, func(func() time.Time) ledger.Hook { return LedgerHook }) }

// AccountKind is the ledger's account kind of dorm accounts ("dorm:<school>:<room>:<kind>").
const AccountKind = "dorm"

// LedgerHook flags an electricity-paying account whose balance no longer agrees with its meter's power
// state, in the ledger's own transaction, so a crash after posting can never lose a cut or a restore.
// Settle turns flags into commands.
// It is the hook of dorm accounts (account kind "dorm").
func LedgerHook(c ledger.Change) ([]types.TransactWriteItem, ledger.UpdateParts) {
	state, after := c.State, c.After
	if !store.IsRoomPK(c.Item.PK) || !boolAttr(state, "paysElec") {
		return nil, ledger.UpdateParts{}
	}
	if (after > 0) == boolAttr(state, "powerOn") || strAttr(state, "pendingCmd") != "" {
		return nil, ledger.UpdateParts{}
	}
	set, _, values := store.GSI2Parts("pw", store.PowerPK(strAttr(state, "schoolId")), strAttr(state, "roomId")+"#"+strAttr(state, "kind"))
	return nil, ledger.UpdateParts{Set: set, Values: values}
}

func boolAttr(m map[string]types.AttributeValue, k string) bool {
	b, ok := m[k].(*types.AttributeValueMemberBOOL)
	return ok && b.Value
}

// NightAt reports whether t falls in night hours [start, end) in time zone tz; end may be the next
// morning (23:00–07:00).
func NightAt(t time.Time, start, end, tz string) bool {
	if start == "" || end == "" {
		return false
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = chinatime.Zone
	}
	hm := t.In(loc).Format("15:04")
	if start <= end {
		return hm >= start && hm < end
	}
	return hm >= start || hm < end
}

func strAttr(m map[string]types.AttributeValue, k string) string {
	if s, ok := m[k].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// Power turns flagged accounts into commands and applies acknowledgements.
type Power struct {
	S       *store.Store
	Schools school.Repo
	Now     func() time.Time
}

// SettleReport counts what Settle did.
type SettleReport struct {
	Off, On, Deferred, Cleared int
}

// Settle looks at every flagged account of school: queues power_off for an account at zero or less
// (unless it is night: the cut waits for the morning), power_on for one above zero, and clears flags that
// no longer apply. A command is never queued while another is pending for the account.
func (p Power) Settle(ctx context.Context, schoolID string) (SettleReport, error) {
	var rep SettleReport
	sch, err := p.Schools.Get(ctx, schoolID)
	if err != nil {
		return rep, err
	}
	now := p.Now()
	night := NightAt(now, sch.NightStart, sch.NightEnd, sch.TimeZone)
	err = store.Each(ctx, p.S, store.Query{Index: store.GSI2, PK: store.PowerPK(schoolID)}, func(page []Account) error {
		for _, a := range page {
			var fresh Account
			ok, err := p.S.Get(ctx, a.Key, &fresh)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			want := fresh.Balance > 0
			switch {
			case fresh.PendingCmd != "":
				continue // the acknowledgement will look again
			case want == fresh.PowerOn:
				if err := p.clear(ctx, fresh); err != nil {
					return err
				}
				rep.Cleared++
			case !want && night:
				rep.Deferred++
			default:
				err := p.queue(ctx, fresh, want, now)
				if errors.Is(err, errMoved) {
					continue // the balance moved: the next settle decides
				}
				if err != nil {
					return err
				}
				if want {
					rep.On++
				} else {
					rep.Off++
				}
			}
		}
		return nil
	})
	return rep, err
}

var errMoved = errors.New("dorm: account moved")

func (p Power) clear(ctx context.Context, a Account) error {
	err := p.S.UnflagPower(ctx, a.Key, a.Seq)
	if errors.Is(err, store.ErrConditionFailed) {
		return nil
	}
	return err
}

func (p Power) queue(ctx context.Context, a Account, on bool, now time.Time) error {
	var room struct {
		ElecMeterID string `dynamodbav:"elecMeterId"`
	}
	ok, err := p.S.Get(ctx, store.RoomKey(a.SchoolID, a.RoomID), &room)
	if err != nil {
		return err
	}
	if !ok || room.ElecMeterID == "" {
		return p.clear(ctx, a)
	}
	action := PowerOff
	if on {
		action = PowerOn
	}
	id := "c" + secret.Token(9)
	cmd := Command{Key: store.CommandKey(id), InGSI1: store.InGSI1{GSI1PK: store.CommandsPK(a.SchoolID), GSI1SK: now.UTC().Format(time.RFC3339Nano)},
		Type: "command", CommandID: id, SchoolID: a.SchoolID, RoomID: a.RoomID, Kind: a.Kind, MeterID: room.ElecMeterID,
		Action: action, Status: "pending", CreatedAt: now.UTC()}
	put, err := store.PutItem(cmd, store.IfAbsent, nil)
	if err != nil {
		return err
	}
	err = p.S.Transact(ctx, []types.TransactWriteItem{put,
		store.PowerCommandSentItem(a.Key, cmd.CommandID, a.Seq),
	}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return errMoved
	}
	return err
}

var errNoCommand = fault.E(fault.NotFound, "COMMAND_NOT_FOUND", "指令不存在")

// Ack records that the meter carried out a command: the account's power state follows it, and if the
// balance has moved the other way meanwhile, the account is flagged again.
func (p Power) Ack(ctx context.Context, schoolID, commandID string) error {
	if len(commandID) < 2 || len(commandID) > 40 {
		return errNoCommand
	}
	var cmd Command
	ok, err := p.S.Get(ctx, store.CommandKey(commandID), &cmd)
	if err != nil {
		return err
	}
	if !ok || cmd.SchoolID != schoolID {
		return errNoCommand
	}
	if cmd.Status == "acked" {
		return nil // acknowledging twice is harmless
	}
	var a Account
	if _, err := p.S.Get(ctx, store.AccountKey(cmd.SchoolID, cmd.RoomID, cmd.Kind), &a); err != nil {
		return err
	}
	on := cmd.Action == PowerOn
	now := p.Now().UTC()
	err = p.S.Transact(ctx, []types.TransactWriteItem{
		store.CommandAckedItem(cmd.Key, now),
		store.PowerAckedItem(a.Key, on, commandID, (a.Balance > 0) != on, store.PowerPK(a.SchoolID), a.RoomID+"#"+a.Kind),
	}, "")
	var tc *store.TxCanceled
	if errors.As(err, &tc) {
		return nil // acknowledged concurrently
	}
	return err
}

// Pending lists a school's unacknowledged commands, oldest first.
func (p Power) Pending(ctx context.Context, schoolID string, limit int) ([]Command, error) {
	var out []Command
	_, err := p.S.Page(ctx, store.Query{Index: store.GSI1, PK: store.CommandsPK(schoolID), Limit: limit}, &out)
	return out, err
}
