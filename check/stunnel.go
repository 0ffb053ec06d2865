package check

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// ProxyStunnel is stunnel (Debian's stunnel4) in client mode.
const ProxyStunnel = "stunnel"

// stunnelConfDir is where Debian's stunnel4 reads its configurations.
const stunnelConfDir = "/etc/stunnel"

// stunnelAdapter checks stunnel configurations, run unchanged by the
// stunnel of the run's image: one plain HTTP request per client-mode
// service, to its accept port, which stunnel wraps into TLS to connect.
type stunnelAdapter struct {
	Upstreams
	// file is the configuration on this machine, main its path in the
	// container; data its content.
	file, main string
	data       []byte
	cfg        *lint.StunnelConfig
	services   []*stService
	// byPlace are the services by their jobs' Place.
	byPlace map[string]*stService
}

// stService is a client-mode service and where its connections go.
type stService struct {
	*lint.StunnelService
	port      int
	reachable bool
	accept    string
	targets   []Target
}

func init() { register(ProxyStunnel, func() adapter { return &stunnelAdapter{} }) }

var stunnelKind = mustKind(ProxyStunnel)

func (*stunnelAdapter) kind() harness.Kind { return stunnelKind }

func (*stunnelAdapter) claims(config string) bool {
	return claimsFile(config, "stunnel.conf", lint.LooksLikeStunnel)
}

func (a *stunnelAdapter) load(r *runner) (error, error) {
	a.file = mainFile(r.opts.Config, "stunnel.conf")
	if err := readable(a.file); err != nil {
		return nil, err
	}
	a.main = path.Join(stunnelConfDir, filepath.Base(a.file))
	r.newReport(filepath.Dir(a.file), a.main)
	var err error
	if a.data, err = os.ReadFile(a.file); err != nil {
		return nil, usagef("cannot read the configuration %s: %v", a.file, cause(err))
	}
	cfg, perr := lint.ParseStunnel(filepath.Base(a.file), a.data, lint.StunnelIncludes(a.file))
	if perr != nil {
		return perr, nil
	}
	a.cfg = cfg
	return nil, nil
}

func (a *stunnelAdapter) plan(r *runner) {
	up := newCollector()
	a.byPlace = map[string]*stService{}
	for _, s := range a.cfg.TLSClients() {
		sv := &stService{StunnelService: s}
		if acc, ok := s.Get("accept"); ok {
			host, port := lint.StunnelAddr(acc.Value)
			sv.accept = acc.Value
			sv.port, _ = strconv.Atoi(port)
			sv.reachable = sv.port > 0 && slices.Contains([]string{"", "0.0.0.0", "*", "::", ":", "[::]"}, host)
		}
		_, host, port, _ := s.Connect()
		n, err := strconv.Atoi(port)
		if err == nil && !s.PSK() {
			h := strings.ToLower(strings.Trim(host, "[]"))
			if h == "" {
				h = "127.0.0.1"
			}
			t := Target{Host: h, Port: n, IP: lint.IsIP(h) || strings.Contains(h, ":")}
			sv.targets = append(sv.targets, t)
			up.target(t)
			for _, key := range []string{"sni", "checkHost"} {
				if o, ok := s.Get(key); ok && o.Value != "" && !lint.IsIP(o.Value) && !strings.Contains(o.Value, ":") {
					up.names.add(strings.ToLower(o.Value))
				}
			}
		}
		a.services = append(a.services, sv)
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

// host runs sleep: stunnel starts once its files are in.
func (*stunnelAdapter) host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error) {
	return r.sess.RunIdleHost(ctx, r.rep.Image, networks, opts...)
}

func (a *stunnelAdapter) ports(*runner) []int {
	var ports []int
	for _, s := range a.services {
		if s.reachable && !s.PSK() && !slices.Contains(ports, s.port) {
			ports = append(ports, s.port)
		}
	}
	return ports
}

// inContainer is where stunnel opens a file the configuration names, and
// the file standing for it on this machine: under /etc/stunnel or
// relative, the configuration's folder's; else none.
func (a *stunnelAdapter) inContainer(name string) (string, string) {
	folder := filepath.Dir(a.file)
	switch {
	case !path.IsAbs(name):
		return path.Join(stunnelConfDir, name), filepath.Join(folder, name)
	case name == stunnelConfDir || strings.HasPrefix(name, stunnelConfDir+"/"):
		return name, filepath.Join(folder, strings.TrimPrefix(name, stunnelConfDir+"/"))
	}
	return name, ""
}

// files are the configuration, the files of its include folders, and
// what it names: the run's CA at every CAfile of a client-mode service,
// the operator's certificate, key and PSK files where the folder has
// them, throwaway ones where not.
func (a *stunnelAdapter) files(r *runner) (map[string][]byte, error) {
	files := map[string][]byte{a.main: a.data}
	folder := filepath.Dir(a.file)
	for _, f := range a.cfg.Included {
		at := f.Path
		if rel, err := filepath.Rel(folder, f.Path); err == nil && !strings.HasPrefix(rel, "..") {
			at = path.Join(stunnelConfDir, filepath.ToSlash(rel))
		}
		files[at] = f.Data
	}
	all := append([]*lint.StunnelService{a.cfg.Global}, a.cfg.Services...)
	for _, s := range all {
		if o, ok := s.Get("CAfile"); ok && (s.Name == "" || s.Client()) {
			at, _ := a.inContainer(o.Value)
			if _, done := files[at]; !done {
				files[at] = r.ca.CertPEM()
				r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the run's CA was written at %s (CAfile at %s), so that stunnel trusts the backend's certificate", at, o.Pos()))
			}
		}
	}
	for _, s := range all {
		for _, key := range []string{"cert", "key", "PSKsecrets"} {
			o, ok := s.Get(key)
			if !ok {
				continue
			}
			at, host := a.inContainer(o.Value)
			if _, done := files[at]; done {
				continue
			}
			if data, err := os.ReadFile(host); host != "" && err == nil {
				files[at] = data
				continue
			} else if host != "" && !errors.Is(err, os.ErrNotExist) {
				return nil, usagef("cannot read %s (named at %s): %v", host, o.Pos(), cause(err))
			}
			if key == "PSKsecrets" {
				secret := make([]byte, 16)
				if _, err := rand.Read(secret); err != nil {
					return nil, &harness.InfraError{Op: "make a throwaway pre-shared key", Err: err}
				}
				files[at] = []byte("sniproof:" + hex.EncodeToString(secret) + "\n")
				r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("PSKsecrets %s (%s) is missing: check wrote a throwaway key there", at, o.Pos()))
				continue
			}
			cert, k, err := r.leafPEM("localhost")
			if err != nil {
				return nil, err
			}
			files[at] = append(cert, k...)
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s %s (%s) is missing: check made a throwaway certificate and key there", key, at, o.Pos()))
		}
	}
	return files, nil
}

// stunnelRC is where the start script leaves stunnel's exit code.
const stunnelRC = "/tmp/sniproof-stunnel.rc"

// launch copies the files in, makes the folders of pid, output and chroot,
// and starts stunnel with the configuration, unchanged: in the
// background when it runs in the foreground, else as it daemonizes, with
// its output file, if any, followed on the container's stderr. stunnel
// has no configuration test: a start that fails is the refusal.
func (a *stunnelAdapter) launch(ctx context.Context, r *runner) error {
	files, err := a.files(r)
	if err != nil {
		return err
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return &harness.InfraError{Op: "copy the configuration into stunnel", Err: err}
	}
	var dirs []string
	for _, key := range []string{"pid", "output", "chroot"} {
		if o, ok := a.cfg.Global.Get(key); ok && path.IsAbs(o.Value) {
			dir := o.Value
			if key != "chroot" {
				dir = path.Dir(dir)
			}
			dirs = append(dirs, harness.ShellQuote(dir))
		}
	}
	// The image's package made no system user where its install leaves
	// that to systemd-sysusers (forky's): a host has them.
	script := "rm -f " + stunnelRC + "\ncommand -v systemd-sysusers >/dev/null && systemd-sysusers >/dev/null 2>&1\n"
	if len(dirs) > 0 {
		script += "mkdir -p " + strings.Join(dirs, " ") + "\n"
		if u, ok := a.cfg.Global.Get("setuid"); ok {
			script += fmt.Sprintf("chown %s %s 2>/dev/null\n", harness.ShellQuote(u.Value), strings.Join(dirs, " "))
		}
	}
	if o, ok := a.cfg.Global.Get("output"); ok && path.IsAbs(o.Value) {
		script += fmt.Sprintf("touch %s; tail -n 0 -F %s >/proc/1/fd/2 2>/dev/null &\n", harness.ShellQuote(o.Value), harness.ShellQuote(o.Value))
	}
	script += fmt.Sprintf("(stunnel %s </dev/null >/proc/1/fd/1 2>/proc/1/fd/2; echo $? >%s) >/dev/null 2>&1 &\n", harness.ShellQuote(a.main), stunnelRC)
	from := r.proxy.Log.Len()
	if code, out, err := r.proxy.Run(ctx, "sh", "-c", script); err != nil || code != 0 {
		return &harness.InfraError{Op: "start stunnel", Err: fmt.Errorf("exit %d: %v %s", code, err, out)}
	}
	ports := a.ports(r)
	deadline := time.Now().Add(r.opts.Waits.Start)
	for {
		_, out, err := r.proxy.Run(ctx, "sh", "-c", "cat "+stunnelRC+" 2>/dev/null; echo; cat /proc/net/tcp /proc/net/tcp6 2>/dev/null")
		if err != nil {
			return &harness.InfraError{Op: "wait for stunnel", Err: err}
		}
		rc, procNet, _ := strings.Cut(out, "\n")
		if code, err := strconv.Atoi(strings.TrimSpace(rc)); err == nil && code != 0 {
			time.Sleep(200 * time.Millisecond)
			a.reject(r, code, strings.Join(r.proxy.Log.Lines(from), "\n"))
			return nil
		}
		listening := listeningPorts(procNet)
		if !slices.ContainsFunc(ports, func(p int) bool { return !listening[p] }) {
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.say("stunnel does not listen on every port within %s; going on", r.opts.Waits.Start)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("stunnel runs your configuration unchanged (stunnel %s); stunnel has no configuration test, so check starts it and reads its messages on stderr and in its output file; the system users of the image's packages were made with systemd-sysusers where it is there, as on a host they are installed on", a.main))
	return nil
}

// stunnelAt is the FILE:LINE of stunnel's messages.
var stunnelAt = regexp.MustCompile(`(/\S+?):(\d+): `)

// reject records stunnel's refusal, with the operator's file and line.
func (a *stunnelAdapter) reject(r *runner, code int, out string) {
	ct := &ConfigTest{Exit: code, Output: strings.TrimSpace(out)}
	if m := stunnelAt.FindStringSubmatch(out); m != nil {
		ct.At = strings.TrimPrefix(m[1], stunnelConfDir+"/") + ":" + m[2]
	}
	r.rep.Rejected = ct
}

// unparsable runs stunnel on a configuration check's parser refused: its
// message is the verdict.
func (a *stunnelAdapter) unparsable(ctx context.Context, r *runner, perr error) (*Report, error) {
	if err := r.startHost(ctx, nil); err != nil {
		return nil, err
	}
	if err := r.proxy.CopyFiles(ctx, map[string][]byte{a.main: a.data}); err != nil {
		return nil, &harness.InfraError{Op: "copy the configuration into stunnel", Err: err}
	}
	code, out, err := r.proxy.Run(ctx, "timeout", "5", "stunnel", a.main)
	if err != nil {
		return nil, &harness.InfraError{Op: "stunnel", Err: err}
	}
	if code == 0 || code == 124 {
		return nil, usagef("sniproof cannot parse the configuration: %v (stunnel accepts it)", perr)
	}
	a.reject(r, code, out)
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("sniproof's parser stopped at %v; stunnel ran on the file", perr))
	r.rep.summarise()
	return r.rep, nil
}

// jobs are one request per client-mode service, to its accept port, with
// the Host of its SNI; or an expectations entry's requests, each to the
// service of its port.
func (a *stunnelAdapter) jobs(r *runner, entries []Entry) []job {
	var out []job
	if entries == nil {
		for _, s := range a.services {
			out = append(out, a.job(r, s, nil))
		}
		return out
	}
	covered := map[*stService]bool{}
	for _, e := range entries {
		req, exp := e.Request, e.Expect
		var j job
		i := slices.IndexFunc(a.services, func(s *stService) bool { return s.port == req.Port })
		if i < 0 {
			j.loc = Location{Location: "no service", At: e.Source}
			j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked = NotChecked, VerdictSkip, fmt.Sprintf("no client-mode service accepts on port %d", req.Port)
		} else {
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

// job is the job of service s: req, or a GET / with its SNI as Host; not
// checked when the backend cannot take its upstream's address.
func (a *stunnelAdapter) job(r *runner, s *stService, req *Request) job {
	conn, host, _, _ := s.Connect()
	name := "service [" + s.Name + "]"
	j := job{targets: s.targets, port: s.port, loc: Location{Location: name, At: fmt.Sprintf("%s:%d", s.File, s.Line),
		Pass: "connect = " + conn.Value, PassAt: conn.Pos(), Place: s.File + " " + name}}
	a.byPlace[j.loc.Place] = s
	switch {
	case s.PSK():
		j.loc.Outcome, j.loc.Verdict, j.loc.Key = NotChecked, VerdictSkip, j.loc.Place
		j.loc.NotChecked = "the service authenticates its peer with a pre-shared key (PSKsecrets): a tunnel to another stunnel, which the backend cannot impersonate"
		return j
	case !s.reachable:
		j.loc.Outcome, j.loc.Verdict, j.loc.Key = NotChecked, VerdictSkip, j.loc.Place
		j.loc.NotChecked = fmt.Sprintf("accept = %s is not on every address: check's requests come from outside the container, which reach only a port stunnel accepts on every address", s.accept)
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
		sni, ok := s.SNI()
		if !ok {
			sni = strings.Trim(host, "[]")
		}
		if sni == "" {
			sni = "localhost"
		}
		req = &Request{Scheme: "http", Host: sni, Port: s.port, Path: "/", Method: "GET"}
	}
	if req.Scheme == "" {
		req.Scheme = "http"
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

// own keeps every event: stunnel makes no connection of its own.
func (*stunnelAdapter) own(_ *runner, _ *job, events []backend.Event, _ bool) []backend.Event {
	return events
}

func (a *stunnelAdapter) diagnose(_ *runner, j *job, obs *harness.Observation) diagnosis {
	return diagnoseStunnel(a.byPlace[j.loc.Place], obs)
}

// stunnelName is the name a fix names for service s: its checkHost, the
// host of its connect, or a placeholder for an IP.
func stunnelName(s *stService) string {
	if o, ok := s.Get("checkHost"); ok && o.Value != "" {
		return o.Value
	}
	if _, host, _, _ := s.Connect(); host != "" && !lint.IsIP(host) && !strings.Contains(host, ":") {
		return host
	}
	return "<the upstream's host name>"
}

// diagnoseStunnel explains an observation of service s's request.
func diagnoseStunnel(s *stService, obs *harness.Observation) diagnosis {
	var d diagnosis
	sni, sniSet := s.Get("sni")
	fix := "sni = " + stunnelName(s)
	switch {
	case obs.Backend == fixtures.BackendServed:
		if obs.Status > 0 && obs.Status < 500 && obs.Status != 421 {
			d.Works = true
			return d
		}
		d.Cause = CauseBadResponse
		d.Explanation = servedButFailed(obs)
		if obs.Status == 421 {
			d.Explanation += ": stunnel tunnels the client's Host unchanged, and it names another site than the SNI"
		}
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonMissingSNI:
		d.Cause, d.Fix = CauseNoSNI, fix
		d.Explanation = "stunnel sent no SNI (an empty sni = disables it), and the upstream refused the handshake" + alertOf(obs) + "; stunnel closed the client's connection"
		if !sniSet {
			d.Explanation = "stunnel sent no SNI, and the upstream refused the handshake" + alertOf(obs) + "; stunnel closed the client's connection"
		}
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonUnknownSNI:
		d.Cause, d.Fix = CauseWrongName, fix
		from := "the host of connect"
		if sniSet {
			from = "sni = " + sni.Value
		} else if _, host, _, _ := s.Connect(); lint.IsIP(host) || strings.Contains(host, ":") {
			from = "the IP literal of connect, which stunnel sends as SNI although RFC 6066 forbids it"
		}
		d.Explanation = fmt.Sprintf("stunnel sent SNI %q (%s), a name the upstream does not serve, and it refused the handshake%s; stunnel closed the client's connection", deref(obs.SNI), from, alertOf(obs))
	case obs.Backend == fixtures.BackendRefused:
		d.Cause, d.Explanation = CauseTimeout, "the upstream never answered the handshake"
	case obs.Backend == fixtures.BackendFailed:
		d.Cause = CauseHandshake
		d.Explanation = fmt.Sprintf("the handshake with the upstream failed (the upstream saw %q)", obs.Reason)
		if s.yes("verifyChain") || s.yes("verifyPeer") {
			d.Cause = CauseVerify
			d.Explanation = fmt.Sprintf("stunnel refused the upstream's certificate (verifyChain; the upstream saw %q)", obs.Reason)
			d.Fix = "CAfile = <the CA bundle that issued the upstream's certificate>"
			if o, ok := s.Get("checkHost"); ok {
				d.Fix = fmt.Sprintf("checkHost = <the name the upstream's certificate holds> (now %s), or CAfile = <the CA bundle that issued it>", o.Value)
			}
		}
	default:
		if obs.Status > 0 && obs.Status < 500 {
			d.Works = true
			return d
		}
		d.Cause, d.Explanation = CauseUnreachable, "no ClientHello reached the upstream: stunnel closed the client's connection"
	}
	return d
}

// yes reports whether a boolean option of the service is yes.
func (s *stService) yes(key string) bool {
	o, ok := s.Get(key)
	return ok && strings.EqualFold(o.Value, "yes")
}

// describe adds the service's section as written and its findings.
func (a *stunnelAdapter) describe(_ *runner, j *job) {
	s := a.byPlace[j.loc.Place]
	if s == nil {
		return
	}
	for _, f := range a.cfg.ServiceFindings(s.StunnelService) {
		j.loc.Lint = append(j.loc.Lint, finding(f))
	}
	data := a.data
	for _, f := range a.cfg.Included {
		if f.Path == s.File {
			data = f.Data
		}
	}
	lines := strings.Split(string(data), "\n")
	var b strings.Builder
	for i := s.Line - 1; i >= 0 && i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if i >= s.Line && strings.HasPrefix(l, "[") {
			break
		}
		if l != "" && l[0] != ';' && l[0] != '#' {
			b.WriteString(l + "\n")
		}
	}
	j.loc.Config = b.String()
}
