// The menus: each office's pages, and the roles that see them (the roles of docs/staff-console.md; admin
// sees everything). A member never sees a menu of a role they lack, and a page opened by its address
// answers 无权访问; the API refuses the routes anyway (403 FORBIDDEN).
import { lazy, type ComponentType, type LazyExoticComponent, type ReactNode } from 'react'
import {
  AuditOutlined,
  BankOutlined,
  CreditCardOutlined,
  HomeOutlined,
  NotificationOutlined,
  SettingOutlined,
} from '@ant-design/icons'
import type { Role } from './auth/session'

export interface NavPage {
  path: string
  label: string
  roles: Role[]
  Page: LazyExoticComponent<ComponentType>
}

export interface NavGroup {
  key: string
  label: string
  icon: ReactNode
  pages: NavPage[]
}

export const NAV: NavGroup[] = [
  {
    key: 'cards',
    label: '卡务中心',
    icon: <CreditCardOutlined />,
    pages: [
      { path: '/cards', label: '一卡通业务', roles: ['it', 'finance'], Page: lazy(() => import('./pages/cards/CardDesk')) },
      { path: '/cards/import', label: '学生名单导入', roles: ['it'], Page: lazy(() => import('./pages/cards/RosterImport')) },
      { path: '/devices', label: '设备管理', roles: ['it'], Page: lazy(() => import('./pages/cards/Devices')) },
      { path: '/cards/merchants', label: '商户与设备', roles: ['finance'], Page: lazy(() => import('./pages/cards/Merchants')) },
      { path: '/cards/graduate', label: '毕业批量销户', roles: ['it'], Page: lazy(() => import('./pages/cards/Graduation')) },
    ],
  },
  {
    key: 'finance',
    label: '财务处',
    icon: <BankOutlined />,
    pages: [
      { path: '/finance/today', label: '今日概览', roles: ['finance'], Page: lazy(() => import('./pages/finance/Today')) },
      { path: '/finance/settlement', label: '商户结算', roles: ['finance'], Page: lazy(() => import('./pages/finance/Settlement')) },
      { path: '/finance/recharges', label: '充值报表', roles: ['finance'], Page: lazy(() => import('./pages/finance/Recharges')) },
      { path: '/finance/refunds', label: '退款', roles: ['finance'], Page: lazy(() => import('./pages/finance/Refunds')) },
      { path: '/finance/cash', label: '现金充值', roles: ['finance'], Page: lazy(() => import('./pages/finance/Cash')) },
      { path: '/finance/corrections', label: '调账', roles: ['finance'], Page: lazy(() => import('./pages/finance/Corrections')) },
      { path: '/finance/wechat-bill', label: '微信对账单', roles: ['finance'], Page: lazy(() => import('./pages/finance/WeChatBill')) },
      { path: '/finance/disputes', label: '争议交易', roles: ['finance'], Page: lazy(() => import('./pages/finance/Disputes')) },
      { path: '/finance/reconcile', label: '对账报告', roles: ['finance'], Page: lazy(() => import('./pages/finance/Reconcile')) },
      { path: '/finance/liability', label: '未清偿余额', roles: ['finance'], Page: lazy(() => import('./pages/finance/Liability')) },
    ],
  },
  {
    key: 'dorm',
    label: '宿舍管理',
    icon: <HomeOutlined />,
    pages: [
      { path: '/dorms', label: '楼栋与房间', roles: ['ops'], Page: lazy(() => import('./pages/dorm/Dorms')) },
      { path: '/dorms/rooms', label: '房间查询', roles: ['ops'], Page: lazy(() => import('./pages/dorm/Rooms')) },
    ],
  },
  {
    key: 'news',
    label: '新闻公告',
    icon: <NotificationOutlined />,
    pages: [
      { path: '/news', label: '新闻与通知', roles: ['ops'], Page: lazy(() => import('./pages/news/News')) },
      { path: '/texts', label: '帮助、关于与协议', roles: ['admin'], Page: lazy(() => import('./pages/news/Texts')) },
    ],
  },
  {
    key: 'admin',
    label: '系统管理',
    icon: <SettingOutlined />,
    pages: [
      { path: '/staff', label: '工作人员', roles: ['admin'], Page: lazy(() => import('./pages/admin/Staff')) },
      { path: '/school', label: '学校设置', roles: ['admin'], Page: lazy(() => import('./pages/admin/School')) },
      { path: '/audit', label: '审计日志', roles: ['admin'], Page: lazy(() => import('./pages/admin/Audit')) },
    ],
  },
]

export const AUDIT_ICON = <AuditOutlined />
