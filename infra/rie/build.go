package rie

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// BuildFlags are `make build`'s: no RPC runtime, reproducible paths, no symbol table.
var BuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w"}

// Build compiles the functions under root (CodeUri paths such as "functions/auth-login/") for goarch on
// linux with BuildFlags, in one `go build` so shared packages compile once, and returns each function's
// executable by its CodeUri. goarch "" is this machine's (what the emulator runs).
func Build(root, outDir, goarch string, codeURIs []string) (map[string]string, error) {
	if goarch == "" {
		goarch = runtime.GOARCH
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, err
	}
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", outDir+string(filepath.Separator))
	out := map[string]string{}
	for _, c := range codeURIs {
		dir := strings.TrimSuffix(c, "/")
		args = append(args, "./"+dir)
		out[c] = filepath.Join(outDir, filepath.Base(dir))
	}
	if len(codeURIs) == 1 {
		// With one package, -o DIR/ still works, but name the file as Lambda does.
		args[len(args)-2] = filepath.Join(outDir, "bootstrap")
		out[codeURIs[0]] = filepath.Join(outDir, "bootstrap")
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, buf.String())
	}
	return out, nil
}
