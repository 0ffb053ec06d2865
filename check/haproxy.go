package check

import (
	"fmt"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sniproof/sniproof/lint"
)

// The proxies check runs.
const (
	ProxyNginx   = "nginx"
	ProxyHAProxy = "haproxy"
	ProxyGoProxy = "goproxy"
)

// DefaultHAProxyDir is where HAProxy reads its configuration in Debian's
// and haproxy.org's images, and so where check puts an haproxy.cfg.
const DefaultHAProxyDir = "/etc/haproxy"

// claims reports whether config is an HAProxy configuration: a file, or
// a folder's haproxy.cfg, whose first keyword is a section keyword.
func (a *haproxyAdapter) claims(config string) bool {
	file := config
	if st, err := os.Stat(config); err == nil && st.IsDir() {
		file = filepath.Join(config, "haproxy.cfg")
	}
	data, err := os.ReadFile(file)
	return err == nil && lint.LooksLikeHAProxy(data)
}

// haPlan is what check derives from an HAProxy configuration: the
// frontends that take requests, every backend with a TLS server, and the
// names, ports and addresses the backend must answer on.
type haPlan struct {
	Upstreams
	cfg *lint.HAConfig
	// host is the file on this machine, main its path in the container.
	host, main string
	// frontends are the frontend and listen sections with a bind.
	frontends []*haFrontend
	// checks counts the servers with health checks; checkWait is how long
	// their first verdicts take at most (see checkWait).
	checks    int
	checkWait time.Duration
	// unresolved are the ssl servers HAProxy starts without an address
	// (init-addr none) and gives one from a resolvers section's answer.
	unresolved []*lint.HAServer
	// backends are the backend and listen sections with an ssl server.
	backends []*haBackend
	notes    []string
	// findings are lint's, computed once.
	findings []lint.Finding
	// workDir is HAProxy's working directory, which relative paths
	// resolve against (see haWorkDir).
	workDir string
	// data is the configuration file's content.
	data []byte
}

// haFrontend is a section that takes requests, and its bind ports.
type haFrontend struct {
	sec   *lint.HASection
	binds []Listen
}

// haBackend is a section with at least one ssl server.
type haBackend struct {
	sec     *lint.HASection
	servers []*lint.HAServer // its ssl servers
	targets []Target
	// skip says why a server of it cannot be impersonated, or "".
	skip string
}

// newHAPlan derives the plan of an HAProxy configuration.
func newHAPlan(c *lint.HAConfig, host, main string) *haPlan {
	p := &haPlan{cfg: c, host: host, main: main}
	up := newCollector()
	for _, sec := range c.Sections {
		if sec.Kind != "frontend" && sec.Kind != "listen" {
			continue
		}
		f := &haFrontend{sec: sec}
		for _, b := range sec.All("bind") {
			f.binds = append(f.binds, parseBind(b))
		}
		if len(f.binds) > 0 {
			p.frontends = append(p.frontends, f)
		}
	}
	for _, s := range c.Servers() {
		if s.Host != "" && !s.IsIPHost() && !strings.HasPrefix(s.Host, "/") && !strings.Contains(s.Host, "@") && s.Host != "localhost" {
			up.aliases.add(s.Host)
		}
	}
	for _, sec := range c.Sections {
		if sec.Kind != "backend" && sec.Kind != "listen" {
			continue
		}
		b := &haBackend{sec: sec}
		for _, s := range sec.Servers() {
			if s.Has("check") {
				p.checks++
				p.checkWait = max(p.checkWait, checkWait(s, c.Global()))
			}
			if !s.SSL() {
				continue
			}
			if s.Params["resolvers"] != "" && strings.HasPrefix(s.Params["init-addr"], "none") {
				p.unresolved = append(p.unresolved, s)
			}
			b.servers = append(b.servers, s)
			port, err := strconv.Atoi(s.Port)
			var t Target
			switch sock := strings.TrimPrefix(s.Addr, "unix@"); {
			case strings.HasPrefix(sock, "/"):
				// A unix socket: the backend takes it in a folder it
				// shares with HAProxy.
				t = Target{Socket: path.Clean(sock)}
			case strings.Contains(s.Host, "@") || strings.HasPrefix(s.Host, "/"):
				b.skip = fmt.Sprintf("server %s (%s) is not a TCP address or a unix socket", s.Name, s.Line.Pos())
				continue
			case err != nil || port <= 0:
				b.skip = fmt.Sprintf("server %s (%s) has no port: HAProxy uses the client's, which check does not impersonate", s.Name, s.Line.Pos())
				continue
			default:
				t = Target{Host: strings.ToLower(s.Host), Port: port, IP: s.IsIPHost()}
			}
			b.targets = append(b.targets, t)
			up.target(t)
			for _, kw := range []string{"check-sni", "verifyhost"} {
				if v := s.Params[kw]; v != "" {
					up.names.add(v)
				}
			}
			if n, ok := s.SNIName(); ok && n != "" && !lint.IsIP(n) {
				up.names.add(n)
			}
		}
		if len(b.servers) > 0 {
			p.backends = append(p.backends, b)
		}
	}
	for _, ns := range c.Nameservers() {
		if ap, err := netip.ParseAddrPort(ns.Addr); err == nil {
			up.resolver(ap)
		} else if a, err := netip.ParseAddr(ns.Addr); err == nil {
			up.resolver(netip.AddrPortFrom(a, 53))
		}
	}
	p.Upstreams, p.notes = up.upstreams()
	return p
}

// parseBind reads bind ADDR:PORT[,ADDR:PORT...] and its ssl flag; the
// first address counts.
func parseBind(l *lint.HALine) Listen {
	b := Listen{Port: 0, SSL: slices.Contains(l.Args, "ssl")}
	addr, _, _ := strings.Cut(l.Arg(0), ",")
	switch {
	case strings.HasPrefix(addr, "/") || strings.Contains(addr, "@"):
		b.Unix = true
		return b
	case strings.HasPrefix(addr, "["), strings.Count(addr, ":") > 1:
		i := strings.LastIndex(addr, ":")
		b.Addr = addr[:i]
		b.Port, _ = strconv.Atoi(addr[i+1:])
		b.Reachable = b.Addr == "::" || b.Addr == "[::]" && slices.Contains(l.Args, "v4v6")
		return b
	}
	host, port, _ := strings.Cut(addr, ":")
	b.Addr = host
	if lo, _, ok := strings.Cut(port, "-"); ok {
		port = lo
	}
	b.Port, _ = strconv.Atoi(port)
	b.Reachable = (host == "" || host == "*" || host == "0.0.0.0") && b.Port > 0
	return b
}

// haRequest is a request as HAProxy's routing sees it.
type haRequest struct {
	host, path, method string
	// sni is the client's SNI: the host over TLS, "" in cleartext.
	sni string
}

// route is the backend HAProxy picks for a request to frontend f: the
// first use_backend rule whose condition holds, else default_backend (a
// listen section serves what no rule takes). It returns nil and why when
// the routing depends on something check does not evaluate.
func (p *haPlan) route(f *haFrontend, req haRequest) (*lint.HASection, string) {
	for _, l := range f.sec.All("use_backend") {
		ok, why := p.holds(f.sec, l, l.Args[min(1, len(l.Args)):], req)
		if why != "" {
			return nil, why
		}
		if !ok {
			continue
		}
		if strings.Contains(l.Arg(0), "%[") {
			return nil, fmt.Sprintf("use_backend %s (%s) names its backend with an expression", l.Arg(0), l.Pos())
		}
		if b := p.cfg.Section("backend", l.Arg(0)); b != nil {
			return b, ""
		}
		return nil, fmt.Sprintf("use_backend %s (%s) names no backend", l.Arg(0), l.Pos())
	}
	if d := f.sec.Setting("default_backend"); d != nil {
		if b := p.cfg.Section("backend", d.Arg(0)); b != nil {
			return b, ""
		}
	}
	if f.sec.Kind == "listen" {
		return f.sec, ""
	}
	return nil, "no use_backend rule takes it and the frontend has no default_backend"
}

// holds evaluates a rule's condition ("if|unless TERMS") for a request:
// terms are ACL names (an ACL defined on several lines holds when any
// does), "!" negations and anonymous ACLs in braces; "||" or "or"
// separate alternatives. why is set when a term uses what check does not
// evaluate.
func (p *haPlan) holds(sec *lint.HASection, rule *lint.HALine, cond []string, req haRequest) (bool, string) {
	if len(cond) == 0 {
		return true, ""
	}
	negate := cond[0] == "unless"
	if cond[0] != "if" && !negate {
		return false, fmt.Sprintf("%s (%s) has a condition check cannot read", rule.Keyword, rule.Pos())
	}
	any, all := false, true
	for i := 1; i < len(cond); i++ {
		w := cond[i]
		if w == "||" || w == "or" {
			any = any || all
			all = true
			continue
		}
		not := strings.HasPrefix(w, "!")
		w = strings.TrimPrefix(w, "!")
		if w == "" && i+1 < len(cond) {
			i++
			w = cond[i]
		}
		var ok bool
		var why string
		if w == "{" {
			end := slices.Index(cond[i:], "}")
			if end < 0 {
				return false, fmt.Sprintf("%s (%s) has an anonymous ACL without }", rule.Keyword, rule.Pos())
			}
			ok, why = matchACL(cond[i+1:i+end], req)
			i += end
		} else {
			ok, why = p.named(sec, w, req)
		}
		if why != "" {
			return false, fmt.Sprintf("%s (%s): %s", rule.Keyword, rule.Pos(), why)
		}
		all = all && ok != not
	}
	res := any || all
	return res != negate, ""
}

// named evaluates a named ACL: HAProxy's predefined ones, or the section's
// acl lines of that name.
func (p *haPlan) named(sec *lint.HASection, name string, req haRequest) (bool, string) {
	switch name {
	case "TRUE", "HTTP", "HTTP_1.1", "REQ_CONTENT", "always_true":
		return true, ""
	case "FALSE", "always_false":
		return false, ""
	case "METH_GET":
		return req.method == "GET" || req.method == "HEAD", ""
	case "METH_POST":
		return req.method == "POST", ""
	}
	found := false
	for _, l := range sec.All("acl") {
		if l.Arg(0) != name {
			continue
		}
		found = true
		ok, why := matchACL(l.Args[1:], req)
		if why != "" || ok {
			return ok, why
		}
	}
	if !found {
		return false, fmt.Sprintf("ACL %s is not defined in %s", name, sec.Label())
	}
	return false, ""
}

// matchACL evaluates "CRITERION [flags] VALUES..." for a request: the
// Host header (hdr(host), req.hdr(host), hdr_dom/beg/end/sub(host)), the
// path (path, path_beg, path_end, path_sub), the client's SNI
// (ssl_fc_sni, req.ssl_sni, req_ssl_sni) and the method, with -i and
// -m str|beg|end|sub|dom|found. Anything else: why says so.
func matchACL(words []string, req haRequest) (bool, string) {
	if len(words) == 0 {
		return false, "an empty ACL"
	}
	fetch, method, fold, values := criterion(words)
	var subject string
	switch {
	case strings.HasPrefix(fetch, "hdr(host)") || strings.HasPrefix(fetch, "req.hdr(host)") || strings.HasPrefix(fetch, "req.fhdr(host)"):
		subject = req.host
		if conv := fetch[strings.Index(fetch, ")")+1:]; conv != "" {
			if !strings.Contains(conv, "field(1,:)") && !strings.Contains(conv, "host_only") && conv != ",lower" {
				return false, fmt.Sprintf("the converter %s is not evaluated by check", conv)
			}
			if strings.Contains(conv, "lower") {
				fold = true
			}
		}
	case fetch == "path" || fetch == "path_beg" || fetch == "path_end" || fetch == "path_sub":
		subject = req.path
	case fetch == "ssl_fc_sni" || fetch == "req.ssl_sni" || fetch == "req_ssl_sni":
		subject = req.sni
	case fetch == "method":
		subject = req.method
	default:
		return false, fmt.Sprintf("the criterion %s is not evaluated by check", words[0])
	}
	if method == "found" {
		return subject != "", ""
	}
	if method == "reg" {
		return false, fmt.Sprintf("the criterion %s matches a regular expression, which check does not evaluate", words[0])
	}
	if fold {
		subject = strings.ToLower(subject)
	}
	for _, v := range values {
		if fold {
			v = strings.ToLower(v)
		}
		if matchMethod(method, subject, v) {
			return true, ""
		}
	}
	return false, ""
}

// criterion splits an ACL into its fetch (lower case, with converters),
// match method, -i and values; hdr_dom(host) and the like become
// hdr(host) with their method.
func criterion(words []string) (fetch, method string, fold bool, values []string) {
	fetch = strings.ToLower(words[0])
	method = "str"
	for _, m := range []string{"beg", "end", "sub", "dom", "reg"} {
		if strings.HasPrefix(fetch, "hdr_"+m+"(") {
			fetch, method = "hdr("+strings.TrimPrefix(fetch, "hdr_"+m+"("), m
		}
		if fetch == "path_"+m {
			method = m
		}
	}
	for i := 1; i < len(words); i++ {
		switch w := words[i]; {
		case w == "-i":
			fold = true
		case w == "-m" && i+1 < len(words):
			method = words[i+1]
			i++
		case w == "--":
			values = append(values, words[i+1:]...)
			return
		case strings.HasPrefix(w, "-") && len(values) == 0:
		default:
			values = append(values, w)
		}
	}
	return
}

func matchMethod(method, subject, v string) bool {
	switch method {
	case "beg":
		return strings.HasPrefix(subject, v)
	case "end":
		return strings.HasSuffix(subject, v)
	case "sub":
		return strings.Contains(subject, v)
	case "dom":
		return subject == v || strings.HasSuffix(subject, "."+v) || strings.HasPrefix(subject, v+".") || strings.Contains(subject, "."+v+".")
	}
	return subject == v
}

// request makes up a request that HAProxy routes to backend b, from the
// first frontend that can route one there: the values of the conditions
// of its use_backend rule (or none, for its default_backend), checked by
// evaluating every rule in order. It returns why when no frontend can.
func (p *haPlan) request(b *haBackend) (*haFrontend, Request, string) {
	why := "no frontend with a bind routes to it"
	for _, f := range p.frontends {
		l, ok := pickBind(f)
		if !ok {
			why = fmt.Sprintf("%s has no bind that Docker can publish", f.sec.Label())
			continue
		}
		for _, seed := range p.seeds(f, b) {
			req := Request{Method: "GET", Host: seed.host, Port: l.Port, Path: seed.path}
			if seed.method != "" {
				req.Method = seed.method
			}
			switch {
			case f.sec.Mode() == "tcp":
				req.Scheme, req.TLS = "tcp", l.SSL
			case l.SSL:
				req.Scheme = "https"
			default:
				req.Scheme = "http"
			}
			hr := haRequest{host: req.Host, path: req.Path, method: req.Method}
			if l.SSL {
				hr.sni = req.Host
			}
			got, w := p.route(f, hr)
			switch {
			case w != "":
				why = fmt.Sprintf("check cannot tell where %s sends a request: %s; name a request for it in an expectations file (--expect)", f.sec.Label(), w)
			case got == b.sec:
				return f, req, ""
			}
		}
	}
	return nil, Request{}, why
}

// seed is a candidate request's routing values.
type seed struct{ host, path, method string }

// seeds are the candidate requests for backend b through frontend f: one
// per use_backend rule naming b, from the positive terms of its first
// alternative, and one with the default host for default_backend. The
// default host is the first server's host name when the backend sends
// the Host as SNI (a name it serves), else the frontend's own name.
func (p *haPlan) seeds(f *haFrontend, b *haBackend) []seed {
	host := "localhost"
	for _, s := range b.servers {
		if strings.Contains(strings.ToLower(s.Params["sni"]), "hdr(host)") && !s.IsIPHost() {
			host = s.Host
			break
		}
	}
	var out []seed
	for _, l := range f.sec.All("use_backend") {
		if l.Arg(0) != b.sec.Name || len(l.Args) < 3 || l.Arg(1) != "if" {
			continue
		}
		sd := seed{host: host, path: "/"}
		for i := 2; i < len(l.Args) && l.Args[i] != "||" && l.Args[i] != "or"; i++ {
			w := l.Args[i]
			var words []string
			if w == "{" {
				end := slices.Index(l.Args[i:], "}")
				if end < 0 {
					break
				}
				words = l.Args[i+1 : i+end]
				i += end
			} else if !strings.HasPrefix(w, "!") {
				for _, a := range f.sec.All("acl") {
					if a.Arg(0) == w {
						words = a.Args[1:]
						break
					}
				}
			}
			seedFrom(&sd, words)
		}
		out = append(out, sd)
	}
	return append(out, seed{host: host, path: "/"})
}

// seedFrom sets the value an ACL tests to one it accepts.
func seedFrom(sd *seed, words []string) {
	if len(words) == 0 {
		return
	}
	fetch, method, _, values := criterion(words)
	if len(values) == 0 {
		return
	}
	v := values[0]
	switch {
	case strings.HasPrefix(fetch, "hdr(host)") || strings.HasPrefix(fetch, "req.hdr(host)") || fetch == "ssl_fc_sni" || fetch == "req.ssl_sni" || fetch == "req_ssl_sni":
		sd.host = strings.TrimPrefix(v, ".")
	case strings.HasPrefix(fetch, "path"):
		if method == "end" || method == "sub" {
			v = "/sniproof" + v
		}
		if !strings.HasPrefix(v, "/") {
			v = "/" + v
		}
		sd.path = v
	case fetch == "method":
		sd.method = strings.ToUpper(v)
	}
}

// pickBind is the bind a made-up request goes to: the first reachable ssl
// one, else the first reachable one.
func pickBind(f *haFrontend) (Listen, bool) {
	for _, l := range f.binds {
		if l.Reachable && l.SSL {
			return l, true
		}
	}
	for _, l := range f.binds {
		if l.Reachable {
			return l, true
		}
	}
	return Listen{}, false
}

// frontendFor is the frontend with a bind on port.
func (p *haPlan) frontendFor(port int) *haFrontend {
	for _, f := range p.frontends {
		for _, l := range f.binds {
			if l.Port == port {
				return f
			}
		}
	}
	return nil
}

// frontendLabelled is the frontend a report's Location.Server names, or
// nil.
func (p *haPlan) frontendLabelled(label string) *haFrontend {
	for _, f := range p.frontends {
		if f.sec.Label() == label {
			return f
		}
	}
	return nil
}

// backendFor is the haBackend of a section, or nil when it has no ssl
// server.
func (p *haPlan) backendFor(sec *lint.HASection) *haBackend {
	for _, b := range p.backends {
		if b.sec == sec {
			return b
		}
	}
	return nil
}

// haFile is a file the configuration names, and where HAProxy opens it.
type haFile struct {
	lint.HAFile
	// path is where HAProxy opens it in the container.
	path string
}

// relative reports whether HAProxy finds the file by its working
// directory: a relative path with no absolute crt-base or ca-base above.
func (f haFile) relative() bool { return !path.IsAbs(f.PathFrom("")) }

// server reports whether a server or default-server line names the file
// (else a bind or an errorfile line).
func (f haFile) server() bool {
	return f.Line.Keyword == "server" || f.Line.Keyword == "default-server"
}

// files are the files the configuration names (crt, ca-file and crl-file
// on bind, server and default-server lines, errorfile lines), each at the
// path HAProxy opens: as written when absolute, else under crt-base or
// ca-base, else under its working directory.
func (p *haPlan) files() []haFile {
	var out []haFile
	for _, f := range p.cfg.Files() {
		out = append(out, haFile{HAFile: f, path: f.PathFrom(p.workDir)})
	}
	return out
}

// hostPath is where the operator's folder holds a file, or "": for a path
// under the configuration's folder in the container, the file there; for
// a file HAProxy finds by its working directory, the file its relative
// path names from the folder (where haproxy -c run from the folder finds
// it), and elsewhere says so: HAProxy does not open that one.
func (p *haPlan) hostPath(f haFile) (host string, elsewhere bool) {
	dir := filepath.Dir(p.host)
	if rel, ok := strings.CutPrefix(f.path, path.Dir(p.main)+"/"); ok {
		return filepath.Join(dir, filepath.FromSlash(rel)), false
	}
	if f.relative() {
		return filepath.Join(dir, filepath.FromSlash(f.PathFrom(""))), true
	}
	return "", false
}

// runDirs are folders HAProxy needs at start that a container may lack:
// the chroot, and the folders of stats sockets and the pidfile.
func (p *haPlan) runDirs() []string {
	var out []string
	g := p.cfg.Global()
	if g == nil {
		return nil
	}
	for _, l := range g.Lines {
		switch {
		case l.Keyword == "chroot":
			out = append(out, l.Arg(0))
		case l.Keyword == "pidfile", l.Keyword == "stats" && l.Arg(0) == "socket" && strings.HasPrefix(l.Arg(1), "/"):
			f := l.Arg(0)
			if l.Keyword == "stats" {
				f = l.Arg(1)
			}
			out = append(out, path.Dir(f))
		}
	}
	return out
}

// maxCheckWait bounds the wait for health checks' first verdicts.
const maxCheckWait = 15 * time.Second

// checkWait is how long a server's health checks take at most to mark it
// DOWN from start-up: a first check within inter (or the global
// max-spread-checks, when shorter: HAProxy spreads first checks over
// it), then fall-1 more inter apart, and half a second for the verdict,
// bounded by maxCheckWait.
func checkWait(s *lint.HAServer, global *lint.HASection) time.Duration {
	inter := haDuration(s.Params["inter"], 2*time.Second)
	first := inter
	if global != nil {
		if l := global.Setting("max-spread-checks"); l != nil {
			first = min(first, haDuration(l.Arg(0), inter))
		}
	}
	fall := 3
	if n, err := strconv.Atoi(s.Params["fall"]); err == nil && n > 0 {
		fall = n
	}
	return min(first+time.Duration(fall-1)*inter+500*time.Millisecond, maxCheckWait)
}

// haDuration reads an HAProxy time: a number of milliseconds, or with a
// unit (us, ms, s, m, h, d); def when empty or unreadable.
func haDuration(v string, def time.Duration) time.Duration {
	if v == "" {
		return def
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Millisecond
	}
	if strings.HasSuffix(v, "d") {
		if n, err := strconv.Atoi(strings.TrimSuffix(v, "d")); err == nil {
			return time.Duration(n) * 24 * time.Hour
		}
	}
	if d, err := time.ParseDuration(v); err == nil {
		return d
	}
	return def
}
