package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// sniproof lint's exit codes besides exitOK and exitUsage.
const (
	exitLintFindings = 1 // it found something
	exitLintNothing  = 2 // the files hold nothing to lint
)

// lintReads is what sniproof lint reads, said after a file that is none of
// it: every registered dialect's proxy.
func lintReads() string {
	return "lint reads the configurations of " + strings.Join(lint.Dialects(), ", ") + " (docs/PROXY.md says which files of each; the Go proxy's is goproxy, the JSON of sniproof proxy --config)"
}

const lintUsage = `usage: sniproof lint [--format text|sarif] FILE...

Checks proxy configurations statically for the pitfalls that make a proxy
send no SNI, or the wrong one, to an HTTPS upstream, and prints each finding
with its file and line, its rule, what the proxy does and the fix. Each file
goes to the proxy whose language it is in, one of
  %s
(docs/PROXY.md says which files of each); what follows is nginx's:

  FILE:LINE: SNIxxx severity: message
      fix: ...

Lint the main nginx.conf: include directives are followed (glob patterns
too; relative paths are resolved against the directory of the FILE named,
as nginx resolves them against its main file's), and directives are
inherited as nginx inherits them (location, server, http; server, stream).
A copy of a Debian layout, whose includes are absolute, is read whole, as
sniproof check reads it: when FILE is an nginx.conf whose folder provides
what one of its includes under /etc/nginx names, its folder stands for
/etc/nginx (a note on stderr says so, and names each include the folder
does not provide); --conf-dir DIR makes FILE's folder stand for DIR
instead.
A site file linted alone does not see what http {} sets for it. upstream {}
blocks are looked up across every FILE, so site files can be linted
together with the file that defines their upstreams.

A FILE whose first keyword is an HAProxy section keyword (global, defaults,
frontend, backend, listen, ...) is an haproxy.cfg: its server lines are
checked with the HAP rules, the settings of default-server lines (of its
defaults section and its own) included. HAProxy 3.3 changed what a server
line without sni sends (the request's Host, sni-auto): lint judges for
HAProxy 2.6 to 3.2 unless --version or --release names the version, and
reads .if version_atleast(...) blocks as that version does.

A FILE that is a JSON object with "routes" is the bundled Go proxy's
configuration (sniproof proxy --config), checked with the GOP rules.

Each rule is shown by cases of the conformance matrix (their ids below).

rules:
%s
flags:
`

const lintExitCodes = `
exit codes:
  0   no findings
  1   findings (errors or warnings)
  2   nothing to lint: every FILE is empty (or only comments), or no
      server or location proxies to an upstream and no HAProxy backend has
      a server line; one sentence on stderr says which
  64  bad usage, or a FILE or an included file that cannot be read or
      parsed, or that is binary or in another language (YAML, JSON, a
      Caddyfile, an Apache httpd configuration): one sentence on stderr with
      the file and, when known, the line
`

func runLint(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("lint", stderr)
	confDir := fs.String("conf-dir", "", "the `folder` nginx reads FILE from in production: FILE's folder stands for it, so absolute include paths under it are read from there (default: /etc/nginx for a copy of a Debian layout, else none)")
	format := fs.String("format", "text", "output `format`: text, or sarif (SARIF 2.1.0 for code-scanning UIs, paths relative to the working directory)")
	version := fs.String("version", "", "the `version` of the proxy FILE is judged for, e.g. 3.4 (HAProxy's sni-auto from 3.3); default: the versions before its newest changes")
	release := fs.String("release", "", "judge for the proxy version Debian `release` packages, as sniproof check --release runs it: "+strings.Join(seriesReleases(), ", "))
	fs.Usage = func() {
		var rules strings.Builder
		for _, r := range lint.Rules() {
			fmt.Fprintf(&rules, "  %s  %-7s  %s\n", r.ID, r.Severity, r.Summary)
			if len(r.Cases) > 0 {
				fmt.Fprintf(&rules, "                   shown by %s\n", shownBy(r.Cases))
			}
		}
		fmt.Fprintf(stderr, lintUsage, strings.Join(lint.Dialects(), ", "), rules.String())
		fs.PrintDefaults()
		fmt.Fprint(stderr, lintExitCodes)
	}
	files, code := parseArgs(fs, args)
	if code >= 0 {
		return code
	}
	if *format != "text" && *format != "sarif" {
		fmt.Fprintf(stderr, "sniproof lint: --format must be text or sarif, got %q\n", *format)
		return exitUsage
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "sniproof lint: name at least one nginx or HAProxy configuration FILE")
		return exitUsage
	}
	versions, err := lintVersions(*version, *release)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof lint: %v\n", err)
		return exitUsage
	}
	res, notes, err := lint.Lint(lint.Options{ConfDir: *confDir, Versions: versions}, files...)
	if err != nil {
		if errors.Is(err, lint.ErrNotConfig) {
			fmt.Fprintf(stderr, "sniproof lint: %v: %s\n", err, lintReads())
		} else {
			fmt.Fprintf(stderr, "sniproof lint: %v\n", err)
		}
		return exitUsage
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "sniproof lint: %s\n", n)
	}
	nothing := res.Nothing()
	if nothing == "" {
		for _, b := range res.Blank {
			fmt.Fprintf(stderr, "sniproof lint: %s: nothing to lint in it\n", b)
		}
	}
	if *format == "sarif" {
		err = lint.WriteSARIF(stdout, res.Findings, ".")
	} else {
		err = lint.WriteText(stdout, res.Findings)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sniproof lint: write findings: %v\n", err)
		return exitLintFindings
	}
	if nothing != "" {
		fmt.Fprintf(stderr, "sniproof lint: %s\n", nothing)
		return exitLintNothing
	}
	fmt.Fprintf(stderr, "sniproof lint: %s\n", lintSummary(res))
	if len(res.Findings) > 0 {
		return exitLintFindings
	}
	return exitOK
}

// lintSummary says how many findings, by severity, in how many files.
func lintSummary(res *lint.Result) string {
	files := map[string]bool{}
	for _, f := range res.Files {
		files[f] = true
	}
	n := map[lint.Severity]int{}
	for _, f := range res.Findings {
		n[f.Severity]++
	}
	if len(res.Findings) == 0 {
		return "no findings in " + plural(len(files), "file")
	}
	return fmt.Sprintf("%s (%s, %s) in %s",
		plural(len(res.Findings), "finding"), plural(n[lint.Error], "error"), plural(n[lint.Warning], "warning"), plural(len(files), "file"))
}

// plural is "1 thing" or "N things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// lintVersions are the proxy versions lint judges for: version for every
// proxy, or the series release packages of each proxy whose kind keeps
// them (harness.Kind.Series).
func lintVersions(version, release string) (map[string]string, error) {
	switch {
	case version != "" && release != "":
		return nil, errors.New("--version and --release both name the version: give one")
	case version != "":
		if !regexp.MustCompile(`^\d+\.\d+(\.\d+)?$`).MatchString(version) {
			return nil, fmt.Errorf("--version takes a version such as 3.4 or 3.4.7, got %q", version)
		}
		out := map[string]string{}
		for _, d := range lint.Dialects() {
			out[d] = version
		}
		return out, nil
	case release != "":
		if !slices.Contains(seriesReleases(), release) {
			return nil, fmt.Errorf("--release takes %s, got %q", strings.Join(seriesReleases(), ", "), release)
		}
		out := map[string]string{}
		for _, d := range lint.Dialects() {
			if k, err := harness.LookupKind(d); err == nil && k.Series[release] != "" {
				out[d] = k.Series[release]
			}
		}
		return out, nil
	}
	return nil, nil
}

// seriesReleases are the Debian releases some linted proxy's kind keeps
// a version series for, in the kinds' order.
func seriesReleases() []string {
	var out []string
	for _, d := range lint.Dialects() {
		k, err := harness.LookupKind(d)
		if err != nil {
			continue
		}
		for _, r := range k.Releases {
			if k.Series[r] != "" && !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	return out
}

// shownBy names a rule's cases, the first three and how many more.
func shownBy(cases []string) string {
	if len(cases) <= 3 {
		return strings.Join(cases, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(cases[:3], ", "), len(cases)-3)
}
