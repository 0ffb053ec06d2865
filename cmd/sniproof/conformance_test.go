package main

import (
	"io"
	"os/exec"
	"strings"
	"testing"
)

// TestConformanceUsage pins the usage errors (64) of sniproof conformance,
// which it reports before it asks Docker anything: an unknown suite and a
// label filter that does not parse.
func TestConformanceUsage(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"unknown suite", []string{"conformance", "--suites", "proxies,bogus"},
			`--suites: unknown suite "bogus": want a comma-separated list of proxies, clients, check, reliability, or all`},
		{"empty suite list", []string{"conformance", "--suites", ""}, `--suites: unknown suite ""`},
		{"bad label filter", []string{"conformance", "--labels", "nginx &&"}, "sniproof conformance: --labels: "},
		{"beside without suites", []string{"conformance", "--images-only", "--beside", "make gochecks"},
			"sniproof conformance: --beside runs beside the suites, which --images-only does not run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
			code, stdout, stderr := run(t, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.wantErr) || strings.Contains(stderr, "Docker") || stdout != "" {
				t.Errorf("exit %d, want %d with %q and no word of Docker; stdout %q, stderr:\n%s", code, exitUsage, tt.wantErr, stdout, stderr)
			}
		})
	}
}

// TestConformanceNoDocker pins the preflight's first check: without a
// Docker engine the run stops at once, exit 3, with one sentence.
func TestConformanceNoDocker(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	code, stdout, stderr := run(t, "conformance", "--labels", "nginx && bookworm", "--reports", t.TempDir())
	want := "sniproof conformance: connect to Docker: no Docker engine answers at unix:///nonexistent/docker.sock (is it running? is DOCKER_HOST right?)"
	if code != exitInfra || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 || stdout != "" {
		t.Errorf("exit %d, want %d; stdout %q; stderr, want one line starting %q:\n%s", code, exitInfra, stdout, want, stderr)
	}
}

// TestLineWriter: whole lines go out each after the prefix, the rest
// when flushed; a line of a prefixed lane starts on a line of its own
// after the first lane's progress marks, which then go on below it.
func TestLineWriter(t *testing.T) {
	var out strings.Builder
	shared := &sharedOut{w: &out}
	w := &lineWriter{out: shared, prefix: "check | "}
	write := func(w io.Writer, p string) {
		t.Helper()
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"••", "•\nsniproof: 25/185 specs done\n", "••"} {
		write(w, p)
	}
	if got, want := out.String(), "check | •••\ncheck | sniproof: 25/185 specs done\n"; got != want {
		t.Errorf("before Flush: %q, want %q", got, want)
	}
	w.Flush()
	if got, want := out.String(), "check | •••\ncheck | sniproof: 25/185 specs done\ncheck | ••\n"; got != want {
		t.Errorf("after Flush: %q, want %q", got, want)
	}

	out.Reset()
	write(shared, "[1796] reliability - 10/10 specs ")
	write(shared, "••")
	write(w, "sniproof: 26/185 specs done\n")
	write(shared, "•")
	if got, want := out.String(), "[1796] reliability - 10/10 specs ••\ncheck | sniproof: 26/185 specs done\n•"; got != want {
		t.Errorf("beside the first lane's marks: %q, want %q", got, want)
	}
}

// TestRunForwardingSignals pins that each command's error comes back in its
// own place, so that the command beside the suites (--beside) is judged
// apart from them, and that one that cannot start says so and interrupts
// those already started.
func TestRunForwardingSignals(t *testing.T) {
	errs := runForwardingSignals(exec.Command("true"), exec.Command("sh", "-c", "exit 3"), exec.Command("true"))
	if len(errs) != 3 || errs[0] != nil || errs[2] != nil || errs[1] == nil || !strings.Contains(errs[1].Error(), "exit status 3") {
		t.Errorf("errors = %v, want nil, exit status 3, nil", errs)
	}
	errs = runForwardingSignals(exec.Command("sleep", "30"), exec.Command("/nonexistent/sniproof-test"))
	if len(errs) != 2 || errs[0] == nil || !strings.Contains(errs[0].Error(), "interrupt") || errs[1] == nil || !strings.Contains(errs[1].Error(), "not started") {
		t.Errorf("errors = %v, want the sleep interrupted, then not started", errs)
	}
}
