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

const (
	// ProxySquid is Squid from Debian's squid package, the GnuTLS build,
	// which sends no SNI.
	ProxySquid = "squid"
	// ProxySquidOpenSSL is Squid from Debian's squid-openssl package, the
	// OpenSSL build, which sends tls-domain= or the peer's host: the one
	// check runs a squid.conf with unless the operator names the other.
	ProxySquidOpenSSL = "squid-openssl"
)

// squidAdapter checks a squid.conf as a reverse proxy (http_port ...
// accel, cache_peer ... originserver tls), run unchanged by the build
// its kind names: one request per tls cache_peer, routed to it by its
// cache_peer_access rules.
type squidAdapter struct {
	k harness.Kind
	// file is the main file on this machine, dir its folder.
	file, dir string
	cfg       *lint.SquidConfig
	// files are the configuration's files by their path in the container.
	files map[string][]byte
	peers []*sqPeer
	// byPlace is each job's peer, by its place.
	byPlace map[string]*sqPeer
}

// sqPeer is a tls cache_peer and where its connections go.
type sqPeer struct {
	lint.SquidPeer
	target Target
}

var (
	squidKind        = mustKind(ProxySquid)
	squidOpenSSLKind = mustKind(ProxySquidOpenSSL)
)

func init() {
	register(ProxySquid, func() adapter { return &squidAdapter{k: squidKind} })
	register(ProxySquidOpenSSL, func() adapter { return &squidAdapter{k: squidOpenSSLKind} })
}

func (a *squidAdapter) kind() harness.Kind { return a.k }

// gnutls reports whether the adapter runs the GnuTLS build.
func (a *squidAdapter) gnutls() bool { return a.k.Name == ProxySquid }

// claims: a squid.conf is the OpenSSL build's unless the operator names
// the GnuTLS one (--proxy squid), which sends no SNI.
func (a *squidAdapter) claims(config string) bool {
	return !a.gnutls() && claimsFile(config, "squid.conf", lint.LooksLikeSquid)
}

// squidMain is where the configuration runs: Debian's path.
var squidMain = path.Join(lint.SquidConfDir, "squid.conf")

func (a *squidAdapter) load(r *runner) (error, error) {
	a.file = mainFile(r.opts.Config, "squid.conf")
	if err := readable(a.file); err != nil {
		return nil, err
	}
	a.dir = filepath.Dir(a.file)
	r.newReport(a.dir, squidMain)
	data, err := os.ReadFile(a.file)
	if err != nil {
		return nil, usagef("cannot read the configuration %s: %v", a.file, cause(err))
	}
	a.files = map[string][]byte{squidMain: data}
	cfg, perr := lint.ParseSquidFile(a.file)
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

func (a *squidAdapter) plan(r *runner) {
	up := newCollector()
	for _, p := range a.cfg.Peers {
		if !p.TLS {
			continue
		}
		t := Target{Host: p.Host, Port: p.Port, IP: p.IP()}
		up.target(t)
		if p.Domain != "" && !lint.IsIP(p.Domain) && !strings.Contains(p.Domain, ":") {
			up.names.add(p.Domain)
		}
		a.peers = append(a.peers, &sqPeer{SquidPeer: p, target: t})
	}
	u, notes := up.upstreams()
	r.up = &u
	r.rep.Notes = append(r.rep.Notes, notes...)
	r.rep.Notes = append(r.rep.Notes, a.cfg.Notes...)
	if a.gnutls() {
		r.rep.Notes = append(r.rep.Notes, "this is the GnuTLS build of Squid (Debian's squid package), which sends no SNI to any tls cache_peer, tls-domain= included; squid-openssl, the OpenSSL build, sends it (check runs it without --proxy squid)")
	}
	for _, f := range a.findings() {
		r.rep.Lint = append(r.rep.Lint, finding(f))
	}
}

// findings are lint's, with files named as reports name them; the
// OpenSSL build's without SQD001, the GnuTLS build's warning.
func (a *squidAdapter) findings() []lint.Finding {
	var out []lint.Finding
	for _, f := range a.cfg.Findings() {
		if f.Rule == "SQD001" && !a.gnutls() {
			continue
		}
		f.File = relTo(a.dir, f.File)
		out = append(out, f)
	}
	return out
}

// host starts the image idle: Squid starts once its files are in.
func (*squidAdapter) host(ctx context.Context, r *runner, networks []*testcontainers.DockerNetwork, opts []testcontainers.ContainerCustomizer) (*harness.ProxyHost, error) {
	return r.sess.RunIdleHost(ctx, r.rep.Image, networks, opts...)
}

// squidReachable reports whether Docker's published port reaches port
// p: it listens on every address.
func squidReachable(p lint.SquidPort) bool {
	return slices.Contains([]string{"", "0.0.0.0", "::"}, p.Host)
}

func (a *squidAdapter) ports(*runner) []int {
	var ports []int
	for _, p := range a.cfg.Ports {
		if squidReachable(p) && !slices.Contains(ports, p.Port) {
			ports = append(ports, p.Port)
		}
	}
	return ports
}

// launch copies the configuration's files where Squid reads them, the
// run's CA at each peer's tls-cafile= (and in the system store, which a
// peer without one verifies against), a throwaway certificate where a
// port's is missing; tests it with squid -k parse and starts squid -N,
// its cache.log messages on stderr (-d 1).
func (a *squidAdapter) launch(ctx context.Context, r *runner) error {
	files := map[string][]byte{}
	for p, d := range a.files {
		files[p] = d
	}
	system := false
	for _, p := range a.peers {
		if p.CAFile == "" {
			system = true
			continue
		}
		if _, done := files[p.CAFile]; !done {
			files[p.CAFile] = r.ca.CertPEM()
			r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the run's CA was written at %s (tls-cafile= of cache_peer %s, %s:%d), so that Squid trusts the backend's certificate", p.CAFile, p.Name, relTo(a.dir, p.File), p.Line))
		}
	}
	if system {
		for _, f := range systemStores {
			files[f] = r.ca.CertPEM()
		}
		r.rep.Notes = append(r.rep.Notes, "the run's CA was written in the system store ("+strings.Join(systemStores, " and ")+"), which a cache_peer without tls-cafile= verifies against, as production trusts the upstreams' CA")
	}
	for _, p := range a.cfg.Ports {
		if p.Cert == "" {
			continue
		}
		if err := a.portCert(r, files, p); err != nil {
			return err
		}
	}
	if err := r.proxy.CopyFiles(ctx, files); err != nil {
		return &harness.InfraError{Op: "copy the configuration into squid", Err: err}
	}
	code, out, err := r.proxy.Run(ctx, a.k.TestCmd(squidMain)...)
	if err != nil {
		return &harness.InfraError{Op: testName(a.k), Err: err}
	}
	if code != 0 {
		a.reject(r, code, out)
		return nil
	}
	cmd := fmt.Sprintf("chmod 0666 /proc/1/fd/1 /proc/1/fd/2; squid -N -d 1 -f %s </dev/null >/proc/1/fd/1 2>/proc/1/fd/2 & echo $!", harness.ShellQuote(squidMain))
	exited, logged, err := r.startDaemon(ctx, "squid", cmd, a.ports(r), r.opts.Waits.Start)
	if err != nil {
		return err
	}
	if exited {
		a.reject(r, 1, "squid -k parse accepted the configuration, but squid did not start:\n"+strings.Join(logged, "\n"))
		return nil
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("%s runs your configuration unchanged (squid -N -d 1 -f %s, its cache.log messages on stderr, which check reads)", a.k.Name, squidMain))
	return nil
}

// portCert puts the operator's certificate (by its path under the
// configuration's folder) where a port's tls-cert= names it, or a
// throwaway one, with its key, where the run lacks it.
func (a *squidAdapter) portCert(r *runner, files map[string][]byte, p lint.SquidPort) error {
	local := func(name string) ([]byte, bool) {
		rel, ok := strings.CutPrefix(path.Clean(name), lint.SquidConfDir+"/")
		if !ok {
			return nil, false
		}
		d, err := os.ReadFile(filepath.Join(a.dir, filepath.FromSlash(rel)))
		return d, err == nil
	}
	cd, cok := local(p.Cert)
	kd, kok := local(p.Key)
	if cok && kok {
		files[p.Cert], files[p.Key] = cd, kd
		return nil
	}
	c, k, err := r.leafPEM("localhost")
	if err != nil {
		return err
	}
	if p.Key == p.Cert {
		files[p.Cert] = append(c, k...)
	} else {
		files[p.Cert], files[p.Key] = c, k
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("the certificate %s of %s:%d is missing: check made a throwaway certificate and key there", p.Cert, relTo(a.dir, p.File), p.Line))
	return nil
}

// sqAtLine is where Squid's messages name a line of a file.
var sqAtLine = regexp.MustCompile(`(/[^\s(]+?)(?:\((\d+)\)| line (\d+))`)

// reject records Squid's refusal, with the operator's file and line where
// its message names one.
func (a *squidAdapter) reject(r *runner, code int, out string) {
	ct := &ConfigTest{Exit: code, Output: strings.TrimSpace(out)}
	for _, m := range sqAtLine.FindAllStringSubmatch(out, -1) {
		if a.cfg == nil {
			break
		}
		if i := slices.Index(a.cfg.Paths, m[1]); i >= 0 {
			ct.At = relTo(a.dir, a.cfg.Files[i]) + ":" + m[2] + m[3]
			break
		}
	}
	r.rep.Rejected = ct
}

// unparsable runs squid -k parse on a configuration check's parser
// refused: its message is the verdict.
func (a *squidAdapter) unparsable(ctx context.Context, r *runner, perr error) (*Report, error) {
	if err := r.startHost(ctx, nil); err != nil {
		return nil, err
	}
	if err := r.proxy.CopyFiles(ctx, a.files); err != nil {
		return nil, &harness.InfraError{Op: "copy the configuration into squid", Err: err}
	}
	code, out, err := r.proxy.Run(ctx, a.k.TestCmd(squidMain)...)
	if err != nil {
		return nil, &harness.InfraError{Op: testName(a.k), Err: err}
	}
	if code == 0 {
		return nil, usagef("sniproof cannot parse the configuration: %v (squid -k parse accepts it)", perr)
	}
	a.reject(r, code, out)
	var ce *lint.ConfigError
	if errors.As(perr, &ce) && ce.Line > 0 && r.rep.Rejected.At == "" {
		r.rep.Rejected.At = fmt.Sprintf("%s:%d", relTo(a.dir, ce.File), ce.Line)
	}
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("sniproof's parser stopped at %v; squid -k parse ran on the file", perr))
	r.rep.summarise()
	return r.rep, nil
}

// frontend is the port and scheme requests use: the first plain
// http_port's, else the first TLS one's.
func (a *squidAdapter) frontend() (int, string) {
	for _, p := range a.cfg.Ports {
		if !p.TLS && squidReachable(p) {
			return p.Port, "http"
		}
	}
	for _, p := range a.cfg.Ports {
		if squidReachable(p) {
			return p.Port, "https"
		}
	}
	return 0, "http"
}

// unreachable says why no request reaches Squid, "" when one does.
func (a *squidAdapter) unreachable() string {
	if port, _ := a.frontend(); port > 0 {
		return ""
	}
	var at []string
	for _, p := range a.cfg.Ports {
		at = append(at, p.Text())
	}
	return "Squid listens on no address a published port reaches (" + strings.Join(at, ", ") + ": loopback or one address only)"
}

// acls are the values of the acl lines named name, with their type.
func (a *squidAdapter) acls(name string) (typ string, values []string) {
	for _, acl := range a.cfg.ACLs {
		if acl.Name == name {
			typ = acl.Type
			values = append(values, acl.Values...)
		}
	}
	return typ, values
}

// request is the host and path of the request check makes up for peer p:
// from the acls of its first cache_peer_access allow (a dstdomain's first
// domain, www. for a leading dot; a literal urlpath_regex ^/path),
// else the accel port's defaultsite, else localhost.
func (a *squidAdapter) request(p *sqPeer) (host, reqPath string) {
	reqPath = "/"
	for _, acc := range a.cfg.Access {
		if acc.Peer != p.Name || !acc.Allow {
			continue
		}
		for _, name := range acc.ACLs {
			typ, values := a.acls(name)
			vals := slices.DeleteFunc(slices.Clone(values), func(v string) bool { return strings.HasPrefix(v, "-") })
			if len(vals) == 0 {
				continue
			}
			switch typ {
			case "dstdomain":
				if host == "" {
					host = vals[0]
					if strings.HasPrefix(host, ".") {
						host = "www" + host
					}
				}
			case "urlpath_regex":
				if lit := strings.TrimPrefix(vals[0], "^"); lit != vals[0] && regexp.QuoteMeta(lit) == lit {
					reqPath = lit
				}
			}
		}
		break
	}
	if host == "" {
		for _, port := range a.cfg.Ports {
			if port.DefaultSite != "" {
				host = port.DefaultSite
				break
			}
		}
	}
	if host == "" {
		host = "localhost"
	}
	return host, reqPath
}

// matches reports whether acl name matches the request.
func (a *squidAdapter) matches(name, host, reqPath string) bool {
	neg := strings.HasPrefix(name, "!")
	name = strings.TrimPrefix(name, "!")
	typ, values := a.acls(name)
	hit := false
	switch {
	case name == "all":
		hit = true
	case typ == "dstdomain":
		hit = slices.ContainsFunc(values, func(d string) bool {
			d = strings.ToLower(d)
			return host == d || strings.HasPrefix(d, ".") && (host == d[1:] || strings.HasSuffix(host, d))
		})
	case typ == "urlpath_regex":
		flags := ""
		for _, v := range values {
			if v == "-i" {
				flags = "(?i)"
				continue
			}
			if re, err := regexp.Compile(flags + v); err == nil && re.MatchString(reqPath) {
				hit = true
			}
		}
	}
	return hit != neg
}

// route is the peer Squid sends a request to: the first cache_peer whose
// cache_peer_access rules allow it (the first rule whose acls all match
// decides; none matching, the opposite of the last; no rule allows it);
// nil when that peer has no tls.
func (a *squidAdapter) route(host, reqPath string) *sqPeer {
	host, _ = lint.SplitHost(host)
	host = strings.ToLower(host)
	for _, p := range a.cfg.Peers {
		allowed, ruled := true, false
		for _, acc := range a.cfg.Access {
			if acc.Peer != p.Name {
				continue
			}
			ruled, allowed = true, !acc.Allow
			if !slices.ContainsFunc(acc.ACLs, func(n string) bool { return !a.matches(n, host, reqPath) }) {
				allowed = acc.Allow
				break
			}
		}
		if allowed || !ruled {
			for _, sp := range a.peers {
				if sp.Line == p.Line && sp.File == p.File {
					return sp
				}
			}
			return nil
		}
	}
	return nil
}

// job is peer p's job, not checked when the backend cannot stand for it.
func (a *squidAdapter) job(r *runner, p *sqPeer) job {
	at := fmt.Sprintf("%s:%d", relTo(a.dir, p.File), p.Line)
	name := "cache_peer " + p.Name
	j := job{targets: []Target{p.target}, loc: Location{Location: name, At: at, Pass: p.Text(), PassAt: at,
		Place: fmt.Sprintf("%s %s", relTo(a.dir, a.file), name)}}
	if a.byPlace == nil {
		a.byPlace = map[string]*sqPeer{}
	}
	a.byPlace[j.loc.Place] = p
	if why := a.unreachable(); why != "" {
		j.loc.Outcome, j.loc.Verdict, j.loc.NotChecked = NotChecked, VerdictSkip, why
	}
	if why := r.skipIP[p.target.Host]; p.target.IP && why != "" {
		j.loc.Outcome, j.loc.Verdict = NotChecked, VerdictSkip
		j.loc.NotChecked = fmt.Sprintf("the upstream %s cannot be impersonated: %s", p.target, why)
	}
	return j
}

// jobs are one request per tls cache_peer, on the first http_port, or an
// expectations entry's requests, routed as Squid routes them.
func (a *squidAdapter) jobs(r *runner, entries []Entry) []job {
	var out []job
	port, scheme := a.frontend()
	if entries == nil {
		for _, p := range a.peers {
			j := a.job(r, p)
			host, reqPath := a.request(p)
			req := Request{Scheme: scheme, Host: host, Port: port, Path: reqPath, Method: "GET"}
			j.loc.Request, j.loc.Key, j.port = &req, req.String(), port
			if got := a.route(host, reqPath); got != p && j.loc.Outcome != NotChecked {
				j.loc.Outcome, j.loc.Verdict = NotChecked, VerdictSkip
				j.loc.NotChecked = fmt.Sprintf("check found no request its cache_peer_access rules send to it (%s%s goes elsewhere): name one in an expectations file", host, reqPath)
			}
			out = append(out, j)
		}
		return out
	}
	return entryJobs(entries, a.peers, "no tls cache_peer", func(req *Request) (*sqPeer, bool, string) {
		req.Port = cmp.Or(req.Port, port)
		req.Scheme = cmp.Or(req.Scheme, scheme)
		p := a.route(req.Host, req.Path)
		return p, p != nil, fmt.Sprintf("no tls cache_peer serves %s%s", req.Host, req.Path)
	}, func(p *sqPeer) job { return a.job(r, p) })
}

// own keeps every event: an originserver cache_peer with no-query gets
// no connection of Squid's own.
func (*squidAdapter) own(_ *runner, _ *job, events []backend.Event, _ bool) []backend.Event {
	return events
}

func (a *squidAdapter) diagnose(r *runner, j *job, obs *harness.Observation) diagnosis {
	p := a.byPlace[j.loc.Place]
	if other, at := a.servedElsewhere(r, p, obs); at != "" {
		return a.failedOver(p, other, at, obs)
	}
	return diagnoseSquid(p, a.gnutls(), obs)
}

// servedElsewhere is the peer (nil when no tls peer) whose address
// served the request of peer p, and that address, when it is not p's:
// Squid forwards a request to the next allowed peer when the connection
// to one fails (forward_max_tries); "" when p served it, or when no
// connection served it.
func (a *squidAdapter) servedElsewhere(r *runner, p *sqPeer, obs *harness.Observation) (*sqPeer, string) {
	own := r.destination(p.target)
	if own == "" {
		return nil, ""
	}
	for _, ev := range obs.Events {
		if ev.Kind != backend.KindRequest || ev.Local == "" || ev.Local == own {
			continue
		}
		for _, other := range a.peers {
			if r.destination(other.target) == ev.Local {
				return other, ev.Local
			}
		}
		return nil, ev.Local
	}
	return nil, ""
}

// failedOver explains a request of peer p that another peer served: p's
// connection failed, and the answer is another upstream's.
func (a *squidAdapter) failedOver(p, other *sqPeer, at string, obs *harness.Observation) diagnosis {
	who := "an address of no tls cache_peer (" + at + ")"
	if other != nil {
		who = fmt.Sprintf("cache_peer %s (%s)", other.Name, at)
	}
	d := diagnosis{Cause: CauseUnreachable}
	d.Explanation = fmt.Sprintf("Squid did not reach the upstream through cache_peer %s: its connection failed, so Squid forwarded the request to the next peer its cache_peer_access rules allow, %s, which answered %s (the upstream saw %s); the client got another upstream's answer",
		p.Name, who, statusText(obs.Status, obs.Error), sawText(obs.SNI))
	if other != nil {
		d.Fix = fmt.Sprintf("cache_peer_access %s deny %s (before its allow), so that the failure of cache_peer %s shows; then check again", other.Name, a.ownACLs(p, other), p.Name)
	}
	return d
}

// ownACLs are the acls of peer p's first cache_peer_access allow that
// other's rules do not name: those that tell p's requests from other's,
// or a placeholder.
func (a *squidAdapter) ownACLs(p, other *sqPeer) string {
	var others []string
	for _, acc := range a.cfg.Access {
		if acc.Peer == other.Name {
			others = append(others, acc.ACLs...)
		}
	}
	for _, acc := range a.cfg.Access {
		if acc.Peer != p.Name || !acc.Allow {
			continue
		}
		var own []string
		for _, n := range acc.ACLs {
			if !slices.Contains(others, n) {
				own = append(own, n)
			}
		}
		if len(own) > 0 {
			return strings.Join(own, " ")
		}
		break
	}
	return "<an acl of cache_peer " + p.Name + "'s requests>"
}

// diagnoseSquid explains an observation of peer p's request, by the
// GnuTLS build or the OpenSSL one.
func diagnoseSquid(p *sqPeer, gnutls bool, obs *harness.Observation) diagnosis {
	var d diagnosis
	noVerify := slices.Contains(strings.Split(p.Flags, ","), "DONT_VERIFY_PEER")
	x509 := ""
	for _, l := range obs.ProxyLog {
		if i := strings.Index(l, "SQUID_X509_"); i >= 0 {
			x509 = strings.Fields(l[i:])[0]
		}
	}
	switch {
	case obs.Backend == fixtures.BackendServed && obs.Status == 503 && !noVerify:
		d.Cause = CauseVerify
		d.Explanation = fmt.Sprintf("the upstream completed the handshake (it saw %s), then Squid refused its certificate and answered 503", sawText(obs.SNI))
		if x509 != "" {
			d.Explanation += " (" + x509 + ")"
		}
		d.Fix = "tls-cafile=<the CA bundle that issued the upstream's certificate> on " + p.Text()
		if strings.Contains(x509, "DOMAIN_MISMATCH") {
			d.Fix = lint.SquidFix(p.SquidPeer, "<the name the upstream's certificate holds>")
		}
	case obs.Backend == fixtures.BackendServed:
		if obs.Status > 0 && obs.Status < 500 && obs.Status != 421 {
			d.Works = true
			return d
		}
		d.Cause = CauseBadResponse
		d.Explanation = servedButFailed(obs)
		if obs.Status == 421 {
			d.Explanation += ": Squid passed the client's Host (accel vhost), another name than the SNI"
			if n := p.SNI(); n != "" {
				d.Fix = p.Text() + " forceddomain=" + n
			}
		}
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonMissingSNI:
		d.Cause = CauseNoSNI
		switch {
		case gnutls:
			d.Explanation = "Squid sent no SNI: this is the GnuTLS build (Debian's squid package), which sends none to any cache_peer, tls-domain= included, and the upstream refused the handshake" + alertOf(obs)
			d.Fix = "apt-get install squid-openssl (the OpenSSL build sends " + strings.TrimPrefix(squidSNIName(p), "SNI ") + ")"
		default:
			d.Explanation = fmt.Sprintf("Squid sent no SNI (the peer %s is an IP address, which Squid never sends, and the line has no tls-domain=), and the upstream refused the handshake%s", p.Host, alertOf(obs))
			d.Fix = lint.SquidFix(p.SquidPeer, "<the upstream's host name>")
		}
	case obs.Backend == fixtures.BackendRefused && obs.Reason == backend.ReasonUnknownSNI:
		d.Cause = CauseWrongName
		src := "the peer's host"
		if p.Domain != "" {
			src = "tls-domain=" + p.Domain
		}
		d.Explanation = fmt.Sprintf("Squid sent SNI %q (%s), a name the upstream does not serve, and it refused the handshake%s", deref(obs.SNI), src, alertOf(obs))
		d.Fix = lint.SquidFix(p.SquidPeer, "<the upstream's host name>")
	case obs.Backend == fixtures.BackendRefused:
		d.Cause, d.Explanation = CauseTimeout, "the upstream never answered the handshake"
	case obs.Backend == fixtures.BackendFailed:
		d.Cause = CauseHandshake
		d.Explanation = fmt.Sprintf("the handshake with the upstream failed (the upstream saw %q)", obs.Reason)
		if !noVerify {
			d.Cause = CauseVerify
			d.Explanation = fmt.Sprintf("Squid refused the upstream's certificate (the upstream saw %q)", obs.Reason)
			d.Fix = "tls-cafile=<the CA bundle that issued the upstream's certificate> on " + p.Text()
			if strings.Contains(x509, "DOMAIN_MISMATCH") {
				d.Fix = lint.SquidFix(p.SquidPeer, "<the name the upstream's certificate holds>")
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

// squidSNIName says what the OpenSSL build would send peer p.
func squidSNIName(p *sqPeer) string {
	if n := p.SNI(); n != "" {
		return "SNI " + n
	}
	return "tls-domain= as SNI, which this peer, an IP address, then needs"
}

func (a *squidAdapter) describe(_ *runner, j *job) {
	p := a.byPlace[j.loc.Place]
	if p == nil {
		return
	}
	for _, f := range a.findings() {
		if f.File == relTo(a.dir, p.File) && f.Line == p.Line {
			j.loc.Lint = append(j.loc.Lint, finding(f))
		}
	}
	j.loc.Config = p.Text() + "\n"
	for _, acc := range a.cfg.Access {
		if acc.Peer == p.Name {
			j.loc.Config += acc.Text() + "\n"
		}
	}
}
