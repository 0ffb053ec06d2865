package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sniproof/sniproof/check"
	"github.com/sniproof/sniproof/harness"
)

const checkUsage = `usage: sniproof check CONFIG [--proxy PROXY] [--release bookworm|trixie] [--expect FILE.yaml] [--image IMAGE] [--baseline results.json] [--json] [--out FILE]

Runs an operator's proxy configuration, unchanged, in the real proxy
against a backend that impersonates its upstreams, and reports, per
location (HAProxy: per backend; each proxy's own unit) that proxies to an
HTTPS upstream, the SNI the upstream saw, the status and, for a failure,
the cause and the configuration line that fixes it.

PROXY is one of
  %s;
without --proxy, check tells the proxy from the configuration's content.
What follows is nginx's and HAProxy's; docs/PROXY.md says what check reads
and does for each other proxy.

CONFIG is an nginx.conf (or any main file), a folder holding nginx.conf, or
a folder of site files, which check wraps in a minimal main file with an
http {} block of its own (and says so). The main file's folder is copied to
--conf-dir in the container (/etc/nginx), with the files it includes;
include paths under it are read from CONFIG's folder, others are left to the
image. nginx -t runs first: a configuration nginx rejects gets nginx's own
message with the file and line. Certificate files it names that are missing
get throwaway ones; the run's CA is written at every
proxy_ssl_trusted_certificate (grpc_, uwsgi_ and stream too).

The backend (sniproof's SNI-only server, refusing a ClientHello without SNI
or with a name it does not serve with alert 80) answers under every upstream
host name, on every upstream port, with a certificate from the run's CA for
exactly those names. IP upstreams are impersonated: the backend takes the
address on an internal network made for it (close addresses of a pool share
one, each taken by a replica of the backend); when that is impossible the
location is reported as not checked, with the reason.

Without --expect, check sends one request per location that proxies to
HTTPS: the location's path, with the Host (and SNI) of the server's first
name, on its first ssl listen port (else its first). Locations with
variables in proxy_pass (proxy_pass $up too: its scheme may be https) or
a regular expression are reported as not checked, with the reason. With
--expect FILE, it sends FILE's requests and compares each with its
expectation:

  - request: {host: shop.example.com, path: /api/, port: 443, scheme: https}
    expect: {status: 200, sni: api.internal.example}   # sni "": none sent
  - request: {scheme: tcp, port: 5432}                  # a stream server
    expect: {status: 0, sni: "", cause: no-sni}

Requests run one at a time; each one's upstream events are read from the
backend's log (waiting, bounded, for its connection's events); nothing is
added to the configuration to mark them.

HAProxy: CONFIG is an haproxy.cfg (a file whose first keyword is a section
keyword: global, defaults, frontend, backend, listen), or a folder holding
haproxy.cfg; --proxy haproxy says so for any file. It goes to /etc/haproxy
(--conf-dir) with the files its bind and server lines name (crt, ca-file,
crl-file) that its folder holds; the run's CA is written at every server
ca-file, and a missing crt gets a throwaway certificate and key. haproxy -c
runs first: a configuration HAProxy rejects gets HAProxy's own message with
the file and line. Then haproxy -db runs it. Every backend with an ssl
server is requested once, through the first frontend whose use_backend
rules (ACLs on the Host header, the path, the client's SNI or the method,
evaluated in order) or default_backend route a request there; a backend
behind rules check cannot evaluate is reported as not checked, with the
rule: name a request for it in an expectations file. The report gives, per
backend, what the upstream saw, HAProxy's health-check verdicts, and the
server-line fix (sni str(NAME), check-sni NAME, ca-file ...).

An upgrade is checked like an edit: run check with --out before.json on
the running release, then with --release trixie (or --image NEW) and
--baseline before.json: every behaviour the upgrade changes is listed.

The proxy sits on the run's internal networks only, so the configuration
reaches nothing outside them, whatever it names; a relay (sniproof forward)
publishes its ports on 127.0.0.1.

It runs from any folder: the backend's FROM-scratch image holds the running
binary when it is static (CGO_ENABLED=0 go install ...), else a static copy
compiled in the sniproof checkout around the working directory, or with go
install of the binary's own version from the module cache (or set
SNIPROOF_IMAGE_SNIPROOF). Everything it starts is labelled with its session
and removed when it ends (SNIPROOF_KEEP=1 keeps it, and the report says how
to remove it).

flags:
`

const checkExitCodes = `
exit codes:
  0   every location was checked and works (with --expect: every request
      as expected); with --baseline: no behaviour change (and every
      expectation met)
  1   a location fails or differs from its expectation, the proxy rejects
      the configuration, or with --baseline a behaviour changed
  2   nothing failed, but a location was not checked (the report says why
      for each), no location proxies to an upstream at all, or CONFIG is
      empty or only comments
  3   infrastructure: no Docker engine, an image build failed, a container
      did not start
  64  bad usage, an unreadable CONFIG, an unknown --proxy, an invalid
      expectations or baseline file, an image without the proxy: one
      sentence on stderr
`

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", stderr)
	expect := fs.String("expect", "", "expectations `FILE.yaml`: the requests to send and what each must get")
	image := fs.String("image", "", "the proxy's `IMAGE` to run (default: the project's image of the proxy for --release)")
	proxy := fs.String("proxy", "", "the `proxy` CONFIG is for: nginx or haproxy (default: told from CONFIG)")
	release := fs.String("release", "", "the Debian `release` of the project's image: bookworm (nginx 1.22, HAProxy 2.6; the default), trixie (nginx 1.26, HAProxy 3.0), forky (nginx 1.30, HAProxy 3.2) or experimental (HAProxy 3.4); the Go proxy has one, bundled")
	baseline := fs.String("baseline", "", "a previous check's JSON `report` (--out or --json) to compare with: every behaviour change is listed")
	asJSON := fs.Bool("json", false, "print the report as JSON (the format --baseline reads)")
	out := fs.String("out", "", "also write the JSON report to `FILE`, e.g. for a later --baseline")
	confDir := fs.String("conf-dir", "", "the `folder` of the main file in the container (default "+check.DefaultConfDir+", for HAProxy "+check.DefaultHAProxyDir+")")
	quiet := fs.Bool("q", false, "quiet: no progress lines on stderr")
	var roots stringList
	fs.Var(&roots, "root", "`FOLDER=LOCAL`: LOCAL holds the real files of the proxy host's FOLDER, copied in instead of stand-ins (e.g. --root /etc/letsencrypt=./le); repeatable")
	fs.Usage = func() {
		fmt.Fprintf(stderr, checkUsage, strings.Join(check.Proxies(), ", "))
		fs.PrintDefaults()
		fmt.Fprint(stderr, checkExitCodes)
	}
	configs, code := parseArgs(fs, args)
	if code >= 0 {
		return code
	}
	if len(configs) != 1 {
		fmt.Fprintln(stderr, "sniproof check: name exactly one CONFIG: an nginx.conf, a folder of site files, or an haproxy.cfg")
		return check.ExitUsage
	}
	opts := check.Options{Config: configs[0], Proxy: *proxy, Release: *release, ConfDir: *confDir, Expect: *expect, Image: *image, Baseline: *baseline}
	for _, root := range roots {
		rt, err := check.ParseRoot(root)
		if err != nil {
			fmt.Fprintf(stderr, "sniproof check: %v\n", err)
			return check.ExitUsage
		}
		opts.Roots = append(opts.Roots, rt)
	}
	if !*quiet {
		opts.Progress = stderr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := check.Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof check: %v\n", err)
		var ue *check.UsageError
		switch {
		case errors.As(err, &ue):
			return check.ExitUsage
		case errors.Is(err, check.ErrNothing):
			return check.ExitNotChecked
		case harness.IsInfra(err):
			return check.ExitInfra
		}
		return check.ExitInfra
	}
	if *out != "" {
		if err := writeReport(*out, rep); err != nil {
			fmt.Fprintf(stderr, "sniproof check: %v\n", err)
			return check.ExitUsage
		}
	}
	if *asJSON {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sniproof check: write the report: %v\n", err)
		return check.ExitFail
	}
	return rep.ExitCode()
}

// writeReport writes the JSON report to file, creating its folder.
func writeReport(file string, rep *check.Report) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("write the report: %w", err)
	}
	if err := rep.WriteJSON(f); err != nil {
		f.Close()
		return fmt.Errorf("write the report %s: %w", file, err)
	}
	return f.Close()
}
