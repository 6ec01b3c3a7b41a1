package cards

import (
	"strings"
	"time"

	"onecard/shared/fault"
)

// ErrBadIDNumber is an ID number that is not a valid 18-character resident ID.
var ErrBadIDNumber = fault.Field("BAD_ID_NUMBER", "身份证号格式不正确")

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idChecks = "10X98765432"

// NormalID validates an 18-character resident ID number (GB 11643: digits, a real birth date, the
// ISO 7064 MOD 11-2 check character) and returns it upper-cased.
func NormalID(id string) (string, error) {
	id = strings.ToUpper(strings.TrimSpace(id))
	if len(id) != 18 {
		return "", ErrBadIDNumber
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return "", ErrBadIDNumber
		}
		sum += int(c-'0') * idWeights[i]
	}
	if id[17] != idChecks[sum%11] {
		return "", ErrBadIDNumber
	}
	birth, err := time.Parse("20060102", id[6:14])
	if err != nil || birth.Year() < 1900 || birth.After(time.Now()) {
		return "", ErrBadIDNumber
	}
	return id, nil
}

// InitialPassword is the card password a new card starts with: the ID's last six, X read as 0
// (reader keypads have no X).
func InitialPassword(id string) string {
	return NormalCardPassword(id[len(id)-6:])
}

// NormalCardPassword reads X or x as 0 (docs/domain.md: the initial password is the ID's last six).
func NormalCardPassword(pw string) string {
	return strings.NewReplacer("X", "0", "x", "0").Replace(pw)
}

var errBadCardPwFmt = fault.Field("BAD_CARD_PASSWORD_FORMAT", "一卡通密码须为 6 位数字")

func validCardPassword(pw string) (string, error) {
	pw = NormalCardPassword(pw)
	if len(pw) != 6 {
		return "", errBadCardPwFmt
	}
	for i := 0; i < 6; i++ {
		if pw[i] < '0' || pw[i] > '9' {
			return "", errBadCardPwFmt
		}
	}
	return pw, nil
}

// MaskName shows the family name only: 张三 → 张*, 欧阳娜娜 → 欧***.
func MaskName(name string) string {
	r := []rune(name)
	if len(r) <= 1 {
		return name
	}
	return string(r[0]) + strings.Repeat("*", len(r)-1)
}
