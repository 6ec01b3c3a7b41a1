// A long job the API runs off the request path (the books' reconcile, the liability report): the page
// starts a run (POST, 202 with its job), polls the job every two seconds until it is done or failed, then
// shows the report. The poll timer stops on unmount, on a new start and on stop().
import { useEffect, useRef, useState } from 'react'
import { ApiError, describe, ok } from '../api/client'

export const POLL_MS = 2000

interface JobLike {
  jobId: string
  status: 'queued' | 'running' | 'done' | 'failed'
}

export interface JobOptions<J> {
  /** Reads the job again (GET …/jobs/{jobId}). */
  poll: (jobId: string) => Promise<J>
  /** The job is done: show its report. */
  onDone: (job: J) => void
  /** What the page says when the job failed. */
  failed: string
  /** Shows a message on the page's error line ('' clears it). */
  onError: (message: string) => void
  /** False for a job the page no longer follows (another date was picked meanwhile). */
  wanted?: (job: J) => boolean
}

export function useJob<J extends JobLike>(options: JobOptions<J>) {
  const [job, setJob] = useState<J | null>(null)
  const timer = useRef<number>()
  const opts = useRef(options)
  opts.current = options

  useEffect(() => () => window.clearTimeout(timer.current), [])

  /** Shows the job and keeps polling it until it is done or failed. */
  function follow(j: J) {
    const o = opts.current
    if (o.wanted && !o.wanted(j)) return
    setJob(j)
    if (j.status === 'done') {
      setJob(null)
      o.onDone(j)
      return
    }
    if (j.status === 'failed') {
      o.onError(o.failed)
      setJob(null)
      return
    }
    timer.current = window.setTimeout(async () => {
      try {
        follow(await opts.current.poll(j.jobId))
      } catch (e) {
        opts.current.onError(describe(e))
        setJob(null)
      }
    }, POLL_MS)
  }

  /** Stops polling and forgets the job. */
  function stop() {
    window.clearTimeout(timer.current)
    setJob(null)
  }

  /** Asks for a run; when one is already going (the `busy` refusal) the page reloads its latest instead. */
  async function start(post: () => Promise<J>, busy: string, reload: () => void) {
    const o = opts.current
    o.onError('')
    try {
      window.clearTimeout(timer.current)
      follow(await post())
    } catch (e) {
      o.onError(describe(e))
      if (e instanceof ApiError && e.code === busy) reload()
    }
  }

  return { job, follow, start, stop }
}

/**
 * A report route that answers 200 with the latest report, or 202 with the job that is making it. A refusal is
 * thrown as the client's ApiError.
 */
export async function reportOrJob<D>(p: Promise<{ data?: D; error?: unknown; response: Response }>): Promise<{ accepted: boolean; data: D }> {
  const a = await p
  const data = await ok(Promise.resolve(a))
  return { accepted: a.response.status === 202, data }
}
