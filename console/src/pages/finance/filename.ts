// The name a report's CSV is saved under: the route's Content-Disposition (RFC 5987 filename*, Chinese
// names percent-encoded in UTF-8), else the page's own.

/** The file's name from Content-Disposition (filename*=UTF-8''…), else the fallback. */
export function fileName(header: string | null, fallback: string): string {
  const m = header ? /filename\*=UTF-8''([^;]+)/i.exec(header) ?? /filename="?([^";]+)"?/i.exec(header) : null
  if (!m) return fallback
  try {
    return decodeURIComponent(m[1])
  } catch {
    return fallback
  }
}
