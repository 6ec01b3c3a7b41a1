// Command gen writes template.yaml and every functions/<name>/main.go from shared/catalog:
//
//	go run ./infra/cmd/gen        (make template)
//
// A function's descriptor (route, access, AWS actions) is the single source; the template and the mains
// follow it. Tests fail when the committed files differ from what gen would write.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"onecard/infra/localstack"
	"onecard/infra/samtemplate"
	"onecard/shared/catalog"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := localstack.Root()
	if err != nil {
		return err
	}
	files, err := samtemplate.Files(root, catalog.HTTP, catalog.Events)
	if err != nil {
		return err
	}
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("gen: wrote template.yaml and %d functions\n", len(files)-1)
	return nil
}
