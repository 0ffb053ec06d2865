package lint

import (
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// apacheDialect is Apache httpd's configuration: a lone site file, or a
// Debian /etc/apache2 tree read from its apache2.conf.
type apacheDialect struct{}

func init() { registerDialect(apacheDialect{}) }

func (apacheDialect) name() string { return "apache" }

func (apacheDialect) claims(data []byte) bool { return LooksLikeApache(data) }

func (apacheDialect) none() string {
	return "no ProxyPass, ProxyPassMatch or RewriteRule [P] proxies to an https:// upstream"
}

// apacheMarks are directives, as operators capitalise them, that only
// Apache's configurations begin a line with (nginx's end in ';' or '{',
// HAProxy's are lower case; Pound's capitalised keywords include
// ServerName and Include, which are therefore no mark).
var apacheMarks = regexp.MustCompile(`^(</?(VirtualHost|IfModule|IfDefine|Location|LocationMatch|Directory|Proxy|Files)[\s>]|(ServerRoot|LoadModule|Listen|ProxyPass|ProxyPassMatch|ProxyPreserveHost|IncludeOptional|SSLProxyEngine|SSLEngine|RewriteEngine|RewriteRule|DefaultRuntimeDir)\s)`)

// LooksLikeApache reports whether data is an Apache configuration: a
// line that opens an Apache section or starts with an Apache directive,
// and does not end as nginx's lines do.
func LooksLikeApache(data []byte) bool {
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || strings.HasSuffix(l, ";") || strings.HasSuffix(l, "{") {
			continue
		}
		if apacheMarks.MatchString(l) {
			return true
		}
	}
	return false
}

// Apache's rules, grounded in fixtures/apache/cases.yaml.
var apacheRules = []Rule{
	{"APA001", "apache-no-ssl-proxy-engine", Error,
		"Apache: an https:// upstream without SSLProxyEngine on: no ClientHello is sent.",
		"mod_ssl speaks TLS to a backend only with SSLProxyEngine on in the virtual host (or the main server): without it Apache opens " +
			"the TCP connection, logs AH01961 \"failed to enable ssl support\" and answers 500. Fix: SSLProxyEngine on.", nil},
	{"APA002", "apache-ip-upstream", Error,
		"Apache: an https:// upstream whose host is an IP address, with ProxyPreserveHost Off: no SNI is sent.",
		"Apache sends the URL's host as SNI, and none for an IP literal (RFC 6066 section 3); Apache has no directive naming a backend's " +
			"SNI. An upstream that routes by SNI refuses the handshake and Apache answers 500. Fix: a host name in the URL " +
			"(ProxyPass /path/ https://<the upstream's host name>/).", nil},
	{"APA003", "apache-sni-from-client-host", Warning,
		"Apache: ProxyPreserveHost On with an https:// upstream: the SNI is the client's Host.",
		"With ProxyPreserveHost On Apache sends the client's Host, without its port, as SNI (and checks the certificate against it): right " +
			"only where the upstream serves the public name clients use. Fix: ProxyPreserveHost Off where it serves another name.", nil},
	{"APA004", "apache-peer-name-ip", Error,
		"Apache: SSLProxyCheckPeerName (on by default) with an IP-literal upstream: the certificate is checked against the IP.",
		"The name checked is the URL's host, here an IP address, which a certificate for host names does not hold: Apache logs AH02411 " +
			"\"Peer certificate does not match for hostname\" and answers 500, with SSLProxyVerify none too. Fix: a host name in the URL.", nil},
	{"APA005", "apache-verify-without-ca", Error,
		"Apache: SSLProxyVerify require without SSLProxyCACertificateFile or SSLProxyCACertificatePath: every handshake fails.",
		"Apache starts with only a warning (AH01897 \"no CAs are known for verification\"), then fails every backend's verification " +
			"(error 20) and answers 500. Fix: SSLProxyCACertificateFile <the CA bundle that issued the upstream's certificate>.", nil},
	{"APA006", "apache-host-differs-from-sni", Warning,
		"Apache: RequestHeader set Host with ProxyPreserveHost On: the Host sent differs from the SNI.",
		"The SNI is the client's Host (ProxyPreserveHost On) and RequestHeader replaces the Host header only, so an upstream that checks " +
			"that both name one site answers 421 Misdirected Request (RFC 9110 section 15.5.20). Fix: send one name in both: drop the " +
			"RequestHeader, or ProxyPreserveHost Off with the upstream's name in the URL.", nil},
}

// init adds Apache's rules to lint's.
func init() { rules = append(rules, apacheRules...) }

// ApacheConfig is an Apache configuration as it decides the names sent to
// upstreams.
type ApacheConfig struct {
	Main    string
	Nodes   []*ApacheNode
	Files   []string
	Outside []ApacheOutside
	// ServerName is the main server's.
	ServerName string
	Listens    []ApacheListen
	// VHosts are the virtual hosts, Main the main server (outside
	// them).
	VHosts []*ApacheVHost
	Server *ApacheVHost
	// Balancers are the BalancerMember directives by balancer, the name
	// after balancer:// in lower case.
	Balancers map[string][]*ApacheNode
	// Routes are the ProxyPass, ProxyPassMatch and RewriteRule [P]
	// directives with an https:// upstream or a balancer with one.
	Routes []*ApacheRoute
	// Skipped say which proxying directives no route stands for, and
	// why.
	Skipped []string
}

// ApacheListen is a Listen directive.
type ApacheListen struct {
	Addr string
	Port int
	Node *ApacheNode
}

// ApacheVHost is a <VirtualHost> section (Node nil: the main server).
type ApacheVHost struct {
	Node       *ApacheNode
	Port       int
	ServerName string
	Aliases    []string
	// SSL: SSLEngine on, clients speak TLS to it.
	SSL      bool
	settings apacheSettings
	// sections are its <Location>, <LocationMatch>, <Proxy> and
	// <ProxyMatch> sections, in order.
	sections []*ApacheNode
	rewrite  bool
}

// Label names a virtual host in reports: "<VirtualHost *:80> shop.example".
func (v *ApacheVHost) Label() string {
	if v.Node == nil {
		return "main server"
	}
	return fmt.Sprintf("<VirtualHost %s> %s", strings.Join(v.Node.Args, " "), v.ServerName)
}

// ApacheSetting is a directive's value where it is in effect.
type ApacheSetting struct {
	Value string
	At    *ApacheNode
}

// apacheSettings are the directives that decide the name and the
// handshake, by lower-case name ("requestheader host" for RequestHeader
// set Host).
type apacheSettings map[string]ApacheSetting

func (s apacheSettings) clone() apacheSettings {
	out := apacheSettings{}
	for k, v := range s {
		out[k] = v
	}
	return out
}

// apacheTracked are the directives apacheSettings keeps.
var apacheTracked = []string{"sslproxyengine", "sslproxyverify", "sslproxycheckpeername", "sslproxycacertificatefile", "sslproxycacertificatepath", "proxypreservehost"}

// take records n in s when it is a tracked directive.
func (s apacheSettings) take(n *ApacheNode) {
	name := strings.ToLower(n.Name)
	for _, t := range apacheTracked {
		if name == t && len(n.Args) > 0 {
			s[name] = ApacheSetting{Value: n.Arg(0), At: n}
		}
	}
	if n.Is("RequestHeader") && len(n.Args) >= 3 && strings.EqualFold(n.Arg(0), "set") && strings.EqualFold(n.Arg(1), "Host") {
		s["requestheader host"] = ApacheSetting{Value: n.Arg(2), At: n}
	}
}

func (s apacheSettings) on(name string) bool { return strings.EqualFold(s[name].Value, "on") }

// ApacheRoute is a directive proxying to https:// upstreams.
type ApacheRoute struct {
	VHost *ApacheVHost
	// Node is the ProxyPass, ProxyPassMatch or RewriteRule; Location the
	// <Location> or <LocationMatch> it is in, nil at the top.
	Node     *ApacheNode
	Location *ApacheNode
	// Path is the path (Regex: expression) it serves; URL its target.
	Path  string
	Regex bool
	URL   string
	// Targets are its https:// upstreams: the URL, or the balancer's
	// members.
	Targets []ApacheTarget
	// PreserveHost and HostHeader are the ProxyPreserveHost and
	// RequestHeader set Host in effect at Path.
	PreserveHost, HostHeader ApacheSetting
}

// ApacheTarget is one https:// upstream of a route with the mod_ssl
// settings in effect for it.
type ApacheTarget struct {
	URL *url.URL
	// At is the directive naming it: the route's, or a BalancerMember.
	At       *ApacheNode
	settings apacheSettings
}

// Engine reports SSLProxyEngine on.
func (t ApacheTarget) Engine() bool { return t.settings.on("sslproxyengine") }

// Setting is the directive in effect for the target, lower-case name.
func (t ApacheTarget) Setting(name string) ApacheSetting { return t.settings[name] }

// CheckPeerName reports SSLProxyCheckPeerName on, its default.
func (t ApacheTarget) CheckPeerName() bool {
	v := t.settings["sslproxycheckpeername"].Value
	return v == "" || strings.EqualFold(v, "on")
}

// Preserves reports ProxyPreserveHost On.
func (r *ApacheRoute) Preserves() bool { return strings.EqualFold(r.PreserveHost.Value, "on") }

// Label names a route in reports: "location /api/" or "ProxyPass /".
func (r *ApacheRoute) Label() string {
	switch {
	case r.Location != nil:
		return strings.ToLower(r.Location.Name) + " " + r.Path
	case r.Node.Is("RewriteRule"):
		return "RewriteRule " + r.Path
	}
	return r.Node.Name + " " + r.Path
}

// CertbotOptions is the file certbot's Apache plugin includes in the
// virtual hosts it makes, from /etc/letsencrypt; it sets SSLEngine on.
const CertbotOptions = "options-ssl-apache.conf"

// model derives the virtual hosts, balancers and routes.
func (c *ApacheConfig) model() {
	c.Balancers = map[string][]*ApacheNode{}
	c.Server = &ApacheVHost{settings: apacheSettings{}}
	var walkBalancers func(ns []*ApacheNode)
	walkBalancers = func(ns []*ApacheNode) {
		for _, n := range ns {
			switch {
			case n.Section && n.Is("Proxy") && strings.HasPrefix(strings.ToLower(n.Arg(0)), "balancer://"):
				name := balancerName(n.Arg(0))
				for _, k := range n.Children {
					if k.Is("BalancerMember") && len(k.Args) > 0 {
						c.Balancers[name] = append(c.Balancers[name], k)
					}
				}
			case n.Is("BalancerMember") && len(n.Args) > 1 && strings.HasPrefix(strings.ToLower(n.Arg(0)), "balancer://"):
				name := balancerName(n.Arg(0))
				c.Balancers[name] = append(c.Balancers[name], &ApacheNode{Name: n.Name, Args: n.Args[1:], File: n.File, Line: n.Line})
			case n.Section:
				walkBalancers(n.Children)
			}
		}
	}
	walkBalancers(c.Nodes)
	c.scope(c.Server, c.Nodes)
	c.ServerName = c.Server.ServerName
	for _, n := range c.Nodes {
		if n.Section && n.Is("VirtualHost") {
			v := &ApacheVHost{Node: n, settings: c.Server.settings.clone()}
			for _, a := range n.Args {
				if i := strings.LastIndex(a, ":"); i >= 0 && !strings.HasSuffix(a, "]") {
					if p, err := strconv.Atoi(a[i+1:]); err == nil && v.Port == 0 {
						v.Port = p
					}
				}
			}
			c.scope(v, n.Children)
			if v.ServerName == "" {
				v.ServerName = c.Server.ServerName
			}
			c.VHosts = append(c.VHosts, v)
		}
	}
	c.routes(c.Server, c.Nodes)
	for _, v := range c.VHosts {
		c.routes(v, v.Node.Children)
	}
}

// balancerName is the name of balancer://NAME/..., in lower case.
func balancerName(u string) string {
	name := u[len("balancer://"):]
	if i := strings.IndexAny(name, "/"); i >= 0 {
		name = name[:i]
	}
	return strings.ToLower(name)
}

// scope reads a server's (main or virtual) own directives.
func (c *ApacheConfig) scope(v *ApacheVHost, ns []*ApacheNode) {
	for _, n := range ns {
		switch {
		case n.Section && (n.Is("Location") || n.Is("LocationMatch") || n.Is("Proxy") || n.Is("ProxyMatch")):
			v.sections = append(v.sections, n)
		case n.Section:
		case n.Is("Listen") && v.Node == nil:
			addr := n.Arg(0)
			host, port := "", addr
			if i := strings.LastIndex(addr, ":"); i >= 0 {
				host, port = addr[:i], addr[i+1:]
			}
			if p, err := strconv.Atoi(port); err == nil {
				c.Listens = append(c.Listens, ApacheListen{Addr: host, Port: p, Node: n})
			}
		case n.Is("ServerName"):
			name := n.Arg(0)
			if u, err := url.Parse(name); err == nil && u.Host != "" {
				name = u.Host
			}
			name, _ = SplitHost(name)
			v.ServerName = strings.ToLower(name)
		case n.Is("ServerAlias"):
			v.Aliases = append(v.Aliases, n.Args...)
		case n.Is("SSLEngine"):
			v.SSL = strings.EqualFold(n.Arg(0), "on")
		case (n.Is("Include") || n.Is("IncludeOptional")) && path.Base(n.Arg(0)) == CertbotOptions:
			v.SSL = true
		case n.Is("RewriteEngine"):
			v.rewrite = strings.EqualFold(n.Arg(0), "on")
		default:
			v.settings.take(n)
		}
	}
}

// routes reads the proxying directives of a server, at its top and in
// its Location sections.
func (c *ApacheConfig) routes(v *ApacheVHost, ns []*ApacheNode) {
	for _, n := range ns {
		switch {
		case n.Section && (n.Is("Location") || n.Is("LocationMatch")):
			rewrite := v.rewrite
			for _, k := range n.Children {
				if k.Is("RewriteEngine") {
					rewrite = strings.EqualFold(k.Arg(0), "on")
				}
				if k.Is("ProxyPass") || k.Is("ProxyPassMatch") || (k.Is("RewriteRule") && rewrite) {
					c.route(v, k, n)
				}
			}
		case n.Is("ProxyPass") || n.Is("ProxyPassMatch") || (n.Is("RewriteRule") && v.rewrite):
			c.route(v, n, nil)
		}
	}
}

// rewriteProxy is a RewriteRule flag list with P (proxy).
var rewriteProxy = regexp.MustCompile(`(?i)^\[(.*,)?\s*(p|proxy)\s*(,.*)?\]$`)

// route adds the route of directive n (in Location loc, or nil).
func (c *ApacheConfig) route(v *ApacheVHost, n, loc *ApacheNode) {
	r := &ApacheRoute{VHost: v, Node: n, Location: loc}
	args := n.Args
	switch {
	case n.Is("RewriteRule"):
		if len(args) < 3 || !rewriteProxy.MatchString(args[2]) {
			return
		}
		r.Path, r.Regex, r.URL = args[0], true, args[1]
	case loc != nil:
		if len(args) == 0 {
			return
		}
		r.Path, r.Regex, r.URL = loc.Arg(0), loc.Is("LocationMatch") || n.Is("ProxyPassMatch"), args[0]
		if loc.Arg(0) == "~" {
			r.Path, r.Regex = loc.Arg(1), true
		}
	default:
		if len(args) < 2 {
			return
		}
		r.Path, r.Regex, r.URL = args[0], n.Is("ProxyPassMatch"), args[1]
	}
	if r.URL == "!" {
		return
	}
	lower := strings.ToLower(r.URL)
	switch {
	case strings.HasPrefix(lower, "balancer://"):
		for _, m := range c.Balancers[balancerName(r.URL)] {
			r.addTarget(c, m.Arg(0), m)
		}
	case strings.HasPrefix(lower, "https://"):
		r.addTarget(c, r.URL, n)
	}
	if len(r.Targets) == 0 {
		return
	}
	r.PreserveHost, r.HostHeader = c.pathSetting(r, "proxypreservehost"), c.pathSetting(r, "requestheader host")
	c.Routes = append(c.Routes, r)
}

// addTarget adds an https:// upstream, with the mod_ssl settings of the
// server and of every <Proxy> section that names it.
func (r *ApacheRoute) addTarget(c *ApacheConfig, raw string, at *ApacheNode) {
	if !strings.HasPrefix(strings.ToLower(raw), "https://") {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" || strings.ContainsAny(u.Host, "$%") {
		c.Skipped = append(c.Skipped, fmt.Sprintf("%s (%s): the upstream %s is not a URL with a literal host", at.Name, at.Pos(), raw))
		return
	}
	s := r.VHost.settings.clone()
	sections := append(append([]*ApacheNode{}, c.Server.sections...), r.VHost.sections...)
	if r.VHost == c.Server {
		sections = c.Server.sections
	}
	for _, sec := range sections {
		if !(sec.Is("Proxy") || sec.Is("ProxyMatch")) {
			continue
		}
		name := strings.ToLower(sec.Arg(0))
		matches := name == "*" || strings.HasPrefix(strings.ToLower(raw), name) ||
			(strings.HasPrefix(name, "balancer://") && strings.HasPrefix(strings.ToLower(r.URL), name))
		if sec.Is("ProxyMatch") {
			re, err := regexp.Compile("(?i)" + sec.Arg(0))
			matches = err == nil && (re.MatchString(raw) || re.MatchString(r.URL))
		}
		if matches {
			for _, k := range sec.Children {
				s.take(k)
			}
		}
	}
	r.Targets = append(r.Targets, ApacheTarget{URL: u, At: at, settings: s})
}

// pathSetting is a directory-context directive's value in effect at a
// route's path: the server's, then each matching Location's in order.
func (c *ApacheConfig) pathSetting(r *ApacheRoute, name string) ApacheSetting {
	s := r.VHost.settings[name]
	sections := r.VHost.sections
	if r.VHost != c.Server {
		sections = append(append([]*ApacheNode{}, c.Server.sections...), sections...)
	}
	p := r.RequestPath()
	for _, sec := range sections {
		var match bool
		switch {
		case sec == r.Location:
			match = true
		case sec.Is("Location") && sec.Arg(0) != "~":
			match = strings.HasPrefix(p, sec.Arg(0))
		case sec.Is("Location") || sec.Is("LocationMatch"):
			expr := sec.Arg(0)
			if sec.Is("Location") {
				expr = sec.Arg(1)
			}
			re, err := regexp.Compile(expr)
			match = err == nil && re.MatchString(p)
		}
		if !match {
			continue
		}
		for _, k := range sec.Children {
			ks := apacheSettings{}
			ks.take(k)
			if v, ok := ks[name]; ok {
				s = v
			}
		}
	}
	return s
}

// RequestPath is a path the route serves: its prefix, or for an
// expression the literal text before its first special character ("/"
// when none).
func (r *ApacheRoute) RequestPath() string {
	if !r.Regex {
		return r.Path
	}
	p := strings.TrimPrefix(r.Path, "^")
	if i := strings.IndexAny(p, `.*+?()[]{}|\$`); i >= 0 {
		p = p[:i]
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

// SNI is the name Apache sends target as SNI when the configuration
// fixes it: the URL's host, "" for an IP literal or when it is the
// client's (ProxyPreserveHost On).
func (r *ApacheRoute) SNI(t ApacheTarget) string {
	if r.Preserves() {
		return ""
	}
	if h := t.URL.Hostname(); !IsIP(h) && !strings.Contains(h, ":") {
		return strings.ToLower(h)
	}
	return ""
}

// Findings runs Apache's rules over every route.
func (c *ApacheConfig) Findings() []Finding {
	var out []Finding
	seen := map[string]bool{}
	add := func(rule string, at *ApacheNode, msg, fix string) {
		key := fmt.Sprintf("%s@%s", rule, at.Pos())
		if seen[key] {
			return
		}
		seen[key] = true
		sev := Error
		for _, ru := range rules {
			if ru.ID == rule {
				sev = ru.Severity
			}
		}
		out = append(out, Finding{Rule: rule, Severity: sev, File: at.File, Line: at.Line, Message: msg, Fix: fix})
	}
	for _, r := range c.Routes {
		who := fmt.Sprintf("%s %s", r.VHost.Label(), r.Label())
		for _, t := range r.Targets {
			up := t.URL.String()
			if t.At != r.Node {
				up += fmt.Sprintf(" (BalancerMember of %s at %s)", r.URL, t.At.Pos())
			}
			host := t.URL.Hostname()
			ip := IsIP(host) || strings.Contains(host, ":")
			if !t.Engine() {
				add("APA001", r.Node, fmt.Sprintf("%s proxies to %s without SSLProxyEngine on: Apache sends no ClientHello and answers 500 (AH01961)", who, up), "SSLProxyEngine on")
			}
			if ip && !r.Preserves() {
				// A host name instead of the IP, in the directive naming it.
				fix := fmt.Sprintf("%s %s", t.At.Name, strings.Replace(strings.Join(t.At.Args, " "), t.URL.Host, nameUnknown+portOf(t.URL), 1))
				add("APA002", r.Node, fmt.Sprintf("%s proxies to %s, an IP address: Apache sends no SNI, and an upstream that routes by SNI refuses the handshake (500)", who, up), fix)
				if t.CheckPeerName() {
					add("APA004", r.Node, fmt.Sprintf("%s proxies to %s, an IP address, with SSLProxyCheckPeerName on: the certificate is checked against the IP, and Apache answers 500 (AH02411)", who, up), fix)
				}
			}
			if r.Preserves() {
				add("APA003", r.Node, fmt.Sprintf("%s has ProxyPreserveHost On (%s): the SNI sent to %s is the client's Host, right only if the upstream serves that name", who, r.PreserveHost.At.Pos(), up),
					"ProxyPreserveHost Off")
				if h := r.HostHeader; h.At != nil {
					add("APA006", r.Node, fmt.Sprintf("%s sends the Host %s (RequestHeader at %s) but the client's Host as SNI: an upstream that checks that both name one site answers 421", who, h.Value, h.At.Pos()),
						"send one name in both: drop RequestHeader set Host, or ProxyPreserveHost Off with the upstream's name in the URL")
				}
			}
			if strings.EqualFold(t.Setting("sslproxyverify").Value, "require") && t.Setting("sslproxycacertificatefile").At == nil && t.Setting("sslproxycacertificatepath").At == nil {
				add("APA005", r.Node, fmt.Sprintf("%s verifies %s (SSLProxyVerify require at %s) with no CA: every handshake fails and Apache answers 500", who, up, t.Setting("sslproxyverify").At.Pos()),
					"SSLProxyCACertificateFile <the CA bundle that issued the upstream's certificate>")
			}
		}
	}
	return out
}

// portOf is ":PORT" of a URL with one, else "".
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return ":" + p
	}
	return ""
}

// ApacheTreeOf is how lint and check read an Apache file: a file named
// apache2.conf in a folder holding envvars, mods-enabled or
// sites-enabled is Debian's /etc/apache2, read with the folder's
// envvars; any other file is read alone.
func ApacheTreeOf(file string) (ApacheTree, bool) {
	dir := filepath.Dir(file)
	if filepath.Base(file) != "apache2.conf" {
		return ApacheTree{}, false
	}
	for _, mark := range []string{"envvars", "mods-enabled", "sites-enabled"} {
		if _, err := os.Stat(filepath.Join(dir, mark)); err == nil {
			env := map[string]string{}
			for k, v := range DebianEnvvars {
				env[k] = v
			}
			if data, err := os.ReadFile(filepath.Join(dir, "envvars")); err == nil {
				for k, v := range ReadEnvvars(data) {
					env[k] = v
				}
			}
			return ApacheTree{HostRoot: dir, Name: dir, Env: env}, true
		}
	}
	return ApacheTree{}, false
}

// lint reads and judges each file: a Debian tree from its apache2.conf,
// any other file alone.
func (apacheDialect) lint(files []string, _ Options) (*Result, []string, error) {
	res := &Result{}
	var notes []string
	for _, p := range files {
		var c *ApacheConfig
		var err error
		if tree, ok := ApacheTreeOf(p); ok {
			c, err = LoadApache(tree, p, p, "/etc/apache2/apache2.conf")
			if err == nil {
				notes = append(notes, fmt.Sprintf("%s is read as Debian's /etc/apache2/apache2.conf, its folder standing for /etc/apache2 (with its envvars)", p))
			}
		} else {
			data, rerr := os.ReadFile(p)
			if rerr != nil {
				return nil, nil, &ConfigError{File: p, Msg: "cannot read: " + cause(rerr)}
			}
			c, err = ParseApache(p, data)
		}
		if err != nil {
			return nil, nil, err
		}
		for _, o := range c.Outside {
			notes = append(notes, fmt.Sprintf("%s %s (%s) is not read: it is outside the files named", o.At.Name, o.Path, o.At.Pos()))
		}
		notes = append(notes, c.Skipped...)
		res.Findings = append(res.Findings, c.Findings()...)
		res.Files = append(res.Files, c.Files...)
		for _, r := range c.Routes {
			res.Upstreams += len(r.Targets)
		}
	}
	return res, notes, nil
}
