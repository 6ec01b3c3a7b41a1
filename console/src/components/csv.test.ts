import { describe, expect, it } from 'vitest'
import { parseCsv } from './CsvImport'

describe('parseCsv', () => {
  it('reads Excel CSV: a BOM, CRLF, quoted commas and quotes, blank lines', () => {
    expect(parseCsv('\uFEFFa,b\r\n"x,1","say ""hi"""\r\n\r\nlast,row')).toEqual([
      ['a', 'b'],
      ['x,1', 'say "hi"'],
      ['last', 'row'],
    ])
  })
})
