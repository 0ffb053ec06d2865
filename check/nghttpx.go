package check

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/testcontainers/testcontainers-go"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// ProxyNghttpx is nghttpx (Debian's nghttp2-proxy).
const ProxyNghttpx = "nghttpx"

// nghttpxAdapter checks nghttpx configurations (nghttpx --conf, Debian's
// /etc/nghttpx/nghttpx.conf, with its includes), run unchanged by one
// nghttpx: one request per pattern of the backend lines with tls. Its
// TLS options (cacert, insecure, host-rewrite) are the process's, so one
// run has them as production does.
type nghttpxAdapter struct {
	// file is the main file on this machine, dir its folder.
	file, dir string
	cfg       *lint.NghttpxConfig
	// files are the configuration's files by their path in the container.
	files  map[string][]byte
	routes []*ngRoute
	// byPlace is each job's route, by its place.
	byPlace map[string]*ngRoute
}

// ngRoute is a pattern of the backend lines with tls, its backends (one
// group: nghttpx balances between them) and where their connections go.
type ngRoute struct {
	pattern  string
	backends []lint.NgBackend
	targets  []Target
}

func init() { register(ProxyNghttpx, func() adapter { return &nghttpxAdapter{} }) }

var nghttpxKind = mustKind(ProxyNghttpx)

func (*nghttpxAdapter) kind() harness.Kind { return nghttpxKind }

func (*nghttpxAdapter) claims(config string) bool {
	return claimsFile(config, "nghttpx.conf", lint.LooksLikeNghttpx)
}

// nghttpxMain is where the configuration runs: Debian's path.
var nghttpxMain = path.Join(lint.NghttpxConfDir, "nghttpx.conf")

func (a *nghttpxAdapter) load(r *runner) (error, error) {
	a.file = mainFile(r.opts.Config, "nghttpx.conf")
	if err := readable(a.file); err != nil {
		return nil, err
	}
	a.dir = filepath.Dir(a.file)
	r.newReport(a.dir, nghttpxMain)
	data, err := os.ReadFile(a.file)
	if err != nil {
		return nil, usagef("cannot read the configuration %s: %v", a.file, cause(err))
	}
	a.files = map[string][]byte{nghttpxMain: data}
	cfg, perr := lint.ParseNghttpxFile(a.file)
	if perr != nil {
		return perr, nil
	}
	a.cfg = cfg
	for i, f := range cfg.Files[1:] {
		d, err := os.ReadFile(f)
		if err != nil {
			return nil, usagef("cannot read %s: %v", f, cause(err))
		}
		a.files[cfg.Paths[i+1]] = d
	}
	return nil, nil
}

func (a *nghttpxAdapter) plan(r *runner) {
	up := newCollector()
	byPattern := map[string]*ngRoute{}
	for _, b := range a.cfg.Backends {
		if !b.TLS {
			continue
		}
		t := Target{Host: strings.ToLower(b.Host), Port: b.Port, IP: b.IP(), Socket: b.Unix}
		up.target(t)
		if b.SNI != "" && !lint.IsIP(b.SNI) && !strings.Contains(b.SNI, ":") {
			up.names.add(b.SNI)
		}
		for _, p := range b.Patterns {
			rt := byPattern[p]
			if rt == nil {
				rt = &ngRoute{pattern: p}
				byPattern[p] = rt
				a.routes = append(a.routes, rt)
			}
			rt.backends = append(rt.backends, b)
			rt.targets = append(rt.targets, t)
		}
	}
	var notes []string
	up2, notes := up.upstreams()
	r.up = &up2
	r.rep.Notes = append(r.rep.Notes, notes...)
	r.rep.Notes = append(r.rep.Notes, a.cfg.Notes...)
	for _, f := range a.findings() {
		r.rep.Lint = append(r.rep.Lint, finding(f))
	}
}

// findings are lint's, with files named as reports name them.
func (a *nghttpxAdapter) findings() []lint.Finding {
	fs := a.cfg.Findings()
	for i := range fs {
		fs[i].File = relTo(a.dir, fs[i].File)
	}
	return fs
}

// host starts the image idle: nghttpx starts once its files are in.
func (*nghttpxAdapter) host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error) {
	return r.sess.RunIdleHost(ctx, r.rep.Image, networks, opts...)
}

// frontends are the configuration's, or nghttpx's default (*,3000 with
// TLS) when it names none.
func (a *nghttpxAdapter) frontends() []lint.NgFrontend {
	if len(a.cfg.Frontends) == 0 {
		return []lint.NgFrontend{{NgOption: lint.NgOption{Value: "*,3000 (the default)"}, Host: "*", Port: 3000, TLS: true}}
	}
	return a.cfg.Frontends
}

// reachable reports whether Docker's published port reaches frontend f:
// it listens on every address, not loopback or a unix socket.
func reachable(f lint.NgFrontend) bool {
	return f.Unix == "" && f.Port > 0 && slices.Contains([]string{"*", "0.0.0.0", "::"}, f.Host)
}

func (a *nghttpxAdapter) ports(*runner) []int {
	var ports []int
	for _, f := range a.frontends() {
		if reachable(f) && !slices.Contains(ports, f.Port) {
			ports = append(ports, f.Port)
		}
	}
	return ports
}

// launch copies the configuration's files where nghttpx reads them, the
// run's CA where it verifies (cacert=, else the system store, which
// nghttpx uses without one), a throwaway certificate where a TLS
// frontend's is missing, and starts nghttpx: it has no configuration
// test, so a configuration it refuses is one it exits on.
func (a *nghttpxAdapter) launch(ctx context.Context, r *runner) error {
	files := map[string][]byte{}
	for p, d := range a.files {
		files[p] = d
	}
	if o, ok := a.cfg.Option("cacert"); ok && o.Value != "" {
		files[o.Value] = r.ca.CertPEM()
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the run's CA was written at %s (cacert= at %s:%d), so that nghttpx trusts the backend's certificate", o.Value, relTo(a.dir, o.File), o.Line))
	} else {
		for _, f := range systemStores {
			files[f] = r.ca.CertPEM()
		}
		r.rep.Notes = append(r.rep.Notes, "the run's CA was written in the system store ("+strings.Join(systemStores, " and ")+"), which nghttpx verifies against without cacert=, so that it trusts the backend's certificate as production trusts the upstreams'")
	}
	if slices.ContainsFunc(a.frontends(), func(f lint.NgFrontend) bool { return f.TLS }) {
		if err := a.frontendCert(r, files); err != nil {
			return err
		}
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return &harness.InfraError{Op: "copy the configuration into nghttpx", Err: err}
	}
	cmd := fmt.Sprintf("nghttpx --conf=%s --errorlog-file=/dev/stderr </dev/null >/proc/1/fd/1 2>/proc/1/fd/2 & echo $!", harness.ShellQuote(nghttpxMain))
	exited, logged, err := r.startDaemon(ctx, "nghttpx", cmd, a.ports(r), r.opts.Waits.Start)
	if err != nil {
		return err
	}
	if exited {
		a.reject(r, 1, strings.Join(logged, "\n"))
		return nil
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("nghttpx runs your configuration unchanged (nghttpx --conf=%s, its error log on stderr, which check reads)", nghttpxMain))
	if on, o := a.cfg.Flag("errorlog-syslog"); on {
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("errorlog-syslog=yes (%s:%d) sends nghttpx's errors to syslog, which the run has not: check reads no error log, so a certificate nghttpx refuses after the handshake is told by the status alone", relTo(a.dir, o.File), o.Line))
	}
	return nil
}

// running is a shell test that process pid runs: it exists and is no
// zombie (the idle host's first process reaps none).
func running(pid string) string {
	return "kill -0 " + pid + " 2>/dev/null && ! grep -q '^State:[[:space:]]*Z' /proc/" + pid + "/status"
}

// systemStores are the system's CA bundle as Debian installs it and
// OpenSSL's default file (/usr/lib/ssl/cert.pem, a link to it in
// production, absent from the images): a proxy verifying against the
// system store trusts the run's CA there.
var systemStores = []string{"/etc/ssl/certs/ca-certificates.crt", "/usr/lib/ssl/cert.pem"}

// frontendCert puts the operator's certificate and key (by their path
// under the configuration's folder) where private-key-file= and
// certificate-file= name them, or a throwaway pair where the run lacks
// them.
func (a *nghttpxAdapter) frontendCert(r *runner, files map[string][]byte) error {
	key, kok := a.cfg.Option("private-key-file")
	cert, cok := a.cfg.Option("certificate-file")
	if !kok || !cok {
		return nil
	}
	local := func(p string) ([]byte, bool) {
		rel, ok := strings.CutPrefix(path.Clean(p), lint.NghttpxConfDir+"/")
		if !ok {
			return nil, false
		}
		d, err := os.ReadFile(filepath.Join(a.dir, filepath.FromSlash(rel)))
		return d, err == nil
	}
	kd, kfound := local(key.Value)
	cd, cfound := local(cert.Value)
	if kfound && cfound {
		files[key.Value], files[cert.Value] = kd, cd
		return nil
	}
	c, k, err := r.leafPEM("localhost")
	if err != nil {
		return err
	}
	files[cert.Value], files[key.Value] = c, k
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the certificate %s and key %s are missing: check made a throwaway certificate and key there", cert.Value, key.Value))
	return nil
}

// ngAtLine is where nghttpx's messages name a line of a file.
var ngAtLine = regexp.MustCompile(`(/\S+?):? (?:at )?line (\d+)`)

// ngOptionError is nghttpx's refusal of an option's value, "ERROR
// (shrpx_config.cc:N) OPTION: WORD: why", which names no line.
var ngOptionError = regexp.MustCompile(`ERROR \(shrpx_config\.cc:\d+\) ([a-z0-9-]+): ([^:\s]*)`)

// optionAt is the file:line of the first line setting option whose value
// holds word, "" when none does.
func (a *nghttpxAdapter) optionAt(option, word string) string {
	var lines []lint.NgOption
	for _, f := range a.cfg.Frontends {
		lines = append(lines, f.NgOption)
	}
	for _, b := range a.cfg.Backends {
		lines = append(lines, b.NgOption)
	}
	lines = append(lines, a.cfg.Options...)
	for _, o := range lines {
		if o.Name == option && strings.Contains(o.Value, word) {
			return fmt.Sprintf("%s:%d", relTo(a.dir, o.File), o.Line)
		}
	}
	return ""
}

// reject records nghttpx's refusal, with the operator's file and line
// where its message names one.
func (a *nghttpxAdapter) reject(r *runner, code int, out string) {
	ct := &ConfigTest{Exit: code, Output: strings.TrimSpace("nghttpx exited on the configuration:\n" + out)}
	if m := ngAtLine.FindStringSubmatch(out); m != nil && a.cfg != nil {
		if i := slices.Index(a.cfg.Paths, m[1]); i >= 0 {
			ct.At = relTo(a.dir, a.cfg.Files[i]) + ":" + m[2]
		}
	}
	if m := ngOptionError.FindStringSubmatch(out); m != nil && a.cfg != nil && ct.At == "" {
		ct.At = a.optionAt(m[1], m[2])
	}
	r.rep.Rejected = ct
}

// unparsable runs nghttpx on a configuration check's parser refused: its
// exit is the verdict.
func (a *nghttpxAdapter) unparsable(ctx context.Context, r *runner, perr error) (*Report, error) {
	if err := r.startHost(ctx, nil); err != nil {
		return nil, err
	}
	if err := r.proxy.CopyFiles(ctx, a.files); err != nil {
		return nil, &harness.InfraError{Op: "copy the configuration into nghttpx", Err: err}
	}
	code, out, err := r.proxy.Run(ctx, "timeout", "5", "nghttpx", "--conf="+nghttpxMain, "--errorlog-file=/dev/stderr")
	if err != nil {
		return nil, &harness.InfraError{Op: "nghttpx --conf", Err: err}
	}
	if code == 124 {
		return nil, usagef("sniproof cannot parse the configuration: %v (nghttpx starts with it)", perr)
	}
	ct := &ConfigTest{Exit: code, Output: strings.TrimSpace(out)}
	var ce *lint.ConfigError
	if errors.As(perr, &ce) && ce.Line > 0 {
		ct.At = fmt.Sprintf("%s:%d", relTo(a.dir, ce.File), ce.Line)
	}
	r.rep.Rejected = ct
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("sniproof's parser stopped at %v; nghttpx ran on the file", perr))
	r.rep.summarise()
	return r.rep, nil
}

// frontend is the port and scheme requests use: the first plain
// frontend's, else the first TLS one's.
func (a *nghttpxAdapter) frontend() (int, string) {
	fs := a.frontends()
	for _, f := range fs {
		if !f.TLS && reachable(f) {
			return f.Port, "http"
		}
	}
	for _, f := range fs {
		if reachable(f) {
			return f.Port, "https"
		}
	}
	return 0, "http"
}

// unreachable says why no request reaches nghttpx, "" when one does.
func (a *nghttpxAdapter) unreachable() string {
	if port, _ := a.frontend(); port > 0 {
		return ""
	}
	var at []string
	for _, f := range a.frontends() {
		at = append(at, "frontend="+f.Value)
	}
	return "nghttpx listens on no address a published port reaches (" + strings.Join(at, ", ") + ": loopback, a unix socket or one address only)"
}

// ngRequest is the host and path a request routed by pattern p has: its
// host (a wildcard's with www, any host's localhost) and its path.
func ngRequest(p string) (host, reqPath string) {
	host, reqPath = p, "/"
	if i := strings.Index(p, "/"); i >= 0 {
		host, reqPath = p[:i], p[i:]
	}
	if strings.HasPrefix(host, "*") {
		host = "www" + strings.TrimPrefix(host, "*")
	}
	if host == "" {
		host = "localhost"
	}
	return host, reqPath
}

// route is the route nghttpx gives host and path: among the patterns
// whose host is the request's (exactly, or a * wildcard's suffix), else
// among those of no host, the longest path that matches (a path ending in
// / is a prefix, another must be equal), else the catch-all; nil when
// that route is not one of the tls backends.
func (a *nghttpxAdapter) route(host, p string) *ngRoute {
	host, _ = lint.SplitHost(host)
	host = strings.ToLower(host)
	var all []string
	for _, b := range a.cfg.Backends {
		for _, pat := range b.Patterns {
			if !slices.Contains(all, pat) {
				all = append(all, pat)
			}
		}
	}
	best := func(match func(h string) bool) (string, bool) {
		found, n := "", -1
		for _, pat := range all {
			h, pp := pat, "/"
			if i := strings.Index(pat, "/"); i >= 0 {
				h, pp = pat[:i], pat[i:]
			}
			if pat == "" || !match(strings.ToLower(h)) {
				continue
			}
			if (pp == p || strings.HasSuffix(pp, "/") && strings.HasPrefix(p, pp)) && len(pp) > n {
				found, n = pat, len(pp)
			}
		}
		return found, n >= 0
	}
	pat, ok := best(func(h string) bool { return h != "" && h == host })
	if !ok {
		pat, ok = best(func(h string) bool { return strings.HasPrefix(h, "*") && strings.HasSuffix(host, h[1:]) })
	}
	if !ok {
		pat, _ = best(func(h string) bool { return h == "" })
	}
	for _, rt := range a.routes {
		if rt.pattern == pat {
			return rt
		}
	}
	return nil
}

// name is a route's location name: its pattern.
func (rt *ngRoute) name() string {
	if rt.pattern == "" {
		return "backend (catch-all)"
	}
	return "backend " + rt.pattern
}

// job is route rt's job, not checked when the backend cannot stand for
// one of its upstreams.
func (a *nghttpxAdapter) job(r *runner, rt *ngRoute) job {
	b := rt.backends[0]
	at := fmt.Sprintf("%s:%d", relTo(a.dir, b.File), b.Line)
	j := job{targets: rt.targets, loc: Location{Location: rt.name(), At: at, Pass: "backend=" + b.Value, PassAt: at,
		Place: fmt.Sprintf("%s %s", relTo(a.dir, a.file), rt.name())}}
	if a.byPlace == nil {
		a.byPlace = map[string]*ngRoute{}
	}
	a.byPlace[j.loc.Place] = rt
	if why := a.unreachable(); why != "" {
		j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked = NotChecked, VerdictSkip, why
	}
	for _, t := range rt.targets {
		if why := r.skipIP[t.Host]; t.IP && why != "" {
			j.loc.Outcome, j.loc.Verdict = NotChecked, VerdictSkip
			j.loc.NotChecked = fmt.Sprintf("the upstream %s cannot be impersonated: %s", t, why)
		}
	}
	return j
}

// jobs are one request per pattern of the tls backends, on the first
// frontend, or an expectations entry's requests, routed as nghttpx routes
// them.
func (a *nghttpxAdapter) jobs(r *runner, entries []Entry) []job {
	var out []job
	port, scheme := a.frontend()
	if entries == nil {
		for _, rt := range a.routes {
			j := a.job(r, rt)
			host, p := ngRequest(rt.pattern)
			req := Request{Scheme: scheme, Host: host, Port: port, Path: p, Method: "GET"}
			j.loc.Request, j.loc.Key, j.port = &req, req.String(), port
			out = append(out, j)
		}
		return out
	}
	return entryJobs(entries, a.routes, "no tls backend", func(req *Request) (*ngRoute, bool, string) {
		req.Port = cmp.Or(req.Port, port)
		req.Scheme = cmp.Or(req.Scheme, scheme)
		rt := a.route(req.Host, req.Path)
		return rt, rt != nil, fmt.Sprintf("no backend with tls serves %s%s", req.Host, req.Path)
	}, func(rt *ngRoute) job { return a.job(r, rt) })
}

// own keeps every event: nghttpx makes no connection of its own to a
// backend without health checks.
func (*nghttpxAdapter) own(_ *runner, _ *job, events []backend.Event, _ bool) []backend.Event {
	return events
}

func (a *nghttpxAdapter) diagnose(_ *runner, j *job, obs *harness.Observation) diagnosis {
	rt := a.byPlace[j.loc.Place]
	rewrite, _ := a.cfg.Flag("host-rewrite")
	insecure, _ := a.cfg.Flag("insecure")
	return diagnoseNghttpx(rt, rewrite, insecure, obs)
}

// diagnoseNghttpx explains an observation of route rt's request, under
// the process's host-rewrite and insecure.
func diagnoseNghttpx(rt *ngRoute, rewrite, insecure bool, obs *harness.Observation) diagnosis {
	var d diagnosis
	b := rt.backends[0]
	mismatch := slices.ContainsFunc(obs.ProxyLog, func(l string) bool { return strings.Contains(l, "hostname does not match") })
	switch {
	case obs.Backend == fixtures.BackendServed && mismatch:
		d.Cause = CauseVerify
		d.Explanation = fmt.Sprintf("nghttpx completed the handshake (SNI %s), then refused the certificate: \"Certificate verification failed: hostname does not match\", checked against %s", sawText(obs.SNI), ngCheckedName(b))
		d.Fix = lint.NghttpxFix(b, "<the name the upstream's certificate holds>")
	case obs.Backend == fixtures.BackendServed:
		if obs.Status > 0 && obs.Status < 500 && obs.Status != 421 {
			d.Works = true
			return d
		}
		d.Cause = CauseBadResponse
		d.Explanation = servedButFailed(obs)
		if obs.Status == 421 {
			if rewrite {
				d.Explanation += fmt.Sprintf(": host-rewrite=yes sent the backend host %s as Host and %s as SNI", b.Host, sawText(obs.SNI))
				d.Fix = lint.NghttpxHostFix(b, b.SNI)
			} else {
				d.Explanation += ": nghttpx passed the client's Host unchanged, another name than the SNI"
				d.Fix = "host-rewrite=yes"
			}
		}
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonMissingSNI:
		d.Cause = CauseNoSNI
		d.Explanation = fmt.Sprintf("nghttpx sent no SNI (the backend host %s is an IP address, which nghttpx never sends, and the line has no sni=), and the upstream refused the handshake%s", b.Host, alertOf(obs))
		var fixes []string
		for _, g := range rt.backends {
			if g.IP() && g.SNI == "" {
				fixes = append(fixes, lint.NghttpxFix(g, "<the upstream's host name>"))
			}
		}
		d.Fix = strings.Join(fixes, " and ")
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonUnknownSNI:
		d.Cause = CauseWrongName
		src := "the backend host"
		if b.SNI != "" {
			src = "sni=" + b.SNI
		}
		d.Explanation = fmt.Sprintf("nghttpx sent SNI %q (%s), a name the upstream does not serve, and it refused the handshake%s", deref(obs.SNI), src, alertOf(obs))
		d.Fix = lint.NghttpxFix(b, "<the upstream's host name>")
	case obs.Backend == fixtures.BackendRefused:
		d.Cause, d.Explanation = CauseTimeout, "the upstream never answered the handshake"
	case obs.Backend == fixtures.BackendFailed:
		d.Cause = CauseHandshake
		d.Explanation = fmt.Sprintf("the handshake with the upstream failed (the upstream saw %q)", obs.Reason)
		if !insecure {
			d.Cause = CauseVerify
			d.Explanation = fmt.Sprintf("nghttpx refused the upstream's certificate (the upstream saw %q; nghttpx logs only \"Could not connect\")", obs.Reason)
			d.Fix = "cacert=<the CA bundle that issued the upstream's certificate>"
		}
	default:
		if obs.Status > 0 && obs.Status < 500 {
			d.Works = true
			return d
		}
		d.Cause, d.Explanation = CauseUnreachable, "no ClientHello reached the upstream"
		if obs.Status == 504 || strings.Contains(strings.ToLower(obs.Error), "timeout") {
			d.Cause, d.Explanation = CauseTimeout, "the request timed out before any ClientHello reached the upstream"
		}
	}
	return d
}

// ngCheckedName is what nghttpx checks the certificate against: the sni=
// name, else the backend host (an IP one against IP SANs).
func ngCheckedName(b lint.NgBackend) string {
	if b.SNI != "" {
		return "sni=" + b.SNI
	}
	return "the backend host " + b.Host
}

func (a *nghttpxAdapter) describe(_ *runner, j *job) {
	rt := a.byPlace[j.loc.Place]
	if rt == nil {
		return
	}
	insecure, _ := a.cfg.Flag("insecure")
	for _, f := range a.findings() {
		if slices.ContainsFunc(rt.backends, func(b lint.NgBackend) bool { return relTo(a.dir, b.File) == f.File && b.Line == f.Line }) || insecure && f.Rule == "NGH003" {
			j.loc.Lint = append(j.loc.Lint, finding(f))
		}
	}
	var cfg strings.Builder
	for _, b := range rt.backends {
		cfg.WriteString("backend=" + b.Value + "\n")
	}
	j.loc.Config = cfg.String()
}
