package lint

import (
	"os"
	"slices"
	"strconv"
	"strings"
)

// A dialect is one proxy's configuration language as lint reads it: how
// its files are told apart, read and judged. Lint hands each file named
// to the first dialect that claims it, nginx's last (it claims every
// file): the one code path of every proxy. A proxy joins lint with one
// dialect and its rules.
type dialect interface {
	// name is the proxy's kind name, as the case tables name it.
	name() string
	// claims reports whether data, a file's text, is in this dialect.
	claims(data []byte) bool
	// lint reads and judges files, named together in this order (nginx
	// looks up upstream {} blocks across them), for opts; the notes say
	// what it read as it did, or did not read.
	lint(files []string, opts Options) (*Result, []string, error)
	// none says what a file of this dialect holding no upstream for the
	// rules to check lacks, e.g. "no backend or listen section has a
	// server line".
	none() string
}

// dialects are the languages lint reads, in the order of their names but
// nginx's, which claims every file, last; each dialect's file adds its own
// with registerDialect.
var dialects []dialect

// registerDialect adds a proxy's dialect to lint.
func registerDialect(d dialect) {
	dialects = append(dialects, d)
	last := func(d dialect) bool { return d.name() == "nginx" }
	slices.SortFunc(dialects, func(a, b dialect) int {
		if last(a) != last(b) {
			return map[bool]int{true: 1, false: -1}[last(a)]
		}
		return strings.Compare(a.name(), b.name())
	})
}

// Options are how Lint reads and judges the files.
type Options struct {
	// ConfDir, when set, is the folder nginx reads its configuration from
	// in production (e.g. /etc/nginx): each nginx path is a main file whose
	// folder mirrors ConfDir, so include paths under ConfDir are read from
	// that folder and relative ones are resolved against it. Includes the
	// folder does not provide are not followed; notes name each. Files are
	// named as on the command line (the folder joined with the path under
	// it). When empty, a copy of a tree nginx reads from /etc/nginx (a file
	// named nginx.conf whose folder provides what one of its absolute
	// includes under /etc/nginx names) is read so, the file's folder
	// standing for /etc/nginx, as sniproof check reads it, with a note
	// saying so; every other nginx file's relative includes are resolved
	// against its own folder.
	ConfDir string
	// Versions are the versions of the proxies the files are judged for,
	// by proxy ("haproxy": "3.4" or "3.4.7"); a proxy without one is
	// judged for the versions before its newest changes (HAProxy 2.6 to
	// 3.2). Only rules whose behaviour changes between versions read it
	// (HAProxy's sni-auto from 3.3).
	Versions map[string]string

	// plain reads every nginx file as Files does, with no tree copy read
	// as one.
	plain bool
}

// Dialects are the names of the proxies lint reads, as Options.Versions
// keys them.
func Dialects() []string {
	var out []string
	for _, d := range dialects {
		out = append(out, d.name())
	}
	return out
}

// Lint lints the configurations at paths, each a main file whose
// includes are followed, each in the dialect of its proxy: HAProxy for a
// file whose first keyword is a section keyword (see LooksLikeHAProxy),
// nginx otherwise. The error, a *ConfigError, names the first file (and
// line) that cannot be read or parsed; notes say how files were read.
func Lint(opts Options, paths ...string) (*Result, []string, error) {
	res := &Result{}
	var order []dialect
	files := map[dialect][]string{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		d := dialects[len(dialects)-1]
		if err == nil {
			if i := slices.IndexFunc(dialects, func(d dialect) bool { return d.claims(data) }); i >= 0 {
				d = dialects[i]
			}
		}
		n := namedFile{path: p, none: d.none()}
		if why := Blank(data); err == nil && why != "" {
			n.blank = true
			res.Blank = append(res.Blank, p+" "+why)
		}
		res.named = append(res.named, n)
		if files[d] == nil {
			order = append(order, d)
		}
		files[d] = append(files[d], p)
	}
	var notes []string
	for _, d := range order {
		r, n, err := d.lint(files[d], opts)
		if err != nil {
			return nil, nil, err
		}
		res.Findings = append(res.Findings, r.Findings...)
		res.Files = append(res.Files, r.Files...)
		res.Upstreams += r.Upstreams
		notes = append(notes, n...)
	}
	sortFindings(res.Findings)
	return res, notes, nil
}

// atLeast reports whether version is major.minor or later; false for
// "".
func atLeast(version string, major, minor int) bool {
	return version != "" && compareVersions(version, strconv.Itoa(major)+"."+strconv.Itoa(minor)) >= 0
}
