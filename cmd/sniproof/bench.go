package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"text/tabwriter"
	"time"

	"github.com/sniproof/sniproof/report"
)

// benchSuites are the suites the benchmark times, each with the one case of
// its one-case run.
var benchSuites = []struct {
	suite, labels, oneCase string
}{
	{"nginx", "nginx", "nginx/seed/server-name-on"},
}

func runBench(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("bench", stderr)
	if code := parse(fs, args); code >= 0 {
		return code
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "sniproof bench: %v\n", err)
		return exitInfra
	}
	dir, err := os.MkdirTemp("", "sniproof-bench-")
	if err != nil {
		fmt.Fprintf(stderr, "sniproof bench: %v\n", err)
		return exitInfra
	}
	defer os.RemoveAll(dir)

	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "suite\tcases\twall (all cases)\twall (one case)\tmarginal per case\t")
	for _, b := range benchSuites {
		// A first run warms the images and the build cache; it is not timed.
		fmt.Fprintf(stderr, "sniproof bench: %s: warming up\n", b.suite)
		if _, _, code := timedRun(self, dir, stderr, "--labels", b.labels, "--focus", regexp.QuoteMeta(b.oneCase)); code != report.ExitPass {
			fmt.Fprintf(stderr, "sniproof bench: %s: warm-up run failed with exit code %d\n", b.suite, code)
			return code
		}
		fmt.Fprintf(stderr, "sniproof bench: %s: timing every case\n", b.suite)
		all, n, code := timedRun(self, dir, stderr, "--labels", b.labels)
		if code != report.ExitPass {
			fmt.Fprintf(stderr, "sniproof bench: %s: run failed with exit code %d\n", b.suite, code)
			return code
		}
		fmt.Fprintf(stderr, "sniproof bench: %s: timing one case\n", b.suite)
		one, m, code := timedRun(self, dir, stderr, "--labels", b.labels, "--focus", regexp.QuoteMeta(b.oneCase))
		if code != report.ExitPass {
			fmt.Fprintf(stderr, "sniproof bench: %s: one-case run failed with exit code %d\n", b.suite, code)
			return code
		}
		marginal := "n/a"
		if n > m {
			marginal = ((all - one) / time.Duration(n-m)).Round(time.Millisecond).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t\n", b.suite, n, all.Round(10*time.Millisecond), one.Round(10*time.Millisecond), marginal)
	}
	tw.Flush()
	return exitOK
}

// timedRun runs `sniproof conformance -q` with args and returns its wall
// time, the number of cases that ran and its exit code.
func timedRun(self, dir string, stderr io.Writer, args ...string) (time.Duration, int, int) {
	cmd := exec.Command(self, append([]string{"conformance", "-q", "--reports", dir}, args...)...)
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		return wall, 0, exitInfra
	}
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return wall, 0, exitInfra
	}
	var doc report.Document
	if err := json.Unmarshal(data, &doc); err != nil {
		return wall, 0, exitInfra
	}
	return wall, doc.Summary.Passed + doc.Summary.Failed, code
}
