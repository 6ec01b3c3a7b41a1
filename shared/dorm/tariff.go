package dorm

// Charge turns a meter's consumption into fen without ever losing or inventing one.
//
// Meters count hundredths of a unit (0.01 kWh, 0.01 m³) and tariffs are whole fen per unit, so the exact
// cost of delta hundredths is delta × tariff hundredths of a fen. We charge the whole fen of that plus
// what was carried from earlier readings, and carry the rest (0–99 hundredths of a fen) to the next
// reading. Over any sequence of readings the fen charged equal floor(total consumption × tariff / 100):
// many small readings cost exactly what one big reading would.
func Charge(delta, tariffFen, carry int64) (fen, nextCarry int64) {
	if delta <= 0 || tariffFen <= 0 {
		return 0, carry
	}
	total := delta*tariffFen + carry
	return total / 100, total % 100
}
