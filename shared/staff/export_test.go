package staff

// SetAuditReadCap lowers how many records one audit request reads, so a test reaches the cap with a few.
func SetAuditReadCap(n int) (restore func()) {
	old := auditReadCap
	auditReadCap = n
	return func() { auditReadCap = old }
}
