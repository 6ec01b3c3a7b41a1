package seed

import (
	"context"
	"time"

	"onecard/shared/content"
	"onecard/shared/platform"
)

// DemoNews is the demo school's 热门新闻 and 通知, with fixed ids so that seeding again rewrites them.
func DemoNews() []content.Item {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t.UTC()
	}
	return []content.Item{
		{ID: "20260901010000000001", Kind: content.KindNews, Pinned: true, PublishedAt: at("2026-09-01T09:00:00+08:00"),
			Title: "校园一信通付款码上线，手机即可刷卡消费",
			Body: `即日起，同学们可在"校园一信通"小程序中使用付款码消费。

开通方法：回到首页，点击"付款码"，同意开通"虚拟卡"即可。向食堂、超市的刷卡机出示付款码扫描即可完成付款。

注意事项：
1. 付款码约 60 秒内有效，每个码只能使用一次，请勿截图转发。
2. 付款码与实体卡共用一个余额和消费额度，可在"一卡通安全中心-消费额度管理"中调整。
3. 卡片挂失后，实体卡与付款码同时停用。`},
		{ID: "20260915020000000002", Kind: content.KindNews, PublishedAt: at("2026-09-15T10:00:00+08:00"),
			Title: "微信充值即时到账，无需再到圈存机领款",
			Body: `一卡通微信充值已升级：在小程序首页点击"充值"，输入金额并完成微信支付后，金额立即计入一卡通余额，不再需要到圈存机或刷卡机上领款。

充值记录可在"余额-交易明细"中查看。如支付成功但余额未更新，系统会自动向微信支付核对并补记，请勿重复充值。`},
		{ID: "20261020010000000003", Kind: content.KindNotice, PublishedAt: at("2026-10-20T09:00:00+08:00"),
			Title: "关于宿舍电费、冷水费余额不足停电的通知",
			Body: `各位同学：

宿舍电费、冷水费账号余额不足时，宿舍将会停电。为保障同学们休息，每日 23:00 至次日 07:00 不执行停电，余额不足的宿舍将在 07:00 以后停电；余额不足前系统会向绑定的邮箱发送提醒。

6、7、8 栋宿舍电费与冷水费为"一号两用"，一间宿舍一个账号；9 栋电费与冷水费分开充值。充值时请核对楼栋与宿舍号（如 WH-8D-1006 表示 8 栋 1006 宿舍），切勿充错。

如有疑问，请到亦归楼 C407 图文信息中心咨询。`},
	}
}

// News writes the demo news and notices.
func News(ctx context.Context, d *platform.Deps) error {
	svc := content.NewService(d.Store(), d.Now)
	for _, it := range DemoNews() {
		it.SchoolID, it.Status, it.UpdatedAt, it.Author = SchoolID, content.Published, it.PublishedAt, "seed"
		if err := svc.Put(ctx, &it); err != nil {
			return err
		}
	}
	return nil
}
