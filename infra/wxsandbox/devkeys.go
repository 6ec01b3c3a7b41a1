package wxsandbox

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"onecard/shared/wechatpay"
)

// Files of a dev keys directory. The sandbox reads the first five; the backend reads merchant_private.pem,
// platform_public.pem, apiv3.key and config.json (see DevClientConfig). None of them is a real key.
const (
	FileMerchantPrivate = "merchant_private.pem" // backend signs requests and paySign with it
	FileMerchantPublic  = "merchant_public.pem"  // sandbox verifies requests with it
	FilePlatformPrivate = "platform_private.pem" // sandbox signs answers and notifications with it
	FilePlatformPublic  = "platform_public.pem"  // backend verifies them with it (like pub_key.pem)
	FileAPIv3Key        = "apiv3.key"            // 32 characters, shared
	FileConfig          = "config.json"          // DevConfig
)

// DevConfig is config.json: the identifiers both sides agree on.
type DevConfig struct {
	MchID          string `json:"mchid"`
	AppID          string `json:"appid"`
	AppSecret      string `json:"appsecret"`
	MerchantSerial string `json:"merchant_serial"`
	PlatformSerial string `json:"platform_serial"`
}

// GenerateDevKeys creates whatever of the dev key files is missing in dir (2048-bit RSA, random APIv3 key
// and app secret, fixed dev ids), and leaves existing ones alone, so `make dev` can call it every time
// and the backend and the sandbox keep agreeing. A public key file is (re)derived from its private key.
// Private files are written 0600 in a 0700 directory.
func GenerateDevKeys(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, pair := range [][2]string{{FileMerchantPrivate, FileMerchantPublic}, {FilePlatformPrivate, FilePlatformPublic}} {
		priv := filepath.Join(dir, pair[0])
		key, err := readPrivate(priv)
		created := false
		if errors.Is(err, fs.ErrNotExist) {
			if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
				return err
			}
			der, err := x509.MarshalPKCS8PrivateKey(key)
			if err != nil {
				return err
			}
			if err := writeNew(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
				return err
			}
			created = true
		} else if err != nil {
			return err
		}
		pub := filepath.Join(dir, pair[1])
		if _, err := os.Stat(pub); created || errors.Is(err, fs.ErrNotExist) {
			der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
			if err != nil {
				return err
			}
			if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644); err != nil {
				return err
			}
		}
	}
	if err := createIfMissing(filepath.Join(dir, FileAPIv3Key), func() ([]byte, error) {
		return []byte(randomString(32, alnum) + "\n"), nil
	}); err != nil {
		return err
	}
	return createIfMissing(filepath.Join(dir, FileConfig), func() ([]byte, error) {
		c := DevConfig{
			MchID:          "1900000109",
			AppID:          "wx8a1d5e0c0ffee001",
			AppSecret:      randomString(32, "0123456789abcdef"),
			MerchantSerial: randomString(40, "0123456789ABCDEF"),
			PlatformSerial: "PUB_KEY_ID_0119000001092026010100000001",
		}
		b, err := json.MarshalIndent(c, "", "  ")
		return append(b, '\n'), err
	})
}

// LoadDevKeys reads a directory made by GenerateDevKeys into sandbox Options (clock, retries and HTTP
// client left at their defaults).
func LoadDevKeys(dir string) (Options, error) {
	cfg, err := readDevConfig(dir)
	if err != nil {
		return Options{}, err
	}
	mpub, err := readPublic(filepath.Join(dir, FileMerchantPublic))
	if err != nil {
		return Options{}, err
	}
	ppriv, err := readPrivate(filepath.Join(dir, FilePlatformPrivate))
	if err != nil {
		return Options{}, err
	}
	key, err := readAPIv3(dir)
	if err != nil {
		return Options{}, err
	}
	return Options{
		MchID: cfg.MchID, AppID: cfg.AppID, AppSecret: cfg.AppSecret,
		MerchantPublicKey: mpub, MerchantSerial: cfg.MerchantSerial,
		APIv3Key: key, PlatformKey: ppriv, PlatformSerial: cfg.PlatformSerial,
	}, nil
}

// DevClientConfig is the backend's side of the same directory: a wechatpay.Config that talks to a sandbox
// at baseURL (for both payments and login) and registers notifyURL. For local development only; in AWS
// the same fields come from Secrets Manager.
func DevClientConfig(dir, baseURL, notifyURL string) (wechatpay.Config, error) {
	cfg, err := readDevConfig(dir)
	if err != nil {
		return wechatpay.Config{}, err
	}
	mpriv, err := readPrivate(filepath.Join(dir, FileMerchantPrivate))
	if err != nil {
		return wechatpay.Config{}, err
	}
	ppub, err := readPublic(filepath.Join(dir, FilePlatformPublic))
	if err != nil {
		return wechatpay.Config{}, err
	}
	key, err := readAPIv3(dir)
	if err != nil {
		return wechatpay.Config{}, err
	}
	return wechatpay.Config{
		MchID: cfg.MchID, AppID: cfg.AppID, AppSecret: cfg.AppSecret,
		MerchantSerial: cfg.MerchantSerial, MerchantKey: mpriv, APIv3Key: key,
		PlatformKeys: map[string]*rsa.PublicKey{cfg.PlatformSerial: ppub},
		BaseURL:      baseURL, WeixinBaseURL: baseURL, NotifyURL: notifyURL,
	}, nil
}

func readDevConfig(dir string) (DevConfig, error) {
	var c DevConfig
	b, err := os.ReadFile(filepath.Join(dir, FileConfig))
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%s: %w", FileConfig, err)
	}
	if c.MchID == "" || c.AppID == "" || c.AppSecret == "" || c.PlatformSerial == "" {
		return c, fmt.Errorf("%s: mchid, appid, appsecret and platform_serial are required", FileConfig)
	}
	return c, nil
}

func readAPIv3(dir string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, FileAPIv3Key))
	if err != nil {
		return nil, err
	}
	k, err := wechatpay.ParseAPIv3Key(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", FileAPIv3Key, err)
	}
	return k, nil
}

func readPrivate(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := wechatpay.ParsePrivateKeyPEM(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return k, nil
}

func readPublic(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	k, err := wechatpay.ParsePublicKeyPEM(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return k, nil
}

func createIfMissing(path string, content func() ([]byte, error)) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	b, err := content()
	if err != nil {
		return err
	}
	return writeNew(path, b, 0o600)
}

// writeNew refuses to overwrite, so two concurrent `make dev` runs cannot leave mismatched halves.
func writeNew(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// DevSecret is the backend's configuration for a sandbox at baseURL, in the same JSON shape as the
// production Secrets Manager secret (wechatpay.Secret), so local runs go through the real loading path.
func DevSecret(dir, baseURL, notifyURL string) ([]byte, error) {
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return strings.TrimSpace(string(b))
	}
	dc, err := readDevConfig(dir)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(wechatpay.Secret{MchID: dc.MchID, AppID: dc.AppID, AppSecret: dc.AppSecret,
		MerchantSerial: dc.MerchantSerial, MerchantPrivateKeyPEM: read(FileMerchantPrivate), APIv3Key: read(FileAPIv3Key),
		PublicKeys: map[string]string{dc.PlatformSerial: read(FilePlatformPublic)},
		NotifyURL:  notifyURL, BaseURL: baseURL, WeixinBaseURL: baseURL})
	if err != nil {
		return nil, err
	}
	if _, err := wechatpay.ParseSecret(b); err != nil {
		return nil, err
	}
	return b, nil
}
