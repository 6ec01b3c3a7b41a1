// Package store is the DynamoDB adapter: the one table's key shapes (this file) and the few operations
// every domain package needs (get, put, transact with bounded conflict retries, queries and scans).
//
// Every item has PK and SK. Two sparse GSIs serve the listings. The table and its access patterns are
// documented in docs/data-model.md; keep both in step.
package store

import (
	"fmt"
	"hash/fnv"
	"strconv"
	"time"
)

// Attribute names of the keys and indexes. TTL holds epoch seconds.
const (
	AttrPK     = "PK"
	AttrSK     = "SK"
	AttrGSI1PK = "GSI1PK"
	AttrGSI1SK = "GSI1SK"
	AttrGSI2PK = "GSI2PK"
	AttrGSI2SK = "GSI2SK"
	AttrTTL    = "ttl"
	GSI1       = "GSI1"
	GSI2       = "GSI2"
)

// Key addresses one item. Its attributes never reach an HTTP answer: an item type that embeds it and is
// answered as is (a building) answers without them (infra/invoke's every-function test checks every
// sample answer for table attributes).
type Key struct {
	PK string `dynamodbav:"PK" json:"-"`
	SK string `dynamodbav:"SK" json:"-"`
}

func (k Key) String() string { return k.PK + "|" + k.SK }

// InGSI1 and InGSI2 place an item in a partition of an index: embed one in the item's struct and set
// its fields with the key functions below. Both indexes are sparse, so an item with empty fields is in
// neither; like Key, they never reach an HTTP answer.
type InGSI1 struct {
	GSI1PK string `dynamodbav:"GSI1PK,omitempty" json:"-"`
	GSI1SK string `dynamodbav:"GSI1SK,omitempty" json:"-"`
}

// InGSI2: see InGSI1.
type InGSI2 struct {
	GSI2PK string `dynamodbav:"GSI2PK,omitempty" json:"-"`
	GSI2SK string `dynamodbav:"GSI2SK,omitempty" json:"-"`
}

// Schools. List: GSI1PK=SCHOOLS. The help and about texts are a separate item, so that the settings
// item that most requests read stays small.
func SchoolKey(id string) Key      { return Key{"SCHOOL#" + id, "META"} }
func SchoolTextsKey(id string) Key { return Key{"SCHOOL#" + id, "TEXTS"} }
func SchoolListPK() string         { return "SCHOOLS" }

// A school's user agreement and privacy policy (用户协议, 隐私政策): the current version in AGREEMENT,
// and every version ever published, write-once, in AGREEMENT#V<version> (what a user accepted stays
// readable).
func AgreementKey(school string) Key { return Key{"SCHOOL#" + school, "AGREEMENT"} }
func AgreementVersionKey(school string, version int64) Key {
	return Key{"SCHOOL#" + school, fmt.Sprintf("AGREEMENT#V%010d", version)}
}

// Users and the uniqueness markers written in the same transaction as the user.
func UserKey(userID string) Key { return Key{"USER#" + userID, "PROFILE"} }

// The markers are keyed by the keyed digest of the phone or email (accounts.Users), never the clear value.
func PhoneKey(digest string) Key { return Key{"PHONE#" + digest, "PHONE"} }
func EmailKey(digest string) Key { return Key{"EMAIL#" + digest, "EMAIL"} }

// SessionKey is one refresh-token family of a user.
func SessionKey(userID, family string) Key { return Key{"USER#" + userID, "SESSION#" + family} }

// CodeKey is a user's pending emailed code; purpose is "email" or "reset".
func CodeKey(userID, purpose string) Key { return Key{"USER#" + userID, "CODE#" + purpose} }

// Cards and the roster that maps a student number to a card. A card item also holds its wallet's
// balance and posting sequence (the ledger account lives on the card).
func CardKey(school, cardNo string) Key { return Key{"CARD#" + school + "#" + cardNo, "CARD"} }
func StudentKey(school, studentNo string) Key {
	return Key{"STUDENT#" + school + "#" + studentNo, "STUDENT"}
}

// StudentNamePK is the GSI1 partition of a school's roster entries under one name (the staff lookup by
// name); GSI1SK is the canonical student number.
func StudentNamePK(school, name string) string { return "STUDENTNAME#" + school + "#" + name }

// Ledger entries of one account, ordered by posting sequence: PK=LEDGER#<account>, SK=E#<seq>.
func LedgerPK(account string) string { return "LEDGER#" + account }
func EntrySK(seq int64) string       { return fmt.Sprintf("E#%012d", seq) }
func EntryKey(account string, seq int64) Key {
	return Key{LedgerPK(account), EntrySK(seq)}
}

// ClearingKey is the clearing side of one movement: the posting on an outside party's clearing account
// (ext:wechat, ext:merchant:<deviceId>, ext:utility:<kind>), PK=CLEARING#<account>#<day, China time>,
// SK=T#<txnId>. One new item per movement, never an update: a clearing account has no balance item, so no
// item is written by every transaction; a day's partition, read by a query, is that day's settlement.
//
// The day's entries are spread over ClearingShards partitions by the movement's id (PK
// CLEARING#<account>#<day>#<shard>): ext:wechat and ext:utility:<kind> take every school's recharges and
// dorm charges, and a single day partition would cap them at one partition's 1,000 writes a second
// (make load found it; docs/scale.md). A day is read with one query per shard (ledger.ClearingDay).
const ClearingShards = 16

func ClearingPK(account, day string, shard int) string {
	return "CLEARING#" + account + "#" + day + "#" + strconv.Itoa(shard)
}

// ClearingShard is the shard of a movement's clearing entry.
func ClearingShard(txnID string) int {
	h := fnv.New32a()
	h.Write([]byte(txnID))
	return int(h.Sum32() % ClearingShards)
}

func ClearingKey(account, day, txnID string) Key {
	return Key{ClearingPK(account, day, ClearingShard(txnID)), "T#" + txnID}
}

// The books' reconcile runs off the request path (shared/reconcile), in one partition: a run and its
// report under JOB#<jobId> (the id starts with its UTC time, so the partition reads newest last), the run
// queued or running under CURRENT (at most one: starting one is a put on attribute_not_exists) and in the
// queue under QUEUE#<jobId> (a jobs.Queue entry, leased by the run that takes it), the last finished run
// under LATEST.
func ReconcileJobKey(jobID string) Key   { return Key{ReconcilePK, "JOB#" + jobID} }
func ReconcileCurrentKey() Key           { return Key{ReconcilePK, "CURRENT"} }
func ReconcileLatestKey() Key            { return Key{ReconcilePK, "LATEST"} }
func ReconcileQueueKey(jobID string) Key { return Key{ReconcilePK, "QUEUE#" + jobID} }

// ReconcilePK is the reconcile's partition.
const ReconcilePK = "RECONCILE"

// A CSV import (roster, rooms) runs off the request path as a job (shared/imports). The job under
// IMPORT#<school> / JOB#<jobId> (one school's jobs are one partition: a member of another school cannot
// name it); its parsed rows in chunks of at most 300 KB under IMPORTJOB#<school>#<jobId> / CHUNK#<nnn>
// (a DynamoDB item holds 400 KB), and each row's outcome, written with the row's own writes, under the
// same partition at ROW#<nnnnn> (a run that died is taken over and skips the rows it finds done). Jobs
// queued or running wait in IMPORTQUEUE / <jobId>#<school>, with their run's lease.
func ImportJobKey(school, jobID string) Key { return Key{"IMPORT#" + school, "JOB#" + jobID} }
func ImportChunkKey(school, jobID string, n int) Key {
	return Key{ImportDataPK(school, jobID), fmt.Sprintf("CHUNK#%03d", n)}
}
func ImportRowKey(school, jobID string, i int) Key {
	return Key{ImportDataPK(school, jobID), fmt.Sprintf("ROW#%05d", i)}
}
func ImportDataPK(school, jobID string) string { return "IMPORTJOB#" + school + "#" + jobID }
func ImportQueueKey(school, jobID string) Key  { return Key{ImportQueuePK, jobID + "#" + school} }

// ImportQueuePK is the partition of the queued and running import jobs.
const ImportQueuePK = "IMPORTQUEUE"

// The outstanding-balance report (shared/reports) runs off the request path too, per school and date: a
// run and its report under LIABILITY#<school> / JOB#<jobId>, the run queued or running for a date under
// PENDING#<date> (at most one per date), the last finished run of a date under DATE#<date>; every queued
// or running job is also listed in the one partition LIABILITY / QUEUE#<school>#<jobId>, which the
// scheduled LiabilityReporter queries (no scan to find work).
func LiabilityJobKey(school, jobID string) Key { return Key{"LIABILITY#" + school, "JOB#" + jobID} }
func LiabilityPendingKey(school, date string) Key {
	return Key{"LIABILITY#" + school, "PENDING#" + date}
}
func LiabilityDateKey(school, date string) Key { return Key{"LIABILITY#" + school, "DATE#" + date} }
func LiabilityQueueKey(school, jobID string) Key {
	return Key{"LIABILITY", "QUEUE#" + school + "#" + jobID}
}

// LiabilityQueuePK is the partition of the queued and running outstanding-balance jobs.
const LiabilityQueuePK = "LIABILITY"

// IdemKey marks one money movement as done: scope names the source (reader, wechat, app).
func IdemKey(scope, key string) Key { return Key{"IDEM#" + scope + "#" + key, "IDEM"} }

// Staff and their audit trail (newest first by SK), one trail per school. A school's staff are listed by
// username through GSI1PK=STAFF_OF#<school>, GSI1SK=<username>.
func StaffKey(username string) Key     { return Key{"STAFF#" + username, "STAFF"} }
func StaffListPK(school string) string { return "STAFF_OF#" + school }
func AuditPK(school string) string     { return "AUDIT#" + school }

// AuditEventKey files one audit record of school at a time (sorted by it, UTC nanoseconds) with a random
// suffix so two records of the same instant stay apart.
func AuditEventKey(school string, at time.Time, suffix string) Key {
	return Key{AuditPK(school), at.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + suffix}
}

// News and notices of a school (content): one item each, under the school's partition. While published,
// an item is also in GSI1 under NEWSLIST#<school>#<kind> with GSI1SK=<1 pinned|0>#<publishedAt>#<id>,
// so a backwards query lists pinned first, then newest first; unpublishing removes it from the index.
func NewsKey(school, id string) Key         { return Key{"NEWS#" + school, "N#" + id} }
func NewsListPK(school, kind string) string { return "NEWSLIST#" + school + "#" + kind }

// Devices (card readers, meter gateways) registered by staff; a school's devices: GSI1PK=DEVICES#<school>.
func DeviceKey(deviceID string) Key     { return Key{"DEVICE#" + deviceID, "DEVICE"} }
func DeviceListPK(school string) string { return "DEVICES#" + school }

// DeviceNonceKey records a device request's nonce (devicesig.Signed.NonceKey(): deviceId#nonce) for
// single use; TTL just after the signature's clock window.
func DeviceNonceKey(nonceKey string) Key { return Key{"NONCE#" + nonceKey, "NONCE"} }

// PayCodeKey marks a payment code spent; nonceID is paycode's school:cardNo:hex(nonce). Written in the
// ledger transaction that charges the code, attribute_not_exists; TTL after the last day a record may bear it.
func PayCodeKey(nonceID string) Key { return Key{"PAYCODE#" + nonceID, "PAYCODE"} }

// DisputeKey is a reader record kept for staff instead of being charged; a school's disputes, newest
// first: GSI1PK=DISPUTES#<school>, GSI1SK=<createdAt>#<deviceId>#<seq>.
func DisputeKey(deviceID string, seq int64) Key {
	return Key{fmt.Sprintf("DISPUTE#%s#%d", deviceID, seq), "DISPUTE"}
}
func DisputeListPK(school string) string { return "DISPUTES#" + school }

// UserOrdersPK lists a user's recharge orders (card and dorm), every status, newest first: an order item
// carries GSI2PK=ORDERS_OF#<userId>, GSI2SK=<created, UTC, fixed-width µs>#<orderNo> for life. (Its GSI1
// is ORDERS#pending only while pending: the reconciler's index.)
func UserOrdersPK(userID string) string { return "ORDERS_OF#" + userID }

// Merchants (商户) of a school, one partition: PK=MERCHANTS#<school>, SK=M#<merchantId>. A device's
// owners over time: PK=MERCHANTDEV#<deviceId>, SK=FROM#<day, China time> (the latest FROM on or before a
// day owns that day), each also in GSI1 under MERCHANTDEVS#<school>#<merchantId> with GSI1SK=<day>#<deviceId>
// (the candidates of a merchant's devices on a day).
func MerchantKey(school, merchantID string) Key { return Key{"MERCHANTS#" + school, "M#" + merchantID} }
func MerchantsPK(school string) string          { return "MERCHANTS#" + school }
func DeviceOwnerKey(deviceID, day string) Key   { return Key{"MERCHANTDEV#" + deviceID, "FROM#" + day} }
func DeviceOwnerPK(deviceID string) string      { return "MERCHANTDEV#" + deviceID }
func MerchantDevicesPK(school, merchantID string) string {
	return "MERCHANTDEVS#" + school + "#" + merchantID
}

// SettlementKey is a merchant's closed day: its figures as closed, write-once.
func SettlementKey(school, merchantID, day string) Key {
	return Key{"SETTLEMENT#" + school + "#" + merchantID, "DAY#" + day}
}

// Corrections (调账) of a school, one partition, by id: PK=CORRECTIONS#<school>, SK=C#<id>.
func CorrectionKey(school, id string) Key { return Key{"CORRECTIONS#" + school, "C#" + id} }
func CorrectionsPK(school string) string  { return "CORRECTIONS#" + school }

// WeChatBillKey is the matching of one day's WeChat Pay trade bill with our orders (per merchant id of
// the platform: the bill is the merchant's, not a school's).
func WeChatBillKey(day string) Key { return Key{"WXBILL", "DAY#" + day} }

// AttemptKey counts rule's tries for subject (shared/attempts): PK=TRY#<rule>#<subject>.
func AttemptKey(rule, subject string) Key { return Key{"TRY#" + rule + "#" + subject, "TRY"} }

// BlacklistPK is the partition of a school's blacklist log; BlacklistChangeSK orders its changes by
// version (microseconds), then card, then a counter within the transaction.
func BlacklistPK(school string) string { return "BLACKLIST#" + school }
func BlacklistChangeSK(version int64, cardNo string, n int64) string {
	return fmt.Sprintf("V#%016d#%s#%08d", version, cardNo, n)
}

// LeaversPK is the GSI2 partition of a school's roster entries that are not active (graduated, left).
func LeaversPK(school string) string { return "LEAVERS#" + school }

// OrderKey addresses a recharge order; RefundKey a refund.
func OrderKey(no string) Key  { return Key{"ORDER#" + no, "ORDER"} }
func RefundKey(no string) Key { return Key{"REFUND#" + no, "REFUND"} }

// Dorm power control (shared/dorm/power.go): a school's accounts whose meter must be switched are in the
// sparse GSI2 partition PowerPK; a power command is CommandKey, listed while pending under GSI1 CommandsPK.
func PowerPK(school string) string    { return "POWER#" + school }
func CommandsPK(school string) string { return "CMDS#" + school + "#pending" }
func CommandKey(id string) Key        { return Key{"CMD#" + id, "CMD"} }

// Dormitories (shared/dorm): a building in its school's partition; a room and its utility accounts share
// the room's partition (ROOM#<school>#<roomId> / ROOM, ACCT#<kind>); a meter; the rooms a user saved in
// a school (USER#<userId> / MYROOMS#<school>).
func BuildingKey(school, building string) Key { return Key{"SCHOOL#" + school, "BUILDING#" + building} }
func RoomPK(school, roomID string) string     { return "ROOM#" + school + "#" + roomID }
func RoomKey(school, roomID string) Key       { return Key{RoomPK(school, roomID), "ROOM"} }
func AccountKey(school, roomID, kind string) Key {
	return Key{RoomPK(school, roomID), "ACCT#" + kind}
}
func RechargerKey(school, roomID, userID string) Key {
	return Key{RoomPK(school, roomID), "RECHARGER#" + userID}
}
func MeterKey(id string) Key               { return Key{"METER#" + id, "METER"} }
func MyRoomsKey(userID, school string) Key { return Key{UserKey(userID).PK, "MYROOMS#" + school} }

// Partitions and sort-key bounds that the listings query (store.Query).

// RoomsPK is the GSI1 partition of a school's rooms, listed in building and room order: GSI1SK is
// <building, 3 digits>#<room, 5 digits> (dorm's sortKey), so a building's rooms share a prefix.
func RoomsPK(school string) string { return "ROOMS#" + school }

// IsRoomPK reports whether pk is a room's partition (RoomPK): a room's utility accounts live there.
func IsRoomPK(pk string) bool { return len(pk) >= len("ROOM#") && pk[:len("ROOM#")] == "ROOM#" }

// BlockedPK is the sparse GSI2 partition of a school's blocked cards (lost, locked, in arrears), GSI2SK
// the card number: a card item is in it while blocked, and readers' full blacklist is this partition.
func BlockedPK(school string) string { return "BLOCKED#" + school }

// DisputeKeyOfPK is the key of the dispute whose partition is pk (DisputeKey's PK, which the dispute
// listing's cursor carries); false when pk is not a dispute's partition.
func DisputeKeyOfPK(pk string) (Key, bool) {
	if len(pk) < len("DISPUTE#") || pk[:len("DISPUTE#")] != "DISPUTE#" {
		return Key{}, false
	}
	return Key{pk, "DISPUTE"}, true
}

// BlacklistAfterSK sorts after every change of version in a blacklist log (BlacklistChangeSK) and before
// every change of a later version: the changes since version are the ones after it.
func BlacklistAfterSK(version int64) string { return fmt.Sprintf("V#%016d#~", version) }

// GSI2Parts are the clauses of an update that put an item in GSI2 partition pk at sk or, when pk is "",
// take it out of GSI2 (a ledger hook's parts: the dorm power flag, the blocked-card index). p prefixes the
// values' placeholders (":<p>pk", ":<p>sk"), so that parts of several sources can share one update.
func GSI2Parts(p, pk, sk string) (set, remove []string, values map[string]any) {
	if pk == "" {
		return nil, []string{AttrGSI2PK, AttrGSI2SK}, map[string]any{}
	}
	return []string{AttrGSI2PK + " = :" + p + "pk", AttrGSI2SK + " = :" + p + "sk"}, nil,
		map[string]any{":" + p + "pk": pk, ":" + p + "sk": sk}
}

// OrdersPendingPK is the GSI1 partition of recharge orders still waiting for WeChat Pay (GSI1SK: created
// at); an order leaves it when paid or closed.
const OrdersPendingPK = "ORDERS#pending"

// RefundsPendingPK is the GSI1 partition of refunds not yet final (recharge's reconciler reads it); a
// refund leaves it when final.
const RefundsPendingPK = "REFUNDS#pending"

// EntrySKPrefix begins the sort key of every ledger entry (EntrySK): the entries of a LedgerPK
// partition, as a history reads them.
const EntrySKPrefix = "E#"

// MerchantDeviceSK is an owner entry's GSI1SK under MerchantDevicesPK (<day>#<deviceId>, day in China
// time); MerchantDevicesUpTo(day) sorts after every such key of day and before the next day's, so a
// query up to it reads the entries from day and before.
func MerchantDeviceSK(day, deviceID string) string { return day + "#" + deviceID }
func MerchantDevicesUpTo(day string) string        { return day + "#~" }
