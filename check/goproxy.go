package check

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/testcontainers/testcontainers-go"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// goproxyAdapter checks the bundled Go proxy's configurations, its JSON
// (sniproof proxy --config), run unchanged by the sniproof binary of the
// run's image: one request per route to an https:// upstream.
type goproxyAdapter struct {
	// p is what load read of the configuration.
	p *gpPlan
}

func init() { register(ProxyGoProxy, func() adapter { return &goproxyAdapter{} }) }

var goproxyKind = mustKind(ProxyGoProxy)

func (a *goproxyAdapter) kind() harness.Kind { return goproxyKind }

func (a *goproxyAdapter) claims(config string) bool {
	return claimsFile(config, "goproxy.json", lint.LooksLikeGoProxy)
}

// gpPlan is what check derives from a Go proxy configuration.
type gpPlan struct {
	Upstreams
	cfg *lint.GoConfig
	// file is the configuration on this machine, main its path in the
	// container; data its content.
	file, main string
	data       []byte
	routes     []*gpRoute
}

// gpRoute is a route to an https:// upstream and where its connections go.
type gpRoute struct {
	lint.GoRoute
	url     *url.URL
	targets []Target
}

func (a *goproxyAdapter) load(r *runner) (error, error) {
	file := mainFile(r.opts.Config, "goproxy.json")
	if err := readable(file); err != nil {
		return nil, err
	}
	main := goproxyKind.ConfigPath
	r.newReport(filepath.Dir(file), main)
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, usagef("cannot read the configuration %s: %v", file, cause(err))
	}
	a.p = &gpPlan{file: file, main: main, data: data}
	cfg, perr := lint.ParseGoProxy(filepath.Base(file), data)
	if perr != nil {
		return perr, nil
	}
	a.p.cfg = cfg
	return nil, nil
}

func (a *goproxyAdapter) plan(r *runner) {
	p := a.p
	up := newCollector()
	for _, rt := range p.cfg.Routes {
		u, err := url.Parse(rt.Upstream)
		if err != nil || u.Scheme != "https" {
			continue
		}
		g := &gpRoute{GoRoute: rt, url: u}
		dial := u.Host
		if rt.Dial != "" {
			dial = rt.Dial
		}
		host, port := lint.SplitHost(dial)
		n, err := strconv.Atoi(port)
		if port == "" {
			n, err = 443, nil
		}
		if err == nil && host != "" {
			t := Target{Host: strings.ToLower(strings.Trim(host, "[]")), Port: n, IP: lint.IsIP(strings.Trim(host, "[]"))}
			g.targets = append(g.targets, t)
			up.target(t)
		}
		if name, ok := strings.CutPrefix(rt.SNI, "name:"); ok && name != "" && !lint.IsIP(name) {
			up.names.add(name)
		}
		if h := u.Hostname(); h != host && !lint.IsIP(h) {
			up.names.add(h)
		}
		p.routes = append(p.routes, g)
	}
	var notes []string
	p.Upstreams, notes = up.upstreams()
	r.rep.Notes = append(r.rep.Notes, notes...)
	r.up = &p.Upstreams
	for _, f := range p.cfg.Findings() {
		r.rep.Lint = append(r.rep.Lint, finding(f))
	}
}

// host starts the run's sniproof image waiting for the configuration.
func (a *goproxyAdapter) host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error) {
	return r.sess.RunHostWith(ctx, r.rep.Image, []string{"/sniproof", "proxy", "--await", "--config", a.p.main}, networks, opts...)
}

func (a *goproxyAdapter) ports(r *runner) []int {
	var ports []int
	for _, a := range []string{a.p.cfg.Config.HTTP, a.p.cfg.Config.HTTPS} {
		if _, p, err := net.SplitHostPort(a); err == nil {
			if n, err := strconv.Atoi(p); err == nil && n > 0 {
				ports = append(ports, n)
			}
		}
	}
	return ports
}

// launch copies the files the configuration names (the run's CA at each
// route's verify bundle, a throwaway certificate at each missing frontend
// certificate), tests a copy of the configuration with sniproof proxy
// --test, and puts it where the waiting proxy serves it.
func (a *goproxyAdapter) launch(ctx context.Context, r *runner) error {
	p := a.p
	files := map[string][]byte{}
	abs := func(name string) string { return path.Join("/", name) }
	for _, rt := range p.cfg.Config.Routes {
		if rt.Verify != "" && rt.Verify != "off" && strings.HasPrefix(rt.Upstream, "https://") {
			files[abs(rt.Verify)] = r.ca.CertPEM()
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the run's CA was written at %s (verify of route %s%s), so that the proxy trusts the backend's certificate", abs(rt.Verify), rt.Host, cmpPath(rt.Path)))
		}
	}
	for _, c := range p.cfg.Config.Certificates {
		if err := a.cert(r, files, c.Cert, c.Key); err != nil {
			return err
		}
	}
	test := p.main + ".test"
	files[test] = p.data
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return &harness.InfraError{Op: "copy the configuration into the proxy", Err: err}
	}
	code, out, err := r.proxy.Run(ctx, goproxyKind.TestCmd(test)...)
	if err != nil {
		return &harness.InfraError{Op: testName(goproxyKind), Err: err}
	}
	if code != 0 {
		a.reject(r, code, out)
		return nil
	}
	from := r.proxy.Log.Len()
	if err := r.proxy.CopyFiles(ctx, map[string][]byte{p.main: p.data}); err != nil {
		return &harness.InfraError{Op: "copy the configuration into the proxy", Err: err}
	}
	wctx, cancel := context.WithTimeout(ctx, r.opts.Waits.Start)
	defer cancel()
	if _, err := r.proxy.Log.WaitFor(wctx, from, "sniproof proxy: ready"); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a.reject(r, 1, "sniproof proxy --test accepted the configuration, but the proxy did not start:\n"+strings.Join(r.proxy.Log.Lines(from), "\n"))
		return nil
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the Go proxy runs your configuration unchanged (sniproof proxy --config %s); check reads its log on stderr", p.main))
	return nil
}

// cert puts a throwaway certificate and key where a frontend
// certificate the run lacks is named; the operator's folder provides the
// others, by their path relative to its own.
func (a *goproxyAdapter) cert(r *runner, files map[string][]byte, cert, key string) error {
	abs := func(name string) string { return path.Join("/", name) }
	certData, cerr := os.ReadFile(filepath.Join(filepath.Dir(a.p.file), cert))
	keyData, kerr := os.ReadFile(filepath.Join(filepath.Dir(a.p.file), key))
	if cerr == nil && kerr == nil {
		files[abs(cert)], files[abs(key)] = certData, keyData
		return nil
	}
	c, k, err := r.leafPEM("localhost")
	if err != nil {
		return err
	}
	files[abs(cert)], files[abs(key)] = c, k
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the certificate %s and key %s are missing: check made a throwaway certificate and key there", cert, key))
	return nil
}

// gpAt is the file:line:column of the proxy's messages.
var gpAt = regexp.MustCompile(`(\S+):(\d+):\d+: `)

// leafPEM is a certificate for names from the run's CA, with its chain,
// and its key, PEM: the stand-in for a certificate the run lacks.
func (r *runner) leafPEM(names ...string) (cert, key []byte, err error) {
	leaf, err := r.ca.Leaf(names...)
	if err == nil {
		key, err = leaf.KeyPEM()
	}
	if err != nil {
		return nil, nil, &harness.InfraError{Op: "make a throwaway certificate", Err: err}
	}
	return leaf.ChainPEM(), key, nil
}

// reject records the proxy's refusal of the configuration, with the
// operator's file and line where the proxy names one.
func (a *goproxyAdapter) reject(r *runner, code int, out string) {
	ct := &ConfigTest{Exit: code, Output: strings.TrimSpace(strings.ReplaceAll(out, a.p.main+".test", a.p.cfg.File))}
	if m := gpAt.FindStringSubmatch(ct.Output); m != nil {
		ct.At = m[1] + ":" + m[2]
	}
	r.rep.Rejected = ct
}

// unparsable reports the proxy's own refusal: the Go proxy's parser is
// the one check read the configuration with.
func (a *goproxyAdapter) unparsable(_ context.Context, r *runner, perr error) (*Report, error) {
	ct := &ConfigTest{Exit: 64, Output: "sniproof proxy: " + perr.Error()}
	var ce *lint.ConfigError
	if errors.As(perr, &ce) && ce.Line > 0 {
		ct.At = fmt.Sprintf("%s:%d", ce.File, ce.Line)
	}
	r.rep.Rejected = ct
	r.rep.summarise()
	return r.rep, nil
}

// jobs are one request per route to an https:// upstream: its host (or
// any host for "*") and path on the first frontend, or an expectations
// entry's requests, routed as the proxy routes them.
func (a *goproxyAdapter) jobs(r *runner, entries []Entry) []job {
	var out []job
	port, scheme := a.frontend(r)
	if entries == nil {
		for _, g := range a.p.routes {
			host := g.Host
			if host == "*" {
				host = "localhost"
			}
			j := a.job(g)
			req := Request{Scheme: scheme, Host: host, Port: port, Path: cmpPath(g.Path), Method: "GET"}
			j.loc.Request, j.loc.Key, j.port = &req, req.String(), port
			out = append(out, j)
		}
		return out
	}
	return entryJobs(entries, a.p.routes, "no route", func(req *Request) (*gpRoute, bool, string) {
		req.Port = cmp.Or(req.Port, port)
		req.Scheme = cmp.Or(req.Scheme, scheme)
		g := a.route(req.Host, req.Path)
		return g, g != nil, fmt.Sprintf("no route to an https:// upstream serves %s%s", req.Host, req.Path)
	}, a.job)
}

// frontend is the port and scheme requests use: the HTTP frontend's,
// else the HTTPS one's.
func (a *goproxyAdapter) frontend(r *runner) (int, string) {
	ports := a.ports(r)
	if a.p.cfg.Config.HTTP != "" && len(ports) > 0 {
		return ports[0], "http"
	}
	if len(ports) > 0 {
		return ports[0], "https"
	}
	return 0, "http"
}

// route is the route the proxy serves host and path with: the longest
// path prefix among the host's routes, else among "*"'s; nil when that
// route has no https:// upstream.
func (a *goproxyAdapter) route(host, p string) *gpRoute {
	host, _ = lint.SplitHost(host)
	for _, want := range []string{strings.ToLower(host), "*"} {
		var best *lint.GoRoute
		for i, rt := range a.p.cfg.Routes {
			if strings.ToLower(rt.Host) == want && strings.HasPrefix(cmpPath(p), cmpPath(rt.Path)) && (best == nil || len(cmpPath(rt.Path)) > len(cmpPath(best.Path))) {
				best = &a.p.cfg.Routes[i]
			}
		}
		if best != nil {
			for _, g := range a.p.routes {
				if g.Index == best.Index {
					return g
				}
			}
			return nil
		}
	}
	return nil
}

// job is the job of route g.
func (a *goproxyAdapter) job(g *gpRoute) job {
	name := "route " + g.Host + cmpPath(g.Path)
	at := fmt.Sprintf("%s:%d", a.p.cfg.File, g.Line)
	return job{targets: g.targets, via: g, loc: Location{Location: name, At: at, Pass: "upstream " + g.Upstream, PassAt: at,
		Place: fmt.Sprintf("%s %s", a.p.cfg.File, name)}}
}

// cmpPath is a route path, "/" for none.
func cmpPath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// own keeps every event: the Go proxy makes no connection of its own.
func (a *goproxyAdapter) own(_ *runner, _ *job, events []backend.Event, _ bool) []backend.Event {
	return events
}

func (a *goproxyAdapter) diagnose(_ *runner, j *job, obs *harness.Observation) diagnosis {
	g, _ := j.via.(*gpRoute)
	return diagnoseGo(g, obs)
}

// diagnoseGo explains an observation of route g's request.
func diagnoseGo(g *gpRoute, obs *harness.Observation) diagnosis {
	var d diagnosis
	name := g.url.Hostname()
	if lint.IsIP(name) || strings.Contains(name, ":") {
		name = "<the upstream's host name>"
	}
	field := func(v string) string { return fmt.Sprintf(`route %s%s: "sni": "%s"`, g.Host, cmpPath(g.Path), v) }
	switch {
	case obs.Backend == fixtures.BackendServed:
		if obs.Status > 0 && obs.Status < 500 && obs.Status != 421 {
			d.Works = true
			return d
		}
		d.Cause = CauseBadResponse
		d.Explanation = servedButFailed(obs)
		if obs.Status == 421 && g.HostHeader != "" && g.HostHeader != "upstream" {
			d.Explanation += fmt.Sprintf(": the proxy sent the Host %s and another name as SNI", goHost(g))
			d.Fix = fmt.Sprintf(`route %s%s: "host_header": "upstream"`, g.Host, cmpPath(g.Path))
		}
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonMissingSNI:
		d.Cause = CauseNoSNI
		switch {
		case g.SNI == "off":
			d.Explanation = `the proxy sent no SNI ("sni": "off"), and the upstream refused the handshake` + alertOf(obs)
		case g.SNI == "host-header":
			d.Explanation = `the proxy sent no SNI ("sni": "host-header" with a Host that is an IP literal or none), and the upstream refused the handshake` + alertOf(obs)
		default:
			d.Explanation = "the proxy sent no SNI (the upstream URL's host is an IP address, which crypto/tls never sends), and the upstream refused the handshake" + alertOf(obs)
		}
		d.Fix = field("name:" + name)
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonUnknownSNI:
		d.Cause = CauseWrongName
		d.Explanation = fmt.Sprintf("the proxy sent SNI %q (%s), a name the upstream does not serve, and it refused the handshake%s", deref(obs.SNI), goSNISource(g), alertOf(obs))
		d.Fix = field("name:" + name)
	case obs.Backend == fixtures.BackendRefused:
		d.Cause, d.Explanation = CauseTimeout, "the upstream never answered the handshake"
	case obs.Backend == fixtures.BackendFailed:
		d.Cause = CauseHandshake
		d.Explanation = fmt.Sprintf("the handshake with the upstream failed (the upstream saw %q)", obs.Reason)
		if g.Verify != "off" {
			d.Cause = CauseVerify
			d.Explanation = fmt.Sprintf("the proxy refused the upstream's certificate (verify %s; the upstream saw %q)", g.Verify, obs.Reason)
			d.Fix = fmt.Sprintf(`route %s%s: "verify": "<the CA bundle that issued the upstream's certificate>"`, g.Host, cmpPath(g.Path))
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

// goSNISource says where a route's SNI comes from.
func goSNISource(g *gpRoute) string {
	switch {
	case g.SNI == "host-header":
		return `"sni": "host-header", the client's Host`
	case strings.HasPrefix(g.SNI, "name:"):
		return `"sni": "` + g.SNI + `"`
	}
	return "the upstream URL's host"
}

// goHost names the Host a route sends.
func goHost(g *gpRoute) string {
	if g.HostHeader == "client" {
		return "of the client"
	}
	return strings.TrimPrefix(g.HostHeader, "value:")
}

func (a *goproxyAdapter) describe(r *runner, j *job) {
	g, ok := j.via.(*gpRoute)
	if !ok {
		return
	}
	for _, f := range a.p.cfg.Findings() {
		if f.Line == g.Line {
			j.loc.Lint = append(j.loc.Lint, finding(f))
		}
	}
	lines := strings.Split(string(a.p.data), "\n")
	if g.Line > 0 && g.Line <= len(lines) {
		j.loc.Config = strings.TrimSpace(lines[g.Line-1]) + "\n"
	}
}
