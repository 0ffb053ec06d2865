package check

import (
	"fmt"
	"net/netip"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/sniproof/sniproof/lint"
)

// Plan is what check derives from a configuration before running it: the
// servers and their listen ports, every TLS pass with the upstreams it
// reaches, the names and ports the backend must answer on, and the files
// that go into the container.
type Plan struct {
	Config  *Config
	Servers []*Server
	Passes  []*Pass
	Upstreams
	// Trusted are the *_ssl_trusted_certificate directives: the run's CA
	// is written at each path.
	Trusted []*lint.Node
	// Certs are the directives naming certificate and key files, which
	// check replaces with throwaway ones when nginx -t finds them missing.
	Certs []*lint.Node
	// Daemon is false when the configuration says daemon off.
	Daemon bool
	// Notes say what check did to run the configuration.
	Notes []string
}

// Upstreams are what the backend impersonates.
type Upstreams struct {
	// Names are the host names the backend serves and its certificate
	// holds: the upstreams' host names, literal *_ssl_name (or sni
	// str()) values and upstream {} block names that are host names.
	Names []string
	// Hosts are the host names TLS upstreams are reached by: each gets an
	// address of its own on the backend, so that every connection is
	// attributed to the upstream it was for by the address it reached.
	Hosts []string
	// Aliases are the other names under which the backend is reachable:
	// the host names of every other upstream, so that the proxy resolves
	// them all when it starts (and reaches nothing outside).
	Aliases []string
	// Ports are the backend's listener ports: every TLS upstream's.
	Ports []int
	// IPs are the IPv4 upstream addresses the backend must take.
	IPs []netip.Addr
	// IPTargets are every IP upstream address as written, IPv6 ones too.
	IPTargets []string
	// Loopback are the upstreams on 127.0.0.0/8 or ::1 (a local TLS
	// sidecar), and Sockets the unix socket upstreams, which the backend
	// takes inside the proxy's own network namespace and a folder it
	// shares with the proxy.
	Loopback []netip.AddrPort
	Sockets  []string
	// Resolvers are the resolver addresses the configuration names: the
	// backend answers at each one (Docker's own, 127.0.0.11, answers by
	// itself), with the upstream host names' addresses.
	Resolvers []netip.AddrPort
}

// Server is a server {} block.
type Server struct {
	Node    *lint.Node
	Stream  bool
	Names   []string
	Listens []Listen
}

// Label names a server in reports: its first name, or the stream port.
func (s *Server) Label() string {
	if s.Stream {
		if len(s.Listens) > 0 {
			return fmt.Sprintf("stream server :%d", s.Listens[0].Port)
		}
		return "stream server"
	}
	return s.Host()
}

// Host is the server's first name that is a plain host name, else
// "localhost": the Host check requests it with.
func (s *Server) Host() string {
	for _, n := range s.Names {
		if n != "" && n != "_" && !strings.ContainsAny(n, "*~$") && !strings.HasPrefix(n, ".") {
			return strings.ToLower(n)
		}
	}
	return "localhost"
}

// Listen is one listen directive.
type Listen struct {
	Node *lint.Node
	// Addr is the address part ("" for a port alone, "*", "127.0.0.1",
	// "[::]"); Port the port; Unix a unix: socket.
	Addr                string
	Port                int
	Unix                bool
	SSL, HTTP2, Default bool
	// Reachable: Docker's published port reaches it (any IPv4 address).
	Reachable bool
}

// Pass is a TLS pass of the configuration, where it is, and the upstream
// endpoints it reaches.
type Pass struct {
	lint.TLSPass
	// Location is the location {} it is in (nil for stream), Server its
	// server.
	Location *lint.Node
	Server   *Server
	Targets  []Target
	// SchemeUnknown: the whole URL comes from a variable (proxy_pass
	// $up), so whether it speaks TLS is decided at run time.
	SchemeUnknown bool
	// Resolved is, for a pass with variables, the URL the configuration's
	// literals give it and where they are set; Unresolved why check
	// cannot tell it, or why it is no TLS pass after all.
	Resolved, Unresolved string
}

// opaquePasses are the http module's pass directives whose URL can be a
// variable alone, with the prefix of their SSL directives.
var opaquePasses = map[string]string{"proxy_pass": "proxy", "grpc_pass": "grpc", "uwsgi_pass": "uwsgi"}

// Target is one upstream endpoint: a host name or IP address and a port,
// or a unix socket.
type Target struct {
	Host string
	Port int
	IP   bool
	// Socket is the path of a unix socket upstream (Host and Port unset).
	Socket string
	// At is the directive naming it: the pass, or an upstream's server.
	At *lint.Node
}

func (t Target) String() string {
	if t.Socket != "" {
		return "unix:" + t.Socket
	}
	return net2(t.Host, t.Port)
}

func net2(host string, port int) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(port)
}

// Describe names the pass in reports: "location /api/" or "stream server
// :5432".
func (p *Pass) Describe() string {
	if p.Location == nil {
		return p.Server.Label()
	}
	return "location " + strings.Join(p.Location.Args, " ")
}

// At is where the pass's location (or stream server) starts, FILE:LINE.
func (p *Pass) At() string {
	n := p.Location
	if n == nil {
		n = p.Server.Node
	}
	return fmt.Sprintf("%s:%d", n.File, n.Open)
}

// Directive is the pass as written, e.g. "proxy_pass https://api_pool".
func (p *Pass) Directive() string {
	return p.Node.Name + " " + strings.Join(p.Node.Args, " ")
}

// NewPlan derives the plan of a loaded configuration.
func NewPlan(c *Config) *Plan {
	p := &Plan{Config: c, Daemon: true}
	t := c.Tree
	byNode := map[*lint.Node]*Server{}
	t.Root.Walk(func(n *lint.Node) {
		switch {
		case n.Name == "server" && n.Block && n.Parent != nil && (n.Parent.Name == "http" || n.Parent.Name == "stream"):
			s := newServer(n)
			byNode[n] = s
			p.Servers = append(p.Servers, s)
		case strings.HasSuffix(n.Name, "_ssl_trusted_certificate"):
			p.Trusted = append(p.Trusted, n)
		case isCertDirective(n.Name) && !strings.Contains(n.Arg(0), "$") && n.Arg(0) != "":
			p.Certs = append(p.Certs, n)
		case n.Name == "daemon" && n.Parent == t.Root && n.Arg(0) == "off":
			p.Daemon = false
		}
	})
	up := newCollector()
	blocks := map[string]bool{}
	for _, up := range t.Upstreams() {
		blocks[up.Module()+"/"+strings.ToLower(up.Arg(0))] = true
	}
	maps := mapBlocks(t)
	var branchNotes []string
	upstreamBlocks := map[string]*lint.Node{}
	for _, u := range t.Upstreams() {
		upstreamBlocks[u.Module()+"/"+strings.ToLower(u.Arg(0))] = u
	}
	for _, tp := range t.TLSPasses() {
		ps := &Pass{TLSPass: tp, Location: tp.Node.Enclosing("location"), Server: byNode[tp.Node.Enclosing("server")]}
		if ps.Server == nil {
			continue
		}
		if ps.Dynamic {
			resolvePass(ps, maps)
			if !ps.Dynamic && ps.Port == "" {
				ps.Upstream = upstreamBlocks[tp.Node.Module()+"/"+strings.ToLower(ps.Host)]
			}
			tp = ps.TLSPass
		}
		ps.Targets = targets(tp)
		branchNotes = append(branchNotes, addBranches(ps, maps, upstreamBlocks)...)
		for _, tg := range ps.Targets {
			up.target(tg)
		}
		if tp.Upstream != nil && !tp.Dynamic && !lint.SuspiciousName(tp.Upstream.Arg(0)) {
			up.names.add(tp.Upstream.Arg(0))
		}
		// A bare IPv6 address, which nginx cuts at its first colon, names
		// no upstream: the backend does not serve what is left of it.
		if tp.SSLName != nil && strings.Count(tp.SSLName.Arg(0), ":") < 2 {
			if n, _ := lint.SplitHost(tp.SSLName.Arg(0)); n != "" && !strings.Contains(n, "$") && !lint.IsIP(n) && !strings.HasPrefix(n, "[") {
				up.names.add(n)
			}
		}
		p.Passes = append(p.Passes, ps)
	}
	// A pass whose URL starts with a variable (set $up https://name;
	// proxy_pass $up;) takes its scheme at run time: it may speak TLS, so
	// it is reported, never left out.
	t.Root.Walk(func(n *lint.Node) {
		prefix, ok := opaquePasses[n.Name]
		if !ok || n.Module() != "http" || !strings.HasPrefix(n.Arg(0), "$") || byNode[n.Enclosing("server")] == nil {
			return
		}
		ps := &Pass{TLSPass: lint.TLSPass{Node: n, Prefix: prefix, HostPort: n.Arg(0), Dynamic: true},
			Location: n.Enclosing("location"), Server: byNode[n.Enclosing("server")], SchemeUnknown: true}
		resolvePass(ps, maps)
		if !ps.Dynamic {
			b := n.Parent
			ps.ServerName, ps.SSLName = b.Lookup(prefix+"_ssl_server_name"), b.Lookup(prefix+"_ssl_name")
			ps.Verify, ps.Trusted = b.Lookup(prefix+"_ssl_verify"), b.Lookup(prefix+"_ssl_trusted_certificate")
			if ps.Port == "" {
				ps.Upstream = upstreamBlocks["http/"+strings.ToLower(ps.Host)]
			}
			ps.Targets = targets(ps.TLSPass)
			branchNotes = append(branchNotes, addBranches(ps, maps, upstreamBlocks)...)
			for _, tg := range ps.Targets {
				up.target(tg)
			}
		}
		p.Passes = append(p.Passes, ps)
	})
	// Every other upstream host name must resolve for nginx to start.
	t.Root.Walk(func(n *lint.Node) {
		host := ""
		switch {
		case n.Name == "server" && n.Parent != nil && n.Parent.Name == "upstream":
			host, _ = lint.SplitHost(n.Arg(0))
		case strings.HasSuffix(n.Name, "_pass") && n.Name != "fastcgi_pass_header":
			target := n.Arg(0)
			if i := strings.Index(target, "://"); i >= 0 {
				target = target[i+3:]
			}
			target, _, _ = strings.Cut(target, "/")
			host, _ = lint.SplitHost(target)
			if blocks[n.Module()+"/"+strings.ToLower(host)] {
				host = ""
			}
		}
		if host != "" && !strings.HasPrefix(host, "unix:") && !strings.Contains(host, "$") && !lint.IsIP(host) &&
			!strings.HasPrefix(host, "[") && host != "localhost" {
			up.aliases.add(host)
		}
	})
	for _, ap := range resolvers(t) {
		up.resolver(ap)
	}
	p.Upstreams, p.Notes = up.upstreams()
	p.Notes = append(p.Notes, branchNotes...)
	for _, ps := range p.Passes {
		if ps.Resolved != "" && ps.Unresolved == "" {
			p.Notes = append(p.Notes, fmt.Sprintf("%s (%s) is requested as %s", ps.Directive(), ps.Node.Pos(), ps.Resolved))
		}
	}
	return p
}

// dockerDNS is Docker's embedded resolver: in the run, as in production,
// it answers with the addresses of the containers' names, the backend's
// upstream host names among them.
var dockerDNS = netip.MustParseAddr("127.0.0.11")

// collector gathers, while a plan is derived, what the backend must
// impersonate.
type collector struct {
	names, hosts, aliases set
	ports                 map[int]bool
	ips                   map[netip.Addr]bool
	loopback              map[netip.AddrPort]bool
	sockets               map[string]bool
	ipTargets             []string
	resolvers             []netip.AddrPort
}

func newCollector() *collector {
	return &collector{names: set{}, hosts: set{}, aliases: set{}, ports: map[int]bool{}, ips: map[netip.Addr]bool{},
		loopback: map[netip.AddrPort]bool{}, sockets: map[string]bool{}}
}

// target records an upstream endpoint: its port, and its host name or
// address; or its socket.
func (c *collector) target(t Target) {
	if t.Socket != "" {
		c.sockets[t.Socket] = true
		return
	}
	c.ports[t.Port] = true
	if !t.IP {
		c.names.add(t.Host)
		if !strings.HasSuffix(t.Host, ".") {
			c.hosts.add(t.Host)
		}
		return
	}
	c.ipTargets = append(c.ipTargets, t.Host)
	a, err := netip.ParseAddr(strings.Trim(t.Host, "[]"))
	switch {
	case err != nil:
	case a.IsLoopback():
		c.loopback[netip.AddrPortFrom(a.Unmap(), uint16(t.Port))] = true
	case a.Is4():
		c.ips[a] = true
	}
}

// resolver records a DNS server the proxy asks, which the backend
// answers as: at its own address, impersonated like an IP upstream, or in
// the proxy's network namespace for a loopback one; Docker's own is left
// to Docker.
func (c *collector) resolver(ap netip.AddrPort) {
	if ap.Addr() == dockerDNS || slices.Contains(c.resolvers, ap) {
		return
	}
	c.resolvers = append(c.resolvers, ap)
	if !ap.Addr().IsLoopback() && ap.Addr().Is4() {
		c.ips[ap.Addr()] = true
		c.ipTargets = append(c.ipTargets, ap.Addr().String())
	}
}

// upstreams are what was gathered, sorted, with a note for each name the
// backend cannot serve.
func (c *collector) upstreams() (Upstreams, []string) {
	u := Upstreams{IPTargets: c.ipTargets, Resolvers: c.resolvers}
	var notes []string
	for _, n := range c.names.list() {
		if strings.HasSuffix(n, ".") {
			notes = append(notes, fmt.Sprintf("%s ends in a dot: the backend cannot serve it (crypto/tls refuses such an SNI), so it answers as if it did not know it", n))
			continue
		}
		u.Names = append(u.Names, n)
		if !c.hosts[n] {
			c.aliases.add(n)
		}
	}
	u.Hosts = c.hosts.list()
	for _, h := range u.Hosts {
		delete(c.aliases, h)
	}
	u.Aliases = c.aliases.list()
	for port := range c.ports {
		u.Ports = append(u.Ports, port)
	}
	slices.Sort(u.Ports)
	for a := range c.ips {
		u.IPs = append(u.IPs, a)
	}
	slices.SortFunc(u.IPs, func(a, b netip.Addr) int { return a.Compare(b) })
	for a := range c.loopback {
		u.Loopback = append(u.Loopback, a)
	}
	slices.SortFunc(u.Loopback, func(a, b netip.AddrPort) int { return a.Compare(b) })
	for sock := range c.sockets {
		u.Sockets = append(u.Sockets, sock)
	}
	slices.Sort(u.Sockets)
	return u, notes
}

// set is a set of lower-case names.
type set map[string]bool

func (s set) add(n string) { s[strings.ToLower(n)] = true }

func (s set) list() []string {
	out := make([]string, 0, len(s))
	for n := range s {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// isCertDirective reports whether a directive names a certificate or key
// file that nginx loads when it starts.
func isCertDirective(name string) bool {
	switch name {
	case "ssl_certificate", "ssl_certificate_key", "ssl_trusted_certificate", "ssl_client_certificate":
		return true
	}
	for _, pre := range []string{"proxy_", "grpc_", "uwsgi_"} {
		if name == pre+"ssl_certificate" || name == pre+"ssl_certificate_key" {
			return true
		}
	}
	return false
}

func newServer(n *lint.Node) *Server {
	s := &Server{Node: n, Stream: n.Module() == "stream"}
	http2 := false
	for _, c := range n.Children {
		switch c.Name {
		case "server_name":
			s.Names = append(s.Names, c.Args...)
		case "listen":
			s.Listens = append(s.Listens, parseListen(c))
		case "http2":
			http2 = c.Arg(0) == "on"
		}
	}
	if len(s.Listens) == 0 && !s.Stream {
		s.Listens = []Listen{{Port: 80, Reachable: true}}
	}
	for i := range s.Listens {
		s.Listens[i].HTTP2 = s.Listens[i].HTTP2 || http2
	}
	return s
}

// parseListen reads listen ADDR[:PORT] | PORT | unix:PATH and its flags.
func parseListen(n *lint.Node) Listen {
	l := Listen{Node: n, Port: 80}
	a := n.Arg(0)
	ipv6only := true
	for _, f := range n.Args[min(1, len(n.Args)):] {
		switch {
		case f == "ssl":
			l.SSL = true
		case f == "http2":
			l.HTTP2 = true
		case f == "default_server" || f == "default":
			l.Default = true
		case f == "ipv6only=off":
			ipv6only = false
		}
	}
	switch {
	case strings.HasPrefix(a, "unix:"):
		l.Unix = true
		return l
	case strings.HasPrefix(a, "["):
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return l
		}
		l.Addr = a[:end+1]
		if rest := a[end+1:]; strings.HasPrefix(rest, ":") {
			l.Port, _ = strconv.Atoi(rest[1:])
		}
		l.Reachable = l.Addr == "[::]" && !ipv6only
		return l
	case strings.Contains(a, ":"):
		addr, port, _ := strings.Cut(a, ":")
		l.Addr = addr
		l.Port, _ = strconv.Atoi(port)
	default:
		if p, err := strconv.Atoi(a); err == nil {
			l.Port = p
		} else {
			l.Addr = a
		}
	}
	l.Reachable = l.Addr == "" || l.Addr == "*" || l.Addr == "0.0.0.0"
	return l
}

// targets are the upstream endpoints of a static TLS pass: the servers of
// the upstream {} block it names, or its own host and port.
func targets(tp lint.TLSPass) []Target {
	if tp.Dynamic {
		return nil
	}
	var out []Target
	add := func(hostport string, defaultPort int, at *lint.Node) {
		if rest, ok := strings.CutPrefix(hostport, "unix:"); ok {
			if sock := socketPath(rest); sock != "" {
				out = append(out, Target{Socket: sock, At: at})
			}
			return
		}
		host, port := lint.SplitHost(hostport)
		p := defaultPort
		if port != "" {
			if n, err := strconv.Atoi(port); err == nil {
				p = n
			}
		}
		if host == "" || p <= 0 {
			return
		}
		ip := lint.IsIP(host) || strings.HasPrefix(host, "[")
		if !ip {
			host = strings.ToLower(host)
		}
		out = append(out, Target{Host: host, Port: p, IP: ip, At: at})
	}
	if tp.Upstream != nil {
		for _, s := range tp.Upstream.Children {
			if s.Name == "server" {
				// An upstream {} server without a port is on port 80,
				// even for proxy_pass https:// (ngx_http_upstream_server).
				add(s.Arg(0), 80, s)
			}
		}
		return out
	}
	if tp.Unix {
		// The URL's host part is cut at the socket path's first slash.
		_, after, _ := strings.Cut(tp.Node.Arg(0), "://")
		add(after, 0, tp.Node)
		return out
	}
	add(tp.HostPort, 443, tp.Node)
	return out
}

// socketPath is the socket of a unix: upstream (what follows "unix:"):
// nginx ends the path at the first colon, where the URI starts
// (https://unix:/run/app.sock:/api/); "" when it is not absolute.
func socketPath(rest string) string {
	p, _, _ := strings.Cut(rest, ":")
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "$") {
		return ""
	}
	return path.Clean(p)
}

// Files are the files to copy into the container, by container path: the
// main file and every file it includes, and every other regular file a
// directive names inside the mirrored folder (certificates, keys, password
// files), except the trusted certificates, where the run's CA goes.
func (p *Plan) Files() (map[string][]byte, error) {
	t := p.Config.Tree
	out := map[string][]byte{}
	for _, f := range t.Files {
		if f.Host == "" {
			out[f.Container] = t.Options.MainContent
			continue
		}
		data, err := os.ReadFile(f.Host)
		if err != nil {
			return nil, usagef("cannot read %s: %v", f.Host, cause(err))
		}
		out[f.Container] = data
	}
	trusted := map[string]bool{}
	for _, n := range p.Trusted {
		trusted[t.ContainerPath(n.Arg(0))] = true
	}
	var err error
	t.Root.Walk(func(n *lint.Node) {
		if err != nil || !namesFile(n.Name) {
			return
		}
		for _, a := range n.Args {
			if a == "" || strings.Contains(a, "$") {
				continue
			}
			cp := t.ContainerPath(a)
			host := t.HostPath(a)
			if host == "" || trusted[cp] {
				continue
			}
			st, statErr := os.Stat(host)
			if statErr != nil || !st.Mode().IsRegular() || st.Size() > 16<<20 {
				continue
			}
			data, readErr := os.ReadFile(host)
			if readErr != nil {
				err = usagef("cannot read %s (named at %s): %v", host, n.Pos(), cause(readErr))
				return
			}
			out[cp] = data
		}
	})
	return out, err
}

// namesFile reports whether a directive's arguments are file names that
// nginx reads when it starts.
func namesFile(name string) bool {
	for _, suffix := range []string{"_certificate", "_certificate_key", "_dhparam", "_password_file", "_crl", "_user_file", "_stapling_file", "_session_ticket_key"} {
		if strings.HasSuffix(name, suffix) {
			return true
		}
	}
	return false
}

// Leftovers are the container folders that included patterns list and
// that the operator's folder provides, with each pattern's base: files
// the image has there and the operator does not are removed, so that
// nginx reads the operator's folder alone (Debian's sites-enabled/default
// would otherwise join in).
func (p *Plan) Leftovers() map[string][]string {
	out := map[string][]string{}
	for _, inc := range p.Config.Tree.Includes {
		if !inc.Glob || !inc.Followed {
			continue
		}
		dir, base := path.Split(inc.Pattern)
		dir = path.Clean(dir)
		if !slices.Contains(out[dir], base) {
			out[dir] = append(out[dir], base)
		}
	}
	return out
}

// hostFiles are the names, relative to the container folder dir, of the
// files the operator's folder has there.
func (p *Plan) hostFiles(dir string) map[string]bool {
	out := map[string]bool{}
	host := p.Config.Tree.HostPath(dir)
	if host == "" {
		return out
	}
	entries, _ := os.ReadDir(host)
	for _, e := range entries {
		out[e.Name()] = true
	}
	return out
}
