// Tables page through the API's cursor: page i is asked for with the nextCursor of page i-1, so going back
// is a stack of the cursors seen. Filters reset to the first page.
import { useCallback, useEffect, useRef, useState } from 'react'
import { Button, Space, Table, Typography, type TableProps } from 'antd'
import { LeftOutlined, RightOutlined } from '@ant-design/icons'
import { describe } from '../api/client'
import { ErrorLine } from './common'

export interface Page<T> {
  items: T[]
  nextCursor?: string | null
}

export interface Pages<T> {
  items: T[]
  page: number
  hasNext: boolean
  loading: boolean
  error: string
  next: () => void
  prev: () => void
  reload: () => void
}

/**
 * For lists filtered on the server, whose pages may come back empty while a nextCursor follows (disputes by
 * status, news by kind): follows the cursor until a page holds something or the list ends.
 */
export function skipEmpty<T>(load: (cursor: string | undefined) => Promise<Page<T>>): (cursor: string | undefined) => Promise<Page<T>> {
  return async (cursor) => {
    let page = await load(cursor)
    for (let i = 0; i < 20 && page.items.length === 0 && page.nextCursor; i++) page = await load(page.nextCursor)
    return page
  }
}

export function useCursorPages<T>(load: (cursor: string | undefined) => Promise<Page<T>>, deps: unknown[]): Pages<T> {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined])
  const [page, setPage] = useState(0)
  const [data, setData] = useState<Page<T>>({ items: [], nextCursor: null })
  const [loading, setLoading] = useState(true)
  const [error, setError] = useState('')
  const [tick, setTick] = useState(0)
  const seq = useRef(0)
  const loadRef = useRef(load)
  loadRef.current = load

  // a filter change starts again from the first page (the first render loads it already)
  const mounted = useRef(false)
  useEffect(() => {
    if (!mounted.current) {
      mounted.current = true
      return
    }
    setCursors([undefined])
    setPage(0)
    setTick((t) => t + 1)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps)

  useEffect(() => {
    const mine = ++seq.current
    setLoading(true)
    setError('')
    loadRef
      .current(cursors[page])
      .then((d) => {
        if (mine === seq.current) setData(d)
      })
      .catch((e) => {
        if (mine === seq.current) {
          setData({ items: [], nextCursor: null })
          setError(describe(e))
        }
      })
      .finally(() => {
        if (mine === seq.current) setLoading(false)
      })
  }, [page, tick]) // eslint-disable-line react-hooks/exhaustive-deps

  const next = useCallback(() => {
    if (!data.nextCursor) return
    const c = data.nextCursor
    setCursors((cs) => [...cs.slice(0, page + 1), c])
    setPage((p) => p + 1)
  }, [data.nextCursor, page])
  const prev = useCallback(() => setPage((p) => Math.max(0, p - 1)), [])
  const reload = useCallback(() => setTick((t) => t + 1), [])
  return { items: data.items, page, hasNext: !!data.nextCursor, loading, error, next, prev, reload }
}

export function Pager({ pages }: { pages: Pages<unknown> }) {
  return (
    <Space style={{ marginTop: 16, justifyContent: 'flex-end', width: '100%' }}>
      <Button icon={<LeftOutlined />} disabled={pages.page === 0 || pages.loading} onClick={pages.prev} data-testid="page-prev">
        上一页
      </Button>
      <Typography.Text type="secondary">第 {pages.page + 1} 页</Typography.Text>
      <Button disabled={!pages.hasNext || pages.loading} onClick={pages.next} data-testid="page-next">
        下一页 <RightOutlined />
      </Button>
    </Space>
  )
}

/** A table of one page of a cursor list: the list's error line, the rows, and the pager under them. */
export function PagedTable<T extends object>({ pages, ...props }: { pages: Pages<T> } & Omit<TableProps<T>, 'dataSource' | 'loading' | 'pagination'>) {
  return (
    <>
      <ErrorLine error={pages.error} />
      <Table<T> loading={pages.loading} dataSource={pages.items} pagination={false} {...props} />
      <Pager pages={pages} />
    </>
  )
}
