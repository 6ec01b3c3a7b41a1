// Package chinatime is the school's clock: China Standard Time, UTC+8 all year (no daylight saving).
// The books' days, the settlement's days, the WeChat Pay bill's days, the audit log's days and the
// times students and staff read are all China days; the table stores UTC.
package chinatime

import "time"

// Zone is UTC+8, named CST as WeChat Pay and the school's systems write it.
var Zone = time.FixedZone("CST", 8*3600)

// Day is t's date in China, as YYYY-MM-DD.
func Day(t time.Time) string { return t.In(Zone).Format(time.DateOnly) }
