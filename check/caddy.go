package check

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// ProxyCaddy is Caddy, configured with a Caddyfile or its JSON.
const ProxyCaddy = "caddy"

// caddyAdapter checks Caddy's configurations, run unchanged by the caddy
// of the run's image. Routes come from the JSON Caddy's own adapter makes
// (caddy adapt, in the image) of a Caddyfile; lint's small Caddyfile
// parser gives, before the proxy starts, the upstreams to impersonate and
// each route's line.
type caddyAdapter struct {
	Upstreams
	// file is the configuration on this machine, main its path in the
	// container; data its content.
	file, main string
	data       []byte
	// parsed is what lint read of the file; adapted the routes of the
	// JSON the proxy runs (caddy adapt's for a Caddyfile).
	parsed  *lint.CaddyConfig
	adapted []*cdRoute
	byPlace map[string]*cdRoute
	// planned are the upstream addresses the backend impersonates.
	planned map[string]bool
}

// cdRoute is a reverse_proxy route to TLS upstreams and where its
// connections go.
type cdRoute struct {
	lint.CaddyRoute
	targets []Target
	// skip says why the route is not requested, "" when it is.
	skip string
}

func init() { register(ProxyCaddy, func() adapter { return &caddyAdapter{} }) }

var caddyKind = mustKind(ProxyCaddy)

func (*caddyAdapter) kind() harness.Kind { return caddyKind }

func (*caddyAdapter) claims(config string) bool {
	return claimsFile(config, "Caddyfile", lint.LooksLikeCaddy)
}

func (a *caddyAdapter) load(r *runner) (error, error) {
	a.file = mainFile(r.opts.Config, "Caddyfile")
	if err := readable(a.file); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(a.file)
	if err != nil {
		return nil, usagef("cannot read the configuration %s: %v", a.file, cause(err))
	}
	a.data, a.main = data, caddyKind.ConfigPath
	if lint.IsCaddyJSON(data) {
		a.main = path.Join(path.Dir(caddyKind.ConfigPath), "caddy.json")
	}
	r.newReport(filepath.Dir(a.file), a.main)
	cfg, perr := lint.ReadCaddy(a.file, data)
	if perr != nil {
		return perr, nil
	}
	a.parsed = cfg
	return nil, nil
}

// plan impersonates every TLS upstream the parsed configuration dials,
// and every fixed tls_server_name.
func (a *caddyAdapter) plan(r *runner) {
	up := newCollector()
	a.planned = map[string]bool{}
	for _, rt := range a.parsed.Routes {
		for _, t := range caddyTargets(rt) {
			up.target(t)
			a.planned[t.String()] = true
		}
		if n := rt.ServerName; rt.TLS && n != "" && !strings.ContainsAny(n, "{:") && !lint.IsIP(n) {
			up.names.add(strings.ToLower(n))
		}
	}
	var notes []string
	a.Upstreams, notes = up.upstreams()
	r.rep.Notes = append(r.rep.Notes, notes...)
	r.up = &a.Upstreams
	for _, f := range a.findings() {
		r.rep.Lint = append(r.rep.Lint, finding(f))
	}
}

// shown is a file of the configuration as the report names it: relative
// to the configuration's folder.
func (a *caddyAdapter) shown(file string) string {
	if rel, err := filepath.Rel(filepath.Dir(a.file), file); err == nil && !strings.HasPrefix(rel, "..") {
		return filepath.ToSlash(rel)
	}
	return file
}

// findings are lint's, with the files as the report names them.
func (a *caddyAdapter) findings() []lint.Finding {
	fs := a.parsed.Findings()
	for i := range fs {
		fs[i].File = a.shown(fs[i].File)
	}
	return fs
}

// caddyTargets are a TLS route's upstream endpoints; none for a dial
// address with a placeholder.
func caddyTargets(rt lint.CaddyRoute) []Target {
	if !rt.TLS {
		return nil
	}
	var out []Target
	for _, d := range rt.Dials {
		host, port := lint.SplitHost(d)
		n, err := strconv.Atoi(port)
		host = strings.Trim(host, "[]")
		if err != nil || host == "" || strings.Contains(host, "{") {
			continue
		}
		out = append(out, Target{Host: strings.ToLower(host), Port: n, IP: lint.IsIP(host)})
	}
	return out
}

// host starts the run's Caddy image idle, waiting for the configuration.
func (*caddyAdapter) host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error) {
	return r.sess.RunIdleHost(ctx, r.rep.Image, networks, opts...)
}

// ports are the listen ports of the sites.
func (a *caddyAdapter) ports(*runner) []int {
	var ports []int
	for _, rt := range a.parsed.Routes {
		if !slices.Contains(ports, rt.Port) {
			ports = append(ports, rt.Port)
		}
	}
	return ports
}

// certFiles adds the certificate and key files the sites load: the
// operator's, found by their name in the configuration's folder, else a
// throwaway certificate for the site's hosts from the run's CA.
func (a *caddyAdapter) certFiles(r *runner, files map[string][]byte) error {
	for _, c := range a.parsed.Certs {
		abs := func(name string) string { return path.Join("/", name) }
		dir := filepath.Dir(a.file)
		cert, cerr := os.ReadFile(filepath.Join(dir, filepath.Base(c.Cert)))
		key, kerr := os.ReadFile(filepath.Join(dir, filepath.Base(c.Key)))
		if cerr == nil && kerr == nil {
			files[abs(c.Cert)], files[abs(c.Key)] = cert, key
			continue
		}
		names := c.Hosts
		if len(names) == 0 {
			names = []string{"localhost"}
		}
		cert, key, err := r.leafPEM(names...)
		if err != nil {
			return err
		}
		files[abs(c.Cert)], files[abs(c.Key)] = cert, key
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the certificate %s and key %s are missing: check made a throwaway certificate for %s there", c.Cert, c.Key, strings.Join(names, ", ")))
	}
	return nil
}

// caddyStorage is where Caddy, run as root, keeps the certificates its
// default ACME issuer got.
const caddyStorage = "/root/.local/share/caddy/certificates/acme-v02.api.letsencrypt.org-directory"

// siteCerts puts a certificate from the run's CA in Caddy's storage for
// every host of an HTTPS route whose site loads no certificate file, as
// its ACME CA issued one in production,
// so that Caddy serves it and asks no CA.
func (a *caddyAdapter) siteCerts(ctx context.Context, r *runner) error {
	files := map[string][]byte{}
	var hosts, loaded []string
	for _, c := range a.parsed.Certs {
		loaded = append(loaded, c.Hosts...)
	}
	for _, g := range a.adapted {
		for _, h := range g.Hosts {
			if !g.HTTPS || slices.Contains(hosts, h) || slices.Contains(loaded, h) {
				continue
			}
			hosts = append(hosts, h)
			c, k, err := r.leafPEM(h)
			if err != nil {
				return err
			}
			key := strings.ReplaceAll(h, "*", "wildcard_")
			dir := path.Join(caddyStorage, key)
			files[path.Join(dir, key+".crt")], files[path.Join(dir, key+".key")] = c, k
			files[path.Join(dir, key+".json")] = []byte(`{"sans":["` + h + `"],"issuer_data":{}}`)
		}
	}
	if len(files) == 0 {
		return nil
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return &harness.InfraError{Op: "copy the sites' certificates into caddy", Err: err}
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("Caddy's certificate storage holds a certificate from the run's CA for %s, as its ACME CA issued one in production, so that Caddy serves HTTPS without asking a CA", strings.Join(hosts, ", ")))
	return nil
}

// systemRoots is where Go's crypto/x509 reads the system's roots on
// Debian.
const systemRoots = "/etc/ssl/certs/ca-certificates.crt"

// launch writes the run's CA into the system store and at each CA file
// the configuration names, copies the configuration in, reads the routes
// from the JSON caddy adapt makes of it, tests it with caddy validate and
// starts caddy run.
func (a *caddyAdapter) launch(ctx context.Context, r *runner) error {
	files := map[string][]byte{a.main: a.data, systemRoots: r.ca.CertPEM()}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the run's CA is the system store's only root (%s), as a public CA trusts a field upstream's certificate: Caddy verifies upstreams against the system store by default", systemRoots))
	var named []string
	for _, rt := range a.parsed.Routes {
		for _, f := range rt.CAFiles {
			if !slices.Contains(named, f) {
				named = append(named, f)
			}
		}
	}
	for _, f := range named {
		files[path.Join("/", f)] = r.ca.CertPEM()
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the run's CA was written at %s (a CA file a transport trusts), so that Caddy trusts the backend's certificate", path.Join("/", f)))
	}
	for _, im := range a.parsed.Imports {
		data, err := os.ReadFile(im.Local)
		if err != nil {
			return usagef("cannot read %s, which the configuration imports: %v", im.Local, cause(err))
		}
		at := im.Named
		if !path.IsAbs(at) {
			at = path.Join(path.Dir(a.main), at)
		}
		files[at] = data
	}
	if err := a.certFiles(r, files); err != nil {
		return err
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return &harness.InfraError{Op: "copy the configuration into caddy", Err: err}
	}
	if err := a.adapt(ctx, r); err != nil || r.rep.Rejected != nil {
		return err
	}
	if err := a.siteCerts(ctx, r); err != nil {
		return err
	}
	code, out, err := r.proxy.Run(ctx, a.testCmd()...)
	if err != nil {
		return &harness.InfraError{Op: testName(caddyKind), Err: err}
	}
	if code != 0 {
		a.reject(r, code, out)
		return nil
	}
	return a.start(ctx, r)
}

// adapter is the --adapter of caddy's commands: caddyfile, or none for
// JSON.
func (a *caddyAdapter) adapterArgs() []string {
	if a.parsed.JSON {
		return nil
	}
	return []string{"--adapter", "caddyfile"}
}

func (a *caddyAdapter) testCmd() []string {
	return append([]string{"caddy", "validate", "--config", a.main}, a.adapterArgs()...)
}

// adapt reads the routes the proxy runs: caddy adapt's JSON of a
// Caddyfile, the file itself for JSON. Each takes its line from the
// parsed route it matches.
func (a *caddyAdapter) adapt(ctx context.Context, r *runner) error {
	cfg := a.parsed
	if !cfg.JSON {
		const out = "/tmp/sniproof-adapted.json"
		code, msg, err := r.proxy.Run(ctx, "sh", "-c", fmt.Sprintf("caddy adapt --config %s --adapter caddyfile 2>&1 >%s", harness.ShellQuote(a.main), out))
		if err != nil {
			return &harness.InfraError{Op: "caddy adapt", Err: err}
		}
		if code != 0 {
			a.reject(r, code, msg)
			return nil
		}
		code, js, err := r.proxy.Run(ctx, "cat", out)
		if err != nil || code != 0 {
			return &harness.InfraError{Op: "read caddy adapt's JSON", Err: fmt.Errorf("exit %d: %v", code, err)}
		}
		if cfg, err = lint.ParseCaddyJSON(a.parsed.File, []byte(js)); err != nil {
			return &harness.InfraError{Op: "read caddy adapt's JSON", Err: err}
		}
		r.rep.Notes = append(r.rep.Notes, "the routes are those of caddy adapt's JSON of your Caddyfile, made by the caddy of the image")
	}
	a.routes(cfg)
	return nil
}

// routes are the TLS routes of cfg, the JSON the proxy runs, each with
// the line of the parsed route it matches, or why check does not request
// it.
func (a *caddyAdapter) routes(cfg *lint.CaddyConfig) {
	lines := map[string][]lint.CaddyRoute{}
	for _, p := range a.parsed.Routes {
		lines[p.Key()] = append(lines[p.Key()], p)
	}
	a.byPlace = map[string]*cdRoute{}
	for _, rt := range cfg.Routes {
		if !rt.TLS {
			continue
		}
		g := &cdRoute{CaddyRoute: rt, targets: caddyTargets(rt)}
		if !cfg.JSON || !a.parsed.JSON {
			g.Line = 0
			if l := lines[rt.Key()]; len(l) > 0 {
				g.Line, g.File, lines[rt.Key()] = l[0].Line, l[0].File, l[1:]
			}
		}
		switch {
		case rt.HTTPS && len(rt.Hosts) == 0:
			g.skip = fmt.Sprintf("an HTTPS site without a host name (port %d): Caddy has no certificate to serve it with", rt.Port)
		case strings.HasPrefix(rt.Path, "@"):
			g.skip = "the route's named matcher " + rt.Path + " selects no path check can make a request for"
		case len(g.targets) == 0:
			g.skip = "the upstream's address " + strings.Join(rt.Dials, " ") + " has a placeholder: check cannot know where it dials"
		}
		for _, t := range g.targets {
			if !a.planned[t.String()] && g.skip == "" {
				g.skip = fmt.Sprintf("caddy adapt dials %s, which sniproof's reading of the Caddyfile missed, so no backend impersonates it", t)
			}
		}
		a.adapted = append(a.adapted, g)
	}
}

// start runs caddy in the background, its output on the container's, and
// waits until it listens on every site's port.
func (a *caddyAdapter) start(ctx context.Context, r *runner) error {
	from := r.proxy.Log.Len()
	cmd := append([]string{"caddy", "run", "--config", a.main}, a.adapterArgs()...)
	var q []string
	for _, c := range cmd {
		q = append(q, harness.ShellQuote(c))
	}
	code, out, err := r.proxy.Run(ctx, "sh", "-c", strings.Join(q, " ")+" </dev/null >/proc/1/fd/1 2>/proc/1/fd/2 & echo $!")
	if err != nil || code != 0 {
		return &harness.InfraError{Op: "start caddy", Err: fmt.Errorf("exit %d: %v %s", code, err, out)}
	}
	pid := strings.TrimSpace(out)
	ports := a.ports(r)
	deadline := time.Now().Add(r.opts.Waits.Start)
	for {
		code, out, err := r.proxy.Run(ctx, "sh", "-c", "kill -0 "+pid+" 2>/dev/null || exit 3; cat /proc/net/tcp /proc/net/tcp6 2>/dev/null")
		if err != nil {
			return &harness.InfraError{Op: "wait for caddy", Err: err}
		}
		if code == 3 {
			time.Sleep(200 * time.Millisecond)
			a.reject(r, 1, "caddy validate accepted the configuration, but caddy did not start:\n"+strings.Join(r.proxy.Log.Lines(from), "\n"))
			return nil
		}
		listening := listeningPorts(out)
		if !slices.ContainsFunc(ports, func(p int) bool { return !listening[p] }) {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.say("caddy does not listen on every port within %s; going on", r.opts.Waits.Start)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("caddy runs your configuration unchanged (%s); check reads its log on stderr", strings.Join(cmd, " ")))
	return nil
}

// reject records Caddy's refusal of the configuration, with the
// operator's file and line where Caddy names one ("FILE:LINE").
func (a *caddyAdapter) reject(r *runner, code int, out string) {
	out = strings.ReplaceAll(strings.ReplaceAll(out, a.main, filepath.Base(a.file)), path.Dir(a.main)+"/", "")
	ct := &ConfigTest{Exit: code, Output: strings.TrimSpace(out)}
	if i := strings.Index(ct.Output, filepath.Base(a.file)+":"); i >= 0 {
		rest := ct.Output[i+len(filepath.Base(a.file))+1:]
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n > 0 {
			ct.At = filepath.Base(a.file) + ":" + rest[:n]
		}
	}
	r.rep.Rejected = ct
}

// unparsable starts the host and reports caddy's own verdict on a
// configuration sniproof's reader refused.
func (a *caddyAdapter) unparsable(ctx context.Context, r *runner, perr error) (*Report, error) {
	a.parsed = &lint.CaddyConfig{JSON: lint.IsCaddyJSON(a.data)}
	if err := r.startHost(ctx, nil); err != nil {
		return nil, err
	}
	if err := r.proxy.CopyFiles(ctx, map[string][]byte{a.main: a.data}); err != nil {
		return nil, &harness.InfraError{Op: "copy the configuration into caddy", Err: err}
	}
	code, out, err := r.proxy.Run(ctx, a.testCmd()...)
	if err != nil {
		return nil, &harness.InfraError{Op: testName(caddyKind), Err: err}
	}
	if code == 0 {
		return nil, usagef("sniproof cannot read the configuration: %v (caddy validate accepts it)", perr)
	}
	a.reject(r, code, out)
	var ce *lint.ConfigError
	if errors.As(perr, &ce) && r.rep.Rejected.At == "" && ce.Line > 0 {
		r.rep.Rejected.At = fmt.Sprintf("%s:%d", ce.File, ce.Line)
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("sniproof's reader stopped at %v; caddy validate ran on the file", perr))
	r.rep.summarise()
	return r.rep, nil
}

// request is the request check makes for a route: its first host (any
// host: localhost) and its path matcher's prefix.
func (g *cdRoute) request() Request {
	host := "localhost"
	if len(g.Hosts) > 0 {
		host = strings.ReplaceAll(g.Hosts[0], "*", "www")
	}
	p := strings.TrimSuffix(g.Path, "*")
	p = strings.ReplaceAll(p, "*", "x")
	if p == "" {
		p = "/"
	}
	scheme := "http"
	if g.HTTPS {
		scheme = "https"
	}
	return Request{Scheme: scheme, Host: host, Port: g.Port, Path: p, Method: "GET"}
}

// name is a route's location name: route HOST PATH.
func (g *cdRoute) name() string {
	host := "*"
	if len(g.Hosts) > 0 {
		host = strings.Join(g.Hosts, ",")
	}
	p := g.Path
	if p == "" {
		p = "*"
	}
	return fmt.Sprintf("route %s:%d %s", host, g.Port, p)
}

// jobs are one request per route to a TLS upstream, or an expectations
// entry's, routed to the first route whose host and path match it.
func (a *caddyAdapter) jobs(r *runner, entries []Entry) []job {
	var out []job
	if entries == nil {
		for _, g := range a.adapted {
			out = append(out, a.job(r, g, nil))
		}
		return out
	}
	covered := map[*cdRoute]bool{}
	for _, e := range entries {
		req, exp := e.Request, e.Expect
		g := a.route(req)
		if req.Scheme == "" {
			req.Scheme = "http"
			if g != nil && g.HTTPS {
				req.Scheme = "https"
			}
		}
		var j job
		if g == nil {
			j.loc = Location{Location: "no route", At: e.Source}
			j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked = NotChecked, VerdictSkip, fmt.Sprintf("no route to a TLS upstream serves %s%s", req.Host, req.Path)
			j.loc.Request, j.loc.Key, j.port = &req, req.String(), req.Port
		} else {
			j = a.job(r, g, &req)
			covered[g] = true
		}
		j.loc.Expect, j.loc.ExpectSource = &exp, e.Source
		out = append(out, j)
	}
	for _, g := range a.adapted {
		if !covered[g] {
			j := a.job(r, g, nil)
			out = append(out, unrequested(j))
		}
	}
	return out
}

// route is the first route a request reaches, by port, host and path.
func (a *caddyAdapter) route(req Request) *cdRoute {
	host, _ := lint.SplitHost(req.Host)
	for _, g := range a.adapted {
		if req.Port != 0 && req.Port != g.Port {
			continue
		}
		if len(g.Hosts) > 0 && !slices.ContainsFunc(g.Hosts, func(h string) bool { return caddyHostMatch(h, host) }) {
			continue
		}
		if p := strings.TrimSuffix(g.Path, "*"); strings.HasPrefix(req.Path, p) && !strings.HasPrefix(g.Path, "@") {
			return g
		}
	}
	return nil
}

// caddyHostMatch reports whether a host matcher's pattern matches host,
// as Caddy's does: label by label, a * standing for one label.
func caddyHostMatch(pattern, host string) bool {
	p, h := strings.Split(strings.ToLower(pattern), "."), strings.Split(strings.ToLower(host), ".")
	if len(p) != len(h) {
		return false
	}
	for i := range p {
		if p[i] != "*" && p[i] != h[i] {
			return false
		}
	}
	return true
}

// job is route g's job: its own request, or req.
func (a *caddyAdapter) job(r *runner, g *cdRoute, req *Request) job {
	file := a.shown(cmp.Or(g.File, a.parsed.File))
	at := fmt.Sprintf("%s:%d", file, g.Line)
	name := g.name()
	j := job{targets: g.targets, loc: Location{Location: name, At: at, Pass: "reverse_proxy " + strings.Join(g.Dials, " "), PassAt: at,
		Place: fmt.Sprintf("%s %s", file, name)}}
	a.byPlace[j.loc.Place] = g
	rq := g.request()
	if req != nil {
		rq = *req
		if rq.Port == 0 {
			rq.Port = g.Port
		}
	}
	j.loc.Request, j.loc.Key, j.port = &rq, rq.String(), rq.Port
	skip := g.skip
	for _, t := range g.targets {
		if why := r.skipIP[t.Host]; t.IP && why != "" && skip == "" {
			skip = fmt.Sprintf("the upstream %s cannot be impersonated: %s", t, why)
		}
	}
	if skip != "" {
		j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked = NotChecked, VerdictSkip, skip
	}
	return j
}

// own keeps every event: Caddy makes no connection of its own to an
// upstream without health checks.
func (*caddyAdapter) own(_ *runner, _ *job, events []backend.Event, _ bool) []backend.Event {
	return events
}

func (a *caddyAdapter) diagnose(r *runner, j *job, obs *harness.Observation) diagnosis {
	return diagnoseCaddy(a.byPlace[j.loc.Place], obs, r.rep.Version, a.parsed.JSON)
}

// diagnoseCaddy explains an observation of route g's request on Caddy
// version, with the fix in the Caddyfile or, for json, Caddy's JSON.
func diagnoseCaddy(g *cdRoute, obs *harness.Observation, version string, json bool) diagnosis {
	var d diagnosis
	host, _ := lint.SplitHost(g.Dials[0])
	name := strings.Trim(host, "[]")
	if lint.IsIP(name) || strings.Contains(name, ":") {
		name = "<the upstream's host name>"
	}
	fix := lint.CaddyServerNameFix(json, name)
	switch {
	case obs.Backend == fixtures.BackendServed:
		if obs.Status > 0 && obs.Status < 500 && obs.Status != 421 {
			d.Works = true
			return d
		}
		d.Cause = CauseBadResponse
		d.Explanation = servedButFailed(obs)
		if obs.Status == 421 {
			d.Explanation += ": Caddy sent a Host other than the SNI"
			if g.HostHeader == "" {
				d.Explanation += fmt.Sprintf(" (Caddy %s passes the client's Host upstream; 2.11 sends {upstream_hostport} to an HTTPS upstream)", version)
			}
			d.Fix = lint.CaddyHostFix(json)
		}
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonMissingSNI:
		d.Cause = CauseNoSNI
		d.Explanation = "Caddy sent no SNI (the upstream is dialled at an IP address, which crypto/tls never sends, and no tls_server_name names it), and the upstream refused the handshake" + alertOf(obs)
		d.Fix = fix
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonUnknownSNI:
		d.Cause = CauseWrongName
		src := "the upstream address's host"
		if g.ServerName != "" {
			src = "tls_server_name " + g.ServerName
		}
		d.Explanation = fmt.Sprintf("Caddy sent SNI %q (%s), a name the upstream does not serve, and it refused the handshake%s", deref(obs.SNI), src, alertOf(obs))
		d.Fix = fix
	case obs.Backend == fixtures.BackendRefused:
		d.Cause, d.Explanation = CauseTimeout, "the upstream never answered the handshake"
	case obs.Backend == fixtures.BackendFailed:
		d.Cause = CauseHandshake
		d.Explanation = fmt.Sprintf("the handshake with the upstream failed (the upstream saw %q)", obs.Reason)
		if !g.Insecure {
			d.Cause = CauseVerify
			d.Explanation = fmt.Sprintf("Caddy refused the upstream's certificate (the upstream saw %q)", obs.Reason)
			d.Fix = lint.CaddyTrustFix(json, version)
			if obs.SNI == nil || *obs.SNI == "" {
				d.Explanation += ": Caddy verifies an IP upstream's certificate against the IP, which it names in no IP SAN"
				d.Fix = fix
			}
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

// describe adds the route's reverse_proxy directive as written and the
// lint findings at its line.
func (a *caddyAdapter) describe(_ *runner, j *job) {
	g := a.byPlace[j.loc.Place]
	if g == nil || g.Line == 0 {
		return
	}
	for _, f := range a.findings() {
		if f.Line == g.Line && f.File == a.shown(cmp.Or(g.File, a.parsed.File)) {
			j.loc.Lint = append(j.loc.Lint, finding(f))
		}
	}
	data := a.data
	if g.File != "" {
		data, _ = os.ReadFile(g.File)
	}
	lines := strings.Split(string(data), "\n")
	if a.parsed.JSON || g.Line > len(lines) {
		return
	}
	var b strings.Builder
	depth := 0
	for _, l := range lines[g.Line-1:] {
		b.WriteString(strings.TrimRight(l, " \t\r") + "\n")
		switch t := strings.TrimSpace(l); {
		case t == "{" || strings.HasSuffix(t, " {"):
			depth++
		case t == "}":
			depth--
		}
		if depth <= 0 {
			break
		}
	}
	j.loc.Config = b.String()
}
