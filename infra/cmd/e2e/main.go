// Command e2e runs a command (the browser tests) against the whole local system, started on free ports
// with the demo data and the clients' local builds, then stops it:
//
//	go run ./infra/cmd/e2e -dir miniprogram -- npx playwright test
//
// The command sees where everything is:
//
//	E2E_BASE_URL        the API and the clients (the H5 at /, the console at /console/)
//	E2E_SES_STORE       the SES emulator's store of sent emails (codes are in the bodies)
//	E2E_SANDBOX_URL     the WeChat Pay sandbox
//	E2E_ROOT            the repository (for go run ./infra/cmd/readersim and infra/local/demo/devices.json)
//	E2E_STAFF_USER, E2E_STAFF_PASSWORD   the demo staff login (every role)
//
// `make e2e` (part of `make test`) is this for every client.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"onecard/infra/devstack"
	"onecard/infra/localstack"
)

func main() {
	dir := flag.String("dir", ".", "the command's working directory")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: e2e [-dir DIR] -- COMMAND [ARGS...]")
		os.Exit(2)
	}
	os.Exit(run(*dir, args))
}

func run(dir string, args []string) int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	root, err := localstack.Root()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	state, err := os.MkdirTemp("", "onecard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	apiLog, err := os.Create(filepath.Join(state, "api.log"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer apiLog.Close()
	sys, err := devstack.Start(ctx, devstack.Options{Addr: "127.0.0.1:0", SandboxAddr: "127.0.0.1:0",
		StateDir: state, Log: os.Stderr, APILog: apiLog, Sites: devstack.Clients(root)})
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v (logs in %s)\n", err, state)
		return 1
	}
	defer sys.Stop()
	fmt.Fprintf(os.Stderr, "e2e: system at %s\n", sys.URL)
	code := command(ctx, dir, args, sys, root)
	if code != 0 {
		// What the functions logged stays for the failure's reader.
		fmt.Fprintf(os.Stderr, "e2e: failed; the API's log and the emulators' logs are in %s\n", state)
		return code
	}
	os.RemoveAll(state)
	return 0
}

func command(ctx context.Context, dir string, args []string, sys *devstack.Running, root string) int {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), sys.Stack.EnvList()...)
	cmd.Env = append(cmd.Env,
		"E2E_BASE_URL="+sys.URL,
		"E2E_SES_STORE="+sys.Stack.Env()["SES_STORE_URL"],
		"E2E_SANDBOX_URL="+sys.SandboxURL,
		"E2E_ROOT="+root,
		"E2E_STAFF_USER="+sys.Staff.Username,
		"E2E_STAFF_PASSWORD="+sys.Staff.Password,
	)
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return 0
}
