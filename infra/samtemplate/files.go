package samtemplate

import (
	"os"
	"path/filepath"

	"onecard/shared/fn"
)

// Files returns what infra/cmd/gen writes: template.yaml and one main.go per function, keyed by path.
// A descriptor's variable must be named like its function (accounts.AuthLogin is "AuthLogin").
func Files(root string, https []fn.HTTP, events []fn.Event) (map[string][]byte, error) {
	base, err := os.ReadFile(filepath.Join(root, "infra", "template", "base.yaml"))
	if err != nil {
		return nil, err
	}
	tmpl, err := Generate(base, https, events)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{filepath.Join(root, "template.yaml"): tmpl}
	for _, f := range https {
		pkg := FuncPkg(f.Build)
		out[filepath.Join(root, f.Dir(), "main.go")] = MainSource("http", pkg, pkgName(pkg)+"."+f.Name)
	}
	for _, e := range events {
		pkg := FuncPkg(e.Build)
		out[filepath.Join(root, e.Dir(), "main.go")] = MainSource("event", pkg, pkgName(pkg)+"."+e.Name)
	}
	return out, nil
}

func pkgName(path string) string {
	return filepath.Base(path)
}
