// Package seed writes the demo data: the school 昆明传媒学院 and (as later parts land) its students,
// cards, dorms, devices and staff. `make dev` runs it on start; tests use the same data.
package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"onecard/shared/auth"
	"onecard/shared/cards"
	"onecard/shared/chinatime"
	"onecard/shared/platform"
	"onecard/shared/reader"
	"onecard/shared/school"
	"onecard/shared/secret"
	"onecard/shared/staff"
)

// SchoolID is the demo school.
const SchoolID = "kmmc"

// DemoSchool returns the demo school's settings.
func DemoSchool() *school.School {
	s := &school.School{
		ID: SchoolID, Name: "昆明传媒学院", Prefixes: []string{"CUIK", "CUK"},
		ElecFenPerKWh: 60, WaterFenPerM3: 350,
		NightStart: "23:00", NightEnd: "07:00", TimeZone: "Asia/Shanghai",
		MaxRechargeFen: 100000, LowBalanceFen: 1000, DefaultPerTxnFen: 5000, DefaultDailyFen: 30000,
		Help:  HelpText,
		About: AboutText,
	}
	return s
}

// AgreementVersion is the version of the demo school's user agreement and privacy policy that School
// publishes (a registration sends it back as agreementVersion).
const AgreementVersion = 1

// School writes the demo school, and publishes version 1 of its user agreement and privacy policy
// unless it has published one (a version staff published later stays current).
func School(ctx context.Context, d *platform.Deps) error {
	repo := school.Repo{S: d.Store()}
	if err := repo.Put(ctx, DemoSchool()); err != nil {
		return err
	}
	return repo.SeedAgreement(ctx, SchoolID, AgreementText, PrivacyText, d.Now())
}

// Students are the demo students: student number, name, ID number, card number.
var Students = []cards.ImportRow{
	{Line: 1, StudentNo: "CUIK20230001", Name: "张三", IDNumber: "530102200001011237", CardNo: "10000001"},
	{Line: 2, StudentNo: "CUIK20230002", Name: "李四", IDNumber: "53010220010202562X", CardNo: "10000002"},
	{Line: 3, StudentNo: "CUIK20230003", Name: "王五", IDNumber: "530102200203034322", CardNo: "10000003"},
}

// StudentsAndCards imports the demo roster through the same path staff use.
func StudentsAndCards(ctx context.Context, d *platform.Deps) error {
	svc := cards.NewService(d.Store(), secret.NewDigester(d.Cfg.PIIKey), d.Now)
	rep, err := svc.Import(ctx, auth.Principal{Subject: "seed", Kind: auth.KindStaff, School: SchoolID}, Students)
	if err != nil {
		return err
	}
	if rep.Rejected > 0 {
		return fmt.Errorf("seed students: %+v", rep.Errors)
	}
	return nil
}

// StaffLogin is the local console login (infra/local/demo/staff.json).
type StaffLogin struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// DemoStaff reads infra/local/demo/staff.json.
func DemoStaff(root string) (StaffLogin, error) {
	var s StaffLogin
	b, err := os.ReadFile(filepath.Join(root, "infra", "local", "demo", "staff.json"))
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

// Staff writes the demo admin with every role.
func Staff(ctx context.Context, d *platform.Deps, login StaffLogin) error {
	return staff.Put(ctx, d.Store(), login.Username, login.Password, SchoolID,
		[]string{auth.RoleFinance, auth.RoleIT, auth.RoleOps, auth.RoleAdmin})
}

// All writes every piece of demo data. It is idempotent.
func All(ctx context.Context, d *platform.Deps, root string) error {
	if err := School(ctx, d); err != nil {
		return err
	}
	if err := News(ctx, d); err != nil {
		return err
	}
	if err := StudentsAndCards(ctx, d); err != nil {
		return err
	}
	if err := Dorms(ctx, d); err != nil {
		return err
	}
	if err := Meters(ctx, d); err != nil {
		return err
	}
	if err := Devices(ctx, d, root); err != nil {
		return err
	}
	if err := Dispute(ctx, d); err != nil {
		return err
	}
	if err := Books(ctx, d); err != nil {
		return err
	}
	login, err := DemoStaff(root)
	if err != nil {
		return err
	}
	if err := Staff(ctx, d, login); err != nil {
		return err
	}
	return BackOffice(ctx, d, login.Username)
}

// DemoDispute is the record the demo keeps for finance: 王五's payment code was used at the canteen's
// reader twice, and this second use was not charged (GET /v1/admin/disputes, then resolve it).
var DemoDispute = reader.Message{Type: reader.TypeRecord, DeviceID: "POS-CANTEEN-01", SchoolID: SchoolID, Merchant: "第一食堂",
	Seq: 42, OccurredAt: time.Date(2026, 11, 20, 12, 10, 0, 0, chinatime.Zone), Kind: "purchase", AmountFen: 1250,
	CardNo: "10000003", CodeID: SchoolID + ":10000003:0a1b2c3d4e5f6a7b", CodeExpiresAt: 1795580000,
	ReceivedAt: time.Date(2026, 11, 20, 12, 10, 2, 0, chinatime.Zone)}

// Dispute keeps DemoDispute once; a resolved one stays resolved.
func Dispute(ctx context.Context, d *platform.Deps) error {
	_, err := reader.KeepDispute(ctx, d.Store(), &DemoDispute, reader.DisputeCodeUsed, DemoDispute.ReceivedAt.Add(time.Second))
	return err
}

// HelpText is the demo school's 使用帮助, written from the card system's user manual.
const HelpText = `一、注册与登录
1. 注册：点击"立即注册"，填写手机号（作为登录账号）和登录密码，学校选择"昆明传媒学院"，阅读并勾选"已阅读并同意用户协议"，点击"注册"。
2. 登录：输入注册时的手机号与密码即可登录。用户协议更新后，登录时会请您阅读并同意新版本。

二、绑定一卡通
首次充值前需绑定一卡通。学号处输入"CUIK+学号"（如 CUIK20230001），一卡通密码初始为身份证号后六位（末位为 X 时以 0 代替）。绑定后请及时修改一卡通密码。

三、充值
绑定成功后点击"充值"，输入任意金额，完成微信支付后金额立即到账，无需再到圈存机领款。

四、付款码消费
点击"付款码"并同意开通"虚拟卡"，向刷卡机出示付款码即可消费。付款码约 60 秒内有效，仅可使用一次。

五、宿舍电费、冷水费充值
6、7、8 栋宿舍电费与冷水费为"一号两用"，一间宿舍一个账号；9 栋电费与冷水费分开充值。账号余额不足时宿舍将会停电，请及时充值。任何人都可以为任意宿舍充值，请核对宿舍号。

六、挂失、解挂与补卡
卡片丢失请及时在"一卡通安全中心"挂失，挂失后实体卡与付款码均停止使用；找回后可解挂。需要补卡的，请携带有效身份证件到学校财务处办理补卡手续。

七、一卡通密码与解锁
在"一卡通安全中心-一卡通密码修改"可凭身份证号重置一卡通密码，重置后为身份证号后六位。密码连续输错 5 次卡片将被锁定，可凭身份证号自助解锁。信息填写正确但身份证号验证不通过的，请携带有效身份证件到亦归楼 C区407 图文信息中心办公室处理。

八、绑定邮箱与找回密码
在"我的-绑定邮箱"绑定邮箱后，可通过邮箱验证码重置登录密码。

九、线下咨询
使用中有任何问题，请本人携带有效证件到亦归楼 C区407 图文信息中心办公室咨询。`

// AboutText is the demo school's 关于.
const AboutText = `校园一信通是昆明传媒学院的一卡通线上服务，提供余额查询、充值、付款码、挂失、宿舍电费冷水费充值等功能。
线下服务：卡片解锁、密码问题及其他咨询，请本人携带有效证件到亦归楼 C区407 图文信息中心办公室；卡片遗失补卡、余额退款，请携带身份证件到学校财务处办理。`

// AgreementText is the demo school's 用户协议 (version AgreementVersion).
const AgreementText = `校园一信通用户协议

一、本协议是您与昆明传媒学院（以下简称"学校"）之间关于使用"校园一信通"小程序的约定。注册即表示您已阅读并同意本协议。
二、您应使用本人手机号注册，妥善保管登录密码和一卡通密码，不得将账号转让或借给他人使用。因密码泄露造成的损失由您本人承担。
三、一卡通余额仅限校内消费，充值通过微信支付完成。余额退款、补卡请到学校财务处办理。
四、卡片遗失请及时在小程序中挂失。挂失前已发生的消费由持卡人承担。
五、宿舍电费、冷水费按宿舍充值，请核对宿舍号，充错宿舍的款项无法原路退回。
六、学校可根据需要修改本协议，修改后的协议在小程序中公布，您再次登录时须重新阅读并同意。
七、如有疑问，请到亦归楼 C区407 图文信息中心办公室咨询。`

// PrivacyText is the demo school's 隐私政策 (version AgreementVersion).
const PrivacyText = `校园一信通隐私政策

一、我们收集的信息：注册时的手机号；您自愿绑定的邮箱；绑定一卡通时的学号；消费、充值和宿舍缴费记录；微信支付所需的微信用户标识（openid）。
二、使用目的：仅用于登录、找回密码、一卡通消费与充值、账单查询和安全保护，不用于广告。
三、保存与保护：手机号和邮箱加密保存；密码只保存不可逆的摘要；交易记录按财务制度保存。
四、共享：除微信支付完成付款所必需的信息外，我们不会向第三方提供您的个人信息，法律法规另有规定的除外。
五、您的权利：您可以在"我的"中修改手机号、邮箱和密码，也可以到亦归楼 C区407 图文信息中心办公室申请查询或更正您的信息。
六、本政策更新后将在小程序中公布，您再次登录时须重新阅读并同意。`
