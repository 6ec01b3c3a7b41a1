// 元 typed as text with at most two decimals; the form keeps the text, and pages convert it with
// parseYuan (lib/money) when they send fen.
import { Input } from 'antd'
import type { Rule } from 'antd/es/form'
import { formatFen, parseYuan, type ParseOptions } from '../lib/money'

export function MoneyInput(props: { value?: string; onChange?: (v: string) => void; placeholder?: string; suffix?: string; testId?: string }) {
  return (
    <Input
      value={props.value}
      onChange={(e) => props.onChange?.(e.target.value)}
      prefix="¥"
      suffix={props.suffix ?? '元'}
      inputMode="decimal"
      placeholder={props.placeholder ?? '0.00'}
      style={{ maxWidth: 240 }}
      data-testid={props.testId}
    />
  )
}

/** The form rule for a 元 field: required, two decimals at most, and the range in fen. */
export function yuanRule(o: ParseOptions & { min?: number; max?: number } = {}): Rule {
  return {
    validator: async (_, v: string | undefined) => {
      const fen = parseYuan(v ?? '', o)
      if (fen === null) throw new Error('请输入金额（元，最多两位小数）')
      if (o.min !== undefined && fen < o.min) throw new Error(`不能低于 ${formatFen(o.min)} 元`)
      if (o.max !== undefined && fen > o.max) throw new Error(`不能高于 ${formatFen(o.max)} 元`)
    },
  }
}
