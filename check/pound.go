package check

import (
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
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// ProxyPound is pound, Debian's pound package.
const ProxyPound = "pound"

// poundConfDir is where Debian's pound reads its configuration.
const poundConfDir = "/etc/pound"

// poundAdapter checks pound configurations, run unchanged by the pound of
// the run's image: one request per Service with an HTTPS backend, to its
// listener, with the Host (and path) the Service matches.
type poundAdapter struct {
	Upstreams
	// file is the configuration on this machine, main its path in the
	// container; data its content.
	file, main string
	data       []byte
	cfg        *lint.PoundConfig
	services   []*pdService
	// byPlace are the services by their jobs' Place.
	byPlace map[string]*pdService
}

// pdService is a Service with an HTTPS backend, its listener and where
// its connections go.
type pdService struct {
	*lint.PoundService
	listener  *lint.PoundListener
	port      int
	reachable bool
	https     []*lint.PoundBackend
	targets   []Target
}

func init() { register(ProxyPound, func() adapter { return &poundAdapter{} }) }

var poundKind = mustKind(ProxyPound)

func (*poundAdapter) kind() harness.Kind { return poundKind }

func (*poundAdapter) claims(config string) bool {
	return claimsFile(config, "pound.cfg", lint.LooksLikePound)
}

func (a *poundAdapter) load(r *runner) (error, error) {
	a.file = mainFile(r.opts.Config, "pound.cfg")
	if err := readable(a.file); err != nil {
		return nil, err
	}
	a.main = path.Join(poundConfDir, filepath.Base(a.file))
	r.newReport(filepath.Dir(a.file), a.main)
	var err error
	if a.data, err = os.ReadFile(a.file); err != nil {
		return nil, usagef("cannot read the configuration %s: %v", a.file, cause(err))
	}
	cfg, perr := lint.ParsePound(filepath.Base(a.file), a.data, lint.PoundIncludes(a.file))
	if perr != nil {
		return perr, nil
	}
	a.cfg = cfg
	return nil, nil
}

func (a *poundAdapter) plan(r *runner) {
	up := newCollector()
	a.byPlace = map[string]*pdService{}
	listeners, _ := a.cfg.Listeners()
	for _, l := range listeners {
		host := l.Get("Address").Arg()
		port, _ := strconv.Atoi(l.Get("Port").Arg())
		for _, s := range l.Services {
			sv := &pdService{PoundService: s, listener: l, port: port,
				reachable: port > 0 && slices.Contains([]string{"", "0.0.0.0", "*", "::"}, host)}
			for _, b := range s.Backends {
				n, err := strconv.Atoi(b.Port)
				if !b.HTTPS || err != nil || b.Address == "" || strings.HasPrefix(b.Address, "/") {
					continue
				}
				sv.https = append(sv.https, b)
				h := strings.ToLower(strings.Trim(b.Address, "[]"))
				t := Target{Host: h, Port: n, IP: lint.IsIP(h) || strings.Contains(h, ":")}
				sv.targets = append(sv.targets, t)
				up.target(t)
				if b.ServerName != "" && !lint.IsIP(b.ServerName) && !strings.Contains(b.ServerName, ":") {
					up.names.add(strings.ToLower(b.ServerName))
				}
			}
			if len(sv.https) > 0 {
				a.services = append(a.services, sv)
			}
		}
	}
	var notes []string
	a.Upstreams, notes = up.upstreams()
	r.rep.Notes = append(r.rep.Notes, notes...)
	r.rep.Notes = append(r.rep.Notes, a.cfg.Notes...)
	r.up = &a.Upstreams
	for _, f := range a.cfg.Findings() {
		r.rep.Lint = append(r.rep.Lint, finding(f))
	}
}

// host runs sleep: pound starts once its files are in.
func (*poundAdapter) host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error) {
	return r.sess.RunIdleHost(ctx, r.rep.Image, networks, opts...)
}

func (a *poundAdapter) ports(*runner) []int {
	var ports []int
	for _, s := range a.services {
		if s.reachable && !slices.Contains(ports, s.port) {
			ports = append(ports, s.port)
		}
	}
	return ports
}

// inContainer is where pound opens a file the configuration names, and
// the file standing for it on this machine: under /etc/pound or
// relative, the configuration's folder's; else none.
func (a *poundAdapter) inContainer(name string) (string, string) {
	folder := filepath.Dir(a.file)
	switch {
	case !path.IsAbs(name):
		return path.Join(poundConfDir, name), filepath.Join(folder, name)
	case strings.HasPrefix(name, poundConfDir+"/"):
		return name, filepath.Join(folder, strings.TrimPrefix(name, poundConfDir+"/"))
	}
	return name, ""
}

// files are the configuration, its Include files, and the certificates
// it names: the operator's where the folder has them, throwaway ones
// where not.
func (a *poundAdapter) files(r *runner) (map[string][]byte, error) {
	files := map[string][]byte{a.main: a.data}
	for _, f := range a.cfg.Included {
		at, _ := a.inContainer(f.Path)
		files[at] = f.Data
	}
	var certs []*lint.PoundNode
	var walk func([]*lint.PoundNode)
	walk = func(ns []*lint.PoundNode) {
		for _, n := range ns {
			if strings.EqualFold(n.Keyword, "Cert") && n.Arg() != "" {
				certs = append(certs, n)
			}
			walk(n.Block)
		}
	}
	walk(a.cfg.Top)
	for _, c := range certs {
		at, host := a.inContainer(c.Arg())
		if _, done := files[at]; done {
			continue
		}
		if data, err := os.ReadFile(host); host != "" && err == nil {
			files[at] = data
			continue
		} else if host != "" && !errors.Is(err, os.ErrNotExist) {
			return nil, usagef("cannot read %s (named at %s): %v", host, c.Pos(), cause(err))
		}
		cert, key, err := r.leafPEM("localhost")
		if err != nil {
			return nil, err
		}
		files[at] = append(key, cert...)
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("Cert %s (%s) is missing: check made a throwaway certificate and key there", at, c.Pos()))
	}
	return files, nil
}

// poundBackendStart is how much longer pound may take to listen per
// HTTPS backend.
const poundBackendStart = 5 * time.Second

// poundAt is the FILE:LINE of pound's messages (FILE:LINE.COL: or FILE:LINE:).
var poundAt = regexp.MustCompile(`(/[^\s:]+):(\d+)[.:]`)

// reject records pound's refusal, with the operator's file and line.
func (a *poundAdapter) reject(r *runner, code int, out string) {
	ct := &ConfigTest{Exit: code, Output: strings.TrimSpace(out)}
	if m := poundAt.FindStringSubmatch(out); m != nil {
		ct.At = strings.TrimPrefix(m[1], poundConfDir+"/") + ":" + m[2]
	}
	r.rep.Rejected = ct
}

// launch copies the files in, makes the folder of the Control socket,
// tests the configuration with pound -c and starts pound in the
// foreground (-F), unchanged.
func (a *poundAdapter) launch(ctx context.Context, r *runner) error {
	files, err := a.files(r)
	if err != nil {
		return err
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return &harness.InfraError{Op: "copy the configuration into pound", Err: err}
	}
	for _, n := range a.cfg.Top {
		if strings.EqualFold(n.Keyword, "Control") && path.IsAbs(n.Arg()) {
			if code, out, err := r.proxy.Run(ctx, "mkdir", "-p", path.Dir(n.Arg())); err != nil || code != 0 {
				return &harness.InfraError{Op: "make the folder of pound's Control socket", Err: fmt.Errorf("exit %d: %v %s", code, err, out)}
			}
		}
	}
	code, out, err := r.proxy.Run(ctx, poundKind.TestCmd(a.main)...)
	if err != nil {
		return &harness.InfraError{Op: testName(poundKind), Err: err}
	}
	if code != 0 {
		a.reject(r, code, out)
		return nil
	}
	from := r.proxy.Log.Len()
	script := fmt.Sprintf("pound -F -f %s </dev/null >/proc/1/fd/1 2>/proc/1/fd/2 & echo $!", harness.ShellQuote(a.main))
	code, out, err = r.proxy.Run(ctx, "sh", "-c", script)
	if err != nil || code != 0 {
		return &harness.InfraError{Op: "start pound", Err: fmt.Errorf("exit %d: %v %s", code, err, out)}
	}
	pid := strings.TrimSpace(out)
	ports := a.ports(r)
	// pound makes an OpenSSL context per HTTPS backend before it listens,
	// each seconds long on a busy machine: the wait grows with them.
	wait := r.opts.Waits.Start
	for _, s := range a.services {
		wait += time.Duration(len(s.https)) * poundBackendStart
	}
	deadline := time.Now().Add(wait)
	for {
		code, out, err := r.proxy.Run(ctx, "sh", "-c", "kill -0 "+pid+" 2>/dev/null || exit 3; cat /proc/net/tcp /proc/net/tcp6 2>/dev/null")
		if err != nil {
			return &harness.InfraError{Op: "wait for pound", Err: err}
		}
		if code == 3 {
			time.Sleep(200 * time.Millisecond)
			a.reject(r, 1, "pound -c accepted the configuration, but pound did not start:\n"+strings.Join(r.proxy.Log.Lines(from), "\n"))
			return nil
		}
		listening := listeningPorts(out)
		if !slices.ContainsFunc(ports, func(p int) bool { return !listening[p] }) {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.say("pound does not listen on every port within %s; going on", wait)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("pound runs your configuration unchanged (pound -F -f %s); check reads its messages on its standard streams", a.main))
	return nil
}

// unparsable runs pound -c on a configuration check's parser refused: its
// message is the verdict.
func (a *poundAdapter) unparsable(ctx context.Context, r *runner, perr error) (*Report, error) {
	if err := r.startHost(ctx, nil); err != nil {
		return nil, err
	}
	if err := r.proxy.CopyFiles(ctx, map[string][]byte{a.main: a.data}); err != nil {
		return nil, &harness.InfraError{Op: "copy the configuration into pound", Err: err}
	}
	code, out, err := r.proxy.Run(ctx, poundKind.TestCmd(a.main)...)
	if err != nil {
		return nil, &harness.InfraError{Op: testName(poundKind), Err: err}
	}
	if code == 0 {
		return nil, usagef("sniproof cannot parse the configuration: %v (pound -c accepts it)", perr)
	}
	a.reject(r, code, out)
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("sniproof's parser stopped at %v; pound -c ran on the file", perr))
	r.rep.summarise()
	return r.rep, nil
}

// jobs are one request per Service with an HTTPS backend, or an
// expectations entry's requests, each to the first service on its port
// whose Host matches.
func (a *poundAdapter) jobs(r *runner, entries []Entry) []job {
	var out []job
	if entries == nil {
		for _, s := range a.services {
			out = append(out, a.job(r, s, nil))
		}
		return out
	}
	covered := map[*pdService]bool{}
	for _, e := range entries {
		req, exp := e.Request, e.Expect
		var j job
		i := slices.IndexFunc(a.services, func(s *pdService) bool {
			host, _ := lint.SplitHost(req.Host)
			return (req.Port == 0 || s.port == req.Port) && (poundHost(s) == "" || strings.EqualFold(poundHost(s), host))
		})
		if i < 0 {
			j.loc = Location{Location: "no service", At: e.Source}
			j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked = NotChecked, VerdictSkip, fmt.Sprintf("no Service with an HTTPS backend serves %s on port %d", req.Host, req.Port)
		} else {
			if req.Port == 0 {
				req.Port = a.services[i].port
			}
			j = a.job(r, a.services[i], &req)
			covered[a.services[i]] = true
		}
		j.loc.Expect, j.loc.ExpectSource = &exp, e.Source
		if j.loc.Request != nil {
			j.loc.Key = j.loc.Request.String()
		}
		out = append(out, j)
	}
	for _, s := range a.services {
		if !covered[s] {
			j := a.job(r, s, nil)
			j.loc.Request = nil
			out = append(out, unrequested(j))
		}
	}
	return out
}

// poundLiteral is the literal a Host or URL pattern matches, its regular
// expression's anchors and escapes dropped.
func poundLiteral(n *lint.PoundNode) string {
	if n == nil || len(n.Args) == 0 {
		return ""
	}
	p := n.Args[len(n.Args)-1]
	p = strings.TrimSuffix(strings.TrimPrefix(p, "^"), "$")
	p = strings.TrimSuffix(p, ".*")
	return strings.ReplaceAll(p, `\.`, ".")
}

// poundMatch is a service's key directive, itself or in a Match block.
func poundMatch(s *lint.PoundNode, key string) *lint.PoundNode {
	if n := s.Get(key); n != nil {
		return n
	}
	for _, m := range s.Block {
		if strings.EqualFold(m.Keyword, "Match") {
			if n := poundMatch(m, key); n != nil {
				return n
			}
		}
	}
	return nil
}

// poundHost is the Host a service matches, "" for any.
func poundHost(s *pdService) string { return poundLiteral(poundMatch(s.PoundNode, "Host")) }

// job is the job of service s: req, or a GET of its URL's path with its
// Host; not checked when unreachable or the backend cannot take its
// upstream's address.
func (a *poundAdapter) job(r *runner, s *pdService, req *Request) job {
	name := "Service"
	if s.Arg() != "" {
		name += " " + strconv.Quote(s.Arg())
	}
	at := s.https[0].Get("Address")
	if at == nil {
		at = s.https[0].PoundNode
	}
	j := job{targets: s.targets, port: s.port, loc: Location{Location: name, At: s.Pos(),
		Pass: fmt.Sprintf("Backend %s:%s HTTPS", s.https[0].Address, s.https[0].Port), PassAt: at.Pos(), Place: s.Pos() + " " + name}}
	a.byPlace[j.loc.Place] = s
	if !s.reachable {
		j.loc.Outcome, j.loc.Verdict, j.loc.Key = NotChecked, VerdictSkip, j.loc.Place
		j.loc.NotChecked = fmt.Sprintf("its listener (%s) is not on every address: check's requests come from outside the container", s.listener.Pos())
		return j
	}
	for _, t := range s.targets {
		if why := r.skipIP[t.Host]; t.IP && why != "" {
			j.loc.Outcome, j.loc.Verdict, j.loc.Key = NotChecked, VerdictSkip, j.loc.Place
			j.loc.NotChecked = fmt.Sprintf("the upstream %s cannot be impersonated: %s", t, why)
			return j
		}
	}
	if req == nil {
		host := poundHost(s)
		if host == "" {
			host = "localhost"
		}
		p := poundLiteral(poundMatch(s.PoundNode, "URL"))
		if !strings.HasPrefix(p, "/") {
			p = "/"
		}
		req = &Request{Scheme: map[bool]string{true: "https", false: "http"}[s.listener.HTTPS], Host: host, Port: s.port, Path: p, Method: "GET"}
	}
	if req.Scheme == "" {
		req.Scheme = map[bool]string{true: "https", false: "http"}[s.listener.HTTPS]
	}
	if req.Method == "" {
		req.Method = "GET"
	}
	if req.Path == "" {
		req.Path = "/"
	}
	j.loc.Request, j.loc.Key = req, req.String()
	return j
}

// own keeps every event: pound makes no connection of its own to an
// HTTPS backend.
func (*poundAdapter) own(_ *runner, _ *job, events []backend.Event, _ bool) []backend.Event {
	return events
}

func (a *poundAdapter) diagnose(_ *runner, j *job, obs *harness.Observation) diagnosis {
	return diagnosePound(a.byPlace[j.loc.Place], obs)
}

// diagnosePound explains an observation of service s's request.
func diagnosePound(s *pdService, obs *harness.Observation) diagnosis {
	var d diagnosis
	b := s.https[0]
	for _, hb := range s.https {
		if hb.ServerName == "" {
			b = hb
		}
	}
	fix := fmt.Sprintf("ServerName %q", lint.PoundName(b))
	switch {
	case obs.Backend == fixtures.BackendServed:
		if obs.Status > 0 && obs.Status < 500 && obs.Status != 421 {
			d.Works = true
			return d
		}
		d.Cause = CauseBadResponse
		d.Explanation = servedButFailed(obs)
		if h := s.SetHost(); obs.Status == 421 && h != nil {
			d.Explanation += fmt.Sprintf(": SetHeader %q (%s) sends another Host than the ServerName sent as SNI", h.Arg(), h.Pos())
			d.Fix = "drop the SetHeader \"Host: ...\": ServerName sets the Host"
		}
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonMissingSNI:
		d.Cause, d.Fix = CauseNoSNI, fix
		d.Explanation = fmt.Sprintf("pound sent no SNI (Backend %s:%s has HTTPS without ServerName, and pound sends SNI from ServerName only), and the upstream refused the handshake%s", b.Address, b.Port, alertOf(obs))
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonUnknownSNI:
		d.Cause, d.Fix = CauseWrongName, fix
		d.Explanation = fmt.Sprintf("pound sent SNI %q (ServerName), a name the upstream does not serve, and it refused the handshake%s", deref(obs.SNI), alertOf(obs))
	case obs.Backend == fixtures.BackendRefused:
		d.Cause, d.Explanation = CauseTimeout, "the upstream never answered the handshake"
	case obs.Backend == fixtures.BackendFailed:
		d.Cause = CauseHandshake
		d.Explanation = fmt.Sprintf("the handshake with the upstream failed (the upstream saw %q)", obs.Reason)
	default:
		if obs.Status > 0 && obs.Status < 500 {
			d.Works = true
			return d
		}
		d.Cause, d.Explanation = CauseUnreachable, "no ClientHello reached the upstream"
	}
	return d
}

// describe adds the service's block as written and its findings.
func (a *poundAdapter) describe(_ *runner, j *job) {
	s := a.byPlace[j.loc.Place]
	if s == nil {
		return
	}
	for _, f := range a.cfg.ServiceFindings(s.PoundService) {
		j.loc.Lint = append(j.loc.Lint, finding(f))
	}
	var b strings.Builder
	var write func(n *lint.PoundNode, depth int)
	write = func(n *lint.PoundNode, depth int) {
		words := []string{n.Keyword}
		for _, arg := range n.Args {
			words = append(words, strconv.Quote(arg))
		}
		b.WriteString(strings.Repeat("    ", depth) + strings.Join(words, " ") + "\n")
		for _, c := range n.Block {
			write(c, depth+1)
		}
		if n.Open {
			b.WriteString(strings.Repeat("    ", depth) + "End\n")
		}
	}
	write(s.PoundNode, 0)
	j.loc.Config = b.String()
}
