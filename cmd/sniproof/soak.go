package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/sniproof/sniproof/report"
)

// runSoak runs the conformance suites several times in a row and fails
// when any case's verdict differs between runs: the flake hunt.
func runSoak(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("soak", stderr)
	runs := fs.Int("runs", 10, "number of runs")
	labels := fs.String("labels", "", "Ginkgo label filter passed to every run")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if *runs < 2 || *runs > 100 {
		fmt.Fprintf(stderr, "sniproof soak: --runs must be 2-100, got %d\n", *runs)
		return exitUsage
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "sniproof soak: %v\n", err)
		return exitInfra
	}
	dir, err := os.MkdirTemp("", "sniproof-soak-")
	if err != nil {
		fmt.Fprintf(stderr, "sniproof soak: %v\n", err)
		return exitInfra
	}
	defer os.RemoveAll(dir)

	var first map[string]string
	flaky := map[string][]string{}
	for i := 1; i <= *runs; i++ {
		out := filepath.Join(dir, fmt.Sprint(i))
		start := time.Now()
		cmd := exec.Command(self, "conformance", "-q", "--reports", out, "--labels", *labels)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		var ee *exec.ExitError
		if err := cmd.Run(); err != nil && !errors.As(err, &ee) {
			fmt.Fprintf(stderr, "sniproof soak: run %d: %v\n", i, err)
			return exitInfra
		}
		doc, err := report.Load(filepath.Join(out, "results.json"))
		if err != nil {
			fmt.Fprintf(stderr, "sniproof soak: run %d: %v\n", i, err)
			return exitInfra
		}
		verdicts := map[string]string{}
		for _, r := range doc.Records {
			verdicts[r.Proxy+" "+r.Version+" "+r.ID] = r.Verdict
		}
		if first == nil {
			first = verdicts
		}
		for k, v := range verdicts {
			if first[k] != v {
				flaky[k] = append(flaky[k], fmt.Sprintf("run %d: %s (run 1: %s)", i, v, first[k]))
			}
		}
		for k := range first {
			if _, ok := verdicts[k]; !ok {
				flaky[k] = append(flaky[k], fmt.Sprintf("run %d: missing", i))
			}
		}
		fmt.Fprintf(stderr, "sniproof soak: run %d/%d: %s in %s, exit %d\n", i, *runs, doc.Summary.Line(), time.Since(start).Round(time.Second), doc.ExitCode())
	}
	if len(flaky) > 0 {
		var keys []string
		for k := range flaky {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(stdout, "flaky: %s: %v\n", k, flaky[k])
		}
		fmt.Fprintf(stdout, "soak: %d case(s) changed verdict across %d runs\n", len(flaky), *runs)
		return 1
	}
	fmt.Fprintf(stdout, "soak: %d runs, %d cases, identical verdicts\n", *runs, len(first))
	return exitOK
}
