// Package catalog lists every function of the project. template.yaml is generated from it
// (`make template`), the local API server serves it, and tests check that functions/ matches it.
package catalog

import (
	"onecard/shared/accounts"
	"onecard/shared/fn"
)

// HTTP is every HTTP-triggered function, in the order they appear in template.yaml.
var HTTP = []fn.HTTP{
	accounts.SchoolsList,
	accounts.AuthRegister,
	accounts.AuthLogin,
	accounts.AuthRefresh,
	accounts.AuthLogout,
	accounts.AuthResetCode,
	accounts.AuthResetPassword,
	accounts.MeGet,
	accounts.MePassword,
	accounts.MePhone,
	accounts.MeEmailCode,
	accounts.MeEmail,
	accounts.MeSchool,
	accounts.MeWechat,
}

// Find returns the HTTP function named name.
func Find(name string) (fn.HTTP, bool) {
	for _, f := range HTTP {
		if f.Name == name {
			return f, true
		}
	}
	return fn.HTTP{}, false
}

// Events is every queue- or schedule-triggered function.
var Events = []fn.Event{}
