package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
)

// benchRow is one line of the benchmark's table.
type benchRow struct {
	kind, mode string
	cases      int
	all, one   time.Duration
	starts     int
	peak       uint64 // bytes
}

func runBench(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("bench", stderr)
	kindsFlag := fs.String("kinds", "", "comma-separated proxy kinds to time (default: every kind)")
	naiveFlag := fs.String("naive", "nginx", "comma-separated kinds also timed in naive mode, one proxy container per case; \"\" for none")
	clients := fs.Bool("clients", true, "also time the clients suite: its per-exec overhead is the marginal cost per case")
	matrix := fs.Bool("matrix", true, "also time one warm run of the whole matrix, make conformance's suites, against the target of "+fmt.Sprint(matrixTarget)+" cases/s")
	checkFlag := fs.String("check", checkBench, "a `CONFIG` whose warm sniproof check is timed, every container included (target: 10 locations in 15 s); \"\" for none")
	runs := fs.Int("runs", 1, "time every case and one case `N` times each, in turns, and keep the fastest of each: on a shared machine, the run that others slowed least")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if *runs < 1 {
		fmt.Fprintf(stderr, "sniproof bench: --runs %d: want at least 1\n", *runs)
		return exitUsage
	}
	kinds := harness.KindNames()
	if *kindsFlag != "" {
		kinds = strings.Split(*kindsFlag, ",")
	}
	var naive []string
	if *naiveFlag != "" {
		naive = strings.Split(*naiveFlag, ",")
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "sniproof bench: %v\n", err)
		return exitInfra
	}
	cli, err := harness.Connect(context.Background())
	if err != nil {
		fmt.Fprintf(stderr, "sniproof bench: %v\n", err)
		return exitInfra
	}
	defer cli.Close()
	dir, err := os.MkdirTemp("", "sniproof-bench-")
	if err != nil {
		fmt.Fprintf(stderr, "sniproof bench: %v\n", err)
		return exitInfra
	}
	defer os.RemoveAll(dir)

	b := &bencher{self: self, dir: dir, cli: cli, stderr: stderr, runs: *runs}
	var rows []benchRow
	failed := 0
	measure := func(k string, naive bool) {
		row, err := b.time(k, naive)
		if err != nil {
			// One kind that cannot be timed does not hide the others.
			fmt.Fprintf(stderr, "sniproof bench: %v\n", err)
			failed++
			return
		}
		rows = append(rows, row)
	}
	for _, k := range kinds {
		measure(k, false)
	}
	for _, k := range naive {
		measure(k, true)
	}
	if *clients {
		measure(clientsRow, false)
	}
	printBench(stdout, rows)
	if *runs > 1 {
		fmt.Fprintf(stdout, "wall times are the fastest of %d runs each\n", *runs)
	}
	if *matrix {
		if err := b.timeMatrix(stdout); err != nil {
			fmt.Fprintf(stderr, "sniproof bench: %v\n", err)
			failed++
		}
	}
	fmt.Fprintf(stdout, "fresh machine: a fresh-clone bash .ci/run, every image built, is timed by `time bash .ci/run` in a clean clone (target: %s); bench runs warm\n", freshTarget)
	if *checkFlag != "" {
		if err := b.timeCheck(stdout, *checkFlag); err != nil {
			fmt.Fprintf(stderr, "sniproof bench: %v\n", err)
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d measurement(s) failed; see the errors above\n", failed)
		return 1
	}
	return exitOK
}

func printBench(w io.Writer, rows []benchRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\tmode\tcases\twall (all cases)\twall (one case)\tmarginal per case\tcontainer starts\tpeak memory\t")
	perCase := map[string]time.Duration{}
	for _, r := range rows {
		marginal := "n/a"
		if r.cases > 1 {
			m := (r.all - r.one) / time.Duration(r.cases-1)
			perCase[r.kind+"/"+r.mode] = m
			marginal = m.Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\t%.0f MiB\t\n", r.kind, r.mode, r.cases,
			r.all.Round(10*time.Millisecond), r.one.Round(10*time.Millisecond), marginal, r.starts, float64(r.peak)/(1<<20))
	}
	tw.Flush()
	for _, r := range rows {
		shared, naive := perCase[r.kind+"/shared"], perCase[r.kind+"/naive"]
		if r.mode == "naive" && shared > 0 {
			ratio := float64(naive) / float64(shared)
			fmt.Fprintf(w, "%s: naive mode costs %.1f× more per case than one container per version, %s the target of %.0f×\n", r.kind, ratio,
				map[bool]string{true: "meeting", false: "MISSING"}[ratio >= naiveTarget], naiveTarget)
		}
	}
}

// The targets of issue 13: the naive/shared ratio, a warm run of the
// whole matrix, and a fresh machine's .ci/run.
const (
	naiveTarget  = 20.0
	matrixTarget = 8.0
	freshTarget  = 12 * time.Minute
)

// timeMatrix times one warm run of make conformance's suites over every
// proxy version and client, and prints its rate against matrixTarget.
func (b *bencher) timeMatrix(w io.Writer) error {
	fmt.Fprintf(b.stderr, "sniproof bench: the whole matrix: timing make conformance's suites\n")
	res, err := b.run(nil)
	if err != nil {
		return fmt.Errorf("the whole matrix: %w", err)
	}
	rate := float64(res.cases) / res.wall.Seconds()
	fmt.Fprintf(w, "matrix: %d cases in %s warm, %.1f cases/s, %s the target of %.0f cases/s (%d container starts, peak %.0f MiB)\n", res.cases,
		res.wall.Round(100*time.Millisecond), rate, map[bool]string{true: "meeting", false: "MISSING"}[rate >= matrixTarget], matrixTarget,
		res.starts, float64(res.peak)/(1<<20))
	return nil
}

// checkBench is the configuration make bench checks: ten locations.
const checkBench = "fixtures/check/bench/nginx.conf"

// checkTarget is the most a warm check of checkBench may take (issue 12).
const checkTarget = 15 * time.Second

// timeCheck times sniproof check on config, once to warm the images and
// once measured, and prints the measured run's wall time and locations.
func (b *bencher) timeCheck(w io.Writer, config string) error {
	var wall time.Duration
	var out []byte
	for range 2 {
		cmd := exec.Command(b.self, "check", config, "-q", "--json")
		cmd.Stderr = b.stderr
		start := time.Now()
		var err error
		out, err = cmd.Output()
		wall = time.Since(start)
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > check.ExitNotChecked) {
			return fmt.Errorf("check %s: %v", config, err)
		}
	}
	var rep check.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		return fmt.Errorf("check %s: its JSON report: %w", config, err)
	}
	verdict := "within"
	if wall > checkTarget {
		verdict = "OVER"
	}
	fmt.Fprintf(w, "check: %s, %d locations (%d containers), warm: %s, %s the %s target\n", config, rep.Summary.Locations, rep.Containers,
		wall.Round(10*time.Millisecond), verdict, checkTarget)
	return nil
}

// bencher runs `sniproof conformance` and watches the run's containers.
type bencher struct {
	self, dir string
	cli       *client.Client
	stderr    io.Writer
	runs      int // timings of every case and of one case, the fastest kept
}

// clientsRow names the clients suite in the table: one client container
// serves every case, each case one exec in it.
const clientsRow = "clients"

// time measures one kind (or the clients suite): a warm-up run, the whole
// table and one case.
func (b *bencher) time(kind string, naive bool) (benchRow, error) {
	row := benchRow{kind: kind, mode: "shared"}
	if naive {
		row.mode = "naive"
	}
	one := "^$"
	if kind == clientsRow {
		one = regexp.QuoteMeta("clients/curl/name") + ":"
	} else {
		cases, err := fixtures.Cases(kind)
		if err != nil {
			return row, err
		}
		for _, c := range cases {
			if c.Expect.ConfigError == "" {
				one = regexp.QuoteMeta(c.ID) + ":"
				break
			}
		}
	}
	args := []string{"--labels", kind}
	if naive {
		args = append(args, "--naive")
	}
	fmt.Fprintf(b.stderr, "sniproof bench: %s (%s): warming up\n", kind, row.mode)
	if _, err := b.run(append(args, "--focus", one)); err != nil {
		return row, fmt.Errorf("%s warm-up: %w", kind, err)
	}
	for i := range b.runs {
		fmt.Fprintf(b.stderr, "sniproof bench: %s (%s): timing every case (%d/%d)\n", kind, row.mode, i+1, b.runs)
		all, err := b.run(args)
		if err != nil {
			return row, fmt.Errorf("%s: %w", kind, err)
		}
		fmt.Fprintf(b.stderr, "sniproof bench: %s (%s): timing one case (%d/%d)\n", kind, row.mode, i+1, b.runs)
		single, err := b.run(append(args, "--focus", one))
		if err != nil {
			return row, fmt.Errorf("%s one case: %w", kind, err)
		}
		if i == 0 || all.wall < row.all {
			row.all = all.wall
		}
		if i == 0 || single.wall < row.one {
			row.one = single.wall
		}
		row.cases, row.starts, row.peak = all.cases, all.starts, max(row.peak, all.peak)
	}
	return row, nil
}

type runResult struct {
	wall   time.Duration
	cases  int
	starts int
	peak   uint64
}

// run runs `sniproof conformance -q` with args in a session of its own,
// sampling the memory of the session's containers while it runs.
func (b *bencher) run(args []string) (runResult, error) {
	session := newSessionID()
	cmd := exec.Command(b.self, append([]string{"conformance", "-q", "--reports", b.dir}, args...)...)
	cmd.Env = append(os.Environ(), "SNIPROOF_SESSION=bench-"+session)
	cmd.Stdout, cmd.Stderr = io.Discard, b.stderr

	ctx, stop := context.WithCancel(context.Background())
	var peak uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		peak = b.sample(ctx, "bench-"+session)
	}()
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	stop()
	wg.Wait()

	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return runResult{}, err
	}
	doc, lerr := report.Load(filepath.Join(b.dir, "results.json"))
	if lerr != nil {
		return runResult{}, lerr
	}
	if code := doc.ExitCode(); code != report.ExitPass {
		return runResult{}, fmt.Errorf("the run failed (exit %d): %s", code, doc.Explain())
	}
	return runResult{wall: wall, cases: doc.Summary.Passed + doc.Summary.Failed + doc.Summary.XFailed + doc.Summary.XPassed,
		starts: doc.ContainerStarts, peak: peak}, nil
}

// sample polls the memory use of the session's containers every 250 ms
// until ctx ends and returns the highest sum seen.
func (b *bencher) sample(ctx context.Context, session string) uint64 {
	var peak uint64
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return peak
		case <-tick.C:
		}
		list, err := b.cli.ContainerList(ctx, client.ContainerListOptions{
			Filters: make(client.Filters).Add("label", harness.LabelSession+"="+session)})
		if err != nil {
			continue
		}
		var sum uint64
		for _, c := range list.Items {
			sum += b.memory(ctx, c.ID)
		}
		peak = max(peak, sum)
	}
}

func (b *bencher) memory(ctx context.Context, id string) uint64 {
	res, err := b.cli.ContainerStats(ctx, id, client.ContainerStatsOptions{})
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(res.Body).Decode(&s); err != nil {
		return 0
	}
	return s.MemoryStats.Usage
}
