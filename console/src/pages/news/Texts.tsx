// 帮助、关于与协议: 使用帮助 and 关于 are school settings (PUT /v1/admin/school with the version read);
// 用户协议 and 隐私政策 are published together as the next version (PUT /v1/admin/school/agreement), which
// asks every student to agree again.
import { useEffect, useState } from 'react'
import { Alert, App, Button, Card, Col, Form, Input, Row, Skeleton, Tag, Typography } from 'antd'
import { api, ApiError, describe, ok, type Schemas } from '../../api/client'
import { getSession } from '../../auth/session'
import { ErrorLine, PageCard } from '../../components/common'
import { formatTime } from '../../lib/time'
import { loadSettings, saveSettings, type Settings } from '../admin/school'

export default function Texts() {
  const { message, modal } = App.useApp()
  const school = getSession()?.schoolId ?? ''
  const [settings, setSettings] = useState<Settings | null>(null)
  const [agreement, setAgreement] = useState<Schemas['Agreement'] | null>(null)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState('')
  const [texts] = Form.useForm()
  const [legal] = Form.useForm()

  async function load() {
    setError('')
    try {
      const [s, a] = await Promise.all([loadSettings(), ok(api.GET('/v1/agreement', { params: { query: { schoolId: school } } }))])
      setSettings(s)
      setAgreement(a)
      texts.setFieldsValue({ help: s.help, about: s.about })
      legal.setFieldsValue({ agreement: a.agreement, privacy: a.privacy })
    } catch (e) {
      setError(describe(e))
    }
  }
  useEffect(() => {
    load()
  }, []) // eslint-disable-line react-hooks/exhaustive-deps

  async function saveTexts(v: { help: string; about: string }) {
    if (!settings) return
    setBusy('texts')
    setError('')
    try {
      const s = await saveSettings({ ...settings, help: v.help, about: v.about })
      setSettings(s)
      message.success('使用帮助和关于已保存')
    } catch (e) {
      setError(describe(e))
      if (e instanceof ApiError && e.code === 'SCHOOL_CHANGED') load()
    } finally {
      setBusy('')
    }
  }

  function publish(v: { agreement: string; privacy: string }) {
    if (!agreement) return
    modal.confirm({
      title: '发布新版用户协议和隐私政策？',
      content: '发布后，所有学生下次登录时都需要重新阅读并同意。仅修改错别字等无需学生重新同意的内容，请慎重发布。',
      okText: '发布新版本',
      onOk: async () => {
        setBusy('legal')
        setError('')
        try {
          const a = await ok(api.PUT('/v1/admin/school/agreement', { body: { version: agreement.version, agreement: v.agreement, privacy: v.privacy } }))
          setAgreement(a)
          message.success(a.version === agreement.version ? '内容未变化，未发布新版本' : `已发布第 ${a.version} 版`)
        } catch (e) {
          setError(describe(e))
          if (e instanceof ApiError && e.code === 'AGREEMENT_CHANGED') load()
        } finally {
          setBusy('')
        }
      },
    })
  }

  return (
    <PageCard title="帮助、关于与协议" intro="这些文字在小程序的“使用帮助”“关于”和注册页中按原样显示（纯文本，可换行）。">
      <ErrorLine error={error} />
      {!settings || !agreement ? (
        <Skeleton active />
      ) : (
        <Row gutter={24}>
          <Col xs={24} xl={12}>
            <Card type="inner" title="使用帮助与关于">
              <Form form={texts} layout="vertical" onFinish={saveTexts}>
                <Form.Item name="help" label="使用帮助" rules={[{ max: 20000 }]}>
                  <Input.TextArea rows={12} showCount maxLength={20000} data-testid="text-help" />
                </Form.Item>
                <Form.Item name="about" label="关于" rules={[{ max: 20000 }]}>
                  <Input.TextArea rows={6} showCount maxLength={20000} data-testid="text-about" />
                </Form.Item>
                <Button type="primary" htmlType="submit" loading={busy === 'texts'} data-testid="texts-save">保存</Button>
              </Form>
            </Card>
          </Col>
          <Col xs={24} xl={12}>
            <Card
              type="inner"
              title={
                <span>
                  用户协议与隐私政策 <Tag color="blue" data-testid="agreement-version">第 {agreement.version} 版</Tag>
                  <Typography.Text type="secondary" style={{ fontSize: 12, fontWeight: 'normal' }}>
                    {agreement.version > 0 ? `发布于 ${formatTime(agreement.publishedAt)}` : '尚未发布'}
                  </Typography.Text>
                </span>
              }
            >
              <Alert type="warning" showIcon message="发布新版本后，所有学生需重新同意。" style={{ marginBottom: 16 }} />
              <Form form={legal} layout="vertical" onFinish={publish}>
                <Form.Item name="agreement" label="用户协议" rules={[{ required: true, whitespace: true, message: '请输入用户协议' }, { max: 20000 }]}>
                  <Input.TextArea rows={9} showCount maxLength={20000} data-testid="text-agreement" />
                </Form.Item>
                <Form.Item name="privacy" label="隐私政策" rules={[{ required: true, whitespace: true, message: '请输入隐私政策' }, { max: 20000 }]}>
                  <Input.TextArea rows={9} showCount maxLength={20000} data-testid="text-privacy" />
                </Form.Item>
                <Button type="primary" htmlType="submit" loading={busy === 'legal'} data-testid="agreement-publish">发布新版本</Button>
              </Form>
            </Card>
          </Col>
        </Row>
      )}
    </PageCard>
  )
}
