package store

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Decisions staff record on items of their school: corrections (调账), reader disputes, and the state of
// merchants and devices. Each is conditioned on the state that was read, so two staff members deciding
// at once cannot both win.

// ApproveCorrectionItem marks the correction k approved (status approved) by by at at, naming the
// ledger transaction txnID that posts it, only while it is pending.
func ApproveCorrectionItem(k Key, approved, pending, by string, at time.Time, txnID string) types.TransactWriteItem {
	return UpdateItem(k, "SET #s = :a, decidedBy = :by, decidedAt = :at, txnId = :t", "#s = :p",
		map[string]string{"#s": "status"}, Values{":a": approved, ":by": by, ":at": at, ":p": pending, ":t": txnID}.AV())
}

// RejectCorrectionItem marks the correction k rejected (status rejected) by by at at for reason, only
// while it is pending.
func RejectCorrectionItem(k Key, rejected, pending, by string, at time.Time, reason string) types.TransactWriteItem {
	return UpdateItem(k, "SET #s = :r, decidedBy = :by, decidedAt = :at, rejectReason = :why", "#s = :p",
		map[string]string{"#s": "status"}, Values{":r": rejected, ":by": by, ":at": at, ":why": reason, ":p": pending}.AV())
}

// ResolveDisputeItem records the decision on the reader dispute k (its status becoming status, by whom,
// when as RFC 3339 text, the note, and chargedCard when not empty), only while the dispute is open.
func ResolveDisputeItem(k Key, status, open, by, at, note, chargedCard string) types.TransactWriteItem {
	set := "SET #st = :st, resolvedBy = :by, resolvedAt = :at, note = :note"
	vals := Values{":st": status, ":by": by, ":at": at, ":note": note, ":open": open}
	if chargedCard != "" {
		set += ", chargedCard = :card"
		vals[":card"] = chargedCard
	}
	return UpdateItem(k, set, "#st = :open", map[string]string{"#st": "status"}, vals.AV())
}

// RenameMerchantItem sets the name and category of the merchant k, only while they are still oldName and
// oldCategory.
func RenameMerchantItem(k Key, name, category, oldName, oldCategory string, now time.Time) types.TransactWriteItem {
	return UpdateItem(k, "SET #n = :n, category = :c, updatedAt = :now", "#n = :on AND category = :oc",
		map[string]string{"#n": "name"}, Values{":n": name, ":c": category, ":now": now, ":on": oldName, ":oc": oldCategory}.AV())
}

// DeviceStatusItem moves the device k from status from to status, only while it is at from and belongs
// to school.
func DeviceStatusItem(k Key, status, from, school string, now time.Time) types.TransactWriteItem {
	return UpdateItem(k, "SET #st = :to, updatedAt = :now", "#st = :from AND schoolId = :school",
		map[string]string{"#st": "status"}, Values{":to": status, ":from": from, ":school": school, ":now": now}.AV())
}
