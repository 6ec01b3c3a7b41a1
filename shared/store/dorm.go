package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Writes to dorm meters, the rooms a user saved, and the power state of dorm accounts (shared/dorm).

// MeterReadItem moves the meter k to a new reading (reading at readAt, the fraction carried to the next
// charge, what was read but not charged, and how many times the meter was reset), on the condition that
// it still holds the reading it was read with (prevReading at prevAt, started or not).
func MeterReadItem(k Key, reading int64, readAt time.Time, carry, uncharged, resets, prevReading int64, prevAt time.Time, prevStarted bool) types.TransactWriteItem {
	return UpdateItem(k, "SET lastReading = :r, lastReadAt = :t, carry = :c, uncharged = :u, started = :y, resets = :n",
		"lastReading = :pr AND lastReadAt = :pt AND started = :ps", nil,
		Values{":r": reading, ":t": readAt, ":c": carry, ":u": uncharged, ":y": true, ":n": resets,
			":pr": prevReading, ":pt": prevAt, ":ps": prevStarted}.AV())
}

// RemoveMyRoom takes roomID out of the rooms saved under k and moves the list's version, so an add that
// read the list before reads it again; ErrConditionFailed when the room was not saved.
func (s *Store) RemoveMyRoom(ctx context.Context, k Key, roomID string) error {
	return s.Update(ctx, k, "REMOVE rooms.#r ADD ver :one", "attribute_exists(rooms.#r)",
		map[string]string{"#r": roomID}, Values{":one": 1}.AV())
}

// UnflagPower takes the dorm account k out of the power index (PowerPK), on the condition that its
// ledger sequence is still seq (no posting moved it meanwhile).
func (s *Store) UnflagPower(ctx context.Context, k Key, seq int64) error {
	return s.Update(ctx, k, "REMOVE GSI2PK, GSI2SK", "seq = :s", nil, Values{":s": seq}.AV())
}

// PowerCommandSentItem notes on the dorm account k the command sent to its meter and takes the account
// out of the power index, on the condition that its sequence is still seq and no command is pending.
func PowerCommandSentItem(k Key, commandID string, seq int64) types.TransactWriteItem {
	return UpdateItem(k, "SET pendingCmd = :c REMOVE GSI2PK, GSI2SK", "seq = :s AND pendingCmd = :none", nil,
		Values{":c": commandID, ":s": seq, ":none": ""}.AV())
}

// PowerAckedItem records on the dorm account k what its meter did (power on or off) and clears the
// command pending, on the condition that commandID is that command. reflag puts the account back in the
// power index (GSI2 pk, sk) when its balance has moved the other way meanwhile.
func PowerAckedItem(k Key, on bool, commandID string, reflag bool, pk, sk string) types.TransactWriteItem {
	set := "SET powerOn = :on, pendingCmd = :none"
	vals := Values{":on": on, ":none": "", ":c": commandID}
	if reflag {
		set += ", GSI2PK = :pwpk, GSI2SK = :pwsk"
		vals[":pwpk"], vals[":pwsk"] = pk, sk
	}
	return UpdateItem(k, set, "pendingCmd = :c", nil, vals.AV())
}

// CommandAckedItem marks the power command k acknowledged at at and takes it out of the pending index,
// on the condition that it is pending.
func CommandAckedItem(k Key, at time.Time) types.TransactWriteItem {
	return UpdateItem(k, "SET #st = :acked, ackedAt = :at REMOVE GSI1PK, GSI1SK", "#st = :pending",
		map[string]string{"#st": "status"}, Values{":acked": "acked", ":at": at, ":pending": "pending"}.AV())
}
