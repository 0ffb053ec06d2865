package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2/types"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// suiteTimeout bounds a whole conformance run inside Ginkgo.
const suiteTimeout = 30 * time.Minute

func runConformance(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("conformance", stderr)
	labels := fs.String("labels", "", "Ginkgo label filter, e.g. 'nginx && bookworm'")
	focus := fs.String("focus", "", "regular expression selecting cases by id or name")
	reports := fs.String("reports", "reports", "`folder` for junit.xml, results.json and the suites' records")
	quiet := fs.Bool("q", false, "quiet: print only failures and the summary line")
	shardFlag := fs.String("shard", "", "run share `i/n` of the cases (split by case id), e.g. 1/4")
	naive := fs.Bool("naive", false, "start one proxy container per case (the benchmark's baseline)")
	timeout := fs.Duration("suite-timeout", suiteTimeout, "abort the suites after this `duration`, cleaning up")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	shard, err := suites.ParseShard(*shardFlag)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: --shard: %v\n", err)
		return exitUsage
	}
	root, err := harness.ModuleRoot()
	if err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: %v\n", err)
		return exitUsage
	}
	dir, err := filepath.Abs(*reports)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: %v\n", err)
		return exitUsage
	}

	ctx := context.Background()
	cli, err := harness.Connect(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: %v\n", err)
		return report.ExitInfra
	}
	defer cli.Close()
	if err := os.RemoveAll(filepath.Join(dir, "suites")); err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: clear old records: %v\n", err)
		return report.ExitInfra
	}

	// Ginkgo compiles each suite beside its source: two runs in one checkout
	// would overwrite each other's test binaries, so they take turns.
	unlock, err := lockCheckout(root, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: %v\n", err)
		return report.ExitInfra
	}
	defer unlock()

	ginkgo, err := buildGinkgo(root)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: %v\n", err)
		return report.ExitInfra
	}
	session := newSessionID()
	env := append(os.Environ(), "SNIPROOF_SESSION="+session, "SNIPROOF_REPORTS="+dir, "SNIPROOF_SHARD="+*shardFlag,
		"SNIPROOF_LOCKED="+root)
	var selection []string
	if *labels != "" {
		selection = append(selection, "--label-filter="+*labels)
	}
	if *focus != "" {
		selection = append(selection, "--focus="+*focus)
	}
	// --fail-on-empty holds per suite: run only the suites the selection
	// leaves specs in, and say so when it leaves none.
	selected, err := selectSuites(root, ginkgo, selection, env)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: %v\n", err)
		return report.ExitInfra
	}
	if len(selected) == 0 {
		fmt.Fprintln(stderr, "sniproof: no case ran: the label filter, focus or shard selects no spec in any suite")
		fmt.Fprintln(stdout, report.Summary{}.Line())
		return report.ExitEmpty
	}
	ginkgoArgs := append([]string{"--tags=conformance",
		"--randomize-all", "--fail-on-pending", "--fail-on-empty", "--keep-going",
		"--timeout=" + timeout.String()}, selection...)
	if *quiet {
		ginkgoArgs = append(ginkgoArgs, "--succinct", "--silence-skips")
	}
	ginkgoArgs = append(ginkgoArgs, selected...)
	cmd := exec.Command(ginkgo, ginkgoArgs...)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = env
	if *quiet {
		cmd.Env = append(cmd.Env, "SNIPROOF_QUIET=1")
	}
	if *naive {
		cmd.Env = append(cmd.Env, "SNIPROOF_NAIVE=1")
	}
	if !*quiet {
		fmt.Fprintf(stderr, "sniproof: session %s: running the suites (reports in %s)\n", session, dir)
	}
	runErr := runForwardingSignals(cmd)

	keep := os.Getenv("SNIPROOF_KEEP") == "1"
	if !keep {
		if swept, err := harness.Sweep(ctx, cli, session); err != nil {
			fmt.Fprintf(stderr, "sniproof conformance: cleanup: %v\n", err)
		} else if swept.Containers+swept.Networks > 0 {
			fmt.Fprintf(stderr, "sniproof: swept %d container(s) and %d network(s) the suites left\n", swept.Containers, swept.Networks)
		}
	}

	doc, err := report.Collect(dir, shard.String())
	if err == nil {
		doc.Unsupported, err = fixtures.LoadUnsupported()
	}
	if err == nil {
		err = report.Write(dir, doc)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: %v\n", err)
		return report.ExitInfra
	}
	if runErr != nil && doc.ExitCode() == report.ExitPass {
		// Ginkgo failed although every record passed: a spec outside the
		// case tables failed, or the run was cut short.
		fmt.Fprintf(stderr, "sniproof conformance: ginkgo: %v\n", runErr)
		fmt.Fprintln(stdout, doc.Summary.Line())
		return report.ExitFail
	}
	fmt.Fprintf(stderr, "sniproof: %s\n", doc.Explain())
	fmt.Fprintln(stdout, doc.Summary.Line())
	return doc.ExitCode()
}

// selectSuites dry-runs every suite with the selection and returns the
// folders (./suites/NAME) of those in which at least one spec would run.
func selectSuites(root, ginkgo string, selection, env []string) ([]string, error) {
	tmp, err := os.MkdirTemp("", "sniproof-dry-run-")
	if err != nil {
		return nil, fmt.Errorf("dry run: %w", err)
	}
	defer os.RemoveAll(tmp)
	args := append([]string{"--tags=conformance", "--dry-run", "--succinct", "--silence-skips",
		"--output-dir=" + tmp, "--json-report=dry-run.json"}, selection...)
	cmd := exec.Command(ginkgo, append(args, "./suites/...")...)
	// The suites' report nodes run in a dry run too: keep their records out
	// of the real reports.
	cmd.Dir, cmd.Env = root, append(env, "SNIPROOF_REPORTS="+tmp)
	out, runErr := cmd.CombinedOutput()
	data, err := os.ReadFile(filepath.Join(tmp, "dry-run.json"))
	if err != nil {
		return nil, fmt.Errorf("dry run of the suites: %v\n%s", runErr, lastLines(string(out), 20))
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		return nil, fmt.Errorf("read the dry run: %w", err)
	}
	var dirs []string
	for _, r := range reports {
		if r.PreRunStats.SpecsThatWillRun == 0 {
			continue
		}
		rel, err := filepath.Rel(root, r.SuitePath)
		if err != nil {
			return nil, fmt.Errorf("suite path %s: %w", r.SuitePath, err)
		}
		dirs = append(dirs, "./"+filepath.ToSlash(rel))
	}
	return dirs, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// lockCheckout takes the checkout's run lock (bin/conformance.lock),
// waiting, with a message, while another run holds it.
func lockCheckout(root string, stderr io.Writer) (func(), error) {
	// A run started by a suite of a run (the reliability suite) works under
	// its parent's lock.
	if os.Getenv("SNIPROOF_LOCKED") == root {
		return func() {}, nil
	}
	path := filepath.Join(root, "bin", "conformance.lock")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Fprintf(stderr, "sniproof: another sniproof conformance runs in %s; waiting for it to end\n", root)
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("run lock: %w", err)
		}
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// buildGinkgo builds the ginkgo CLI pinned by go.mod into bin/.
func buildGinkgo(root string) (string, error) {
	out := filepath.Join(root, "bin", "ginkgo")
	cmd := exec.Command("go", "build", "-o", out, "github.com/onsi/ginkgo/v2/ginkgo")
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the ginkgo CLI: %w\n%s", err, msg)
	}
	return out, nil
}

// runForwardingSignals runs cmd in a process group of its own and passes
// SIGINT and SIGTERM on to the whole group exactly once each time, as a
// terminal would, so that the suites run their own cleanup before this
// process sweeps.
func runForwardingSignals(cmd *exec.Cmd) error {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ginkgo: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			return err
		case s := <-sig:
			_ = syscall.Kill(-cmd.Process.Pid, s.(syscall.Signal))
		}
	}
}

// newSessionID is SNIPROOF_SESSION when the caller chose one (the benchmark
// does, to watch the run's containers), else random.
func newSessionID() string {
	if id := os.Getenv("SNIPROOF_SESSION"); id != "" {
		return id
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
