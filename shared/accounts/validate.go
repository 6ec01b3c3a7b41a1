package accounts

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"onecard/shared/fault"
)

var (
	errBadPhone    = fault.Field("BAD_PHONE", "请输入 11 位大陆手机号")
	errBadPassword = fault.Field("BAD_PASSWORD", "登录密码须为 8–64 个字符，且不能含控制字符")
	errBadEmail    = fault.Field("BAD_EMAIL", "邮箱格式不正确")
	errBadCodeFmt  = fault.Field("BAD_CODE", "验证码错误或已失效")
)

// validPhone accepts a mainland mobile number: 11 digits starting with 1[3-9].
func validPhone(p string) error {
	if len(p) != 11 || p[0] != '1' || p[1] < '3' || p[1] > '9' {
		return errBadPhone
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return errBadPhone
		}
	}
	return nil
}

func validPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if !utf8.ValidString(pw) || n < 8 || n > 64 {
		return errBadPassword
	}
	for _, r := range pw {
		if unicode.IsControl(r) {
			return errBadPassword
		}
	}
	return nil
}

// normalEmail validates an address and returns it lower-cased (the uniqueness key).
func normalEmail(e string) (string, error) {
	e = strings.TrimSpace(e)
	if len(e) > 254 || strings.ContainsAny(e, " <>\"") {
		return "", errBadEmail
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || !strings.Contains(e[strings.LastIndexByte(e, '@')+1:], ".") {
		return "", errBadEmail
	}
	return strings.ToLower(e), nil
}

func validCode(c string) error {
	if len(c) != 6 {
		return errBadCodeFmt
	}
	for i := 0; i < 6; i++ {
		if c[i] < '0' || c[i] > '9' {
			return errBadCodeFmt
		}
	}
	return nil
}
