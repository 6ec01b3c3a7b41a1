// Package wechatpay is a small, hand-written WeChat Pay APIv3 client for JSAPI (mini program) payments,
// built on the standard library's crypto only.
//
// It covers exactly what a recharge needs:
//
//   - CreateJSAPIOrder, QueryOrder and CloseOrder against /v3/pay/transactions, each request signed with
//     the merchant API key (Authorization: WECHATPAY2-SHA256-RSA2048 ...) and each answer verified against
//     WeChat Pay's key (Wechatpay-Serial / -Signature / -Timestamp / -Nonce);
//   - PayParams, the signed arguments the mini program hands to wx.requestPayment;
//   - ParseNotification, which authenticates a payment notification and decrypts its AEAD_AES_256_GCM
//     resource with the APIv3 key;
//   - Code2Session, the mini program login that yields the openid a JSAPI order needs.
//
// # Trust model
//
// A notification is the only input that can move money without a user in the loop, so ParseNotification
// is strict and says precisely why it refused: ErrBadSignature (including the ErrSignTestProbe that WeChat
// Pay sends on purpose to check merchants really verify), ErrUnknownSerial, ErrStale, ErrMalformed,
// ErrDecrypt. Even a verified notification only proves WeChat Pay said it: the caller must still compare
// it with its own order, which is what Transaction.Matches does.
//
// WeChat Pay identifies its signing key by a serial: either a platform certificate serial (hex) or a
// WeChat Pay public key id (PUB_KEY_ID_...). Config.PlatformKeys holds both side by side, because during
// a switch from certificates to public keys WeChat Pay signs notifications with either.
//
// # Least privilege
//
// Every operation checks only the configuration it needs: ParseNotification needs PlatformKeys and the
// APIv3 key but not the merchant private key, so a function that only receives notifications need not be
// given the private key. Nothing in this package logs, and no error carries key material; Config and
// Client print as redacted.
package wechatpay
