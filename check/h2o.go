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
	"strconv"
	"strings"

	"github.com/testcontainers/testcontainers-go"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// ProxyH2O is h2o, Debian's h2o package.
const ProxyH2O = "h2o"

// h2oAdapter checks h2o configurations (h2o -c, Debian's
// /etc/h2o/h2o.conf with the files its !file tags name), run unchanged by
// the h2o of the run's image: one request per path whose
// proxy.reverse.url is https, to a listener of its host, with the host's
// name and the path.
type h2oAdapter struct {
	Upstreams
	// file is the main file on this machine, dir its folder, main its
	// path in the container.
	file, dir, main string
	cfg             *lint.H2OConfig
	paths           []*h2Path
	// byPlace are the paths by their jobs' Place.
	byPlace map[string]*h2Path
}

// h2Path is a path with an https upstream, where its connections go and
// the listener its request reaches.
type h2Path struct {
	*lint.H2OPath
	up     lint.H2OUpstream
	target Target
	// listen is the listener a request for the path's host goes to, nil
	// when none is on every address.
	listen *lint.H2OListen
}

func init() { register(ProxyH2O, func() adapter { return &h2oAdapter{} }) }

var h2oKind = mustKind(ProxyH2O)

func (*h2oAdapter) kind() harness.Kind { return h2oKind }

func (*h2oAdapter) claims(config string) bool {
	return claimsFile(config, "h2o.conf", lint.LooksLikeH2O)
}

func (a *h2oAdapter) load(r *runner) (error, error) {
	a.file = mainFile(r.opts.Config, "h2o.conf")
	if err := readable(a.file); err != nil {
		return nil, err
	}
	a.dir = filepath.Dir(a.file)
	a.main = path.Join(lint.H2OConfDir, filepath.Base(a.file))
	r.newReport(a.dir, a.main)
	data, err := os.ReadFile(a.file)
	if err != nil {
		return nil, usagef("cannot read the configuration %s: %v", a.file, cause(err))
	}
	cfg, perr := lint.ParseH2O(a.file, a.main, data, lint.H2OIncludes(a.file))
	if perr != nil {
		a.cfg = &lint.H2OConfig{Files: []lint.H2OFile{{Path: a.file, Container: a.main, Data: data}}}
		return perr, nil
	}
	a.cfg = cfg
	return nil, nil
}

// at is a directive's FILE:LINE as reports name it.
func (a *h2oAdapter) at(v lint.H2OValue) string {
	return fmt.Sprintf("%s:%d", relTo(a.dir, v.File), v.Line)
}

func (a *h2oAdapter) plan(r *runner) {
	up := newCollector()
	a.byPlace = map[string]*h2Path{}
	for _, p := range a.cfg.TLSPaths() {
		u, _ := p.Upstream()
		hp := &h2Path{H2OPath: p, up: u, target: Target{Host: u.Host, Port: u.Port, IP: u.IP()}, listen: a.listener(p.Host)}
		up.target(hp.target)
		a.paths = append(a.paths, hp)
	}
	var notes []string
	a.Upstreams, notes = up.upstreams()
	r.up = &a.Upstreams
	r.rep.Notes = append(r.rep.Notes, notes...)
	r.rep.Notes = append(r.rep.Notes, a.cfg.Notes...)
	for _, f := range a.findings(a.cfg.Findings()) {
		r.rep.Lint = append(r.rep.Lint, finding(f))
	}
}

// findings are lint's fs, with files named as reports name them.
func (a *h2oAdapter) findings(fs []lint.Finding) []lint.Finding {
	for i := range fs {
		fs[i].File = relTo(a.dir, fs[i].File)
	}
	return fs
}

// reachableListen reports whether Docker's published port reaches l: a
// TCP port on every address.
func reachableListen(l lint.H2OListen) bool {
	return l.Port > 0 && slices.Contains([]string{"", "0.0.0.0", "::", "*"}, l.Host)
}

// listens are the listeners h is on: its own, else the global ones.
func (a *h2oAdapter) listens(h *lint.H2OHost) []lint.H2OListen {
	if len(h.Listens) > 0 {
		return h.Listens
	}
	return a.cfg.Listens
}

// listener is the listener a request for host h goes to: one on the
// port of h's key, else its first (the request's Host then names the
// key's port, which h2o matches), on every address; nil when none is,
// or h is nil.
func (a *h2oAdapter) listener(h *lint.H2OHost) *lint.H2OListen {
	if h == nil {
		return nil
	}
	ls := a.listens(h)
	for _, match := range []func(lint.H2OListen) bool{
		func(l lint.H2OListen) bool { return h.Port == 0 || l.Port == h.Port },
		func(lint.H2OListen) bool { return true },
	} {
		for i := range ls {
			if reachableListen(ls[i]) && match(ls[i]) {
				return &ls[i]
			}
		}
	}
	return nil
}

// host starts the image idle: h2o starts once its files are in.
func (*h2oAdapter) host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error) {
	return r.sess.RunIdleHost(ctx, r.rep.Image, networks, opts...)
}

func (a *h2oAdapter) ports(*runner) []int {
	var ports []int
	all := slices.Clone(a.cfg.Listens)
	for _, h := range a.cfg.Hosts {
		all = append(all, h.Listens...)
	}
	for _, l := range all {
		if reachableListen(l) && !slices.Contains(ports, l.Port) {
			ports = append(ports, l.Port)
		}
	}
	return ports
}

// local is the operator's file standing for container path p: under
// /etc/h2o, the configuration's folder's; "" for any other.
func (a *h2oAdapter) local(p string) string {
	if rel, ok := strings.CutPrefix(p, lint.H2OConfDir+"/"); ok {
		return filepath.Join(a.dir, filepath.FromSlash(rel))
	}
	return ""
}

// levels are every level of the configuration: global, hosts, paths.
func (a *h2oAdapter) levels() []*lint.H2OLevel {
	out := []*lint.H2OLevel{&a.cfg.Global}
	for _, h := range a.cfg.Hosts {
		out = append(out, &h.H2OLevel)
		for _, p := range h.Paths {
			out = append(out, &p.H2OLevel)
		}
	}
	return out
}

// files are the configuration's files, the run's CA at every
// proxy.ssl.cafile, and the certificate and key of every ssl listener:
// the operator's where the folder has them, throwaway ones where not.
func (a *h2oAdapter) files(r *runner) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, f := range a.cfg.Files {
		files[f.Container] = f.Data
	}
	for _, l := range a.levels() {
		for _, v := range l.Values {
			if v.Name != "proxy.ssl.cafile" || v.Value == "" {
				continue
			}
			at := lint.H2OFileAt(v.Value)
			if _, done := files[at]; !done {
				files[at] = r.ca.CertPEM()
				r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the run's CA was written at %s (proxy.ssl.cafile at %s), so that h2o trusts the backend's certificate", at, a.at(v)))
			}
		}
	}
	all := slices.Clone(a.cfg.Listens)
	for _, h := range a.cfg.Hosts {
		all = append(all, h.Listens...)
	}
	for _, l := range all {
		if !l.SSL || l.Cert.Value == "" || l.Key.Value == "" {
			continue
		}
		cert, key := lint.H2OFileAt(l.Cert.Value), lint.H2OFileAt(l.Key.Value)
		if _, done := files[cert]; done {
			continue
		}
		cd, cerr := a.read(cert, l.Cert)
		kd, kerr := a.read(key, l.Key)
		if err := cmp.Or(cerr, kerr); err != nil {
			return nil, err
		}
		if cd != nil && kd != nil {
			files[cert], files[key] = cd, kd
			continue
		}
		c, k, err := r.leafPEM("localhost")
		if err != nil {
			return nil, err
		}
		files[cert], files[key] = c, k
		if cert == key {
			files[cert] = append(c, k...)
		}
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the certificate %s and key %s (listen at %s) are missing: check made a throwaway certificate and key there", cert, key, a.at(l.H2OValue)))
	}
	return files, nil
}

// read is the operator's file at container path p, named at v: nil when
// the folder does not have it.
func (a *h2oAdapter) read(p string, v lint.H2OValue) ([]byte, error) {
	host := a.local(p)
	if host == "" {
		return nil, nil
	}
	data, err := os.ReadFile(host)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, usagef("cannot read %s (named at %s): %v", host, a.at(v), cause(err))
	}
	return data, nil
}

// rotatelogsLink is the link rotatelogs -L keeps to its current file, as
// Debian's h2o.conf pipes its logs.
var rotatelogsLink = regexp.MustCompile(`\s-L\s+(\S+)`)

// errorLog is the file h2o's error log is in, when check can follow it:
// error-log's file, or the link of a rotatelogs -L pipe; note says what
// check does with it.
func (a *h2oAdapter) errorLog() (file, note string) {
	v, ok := a.cfg.Global.Get("error-log")
	switch {
	case !ok:
		return "", ""
	case !strings.HasPrefix(v.Value, "|"):
		return lint.H2OFileAt(v.Value), fmt.Sprintf("h2o writes its errors to %s (error-log at %s), which check follows", lint.H2OFileAt(v.Value), a.at(v))
	}
	if m := rotatelogsLink.FindStringSubmatch(v.Value); m != nil {
		return lint.H2OFileAt(m[1]), fmt.Sprintf("h2o pipes its errors to rotatelogs (error-log at %s), whose link %s check follows", a.at(v), lint.H2OFileAt(m[1]))
	}
	return "", fmt.Sprintf("h2o pipes its errors to a command (error-log at %s): check reads no error log, so a failed handshake is told by the status and the backend alone", a.at(v))
}

// h2oAt is the FILE:LINE of h2o's messages: "[FILE:LINE] in command",
// "configuration file FILE line LINE".
var h2oAt = regexp.MustCompile(`\[(/[^\]:]+):(\d+)\]|configuration file (/\S+) line (\d+)`)

// reject records h2o's refusal, with the operator's file and line.
func (a *h2oAdapter) reject(r *runner, code int, out string) {
	ct := &ConfigTest{Exit: code, Output: strings.TrimSpace(out)}
	if m := h2oAt.FindStringSubmatch(out); m != nil {
		file, line := cmp.Or(m[1], m[3]), cmp.Or(m[2], m[4])
		ct.At = file + ":" + line
		for _, f := range a.cfg.Files {
			if f.Container == file {
				ct.At = relTo(a.dir, f.Path) + ":" + line
			}
		}
	}
	r.rep.Rejected = ct
}

// launch copies the files in, makes the folders of the pid file and the
// logs, tests the configuration with h2o -t and starts h2o as Debian's
// h2o.service does (-m master, from /: the master writes the pid file as
// root, its worker runs as the configuration's user), with its error log
// followed on the container's stderr.
func (a *h2oAdapter) launch(ctx context.Context, r *runner) error {
	files, err := a.files(r)
	if err != nil {
		return err
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return &harness.InfraError{Op: "copy the configuration into h2o", Err: err}
	}
	logFile, logNote := a.errorLog()
	mkdir := []string{"mkdir", "-p", "/var/log/h2o"}
	for _, name := range []string{"pid-file", "error-log", "access-log"} {
		if v, ok := a.cfg.Global.Get(name); ok && !strings.HasPrefix(v.Value, "|") && v.Value != "" {
			mkdir = append(mkdir, path.Dir(lint.H2OFileAt(v.Value)))
		}
	}
	if logFile != "" {
		mkdir = append(mkdir, path.Dir(logFile))
	}
	if code, out, err := r.proxy.Run(ctx, mkdir...); err != nil || code != 0 {
		return &harness.InfraError{Op: "make the folders of h2o's logs", Err: fmt.Errorf("exit %d: %v %s", code, err, out)}
	}
	code, out, err := r.proxy.Run(ctx, "sh", "-c", "cd / && "+strings.Join(h2oKind.TestCmd(harness.ShellQuote(a.main)), " ")+" 2>&1")
	if err != nil {
		return &harness.InfraError{Op: testName(h2oKind), Err: err}
	}
	if code != 0 {
		a.reject(r, code, out)
		return nil
	}
	script := fmt.Sprintf("cd / && h2o -c %s -m master </dev/null >/proc/1/fd/1 2>/proc/1/fd/2 & echo $!", harness.ShellQuote(a.main))
	exited, logged, err := r.startDaemon(ctx, "h2o", script, a.ports(r), r.opts.Waits.Start)
	if err != nil {
		return err
	}
	if exited {
		a.reject(r, 1, "h2o -t accepted the configuration, but h2o did not start:\n"+strings.Join(logged, "\n"))
		return nil
	}
	// Followed once h2o listens: rotatelogs -L makes its link then.
	if logFile != "" {
		follow := fmt.Sprintf("tail -n +1 -s 0.2 -F %s >/proc/1/fd/2 2>/dev/null &", harness.ShellQuote(logFile))
		if code, out, err := r.proxy.Run(ctx, "sh", "-c", follow); err != nil || code != 0 {
			return &harness.InfraError{Op: "follow h2o's error log", Err: fmt.Errorf("exit %d: %v %s", code, err, out)}
		}
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("h2o runs your configuration unchanged (h2o -c %s -m master, from /, as Debian's h2o.service starts it); check reads its messages on its standard streams", a.main))
	if logNote != "" {
		r.rep.Notes = append(r.rep.Notes, logNote)
	}
	if slices.ContainsFunc(a.paths, func(p *h2Path) bool { _, ok := p.Get("proxy.ssl.cafile"); return !ok }) {
		r.rep.Notes = append(r.rep.Notes, "a path without proxy.ssl.cafile is verified against h2o's default CA bundle, /usr/share/h2o/ca-bundle.crt, which Debian's package does not ship: check leaves it missing, as on a host")
	}
	return nil
}

// unparsable runs h2o -t on a configuration check's parser refused: its
// message is the verdict.
func (a *h2oAdapter) unparsable(ctx context.Context, r *runner, perr error) (*Report, error) {
	if err := r.startHost(ctx, nil); err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	for _, f := range a.cfg.Files {
		files[f.Container] = f.Data
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return nil, &harness.InfraError{Op: "copy the configuration into h2o", Err: err}
	}
	code, out, err := r.proxy.Run(ctx, "sh", "-c", "cd / && "+strings.Join(h2oKind.TestCmd(harness.ShellQuote(a.main)), " ")+" 2>&1")
	if err != nil {
		return nil, &harness.InfraError{Op: testName(h2oKind), Err: err}
	}
	if code == 0 {
		return nil, usagef("sniproof cannot parse the configuration: %v (h2o -t accepts it)", perr)
	}
	a.reject(r, code, out)
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("sniproof's parser stopped at %v; h2o -t ran on the file", perr))
	r.rep.summarise()
	return r.rep, nil
}

// request is the request check makes up for path p: to its listener,
// with its host's name (a wildcard's with www, and the key's port unless
// it is the scheme's) and its path.
func (p *h2Path) request() Request {
	scheme, def := "http", 80
	if p.listen.SSL {
		scheme, def = "https", 443
	}
	host := p.Host.Name
	if rest, ok := strings.CutPrefix(host, "*"); ok {
		host = "www" + rest
	}
	if p.Host.Port != 0 && p.Host.Port != def {
		host = net2(host, p.Host.Port)
	}
	reqPath := p.Path
	if !strings.HasPrefix(reqPath, "/") {
		reqPath = "/"
	}
	return Request{Scheme: scheme, Host: host, Port: p.listen.Port, Path: reqPath, Method: "GET"}
}

// schemeOn is the scheme of the listener on port, "" when none is.
func (a *h2oAdapter) schemeOn(port int) string {
	all := slices.Clone(a.cfg.Listens)
	for _, h := range a.cfg.Hosts {
		all = append(all, h.Listens...)
	}
	for _, l := range all {
		if l.Port == port {
			return map[bool]string{true: "https", false: "http"}[l.SSL]
		}
	}
	return ""
}

// route is the path h2o gives req, as it chooses: the first host whose
// name (exactly, or a *. wildcard's suffix) and port (the key's, else
// the scheme's default) are the Host's, else the first host; then its
// path that is the longest prefix of the request's. A request naming no
// port and no scheme, which check sends to its host's listener, is
// matched by the name alone. Nil, and why, when that path has no https
// upstream; host is the host chosen, nil when there is none.
func (a *h2oAdapter) route(req *Request) (p *h2Path, host *lint.H2OHost, why string) {
	name, port := lint.SplitHost(req.Host)
	name = strings.ToLower(name)
	def := map[bool]int{true: 443, false: 80}[req.Scheme == "https"]
	want := def
	if n, err := strconv.Atoi(port); err == nil {
		want = n
	}
	anyPort := req.Port == 0 && req.Scheme == ""
	for _, h := range a.cfg.Hosts {
		match := h.Name == name || strings.HasPrefix(h.Name, "*.") && strings.HasSuffix(name, h.Name[1:])
		if match && (anyPort || h.Port == want || h.Port == 0 && want == def) {
			host = h
			break
		}
	}
	if host == nil && len(a.cfg.Hosts) > 0 {
		host = a.cfg.Hosts[0]
	}
	if host == nil {
		return nil, nil, "the configuration has no host"
	}
	var best *lint.H2OPath
	for _, p := range host.Paths {
		if strings.HasPrefix(req.Path, p.Path) && (best == nil || len(p.Path) > len(best.Path)) {
			best = p
		}
	}
	if best == nil {
		return nil, host, fmt.Sprintf("no path of host %s is a prefix of %s", host.Key, req.Path)
	}
	for _, p := range a.paths {
		if p.H2OPath == best {
			return p, host, ""
		}
	}
	return nil, host, fmt.Sprintf("%s has no https proxy.reverse.url", best.Location())
}

// job is path p's job, not checked when no listener of its host is on
// every address or the backend cannot take its upstream's address.
func (a *h2oAdapter) job(r *runner, p *h2Path) job {
	j := job{targets: []Target{p.target}, loc: Location{Location: p.Location(), At: fmt.Sprintf("%s:%d", relTo(a.dir, p.File), p.Line),
		Server: "host " + p.Host.Key, Pass: "proxy.reverse.url: " + p.up.URL.Value, PassAt: a.at(p.up.URL),
		Place: relTo(a.dir, a.file) + " " + p.Location()}}
	a.byPlace[j.loc.Place] = p
	switch why := r.skipIP[p.target.Host]; {
	case p.listen == nil:
		j.loc.Outcome, j.loc.Verdict, j.loc.Key = NotChecked, VerdictSkip, j.loc.Place
		j.loc.NotChecked = fmt.Sprintf("no listener of host %s is a TCP port on every address: check's requests come from outside the container", p.Host.Key)
	case p.target.IP && why != "":
		j.loc.Outcome, j.loc.Verdict, j.loc.Key = NotChecked, VerdictSkip, j.loc.Place
		j.loc.NotChecked = fmt.Sprintf("the upstream %s cannot be impersonated: %s", p.target, why)
	default:
		req := p.request()
		j.loc.Request, j.loc.Key, j.port = &req, req.String(), req.Port
	}
	return j
}

// jobs are one request per path with an https upstream, or an
// expectations entry's requests, each to the path h2o routes it to.
func (a *h2oAdapter) jobs(r *runner, entries []Entry) []job {
	if entries == nil {
		var out []job
		for _, p := range a.paths {
			out = append(out, a.job(r, p))
		}
		return out
	}
	return entryJobs(entries, a.paths, "no path", func(req *Request) (*h2Path, bool, string) {
		req.Method, req.Path = cmp.Or(req.Method, "GET"), cmp.Or(req.Path, "/")
		if req.Scheme == "" && req.Port != 0 {
			req.Scheme = a.schemeOn(req.Port)
		}
		p, host, why := a.route(req)
		if l := a.listener(host); l != nil {
			req.Port = cmp.Or(req.Port, l.Port)
			req.Scheme = cmp.Or(req.Scheme, map[bool]string{true: "https", false: "http"}[l.SSL])
		}
		req.Scheme = cmp.Or(req.Scheme, "http")
		return p, p != nil, why
	}, func(p *h2Path) job { return a.job(r, p) })
}

// own keeps every event: h2o makes no connection of its own to an
// upstream.
func (*h2oAdapter) own(_ *runner, _ *job, events []backend.Event, _ bool) []backend.Event {
	return events
}

func (a *h2oAdapter) diagnose(_ *runner, j *job, obs *harness.Observation) diagnosis {
	return a.explain(a.byPlace[j.loc.Place], obs)
}

// explain explains an observation of path p's request.
func (a *h2oAdapter) explain(p *h2Path, obs *harness.Observation) diagnosis {
	var d diagnosis
	fix := "proxy.reverse.url: " + p.up.With("<the upstream's host name>")
	logged := logLine(obs.ProxyLog, "[lib/core/proxy.c]")
	if logged != "" {
		logged = fmt.Sprintf("; h2o logged %q", strings.TrimSpace(logged))
	}
	switch {
	case obs.Backend == fixtures.BackendServed:
		if obs.Status > 0 && obs.Status < 500 && obs.Status != 421 {
			d.Works = true
			return d
		}
		d.Cause = CauseBadResponse
		d.Explanation = servedButFailed(obs)
		if on, v := p.On("proxy.preserve-host", false); obs.Status == 421 && on {
			d.Explanation += fmt.Sprintf(": proxy.preserve-host: ON (%s) sends the client's Host, another name than the SNI %s", a.at(v), p.up.Host)
			d.Fix = "proxy.preserve-host: OFF"
		}
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonUnknownSNI:
		d.Cause, d.Fix = CauseWrongName, fix
		from := "the host of proxy.reverse.url, which h2o always sends"
		if p.up.IP() {
			from = "the IP literal of proxy.reverse.url, which h2o sends as SNI although RFC 6066 forbids it"
		}
		d.Explanation = fmt.Sprintf("h2o sent SNI %q (%s), a name the upstream does not serve, and it refused the handshake%s%s", deref(obs.SNI), from, alertOf(obs), logged)
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonMissingSNI:
		d.Cause, d.Fix = CauseNoSNI, fix
		d.Explanation = "h2o sent no SNI, and the upstream refused the handshake" + alertOf(obs) + logged
	case obs.Backend == fixtures.BackendRefused:
		d.Cause, d.Explanation = CauseTimeout, "the upstream never answered the handshake"
	case obs.Backend == fixtures.BackendFailed:
		d.Cause = CauseHandshake
		d.Explanation = fmt.Sprintf("the handshake with the upstream failed (the upstream saw %q)%s", obs.Reason, logged)
		if verify, _ := p.On("proxy.ssl.verify-peer", true); verify {
			d.Cause = CauseVerify
			if ca, ok := p.Get("proxy.ssl.cafile"); ok {
				d.Explanation = fmt.Sprintf("h2o refused the upstream's certificate, verified against proxy.ssl.cafile %s (the upstream saw %q)%s", ca.Value, obs.Reason, logged)
				d.Fix = "proxy.ssl.cafile: <the CA bundle that issued the upstream's certificate>"
			} else {
				d.Explanation = fmt.Sprintf("h2o refused the upstream's certificate after it sent %s: without proxy.ssl.cafile it verifies against its default CA bundle, which Debian's package does not ship (the upstream saw %q)%s", sawText(obs.SNI), obs.Reason, logged)
				d.Fix = "proxy.ssl.cafile: /etc/ssl/certs/ca-certificates.crt"
			}
		}
	default:
		if obs.Status > 0 && obs.Status < 500 {
			d.Works = true
			return d
		}
		d.Cause, d.Explanation = CauseUnreachable, "no ClientHello reached the upstream"+logged
	}
	return d
}

// describe adds the path's directives as written, the proxy directives
// it inherits, and the findings in effect there.
func (a *h2oAdapter) describe(_ *runner, j *job) {
	p := a.byPlace[j.loc.Place]
	if p == nil {
		return
	}
	for _, f := range a.findings(p.Findings()) {
		j.loc.Lint = append(j.loc.Lint, finding(f))
	}
	var b strings.Builder
	b.WriteString(p.Path + ":\n")
	shown := map[string]bool{}
	for _, v := range p.Values {
		shown[v.Name] = true
		b.WriteString("  " + h2oShown(v) + "\n")
	}
	for _, v := range slices.Concat(p.Host.Values, a.cfg.Global.Values) {
		if !strings.HasPrefix(v.Name, "proxy.") || shown[v.Name] {
			continue
		}
		shown[v.Name] = true
		v, _ = p.Get(v.Name)
		from := "global"
		if slices.Contains(p.Host.Values, v) {
			from = "host " + p.Host.Key
		}
		fmt.Fprintf(&b, "%s  # inherited from %s, %s\n", h2oShown(v), from, a.at(v))
	}
	j.loc.Config = b.String()
}

// h2oShown is a directive as the report shows it, a header directive's
// "NAME: VALUE" quoted so that the report's redaction reads it as a
// header line (proxy.header.set: "Authorization: Bearer ..."); a value of
// several lines (an mruby handler's code) by its length only; a mapping
// or sequence by its name.
func h2oShown(v lint.H2OValue) string {
	val := v.Value
	switch {
	case strings.Contains(val, "\n"):
		return fmt.Sprintf("%s: |  # %d lines", v.Name, strings.Count(strings.TrimRight(val, "\n"), "\n")+1)
	case strings.Contains(val, ": ") || strings.Contains(val, " #"):
		return fmt.Sprintf("%s: %q", v.Name, val)
	case val == "":
		return v.Name + ":"
	}
	return v.Name + ": " + val
}
