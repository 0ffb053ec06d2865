package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/sniproof/sniproof/probe"
)

const probeUsage = `usage: sniproof probe HOST[:PORT] [--name NAME] [--json] [--timeout 5s] [--ca FILE]

Does this upstream require SNI? probe runs the field report's manual
diagnosis (openssl s_client -connect, without and with -servername): a TLS
handshake without SNI, one with SNI NAME, and one with a name no server
serves (` + probe.UnknownName + `). It prints what each got (the alert, or the
TLS version, ALPN and certificate chain, and whether the chain verifies for
NAME), a verdict in one sentence and, when a proxy must send NAME, the
configuration that makes nginx, HAProxy, Apache, Caddy, Envoy and Traefik
send it. Every handshake dials the same address.

HOST is a DNS name, an IPv4 address or an IPv6 address ([2001:db8::1]:8443);
an https:// URL works too. PORT defaults to 443. NAME defaults to HOST when
HOST is a DNS name; for an IP address without --name the handshake with SNI
is skipped.

flags:
`

const probeExitCodes = `
exit codes:
  0   the probe ran, whatever the verdict
  3   HOST is unreachable: it does not resolve, or the connection is refused
      or times out (one sentence on stderr naming host and port; with --json
      the report is printed too, verdict "unreachable")
  64  bad usage: a bad HOST[:PORT], --name, --timeout or --ca FILE
`

func runProbe(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("probe", stderr)
	name := fs.String("name", "", "send `NAME` as SNI and verify certificates for it (default: HOST when it is a DNS name)")
	asJSON := fs.Bool("json", false, "print the report as JSON (fields documented in package probe's Report)")
	timeout := fs.Duration("timeout", probe.DefaultTimeout, "bound each step on its own: the DNS lookup, each connect, each handshake")
	caFile := fs.String("ca", "", "verify against the CA certificates in PEM `FILE` instead of the system roots")
	fs.Usage = func() {
		fmt.Fprint(stderr, probeUsage)
		fs.PrintDefaults()
		fmt.Fprint(stderr, probeExitCodes)
	}
	targets, code := parseArgs(fs, args)
	if code >= 0 {
		return code
	}
	if len(targets) != 1 {
		fmt.Fprintln(stderr, "sniproof probe: name exactly one HOST[:PORT]")
		return exitUsage
	}
	host, port, err := probe.ParseTarget(targets[0])
	if err != nil {
		fmt.Fprintf(stderr, "sniproof probe: %v\n", err)
		return exitUsage
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "sniproof probe: --timeout must be positive, got %v\n", *timeout)
		return exitUsage
	}
	opts := probe.Options{Name: *name, Timeout: *timeout}
	if *caFile != "" {
		if opts.Roots, err = loadRoots(*caFile); err != nil {
			fmt.Fprintf(stderr, "sniproof probe: %v\n", err)
			return exitUsage
		}
		opts.RootsName = *caFile
	}
	report, err := probe.Run(context.Background(), host, port, opts)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof probe: %v\n", err)
		return exitUsage
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(report)
	} else if report.Verdict.Kind != probe.VerdictUnreachable {
		err = report.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sniproof probe: write report: %v\n", err)
		return 1
	}
	if report.Verdict.Kind == probe.VerdictUnreachable {
		fmt.Fprintf(stderr, "sniproof probe: %s\n", report.Verdict.Summary)
		return exitInfra
	}
	return exitOK
}

// loadRoots reads a pool of CA certificates from a PEM file.
func loadRoots(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read --ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", file)
	}
	return pool, nil
}

// parseArgs parses flags given before, between or after the positional
// arguments, which it returns, with the exit code to stop with or -1 to go
// on. Everything after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, int) {
	var positional []string
	for {
		err := fs.Parse(args)
		switch {
		case errors.Is(err, flag.ErrHelp):
			return nil, exitOK
		case err != nil:
			return nil, exitUsage
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, -1
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), -1
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
