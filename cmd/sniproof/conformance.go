package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/moby/moby/client"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
	"github.com/sniproof/sniproof/suites"
)

// suiteTimeout bounds a whole conformance run inside Ginkgo.
const suiteTimeout = 30 * time.Minute

// conformanceRun is one run of sniproof conformance: its flags, and what
// its steps learn.
type conformanceRun struct {
	labels, focus, shardFlag string
	suites                   []string
	shard                    suites.Shard
	reports                  string // absolute
	quiet, naive             bool
	reportCheck              bool
	imagesOnly               bool
	browser                  string
	beside                   string // a shell command run beside the suites
	binaryImage              string // the sniproof binary's image of the images phase
	timeout                  time.Duration
	root                     string
	session                  string
	// lanes are the sessions of the suites' runs beside the first, which
	// has session: each run judges and sweeps its own containers only.
	lanes          []string
	stdout, stderr io.Writer
}

func runConformance(args []string, stdout, stderr io.Writer) int {
	r, code := parseConformance(args, stdout, stderr)
	if code >= 0 {
		return code
	}
	return r.run()
}

// parseConformance parses the flags; a code >= 0 ends the run at once.
func parseConformance(args []string, stdout, stderr io.Writer) (*conformanceRun, int) {
	r := &conformanceRun{stdout: stdout, stderr: stderr}
	fs := newFlags("conformance", stderr)
	fs.StringVar(&r.labels, "labels", "", "Ginkgo label filter, e.g. 'nginx && bookworm'")
	fs.StringVar(&r.focus, "focus", "", "regular expression selecting cases by id or name")
	suiteList := fs.String("suites", strings.Join(suites.Matrix, ","),
		"comma-separated `suites` to run, of "+strings.Join(suites.All(), ", ")+", or all (the matrix and the self-tests)")
	reports := fs.String("reports", "reports", "`folder` for junit.xml, results.json and the suites' records")
	fs.BoolVar(&r.quiet, "q", false, "quiet: print only failures and the summary line")
	fs.StringVar(&r.shardFlag, "shard", "", "run share `i/n` of the cases (split by case id), e.g. 1/4")
	fs.BoolVar(&r.naive, "naive", false, "start one proxy container per case (the benchmark's baseline)")
	fs.DurationVar(&r.timeout, "suite-timeout", suiteTimeout, "abort the suites after this `duration`, cleaning up")
	fs.BoolVar(&r.reportCheck, "report-check", false, "then check index.html in headless Chromium, as sniproof report check does")
	fs.StringVar(&r.browser, "chromium", "chromium", "the Chromium `binary` of --report-check")
	fs.BoolVar(&r.imagesOnly, "images-only", false, "stop after the preflight and the images the selected suites use")
	fs.StringVar(&r.beside, "beside", "", "a shell `command` to run beside the suites, once the images are built (make test runs vet, the unit tests and the fuzz so): "+
		"its lines are passed on after \"beside | \", its failure fails the run, and the summary line still comes last")
	if code := parse(fs, args); code >= 0 {
		return nil, code
	}
	if r.imagesOnly && r.beside != "" {
		fmt.Fprintln(stderr, "sniproof conformance: --beside runs beside the suites, which --images-only does not run")
		return nil, exitUsage
	}
	var err error
	if r.suites, err = suites.ParseNames(*suiteList); err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: --suites: %v\n", err)
		return nil, exitUsage
	}
	if r.shard, err = suites.ParseShard(r.shardFlag); err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: --shard: %v\n", err)
		return nil, exitUsage
	}
	if r.root, err = harness.ModuleRoot(); err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: %v\n", err)
		return nil, exitUsage
	}
	if r.reports, err = filepath.Abs(*reports); err != nil {
		fmt.Fprintf(stderr, "sniproof conformance: %v\n", err)
		return nil, exitUsage
	}
	return r, -1
}

// run takes the steps of a run in order: the preflight, the run lock, the
// ginkgo CLI, the selection, the images, the suites, the sweep, the
// reports and their browser check. Each step returns an error; run alone
// decides the exit code.
func (r *conformanceRun) run() int {
	// Until the suites start, an interrupt cancels the step under way (an
	// image build stops mmdebstrap); then the suites take the signals.
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	if _, err := types.ParseLabelFilter(r.labels); err != nil {
		return r.fail(exitUsage, fmt.Errorf("--labels: %w", err))
	}
	recipes, err := suites.Images(r.suites, r.labels, r.shard)
	if err != nil {
		return r.fail(report.ExitInfra, err)
	}
	cli, err := r.preflight(ctx, recipes)
	if err != nil {
		return r.fail(report.ExitInfra, err)
	}
	defer cli.Close()
	if r.imagesOnly {
		r.session = newSessionID()
		if err := r.buildImages(ctx, cli, recipes); err != nil {
			return r.fail(report.ExitInfra, err)
		}
		return exitOK
	}
	if err := os.RemoveAll(filepath.Join(r.reports, "suites")); err != nil {
		return r.fail(report.ExitInfra, fmt.Errorf("clear old records: %w", err))
	}

	// Ginkgo compiles each suite beside its source: two runs in one checkout
	// would overwrite each other's test binaries, so they take turns.
	unlock, err := lockCheckout(r.root, r.stderr)
	if err != nil {
		return r.fail(report.ExitInfra, err)
	}
	defer unlock()
	ginkgo, err := buildGinkgo(r.root)
	if err != nil {
		return r.fail(report.ExitInfra, err)
	}
	r.session = newSessionID()
	// --fail-on-empty holds per suite: run only the suites the selection
	// leaves specs in, and say so when it leaves none.
	selected, specs, err := selectSuites(r.root, ginkgo, r.suites, r.selection(), r.env())
	if err != nil {
		return r.fail(report.ExitInfra, err)
	}
	if len(selected) == 0 {
		fmt.Fprintf(r.stderr, "sniproof: no case ran: the label filter, focus or shard selects no spec in the suites %s\n", strings.Join(r.suites, ", "))
		fmt.Fprintln(r.stdout, report.Summary{}.Line())
		return report.ExitEmpty
	}
	if !slices.Equal(selected, r.suites) {
		if recipes, err = suites.Images(selected, r.labels, r.shard); err != nil {
			return r.fail(report.ExitInfra, err)
		}
	}
	defer r.sweep(cli)
	if err := r.buildImages(ctx, cli, recipes); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted while it built the images: %w", err)
		}
		return r.fail(report.ExitInfra, err)
	}
	stopSignals()
	runErr, besideErr := r.runSuites(ginkgo, selected, specs)
	if !r.keep() {
		// The suites clean up after themselves; this catches what a
		// crashed or killed suite left.
		r.sweep(cli)
	}

	doc, err := r.writeReports()
	if err != nil {
		return r.fail(report.ExitInfra, err)
	}
	code := doc.ExitCode()
	if runErr != nil && code == report.ExitPass {
		// Ginkgo failed although every record passed: a spec outside the
		// case tables failed, or the run was cut short.
		fmt.Fprintf(r.stderr, "sniproof conformance: ginkgo: %v\n", runErr)
		code = report.ExitFail
	} else {
		fmt.Fprintf(r.stderr, "sniproof: %s\n", doc.Explain())
	}
	if besideErr != nil {
		fmt.Fprintf(r.stderr, "sniproof conformance: --beside %q: %v\n", r.beside, besideErr)
		code = max(code, report.ExitFail)
	}
	if r.reportCheck {
		summary, problems, err := checkPage(r.reports, r.browser)
		switch {
		case err != nil:
			fmt.Fprintf(r.stderr, "sniproof conformance: report check: %v\n", err)
			code = max(code, report.ExitInfra)
		case len(problems) > 0:
			for _, p := range problems {
				fmt.Fprintf(r.stderr, "sniproof conformance: report check: %s\n", p)
			}
			code = max(code, report.ExitFail)
		default:
			fmt.Fprintln(r.stderr, "sniproof: "+summary)
		}
	}
	fmt.Fprintln(r.stdout, doc.Summary.Line())
	return code
}

// fail prints err as the one sentence a run ends with and returns code.
func (r *conformanceRun) fail(code int, err error) int {
	fmt.Fprintf(r.stderr, "sniproof conformance: %v\n", err)
	return code
}

// keep says whether the containers of failed cases stay (SNIPROOF_KEEP=1).
func (r *conformanceRun) keep() bool { return os.Getenv("SNIPROOF_KEEP") == "1" }

// sweep removes what the run's session left on the engine.
func (r *conformanceRun) sweep(cli *client.Client) {
	if r.keep() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, session := range append([]string{r.session}, r.lanes...) {
		swept, err := harness.Sweep(ctx, cli, session)
		switch {
		case err != nil:
			fmt.Fprintf(r.stderr, "sniproof conformance: cleanup: %v\n", err)
		case swept.Containers+swept.Networks+swept.Volumes > 0:
			fmt.Fprintf(r.stderr, "sniproof: swept %d container(s), %d network(s) and %d volume(s) the suites left\n",
				swept.Containers, swept.Networks, swept.Volumes)
		}
	}
}

// selection are the Ginkgo flags of the label filter and focus.
func (r *conformanceRun) selection() []string {
	var out []string
	if r.labels != "" {
		out = append(out, "--label-filter="+r.labels)
	}
	if r.focus != "" {
		out = append(out, "--focus="+r.focus)
	}
	return out
}

// env is the suites' environment.
func (r *conformanceRun) env() []string {
	env := append(os.Environ(), "SNIPROOF_SESSION="+r.session, "SNIPROOF_REPORTS="+r.reports, "SNIPROOF_SHARD="+r.shardFlag,
		"SNIPROOF_LOCKED="+r.root)
	if r.quiet {
		env = append(env, "SNIPROOF_QUIET=1")
	}
	if r.naive {
		env = append(env, "SNIPROOF_NAIVE=1")
	}
	// The suites are test binaries, not the sniproof command: left to
	// themselves, they compile a binary of their own for their backends
	// (3 min 19 s of a fresh run's suites, beside the Go checks).
	if r.binaryImage != "" {
		env = append(env, harness.BinaryImageEnv+"="+r.binaryImage)
	}
	return env
}

// runSuites runs the selected suites (./suites/NAME) in Ginkgo, one run
// per lane (suites.Lanes) at the same time, passing SIGINT and SIGTERM on
// to each. The first lane writes to the run's output as it is; the lines
// of the others are each prefixed with their suite's name. A lane of
// parallel processes, whose output Ginkgo keeps, has its progress lines
// printed from here, out of the specs they count (suites.ProgressEnv) and
// specs, the number of each suite's specs that will run. The command
// beside them (--beside), if any, runs at the same time, its lines
// prefixed too; its error is returned apart from the suites'.
func (r *conformanceRun) runSuites(ginkgo string, selected []string, specs map[string]int) (suitesErr, besideErr error) {
	lanes := suites.Lanes(selected)
	shared := &sharedOut{w: r.stdout}
	cmds := make([]*exec.Cmd, len(lanes))
	var prefixed []*lineWriter
	stop := make(chan struct{})
	var counting sync.WaitGroup
	for i, lane := range lanes {
		args := []string{"--tags=conformance",
			"--randomize-all", "--fail-on-pending", "--fail-on-empty", "--keep-going",
			"--timeout=" + r.timeout.String()}
		parallel := slices.Contains(suites.Apart, lane[0])
		if parallel {
			args = append(args, fmt.Sprintf("--procs=%d", suites.ApartProcs))
		}
		args = append(args, r.selection()...)
		if r.quiet {
			args = append(args, "--succinct", "--silence-skips")
		}
		for _, s := range lane {
			args = append(args, "./suites/"+s)
		}
		cmd := exec.Command(ginkgo, args...)
		cmd.Dir = r.root
		cmd.Stdout, cmd.Stderr = shared, r.stderr
		if i > 0 {
			out := &lineWriter{out: shared, prefix: strings.Join(lane, ",") + " | "}
			prefixed = append(prefixed, out)
			cmd.Stdout, cmd.Stderr = out, out
		}
		cmd.Env = r.env()
		if i > 0 {
			session := r.session + "-" + strings.Join(lane, "-")
			r.lanes = append(r.lanes, session)
			cmd.Env = append(cmd.Env, "SNIPROOF_SESSION="+session)
		}
		if parallel {
			counts := filepath.Join(r.reports, ".progress-"+strings.Join(lane, "-"))
			os.Remove(counts)
			defer os.Remove(counts)
			cmd.Env = append(cmd.Env, suites.ProgressEnv+"="+counts)
			p := suites.NewProgress(cmd.Stdout, r.quiet)
			p.Start(specs[lane[0]])
			counting.Go(func() { suites.CountProgress(p, counts, time.Second, stop) })
		}
		cmds[i] = cmd
	}
	if !r.quiet {
		names := make([]string, len(lanes))
		for i, lane := range lanes {
			names[i] = strings.Join(lane, ", ")
		}
		with := ""
		if r.beside != "" {
			with = fmt.Sprintf(", with %q beside them", r.beside)
		}
		fmt.Fprintf(r.stderr, "sniproof: session %s: running the suites %s at the same time%s (reports in %s)\n", r.session, strings.Join(names, " | "), with, r.reports)
	}
	if r.beside != "" {
		cmd := exec.Command("sh", "-c", r.beside)
		out := &lineWriter{out: shared, prefix: "beside | "}
		prefixed = append(prefixed, out)
		cmd.Stdout, cmd.Stderr = out, out
		cmds = append(cmds, cmd)
	}
	errs := runForwardingSignals(cmds...)
	close(stop)
	counting.Wait()
	for _, w := range prefixed {
		w.Flush()
	}
	if r.beside != "" {
		besideErr = errs[len(lanes)]
	}
	return errors.Join(errs[:len(lanes)]...), besideErr
}

// sharedOut is the run's standard output as the lanes share it. The first
// lane writes to it as it is, Ginkgo's progress marks with no newline; a
// line of another lane then starts on a line of its own.
type sharedOut struct {
	mu      sync.Mutex
	w       io.Writer
	midLine bool // the last write did not end a line
}

func (s *sharedOut) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.w.Write(p)
	if n > 0 {
		s.midLine = p[n-1] != '\n'
	}
	return n, err
}

// line writes prefix and line, a whole line, on a line of its own.
func (s *sharedOut) line(prefix string, line []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	start := ""
	if s.midLine {
		start = "\n"
	}
	_, err := fmt.Fprintf(s.w, "%s%s%s", start, prefix, line)
	s.midLine = false
	return err
}

// lineWriter writes whole lines to out, each after prefix; Flush writes
// what is left. Its writes may come from several goroutines.
type lineWriter struct {
	mu     sync.Mutex
	out    *sharedOut
	prefix string
	buf    []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if err := l.out.line(l.prefix, l.buf[:i+1]); err != nil {
			return len(p), err
		}
		l.buf = l.buf[i+1:]
	}
}

// Flush writes a last line without its newline, with one.
func (l *lineWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		_ = l.out.line(l.prefix, append(l.buf, '\n'))
		l.buf = nil
	}
}

// writeReports collects the suites' records into the run's reports.
func (r *conformanceRun) writeReports() (report.Document, error) {
	doc, err := report.Collect(r.reports, r.shard.String())
	if err == nil {
		doc.Unsupported, err = fixtures.LoadUnsupported()
	}
	if err == nil {
		err = report.Write(r.reports, doc)
	}
	return doc, err
}

// selectSuites dry-runs the named suites with the selection and returns
// those in which at least one spec would run, in the order given, and how
// many specs will run in each.
func selectSuites(root, ginkgo string, names, selection, env []string) ([]string, map[string]int, error) {
	tmp, err := os.MkdirTemp("", "sniproof-dry-run-")
	if err != nil {
		return nil, nil, fmt.Errorf("dry run: %w", err)
	}
	defer os.RemoveAll(tmp)
	args := append([]string{"--tags=conformance", "--dry-run", "--succinct", "--silence-skips",
		"--output-dir=" + tmp, "--json-report=dry-run.json"}, selection...)
	for _, n := range names {
		args = append(args, "./suites/"+n)
	}
	cmd := exec.Command(ginkgo, args...)
	// The suites' report nodes run in a dry run too: keep their records out
	// of the real reports.
	cmd.Dir, cmd.Env = root, append(env, "SNIPROOF_REPORTS="+tmp)
	out, runErr := cmd.CombinedOutput()
	data, err := os.ReadFile(filepath.Join(tmp, "dry-run.json"))
	if err != nil {
		return nil, nil, fmt.Errorf("dry run of the suites: %v\n%s", runErr, lastLines(string(out), 20))
	}
	var reports []types.Report
	if err := json.Unmarshal(data, &reports); err != nil {
		return nil, nil, fmt.Errorf("read the dry run: %w", err)
	}
	specs := map[string]int{}
	for _, rep := range reports {
		specs[filepath.Base(rep.SuitePath)] = rep.PreRunStats.SpecsThatWillRun
	}
	var selected []string
	for _, n := range names {
		if specs[n] > 0 {
			selected = append(selected, n)
		}
	}
	return selected, specs, nil
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

// runForwardingSignals runs the commands at the same time, each in a
// process group of its own, and passes SIGINT and SIGTERM on to every
// group exactly once each time, as a terminal would, so that the suites
// run their own cleanup before this process sweeps. It returns when all
// have ended, with the error of each (of one not started, why).
func runForwardingSignals(cmds ...*exec.Cmd) []error {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sig)
	type ended struct {
		i   int
		err error
	}
	done := make(chan ended, len(cmds))
	var started []*exec.Cmd
	errs := make([]error, len(cmds))
	for i, cmd := range cmds {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			for j := i; j < len(cmds); j++ {
				errs[j] = fmt.Errorf("not started: start %s: %w", cmds[i].Path, err)
			}
			for _, c := range started {
				_ = syscall.Kill(-c.Process.Pid, syscall.SIGINT)
			}
			break
		}
		started = append(started, cmd)
		go func() { done <- ended{i, cmd.Wait()} }()
	}
	for range started {
	wait:
		for {
			select {
			case e := <-done:
				errs[e.i] = e.err
				break wait
			case s := <-sig:
				for _, c := range started {
					_ = syscall.Kill(-c.Process.Pid, s.(syscall.Signal))
				}
			}
		}
	}
	return errs
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
