// Package catalog lists every function of the project. template.yaml is generated from it
// (`make template`), the local API server serves it, and tests check that functions/ matches it.
package catalog

import (
	"onecard/shared/accounts"
	"onecard/shared/cards"
	"onecard/shared/cash"
	"onecard/shared/closing"
	"onecard/shared/content"
	"onecard/shared/corrections"
	"onecard/shared/devices"
	"onecard/shared/dispatch"
	"onecard/shared/dorm"
	"onecard/shared/fn"
	"onecard/shared/imports"
	"onecard/shared/merchants"
	"onecard/shared/reader"
	"onecard/shared/recharge"
	"onecard/shared/reconcile"
	"onecard/shared/reports"
	"onecard/shared/school"
	"onecard/shared/settlement"
	"onecard/shared/staff"
	"onecard/shared/wxbill"
)

// HTTP is every HTTP-triggered function, in the order they appear in template.yaml.
var HTTP = []fn.HTTP{
	accounts.SchoolsList,
	accounts.AuthRegister,
	accounts.AuthLogin,
	accounts.AuthRefresh,
	accounts.AuthLogout,
	accounts.AuthResetCode,
	accounts.AuthResetPassword,
	cards.MeGet,
	accounts.MePassword,
	accounts.MePhone,
	accounts.MeEmailCode,
	accounts.MeEmail,
	accounts.MeSchool,
	accounts.MeConsent,
	recharge.MeWechat,

	cards.CardBind,
	cards.CardUnbind,
	cards.CardGet,
	cards.CardTransactions,
	cards.CardTransactionGet,
	cards.CardTransactionsSummary,
	cards.CardVirtual,
	cards.CardVirtualOff,
	cards.CardLossReport,
	cards.CardLossCancel,
	cards.CardUnlock,
	cards.CardPassword,
	cards.CardPasswordReset,
	cards.CardLimits,

	staff.AdminLogin,
	staff.AdminAudit,
	cards.AdminStudentsImport,
	imports.AdminImportJob,
	cards.AdminStudentsLookup,
	cards.AdminCardGet,
	cards.AdminCardTransactions,
	cards.AdminCardUnlock,
	cards.AdminCardResetPassword,
	cards.AdminCardReplace,
	cards.AdminCardMoveBalance,
	cards.AdminCardUnbind,
	cards.AdminCardCashTopUp,
	cash.AdminCashReport,
	closing.AdminCardClose,
	closing.AdminStudentsGraduate,
	reconcile.AdminReconcile,
	reconcile.AdminReconcileRun,
	reconcile.AdminReconcileJob,

	recharge.CardRecharge,
	recharge.OrderList,
	recharge.OrderGet,
	recharge.OrderCancel,
	recharge.WeChatNotify,
	recharge.WeChatRefundNotify,
	recharge.AdminOrderRefund,
	recharge.AdminRefundGet,

	dorm.DormBuildings,
	dorm.DormRooms,
	dorm.DormRoomGet,
	dorm.DormRecharge,
	dorm.DormTransactions,
	dorm.DormMyRooms,
	dorm.DormMyRoomAdd,
	dorm.DormMyRoomRemove,
	dorm.AdminDormsImport,
	dorm.AdminDormBuilding,
	dorm.MeterReadings,
	dorm.MeterCommands,
	dorm.MeterCommandAck,

	// School content and the staff console (issue 7).
	content.NewsList,
	content.NewsGet,
	content.NoticesList,
	content.HelpGet,
	content.AboutGet,
	content.AgreementGet,
	content.AdminNewsList,
	content.AdminNewsCreate,
	content.AdminNewsUpdate,
	content.AdminNewsUnpublish,
	content.AdminNewsPublish,
	content.AdminNewsPin,
	school.AdminSchoolGet,
	school.AdminSchoolPut,
	school.AdminAgreementPut,
	staff.AdminStaffList,
	staff.AdminStaffCreate,
	staff.AdminStaffRoles,
	staff.AdminStaffDisable,
	staff.AdminStaffEnable,
	staff.AdminStaffResetPassword,
	staff.AdminPassword,

	// Card readers, payment codes and devices (issue 5).
	reader.ReaderTransactions,
	reader.ReaderBlacklist,
	reader.ReaderKeys,
	reader.CardPaymentCode,
	reader.AdminDisputes,
	reader.AdminDisputeResolve,
	devices.AdminDeviceRegister,
	devices.AdminDevices,
	devices.AdminDeviceDisable,
	devices.AdminDeviceEnable,

	// The back office's books (issue 15): merchants, settlements, reports, corrections, WeChat bills.
	merchants.AdminMerchantCreate,
	merchants.AdminMerchants,
	merchants.AdminMerchantUpdate,
	merchants.AdminMerchantAssignDevice,
	settlement.AdminSettlement,
	settlement.AdminSettlementClose,
	reports.AdminReportRecharges,
	reports.AdminReportDormConsumption,
	reports.AdminReportLiability,
	reports.AdminReportLiabilityRun,
	reports.AdminReportLiabilityJob,
	corrections.AdminCorrectionPropose,
	corrections.AdminCorrections,
	corrections.AdminCorrectionApprove,
	corrections.AdminCorrectionReject,
	wxbill.AdminWeChatBill,
	dorm.AdminDormRooms,
	dorm.AdminDormRoom,
}

// Find returns the HTTP function named name.
func Find(name string) (fn.HTTP, bool) {
	for _, f := range HTTP {
		if f.Name == name {
			return f, true
		}
	}
	return fn.HTTP{}, false
}

// Events is every queue- or schedule-triggered function.
var Events = []fn.Event{
	recharge.RechargeReconciler,
	reconcile.LedgerReconciler,
	reports.LiabilityReporter,
	wxbill.WeChatBillMatcher,
	imports.ImportRunner,
	dorm.DormPowerSettle,
	dispatch.QueueConsumer, // reader records and meter readings share the reader queue
}
