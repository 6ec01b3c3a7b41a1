package seed

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"onecard/shared/devices"
	"onecard/shared/platform"
)

// DemoDevices are the demo devices. Their private keys are in infra/local/demo/devices.json.
var DemoDevices = []devices.Registration{
	{DeviceID: "POS-CANTEEN-01", Kind: devices.KindReader, Merchant: "第一食堂", Category: devices.CategoryCanteen},
	{DeviceID: "HOTWATER-8D-01", Kind: devices.KindReader, Merchant: "8栋热水", Category: devices.CategoryHotWater},
	{DeviceID: "METERGW-01", Kind: devices.KindMeterGateway, Merchant: "宿舍电表网关"},
}

// DeviceKeys reads infra/local/demo/devices.json: device id → private key.
func DeviceKeys(root string) (map[string]ed25519.PrivateKey, error) {
	b, err := os.ReadFile(filepath.Join(root, "infra", "local", "demo", "devices.json"))
	if err != nil {
		return nil, err
	}
	var seeds map[string]string
	if err := json.Unmarshal(b, &seeds); err != nil {
		return nil, fmt.Errorf("devices.json: %w", err)
	}
	keys := make(map[string]ed25519.PrivateKey, len(seeds))
	for id, s := range seeds {
		seed, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(seed) != ed25519.SeedSize {
			return nil, fmt.Errorf("devices.json: the key of %s is not base64 of 32 bytes", id)
		}
		keys[id] = ed25519.NewKeyFromSeed(seed)
	}
	return keys, nil
}

// Devices registers the demo devices with the public keys of devices.json.
func Devices(ctx context.Context, d *platform.Deps, root string) error {
	keys, err := DeviceKeys(root)
	if err != nil {
		return err
	}
	repo := devices.Repo{S: d.Store()}
	for _, reg := range DemoDevices {
		priv, ok := keys[reg.DeviceID]
		if !ok {
			return fmt.Errorf("devices.json has no key for %s", reg.DeviceID)
		}
		reg.PublicKey = base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
		if _, err := repo.Put(ctx, reg, SchoolID, d.Now()); err != nil {
			return fmt.Errorf("device %s: %w", reg.DeviceID, err)
		}
	}
	return nil
}
