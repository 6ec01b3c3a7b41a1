// What the finance office's pages share: the China-time day, the CSV download of a report route (the
// route's own file: UTF-8 with BOM, Chinese headers), and keys for requests that must not run twice.
import { useState } from 'react'
import { Button } from 'antd'
import { DownloadOutlined } from '@ant-design/icons'
import dayjs from 'dayjs'
import { ApiError, ok } from '../../api/client'
import { ZONE } from '../../lib/time'
import { fileName } from './filename'

/** Today in China time, "2026-11-25". */
export function todayChina(): string {
  return dayjs().tz(ZONE).format('YYYY-MM-DD')
}

/** A day in China time, `days` before today. */
export function daysAgo(days: number): string {
  return dayjs().tz(ZONE).subtract(days, 'day').format('YYYY-MM-DD')
}

/** A fresh Idempotency-Key ([A-Za-z0-9_-], ≤ 64). */
export function newKey(prefix: string): string {
  const rnd = typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID().replace(/-/g, '') : Math.random().toString(36).slice(2)
  return `${prefix}-${Date.now().toString(36)}-${rnd.slice(0, 16)}`
}

interface BlobAnswer {
  data?: Blob
  error?: unknown
  response: Response
}

/** Saves the route's CSV answer as a file (its bytes as they came: the BOM stays for Excel). */
export async function saveCsv(p: Promise<BlobAnswer>, fallback: string): Promise<string> {
  let name = fallback
  const blob = await ok(
    p.then((a) => {
      name = fileName(a.response.headers.get('Content-Disposition'), fallback)
      return a
    }),
  )
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000)
  return name
}

/** 导出 CSV: downloads what `load` answers; a refusal goes to onError. */
export function CsvButton({ load, fallback, onError, testId, disabled }: { load: () => Promise<BlobAnswer>; fallback: string; onError: (e: unknown) => void; testId: string; disabled?: boolean }) {
  const [busy, setBusy] = useState(false)
  return (
    <Button
      icon={<DownloadOutlined />}
      loading={busy}
      disabled={disabled}
      data-testid={testId}
      onClick={async () => {
        setBusy(true)
        try {
          await saveCsv(load(), fallback)
        } catch (e) {
          onError(e)
        } finally {
          setBusy(false)
        }
      }}
    >
      导出 CSV
    </Button>
  )
}

/** "staff:zhang" → "zhang". */
export function staffName(actor: string | undefined): string {
  return (actor ?? '').replace(/^staff:/, '') || '—'
}

/** The JSON answer of a route that also answers CSV (its type is JSON | string): JSON, or a refusal. */
export async function json<T>(p: Promise<T | string>): Promise<T> {
  const v = await p
  if (typeof v === 'string') throw new ApiError(0, 'NOT_JSON', '服务暂时不可用，请稍后再试')
  return v
}
