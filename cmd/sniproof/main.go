// Command sniproof is the one CLI of the project: the SNI-only backend,
// certificates for manual use, image builds, the conformance runner and the
// cleanup of leftover containers.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sniproof/sniproof/redact"
)

// Exit codes shared by every subcommand; conformance documents more.
const (
	exitOK    = 0
	exitUsage = 64 // bad flags or arguments
	exitInfra = 3  // Docker unreachable, image build failed, ...
)

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

var commands = []command{
	{"backend", "run the SNI-only backend from a JSON config", runBackend},
	{"proxy", "run the bundled Go reverse proxy from a JSON config", runProxy},
	{"check", "run an nginx or HAProxy configuration unchanged against impersonated upstreams: per location, the SNI seen and the fix", published(runCheck)},
	{"probe", "does this upstream require SNI? handshakes without and with SNI, a verdict and the fix", published(runProbe)},
	{"lint", "check nginx and HAProxy configurations statically for SNI pitfalls (text or SARIF)", published(runLint)},
	{"forward", "relay TCP ports to the same ports of a host (sniproof check's door to its proxy)", runForward},
	{"tlsclient", "make one TLS handshake and print it as JSON (the suite's Go client)", runTLSClient},
	{"certs", "write a test CA and leaf certificates as PEM", runCerts},
	{"images", "build the images the suites need, skipping those present", runImages},
	{"conformance", "run the conformance suites and write reports/", runConformance},
	{"report", "merge shard results (merge) or check index.html in Chromium (check)", runReport},
	{"load", "put the backend and the Go proxy under load on loopback; nothing may be lost", runLoad},
	{"bench", "time the suites warm: wall time, cases, marginal cost per case", runBench},
	{"soak", "run the suites several times and fail on any verdict that changes", runSoak},
	{"sweep", "remove the containers, networks, volumes and partial image tags of a session", runSweep},
	{"version", "print the sniproof build and its Go version", runVersion},
}

// published wraps an operators' tool, whose every byte of output is
// published (CI artifacts, committed baselines): what it writes to stdout
// and stderr goes through redact.Writer, so that no credential of the
// configurations it reads reaches them.
func published(run func(args []string, stdout, stderr io.Writer) int) func(args []string, stdout, stderr io.Writer) int {
	return func(args []string, stdout, stderr io.Writer) int {
		out, errOut := redact.NewWriter(stdout), redact.NewWriter(stderr)
		code := run(args, out, errOut)
		if err := errors.Join(out.Close(), errOut.Close()); err != nil {
			fmt.Fprintf(stderr, "sniproof: write the output: %v\n", err)
			return max(code, 1)
		}
		return code
	}
}

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "sniproof: unknown command %q\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: sniproof COMMAND [flags]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'sniproof COMMAND -h' for a command's flags.")
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sniproof "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags and returns the exit code to stop with, or -1 to go on.
func parse(fs *flag.FlagSet, args []string) int {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case err != nil:
		return exitUsage
	case fs.NArg() > 0:
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage
	}
	return -1
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
