package reader

import (
	"crypto/ed25519"
	"sort"

	"onecard/shared/paycode"
	"onecard/shared/platform"
)

// Keys are the school-wide payment-code keys: the current signer and every public key a code may still
// be verified with (current and retired), as GET /v1/reader/keys lists them.
type Keys struct {
	Signer    paycode.Signer // Priv is nil when the configuration has no signing key
	Verify    map[string]ed25519.PublicKey
	Published []paycode.KeyInfo
}

// KeysFrom reads the keys from the configuration (PAYCODE_KID, PAYCODE_KEY, PAYCODE_RETIRED_KEYS).
func KeysFrom(cfg platform.Config) *Keys {
	k := &Keys{Verify: map[string]ed25519.PublicKey{}, Published: []paycode.KeyInfo{}}
	if len(cfg.PaycodeKey) == ed25519.PrivateKeySize && cfg.PaycodeKid != "" {
		k.Signer = paycode.Signer{Kid: cfg.PaycodeKid, Priv: cfg.PaycodeKey}
		pub := cfg.PaycodeKey.Public().(ed25519.PublicKey)
		k.Verify[cfg.PaycodeKid] = pub
		k.Published = append(k.Published, paycode.PublishKey(cfg.PaycodeKid, pub))
	}
	retired := make([]string, 0, len(cfg.PaycodeRetired))
	for kid := range cfg.PaycodeRetired {
		retired = append(retired, kid)
	}
	sort.Strings(retired)
	for _, kid := range retired {
		k.Verify[kid] = cfg.PaycodeRetired[kid]
		k.Published = append(k.Published, paycode.PublishKey(kid, cfg.PaycodeRetired[kid]))
	}
	return k
}
