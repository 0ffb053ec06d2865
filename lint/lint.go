// Package lint checks proxy configurations statically for the pitfalls
// that make a proxy send no SNI, or the wrong one, to an HTTPS upstream:
// one dialect per proxy (nginx, HAProxy, the bundled Go proxy), each rule
// grounded in the cases of fixtures/PROXY/cases.yaml that show it. Each
// Finding has the file and line, the rule, a message and the fix.
//
// Configurations are read with gonginx and include directives are followed;
// directives are looked up the way nginx inherits them (location, then
// server, then http, or server then stream), the nearest one winning.
package lint

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tufanbarisyildirim/gonginx/config"

	"github.com/sniproof/sniproof/fixtures"
)

// Severity is how sure a finding is to break traffic.
type Severity string

// The severities, named as SARIF levels.
const (
	// Error: nginx sends no SNI or a name upstreams refuse, or does not
	// start.
	Error Severity = "error"
	// Warning: it breaks with strict upstreams only.
	Warning Severity = "warning"
)

// Rule is one check.
type Rule struct {
	// ID is stable: SNI001, SNI002, ...
	ID string
	// Name is a short kebab-case name.
	Name     string
	Severity Severity
	// Summary says in one line what the rule finds.
	Summary string
	// Help says why it breaks and how to fix it.
	Help string
	// Cases are the ids of the conformance matrix's cases that show the
	// behaviour: those whose lint field names the rule for some version
	// (fixtures' Expect.Lint), with the proxy's kind, "haproxy:common/...".
	Cases []string
}

var rules = []Rule{
	{"SNI001", "tls-upstream-without-sni", Error,
		"A TLS upstream without proxy_ssl_server_name on: nginx sends no SNI.",
		"proxy_ssl_server_name (grpc_ssl_server_name, uwsgi_ssl_server_name) is off by default, so proxy_pass https://, " +
			"grpc_pass grpcs://, uwsgi_pass suwsgi:// and stream proxy_ssl on send a ClientHello without SNI. An upstream that " +
			"routes by SNI (a CDN edge, a shared load balancer) refuses it with a TLS alert (80, 112 or 40) and nginx answers 502. " +
			"Fix: proxy_ssl_server_name on; in the location, server or http block, and an explicit off nearer to proxy_pass removed.", nil},
	{"SNI002", "upstream-block-name-as-sni", Error,
		"An upstream {} block's name is sent as SNI.",
		"With proxy_ssl_server_name on and no proxy_ssl_name, nginx sends the name of the upstream {} block that proxy_pass names " +
			"(ingress-nginx sends upstream_balancer). A name without a dot or with an underscore is no name the upstream serves, " +
			"so it refuses the handshake. Fix: proxy_ssl_name <the upstream's host name>;.", nil},
	{"SNI003", "ip-upstream-without-name", Error,
		"An IP-address upstream without proxy_ssl_name: nginx sends no SNI.",
		"RFC 6066 forbids IP literals in SNI, so nginx sends none for proxy_pass https://10.0.0.5, even with " +
			"proxy_ssl_server_name on. Fix: proxy_ssl_name <the upstream's host name>;.", nil},
	{"SNI004", "verify-without-trusted-certificate", Error,
		"proxy_ssl_verify on without proxy_ssl_trusted_certificate: nginx does not start.",
		"nginx refuses the configuration: [emerg] no proxy_ssl_trusted_certificate for proxy_ssl_verify. Fix: " +
			"proxy_ssl_trusted_certificate with the CA bundle that issued the upstream's certificate " +
			"(/etc/ssl/certs/ca-certificates.crt on Debian for public CAs).", nil},
	{"SNI005", "host-differs-from-sni", Warning,
		"proxy_set_header Host differs from the SNI.",
		"nginx sends proxy_ssl_name (by default the proxy_pass host) as SNI and the Host header separately. An upstream that checks " +
			"that both name the same site answers 421 Misdirected Request (RFC 9110 §15.5.20). Fix: send one name in both, " +
			"e.g. proxy_ssl_name $host; when Host is $host.", nil},
	{"SNI006", "bad-ssl-name", Error,
		"proxy_ssl_name with a trailing dot, an IP address or a bare IPv6 address.",
		"nginx keeps a trailing dot (upstreams matching names exactly refuse it), sends no SNI for an IPv4 address or a bracketed " +
			"IPv6 address, and cuts a bare IPv6 address at its first colon as if a port followed (2001:db8::1 sends 2001). " +
			"Fix: proxy_ssl_name <a DNS name the upstream serves>;.", nil},
	{"HAP001", "haproxy-ssl-server-without-sni", Error,
		"HAProxy: a server line with ssl and no sni: HAProxy sends no SNI.",
		"HAProxy 2.6 to 3.2 send no SNI unless the server line says sni, whatever the address, so an upstream that routes by SNI " +
			"refuses the handshake and HAProxy answers 503 after its retries. From 3.3 (sni-auto) the rule holds only where no Host " +
			"reaches the server: mode tcp, no-sni-auto, or a backend deleting the Host; otherwise HAP007 says what 3.3 sends. Fix: " +
			"sni str(<the upstream's host name>), or sni req.hdr(host),field(1,:) to send the client's host.", nil},
	{"HAP002", "haproxy-sni-trailing-dot", Error,
		"HAProxy: sni str(NAME.) sends the trailing dot.",
		"The sni expression's result is sent as is; upstreams matching names exactly refuse a name ending in a dot. Fix: sni str(NAME) without the dot.", nil},
	{"HAP003", "haproxy-sni-host-header-with-port", Warning,
		"HAProxy: sni req.hdr(host) sends the Host header's port too.",
		"req.hdr(host) is the header verbatim, so a client sending Host: name:8080 makes HAProxy send name:8080 as SNI, which no " +
			"upstream serves. Fix: sni req.hdr(host),field(1,:).", nil},
	{"HAP004", "haproxy-check-without-check-sni", Error,
		"HAProxy: an ssl server with check and no check-sni: health checks send no SNI.",
		"sni applies to traffic only; SSL health checks need check-sni. An upstream that routes by SNI refuses the check, HAProxy " +
			"marks the server DOWN and answers 503 to every request. From 3.3 (check-sni-auto) the check sends the Host of option " +
			"httpchk or of an http-check send rule, and the rule holds only without one, with an http-check connect rule, or with " +
			"no-check-sni-auto. Fix: check-sni <the upstream's host name>.", nil},
	{"HAP005", "haproxy-verify-without-ca-file", Error,
		"HAProxy: an ssl server verified without ca-file: HAProxy does not start.",
		"ssl-server-verify defaults to required, and HAProxy refuses the configuration: \"verify is enabled by default but no CA file " +
			"specified\". Fix: ca-file with the CA bundle that issued the upstream's certificate, or verify none.", nil},
}

// Rules returns every rule lint checks, in ID order, each with the cases
// that show it.
func Rules() []Rule {
	out := slices.Clone(rules)
	grounds := caseGrounds()
	for i := range out {
		out[i].Cases = grounds[out[i].ID]
	}
	return out
}

// caseGrounds are, by rule, the cases of each dialect's table whose lint
// field names the rule for the case or one of its versions, in table
// order.
func caseGrounds() map[string][]string {
	out := map[string][]string{}
	for _, d := range dialects {
		cases, err := fixtures.Cases(d.name())
		if err != nil {
			panic(fmt.Sprintf("lint: the embedded cases of %s: %v", d.name(), err))
		}
		for _, c := range cases {
			named := map[string]bool{}
			for _, e := range append([]fixtures.Expect{c.Expect}, slices.Collect(maps.Values(c.Versions))...) {
				if e.Lint == nil {
					continue
				}
				for _, id := range *e.Lint {
					if !named[id] {
						named[id] = true
						out[id] = append(out[id], d.name()+":"+c.ID)
					}
				}
			}
		}
	}
	return out
}

// Finding is one problem found in a configuration.
type Finding struct {
	// Rule is the rule's ID, e.g. "SNI001".
	Rule     string
	Severity Severity
	// File is the file the directive is in, as named on the command line
	// or in the include directive; Line is the directive's line (for a
	// directive spread over lines, the line of its ';').
	File string
	Line int
	// Message says what nginx does with this configuration.
	Message string
	// Fix says what to change.
	Fix string
}

// String is the finding as text output prints it, on two lines:
// "FILE:LINE: SNIxxx severity: message" and "    fix: ...".
func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s %s: %s\n    fix: %s", f.File, f.Line, f.Rule, f.Severity, f.Message, f.Fix)
}

// Result is what lint found in a set of configurations.
type Result struct {
	// Findings are sorted by file, line and rule. Nil when there are none.
	Findings []Finding
	// Files are every file read, included ones too, in the order read.
	Files []string
	// Upstreams counts what the rules check: the directives that proxy to
	// an upstream (proxy_pass, grpc_pass, uwsgi_pass) and the server lines
	// of HAProxy's backend and listen sections.
	Upstreams int
	// Blank says of each file named that holds no directive why, e.g.
	// "empty.conf is empty" (see Blank).
	Blank []string

	// named are the files named, in order, each with what its dialect
	// says a file without upstreams lacks.
	named []namedFile
}

// namedFile is a file named on the command line, as Nothing reports it.
type namedFile struct {
	path, none string
	blank      bool
}

// Nothing says, in one sentence, that the files named hold nothing to
// lint: no directive at all, or no upstream for the rules to check and no
// finding; "" when they hold something.
func (r *Result) Nothing() string {
	if len(r.Findings) > 0 || r.Upstreams > 0 || len(r.named) == 0 {
		return ""
	}
	if len(r.Blank) == len(r.named) {
		return strings.Join(r.Blank, ", and ") + ": nothing to lint"
	}
	var paths, none []string
	for _, n := range r.named {
		paths = append(paths, n.path)
		if !n.blank && !slices.Contains(none, n.none) {
			none = append(none, n.none)
		}
	}
	return fmt.Sprintf("nothing to lint in %s: %s", strings.Join(paths, ", "), strings.Join(none, ", and "))
}

// add adds what r2 found to r.
func (r *Result) add(r2 *Result) {
	r.Findings = append(r.Findings, r2.Findings...)
	r.Files = append(r.Files, r2.Files...)
	r.Upstreams += r2.Upstreams
	r.Blank = append(r.Blank, r2.Blank...)
	r.named = append(r.named, r2.named...)
}

// Files lints the configurations at paths, each a main file whose
// includes are followed, each in its own proxy's dialect (see Lint): an
// nginx file's relative include paths are resolved against its
// directory, as nginx resolves them against its main file's, and upstream
// {} blocks are looked up across all paths, so that site files can be
// linted together with the file defining their upstreams. The error, a
// *ConfigError, names the first file (and line) that cannot be read or
// parsed.
func Files(paths ...string) (*Result, error) {
	res, _, err := Lint(Options{plain: true}, paths...)
	return res, err
}

// WriteText writes each finding as Finding.String does, one after another.
func WriteText(w io.Writer, findings []Finding) error {
	for _, f := range findings {
		if _, err := fmt.Fprintln(w, f); err != nil {
			return err
		}
	}
	return nil
}

// sortFindings sorts findings by file, line and rule.
func sortFindings(findings []Finding) {
	slices.SortStableFunc(findings, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Rule, b.Rule))
	})
}

// debianConfDir is the folder Debian's nginx reads its configuration from.
const debianConfDir = "/etc/nginx"

// isDebianCopy reports whether file is the main file of a copy of a tree
// nginx reads from /etc/nginx: it is named nginx.conf, is not in
// /etc/nginx itself, and its folder provides what one of its own absolute
// include paths under /etc/nginx names (the file, or for a pattern, the
// folder it lists), as in a copy of Debian's /etc/nginx. Its includes are
// not followed to decide.
func isDebianCopy(file string) bool {
	dir := filepath.Dir(file)
	if filepath.Base(file) != "nginx.conf" {
		return false
	}
	if abs, err := filepath.Abs(dir); err != nil || abs == debianConfDir {
		return false
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	conf, err := parse(string(data))
	if err != nil {
		return false
	}
	var provides func(ds []config.IDirective) bool
	provides = func(ds []config.IDirective) bool {
		for _, d := range ds {
			if ps := d.GetParameters(); d.GetName() == "include" && len(ps) > 0 && providesInclude(dir, unquote(ps[0].GetValue())) {
				return true
			}
			if b := d.GetBlock(); b != nil && provides(b.GetDirectives()) {
				return true
			}
		}
		return false
	}
	return provides(conf.GetDirectives())
}

// providesInclude reports whether the folder dir, standing for
// /etc/nginx, provides what an absolute include path under /etc/nginx
// names: the file, or for a pattern a file it matches or the folder it
// lists.
func providesInclude(dir, pattern string) bool {
	rel, ok := strings.CutPrefix(path.Clean(pattern), debianConfDir+"/")
	if !ok {
		return false
	}
	host := filepath.Join(dir, filepath.FromSlash(rel))
	if !strings.ContainsAny(rel, "*?[") {
		st, err := os.Stat(host)
		return err == nil && st.Mode().IsRegular()
	}
	if matches, _ := filepath.Glob(host); len(matches) > 0 {
		return true
	}
	st, err := os.Stat(filepath.Dir(host))
	return err == nil && st.IsDir()
}
