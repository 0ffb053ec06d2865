package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// caddyDialect is Caddy's configuration: a Caddyfile, or Caddy's JSON
// (the output of caddy adapt).
type caddyDialect struct{}

func init() { registerDialect(caddyDialect{}) }

func (caddyDialect) name() string { return "caddy" }

func (caddyDialect) claims(data []byte) bool { return LooksLikeCaddy(data) }

func (caddyDialect) none() string { return "no reverse_proxy has a TLS upstream" }

// caddyDirective is a reverse_proxy directive at the start of a line,
// which no other proxy's language has.
var caddyDirective = regexp.MustCompile(`(?m)^[ \t]*reverse_proxy\b`)

// LooksLikeCaddy reports whether data is a Caddy configuration: JSON with
// an "apps" member, or a text with a reverse_proxy directive or that
// otherwise looks like a Caddyfile (a site address, then Caddyfile
// directives).
func LooksLikeCaddy(data []byte) bool {
	if IsCaddyJSON(data) {
		var top map[string]json.RawMessage
		if json.Unmarshal(data, &top) == nil {
			_, ok := top["apps"]
			return ok
		}
	}
	lang, _ := otherLanguage(data)
	return lang == "a Caddyfile" || caddyDirective.Match(data)
}

// IsCaddyJSON reports whether data is Caddy's JSON rather than a
// Caddyfile: an object whose first member's name, or end, follows its
// brace (a Caddyfile's global options follow theirs with a word).
func IsCaddyJSON(data []byte) bool {
	rest, ok := bytes.CutPrefix(bytes.TrimSpace(data), []byte("{"))
	rest = bytes.TrimSpace(rest)
	return ok && (len(rest) == 0 || rest[0] == '"' || rest[0] == '}')
}

// The Caddy rules, grounded in fixtures/caddy/cases.yaml.
var caddyRules = []Rule{
	{"CAD001", "caddy-ip-upstream-without-name", Error,
		"Caddy: a TLS upstream dialled at an IP address without tls_server_name: no SNI is sent.",
		"Caddy's SNI is the upstream address's host unless transport http { tls_server_name } says otherwise, and crypto/tls " +
			"never sends an IP literal (RFC 6066 section 3), so the ClientHello has no server_name; an upstream that routes by " +
			"SNI refuses it and Caddy answers 502. Fix: tls_server_name <the upstream's host name> inside transport http { }.", nil},
	{"CAD002", "caddy-sni-from-client-host", Warning,
		"Caddy: tls_server_name is a placeholder: the SNI is the client's host.",
		"A placeholder such as {http.request.host} sends the name each request carries: right only where the upstream serves " +
			"every public name clients use, and Go's connection pool is keyed by the upstream address, so a second host's request " +
			"can ride the connection made with the first host's name. Fix: tls_server_name <the upstream's host name>.", nil},
	{"CAD003", "caddy-sni-with-port", Error,
		"Caddy: tls_server_name carries a port ({http.request.hostport}): the SNI is no host name.",
		"crypto/tls sends any name that is not an IP literal, a colon and port included, and no upstream serves such a name. " +
			"Fix: tls_server_name {http.request.host} (no port) or the upstream's host name.", nil},
	{"CAD004", "caddy-sni-differs-from-upstream", Warning,
		"Caddy: tls_server_name names another host than the upstream address.",
		"tls_server_name is both the SNI and the name the certificate is verified against; an upstream that does not serve " +
			"that name refuses the handshake or presents a certificate for another. Right only where the upstream serves that name. " +
			"Fix: tls_server_name <the name the upstream serves>, or drop it to send the upstream address's host.", nil},
	{"CAD005", "caddy-insecure-skip-verify", Warning,
		"Caddy: tls_insecure_skip_verify: the upstream's certificate is not verified.",
		"The SNI is unchanged, but any certificate is accepted, so a wrong name goes unnoticed and the connection can be " +
			"intercepted. Fix: remove tls_insecure_skip_verify and trust the CA that issued the upstream's certificate (tls_trust_pool, " +
			"tls_trusted_ca_certs before Caddy 2.8).", nil},
	{"CAD006", "caddy-host-differs-from-sni", Warning,
		"Caddy: header_up Host sends a Host other than the SNI.",
		"header_up Host changes the Host header only, never the SNI; an upstream that checks that both name one site answers " +
			"421 Misdirected Request (RFC 9110 section 15.5.20). Fix: header_up Host {upstream_hostport}.", nil},
}

// init adds Caddy's rules to lint's.
func init() { rules = append(rules, caddyRules...) }

// CaddyRoute is a reverse_proxy handler of a Caddy configuration, with
// what reaches it and how it connects.
type CaddyRoute struct {
	// File is the file of its directive when not the main one.
	File string
	// Port is the listen port of its site, HTTPS whether it serves TLS.
	Port  int
	HTTPS bool
	// Hosts are its host matchers (none: any host); Path its innermost
	// path matcher ("" none, "@name" a named matcher without a path).
	Hosts []string
	Path  string
	// Dials are its upstreams' addresses, host:port.
	Dials []string
	// TLS is set when it connects to the upstreams with TLS.
	TLS        bool
	ServerName string
	Insecure   bool
	CAFiles    []string
	// HostHeader is header_up Host's value, "" when not set.
	HostHeader string
	// Line is the line of the reverse_proxy directive (of the handler's
	// object in JSON).
	Line int
}

// Key identifies a route in a Caddyfile and the JSON caddy adapt makes of
// it.
func (r CaddyRoute) Key() string {
	return fmt.Sprintf("%d %s %s %s", r.Port, strings.Join(r.Hosts, ","), r.Path, strings.Join(r.Dials, ","))
}

// CaddyConfig is a parsed Caddy configuration.
type CaddyConfig struct {
	File   string
	JSON   bool
	Routes []CaddyRoute
	// Certs are the certificate and key files the sites load.
	Certs []CaddyCert
	// Imports are the files the Caddyfile imports, read.
	Imports []CaddyImport
}

// CaddyImport is a file a Caddyfile imports: Local, its path on this
// machine, and Named, where Caddy opens it: relative to the main file's
// folder, or absolute under /etc/caddy.
type CaddyImport struct {
	Local, Named string
}

// CaddyCert is a certificate and key file pair a configuration loads (tls
// CERT KEY, or apps.tls.certificates.load_files), with the hosts of its
// site.
type CaddyCert struct {
	Cert, Key string
	Hosts     []string
	Line      int
}

// ParseCaddy parses a Caddyfile or Caddy's JSON; the error, a
// *ConfigError, names the file and line.
func ParseCaddy(file string, data []byte) (*CaddyConfig, error) {
	if IsCaddyJSON(data) {
		return ParseCaddyJSON(file, data)
	}
	return ParseCaddyfile(file, data)
}

// ReadCaddy reads a Caddy configuration on this machine: Caddy's JSON, or
// a Caddyfile with the files it imports (ParseCaddyfileIn).
func ReadCaddy(file string, data []byte) (*CaddyConfig, error) {
	if IsCaddyJSON(data) {
		return ParseCaddyJSON(file, data)
	}
	return ParseCaddyfileIn(file, data)
}

// Findings runs Caddy's rules over every route to a TLS upstream.
func (c *CaddyConfig) Findings() []Finding {
	var out []Finding
	add := func(rule string, r CaddyRoute, msg, fix string) {
		sev := Error
		for _, ru := range caddyRules {
			if ru.ID == rule {
				sev = ru.Severity
			}
		}
		file := c.File
		if r.File != "" {
			file = r.File
		}
		out = append(out, Finding{Rule: rule, Severity: sev, File: file, Line: r.Line, Message: msg, Fix: fix})
	}
	for _, r := range c.Routes {
		if !r.TLS || len(r.Dials) == 0 {
			continue
		}
		host, _ := SplitHost(r.Dials[0])
		host = strings.Trim(host, "[]")
		who := "reverse_proxy " + strings.Join(r.Dials, " ")
		name := host
		if IsIP(host) || strings.Contains(host, ":") {
			name = nameUnknown
		}
		fix := CaddyServerNameFix(c.JSON, name)
		sn := r.ServerName
		switch {
		case sn == "" && name == nameUnknown:
			add("CAD001", r, who+" dials an IP address without tls_server_name: crypto/tls sends no IP literal as SNI, so Caddy sends none, and an upstream that routes by SNI refuses the handshake (502)", fix)
		case strings.Contains(sn, "{") && strings.Contains(sn, "hostport"):
			add("CAD003", r, fmt.Sprintf("%s has tls_server_name %s: the SNI is the client's host with its port, which no upstream serves", who, sn), fix)
		case strings.Contains(sn, "{"):
			add("CAD002", r, fmt.Sprintf("%s has tls_server_name %s: the SNI is the client's host, right only if the upstream serves every such name, and a pooled connection can carry another host's request", who, sn), fix)
		case strings.Contains(sn, ":"):
			add("CAD003", r, fmt.Sprintf("%s has tls_server_name %s: a name with a port is sent as it is, and no upstream serves it", who, sn), fix)
		case sn != "" && name != nameUnknown && !strings.EqualFold(strings.TrimSuffix(sn, "."), strings.TrimSuffix(host, ".")):
			add("CAD004", r, fmt.Sprintf("%s has tls_server_name %s, another host than the upstream's %s: the upstream must serve %s", who, sn, host, sn),
				CaddyServerNameFix(c.JSON, host)+", or none, unless the upstream serves "+sn)
		}
		if r.Insecure {
			add("CAD005", r, who+" has tls_insecure_skip_verify: any certificate is accepted, a wrong name goes unnoticed",
				CaddyTrustFix(c.JSON, ""))
		}
		sni := sn
		if sni == "" {
			sni = host
		}
		if h := r.HostHeader; h != "" && !strings.Contains(h, "upstream") && !strings.Contains(sni, "{") && !IsIP(sni) {
			hh, _ := SplitHost(h)
			if !strings.EqualFold(hh, sni) {
				add("CAD006", r, fmt.Sprintf("%s sends the Host %s but the SNI %q: an upstream that checks that both name one site answers 421", who, h, sni),
					CaddyHostFix(c.JSON))
			}
		}
	}
	return out
}

// CaddyServerNameFix is the fix line that sends name as SNI, in the
// Caddyfile or in Caddy's JSON.
func CaddyServerNameFix(json bool, name string) string {
	if json {
		return `"transport": {"protocol": "http", "tls": {"server_name": "` + name + `"}}`
	}
	return "tls_server_name " + name + " (inside transport http { })"
}

// CaddyTrustFix is the fix line that verifies an upstream against its CA
// on Caddy version ("" when unknown): tls_trust_pool from 2.8,
// tls_trusted_ca_certs before.
func CaddyTrustFix(json bool, version string) string {
	const bundle = "<the CA bundle that issued the upstream's certificate>"
	switch {
	case json:
		return `"tls": {"root_ca_pem_files": ["` + bundle + `"]}, without "insecure_skip_verify"`
	case version == "":
		return "tls_trusted_ca_certs " + bundle + " (tls_trust_pool file " + bundle + " from Caddy 2.8) inside transport http { }, without tls_insecure_skip_verify"
	case atLeast(version, 2, 8):
		return "tls_trust_pool file " + bundle + " (inside transport http { }), without tls_insecure_skip_verify"
	}
	return "tls_trusted_ca_certs " + bundle + " (inside transport http { }), without tls_insecure_skip_verify"
}

// CaddyHostFix is the fix line that sends the upstream's name as Host.
func CaddyHostFix(json bool) string {
	if json {
		return `"headers": {"request": {"set": {"Host": ["{http.reverse_proxy.upstream.hostport}"]}}}`
	}
	return "header_up Host {upstream_hostport}"
}

// lint reads and judges each file.
func (caddyDialect) lint(files []string, _ Options) (*Result, []string, error) {
	res := &Result{}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, &ConfigError{File: p, Msg: "cannot read: " + cause(err)}
		}
		c, err := ReadCaddy(p, data)
		if err != nil {
			return nil, nil, err
		}
		res.Findings = append(res.Findings, c.Findings()...)
		res.Files = append(res.Files, p)
		for _, r := range c.Routes {
			if r.TLS {
				res.Upstreams++
			}
		}
	}
	return res, nil, nil
}

// --- Caddy's JSON ---------------------------------------------------------

// jnode is a JSON value with the line it starts on; objects keep their
// members' order.
type jnode struct {
	line int
	keys []string
	vals []*jnode
	arr  []*jnode
	str  string
	b    bool
	obj  bool
}

// get is an object's member, an absent node (not ok) when missing.
func (n *jnode) get(key string) *jnode {
	if i := slices.Index(n.keys, key); i >= 0 {
		return n.vals[i]
	}
	return &jnode{}
}

// ok reports whether the node is in the document.
func (n *jnode) ok() bool { return n.line > 0 }

func (n *jnode) strs() []string {
	var out []string
	for _, e := range n.arr {
		out = append(out, e.str)
	}
	return out
}

// decodeJSON reads data into ordered nodes.
func decodeJSON(data []byte) (*jnode, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	line := func() int { return 1 + bytes.Count(data[:dec.InputOffset()], []byte("\n")) }
	var value func() (*jnode, error)
	value = func() (*jnode, error) {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		n := &jnode{line: line()}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' {
				n.obj = true
				for dec.More() {
					k, err := dec.Token()
					if err != nil {
						return nil, err
					}
					v, err := value()
					if err != nil {
						return nil, err
					}
					n.keys, n.vals = append(n.keys, fmt.Sprint(k)), append(n.vals, v)
				}
			} else {
				for dec.More() {
					v, err := value()
					if err != nil {
						return nil, err
					}
					n.arr = append(n.arr, v)
				}
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
		case string:
			n.str = t
		case json.Number:
			n.str = t.String()
		case bool:
			n.b = t
		}
		return n, nil
	}
	return value()
}

// ParseCaddyJSON reads the routes of Caddy's JSON:
// apps.http.servers.*.routes, their host and path matchers, subroutes,
// and each reverse_proxy handler's upstreams and transport.
func ParseCaddyJSON(file string, data []byte) (*CaddyConfig, error) {
	var syn *json.SyntaxError
	if err := json.Unmarshal(data, new(any)); err != nil {
		line := 0
		if e, ok := err.(*json.SyntaxError); ok {
			syn = e
			line = 1 + bytes.Count(data[:min(int(syn.Offset), len(data))], []byte("\n"))
		}
		return nil, &ConfigError{File: file, Line: line, Msg: "not Caddy's JSON: " + err.Error()}
	}
	top, err := decodeJSON(data)
	if err != nil {
		return nil, &ConfigError{File: file, Msg: "not Caddy's JSON: " + err.Error()}
	}
	if !top.obj {
		return nil, &ConfigError{File: file, Line: 1, Msg: "Caddy's JSON is an object with \"apps\""}
	}
	c := &CaddyConfig{File: file, JSON: true}
	for _, lf := range top.get("apps").get("tls").get("certificates").get("load_files").arr {
		c.Certs = append(c.Certs, CaddyCert{Cert: lf.get("certificate").str, Key: lf.get("key").str, Hosts: lf.get("tags").strs(), Line: lf.line})
	}
	servers := top.get("apps").get("http").get("servers")
	for _, srv := range servers.vals {
		port, https := 443, false
		if ls := srv.get("listen").strs(); len(ls) > 0 {
			_, p, err := net.SplitHostPort(strings.TrimPrefix(ls[0], "tcp/"))
			if n, perr := strconv.Atoi(p); err == nil && perr == nil {
				port = n
			} else {
				return nil, &ConfigError{File: file, Line: srv.get("listen").line, Msg: fmt.Sprintf("listen %q: want [host]:port", ls[0])}
			}
		}
		https = port == 443 || srv.get("tls_connection_policies").ok()
		if err := c.jsonRoutes(srv.get("routes"), port, https, nil, ""); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// jsonRoutes walks a routes array with the hosts and path that reach it.
func (c *CaddyConfig) jsonRoutes(routes *jnode, port int, https bool, hosts []string, path string) error {
	for _, rt := range routes.arr {
		h, p := hosts, path
		if m := rt.get("match"); len(m.arr) > 0 {
			if hs := m.arr[0].get("host").strs(); len(hs) > 0 {
				h = hs
			}
			if ps := m.arr[0].get("path").strs(); len(ps) > 0 {
				p = ps[0]
			}
		}
		for _, handler := range rt.get("handle").arr {
			switch handler.get("handler").str {
			case "subroute":
				if err := c.jsonRoutes(handler.get("routes"), port, https, h, p); err != nil {
					return err
				}
			case "reverse_proxy":
				r := CaddyRoute{Port: port, HTTPS: https, Hosts: h, Path: p, Line: handler.line}
				for _, u := range handler.get("upstreams").arr {
					r.Dials = append(r.Dials, u.get("dial").str)
				}
				if tls := handler.get("transport").get("tls"); tls.ok() {
					r.TLS = true
					r.ServerName = tls.get("server_name").str
					r.Insecure = tls.get("insecure_skip_verify").b
					r.CAFiles = append(tls.get("root_ca_pem_files").strs(), tls.get("ca").get("pem_files").strs()...)
				}
				if hh := handler.get("headers").get("request").get("set").get("Host").strs(); len(hh) > 0 {
					r.HostHeader = hh[0]
				}
				c.Routes = append(c.Routes, r)
			}
		}
	}
	return nil
}

// --- The Caddyfile --------------------------------------------------------

// cfToken is a Caddyfile token and its line; quoted tokens are never
// braces.
type cfToken struct {
	text   string
	line   int
	quoted bool
}

// cfLex splits a Caddyfile into tokens: words, "quoted" and `backtick`
// strings, with # comments dropped and a backslash-newline joining lines.
func cfLex(file string, data []byte) ([]cfToken, error) {
	var out []cfToken
	s := string(data)
	line := 1
	for i := 0; i < len(s); {
		ch := s[i]
		switch {
		case ch == '\n':
			line++
			i++
		case ch == ' ' || ch == '\t' || ch == '\r':
			i++
		case ch == '\\' && i+1 < len(s) && s[i+1] == '\n':
			i += 2
			line++
		case ch == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case ch == '"' || ch == '`':
			start := line
			var b strings.Builder
			i++
			for ; i < len(s) && s[i] != ch; i++ {
				if ch == '"' && s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
					i++
				}
				if s[i] == '\n' {
					line++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, &ConfigError{File: file, Line: start, Msg: "unterminated quoted string"}
			}
			i++
			out = append(out, cfToken{text: b.String(), line: start, quoted: true})
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n", rune(s[j])) {
				j++
			}
			out = append(out, cfToken{text: s[i:j], line: line})
			i = j
		}
	}
	return out, nil
}

// cfNode is a Caddyfile line: its tokens and, when it ends in {, its
// block.
type cfNode struct {
	args  []cfToken
	block []*cfNode
	open  bool
	line  int
	file  string
}

func (n *cfNode) word(i int) string {
	if i < len(n.args) {
		return n.args[i].text
	}
	return ""
}

// cfParse makes the tokens lines and blocks.
func cfParse(file string, toks []cfToken) ([]*cfNode, error) {
	pos := 0
	var block func(depth int, opened int) ([]*cfNode, error)
	block = func(depth, opened int) ([]*cfNode, error) {
		var out []*cfNode
		for pos < len(toks) {
			t := toks[pos]
			if t.text == "}" && !t.quoted {
				if depth == 0 {
					return nil, &ConfigError{File: file, Line: t.line, Msg: "unexpected }: no block is open"}
				}
				pos++
				return out, nil
			}
			n := &cfNode{line: t.line, file: file}
			for pos < len(toks) && toks[pos].line == t.line {
				tk := toks[pos]
				pos++
				if tk.text == "{" && !tk.quoted && (pos >= len(toks) || toks[pos].line != t.line) {
					sub, err := block(depth+1, tk.line)
					if err != nil {
						return nil, err
					}
					n.block, n.open = sub, true
					break
				}
				if tk.text == "}" && !tk.quoted {
					pos--
					break
				}
				n.args = append(n.args, tk)
			}
			out = append(out, n)
		}
		if depth > 0 {
			return nil, &ConfigError{File: file, Line: opened, Msg: "the block opened here has no closing }"}
		}
		return out, nil
	}
	return block(0, 0)
}

// cfSite is a site address: scheme, host and port.
type cfSite struct {
	host  string
	port  int
	https bool
}

// cfAddress parses a site address: [scheme://][host][:port][/path].
func cfAddress(file string, t cfToken) (cfSite, error) {
	a := strings.TrimSuffix(t.text, ",")
	scheme := ""
	if i := strings.Index(a, "://"); i >= 0 {
		scheme, a = a[:i], a[i+3:]
	}
	if i := strings.Index(a, "/"); i >= 0 {
		a = a[:i]
	}
	host, port := SplitHost(a)
	s := cfSite{host: strings.ToLower(host)}
	switch {
	case port != "":
		n, err := strconv.Atoi(port)
		if err != nil || n <= 0 || n > 65535 {
			return s, &ConfigError{File: file, Line: t.line, Msg: fmt.Sprintf("site address %q: the port is not a number", t.text)}
		}
		s.port = n
	case scheme == "http":
		s.port = 80
	default:
		s.port = 443
	}
	// Caddy serves a site over TLS when it is https://, on the HTTPS port,
	// or has a host name and no scheme and is not on the HTTP port.
	s.https = scheme == "https" || s.port == 443 || (scheme == "" && s.port != 80 && s.host != "")
	return s, nil
}

// cfWalk is a walk of a site's directives.
type cfWalk struct {
	// follow is set when file imports are read, relative to the
	// importing file's folder (/etc/caddy/ standing for the main file's).
	follow   bool
	file     string
	c        *CaddyConfig
	addrs    []cfSite
	snippets map[string][]*cfNode
	named    map[string]string
}

// ParseCaddyfile reads the routes of a Caddyfile as caddy adapt makes
// them, and the certificates its sites load (tls CERT KEY): site blocks
// (or one site without braces), snippets and import,
// handle, handle_path and route blocks with path matchers, named path
// matchers, and reverse_proxy with its upstreams, to lines, header_up
// Host and transport http { tls, tls_server_name,
// tls_insecure_skip_verify, tls_trusted_ca_certs, tls_trust_pool file }.
func ParseCaddyfile(file string, data []byte) (*CaddyConfig, error) {
	return parseCaddyfile(file, data, false)
}

// ParseCaddyfileIn reads a Caddyfile on this machine as ParseCaddyfile
// does, following its file imports (globs too): relative to the importing
// file's folder, and under /etc/caddy/ from the main file's folder.
func ParseCaddyfileIn(file string, data []byte) (*CaddyConfig, error) {
	return parseCaddyfile(file, data, true)
}

func parseCaddyfile(file string, data []byte, follow bool) (*CaddyConfig, error) {
	toks, err := cfLex(file, data)
	if err != nil {
		return nil, err
	}
	nodes, err := cfParse(file, toks)
	if err != nil {
		return nil, err
	}
	c := &CaddyConfig{File: file}
	w := &cfWalk{file: file, c: c, snippets: map[string][]*cfNode{}, follow: follow}
	if nodes, err = w.expand(nodes, 0, true); err != nil {
		return nil, err
	}
	var sites []*cfNode
	for i, n := range nodes {
		switch {
		case i == 0 && len(n.args) == 0 && n.open:
			// The global options block.
		case n.open && len(n.args) > 0:
			sites = append(sites, n)
		case len(sites) == 0 && !slices.ContainsFunc(nodes[i:], func(m *cfNode) bool { return m.open && len(m.args) > 0 && !cfIsDirective(m.word(0)) }):
			// A single site without braces: its addresses, then its body.
			sites = append(sites, &cfNode{args: n.args, block: nodes[i+1:], open: true, line: n.line, file: n.file})
			return w.sites(sites)
		default:
			return nil, &ConfigError{File: n.file, Line: n.line, Msg: fmt.Sprintf("%q outside a site block: want a site address followed by {", n.word(0))}
		}
	}
	return w.sites(sites)
}

// expand replaces each import with a snippet's lines, its {args[N]}
// ({args.N} before Caddy 2.7) replaced, or with the lines of the files it
// names; top-level snippets are taken out as they are defined.
func (w *cfWalk) expand(nodes []*cfNode, depth int, top bool) ([]*cfNode, error) {
	var out []*cfNode
	for _, n := range nodes {
		if depth > 16 {
			return nil, &ConfigError{File: n.file, Line: n.line, Msg: "imports nest more than 16 deep"}
		}
		switch name := n.word(1); {
		case top && strings.HasPrefix(n.word(0), "(") && strings.HasSuffix(n.word(0), ")") && n.open:
			w.snippets[strings.Trim(n.word(0), "()")] = n.block
		case n.word(0) == "import" && w.snippets[name] != nil:
			sub, err := w.expand(cfArgs(w.snippets[name], n.args[2:]), depth+1, false)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		case n.word(0) == "import" && name != "":
			sub, err := w.importFiles(n, depth, top)
			if err != nil {
				return nil, err
			}
			out = append(out, sub...)
		case n.open:
			m := *n
			sub, err := w.expand(n.block, depth, false)
			if err != nil {
				return nil, err
			}
			m.block = sub
			out = append(out, &m)
		default:
			out = append(out, n)
		}
	}
	return out, nil
}

// importFiles are the lines of the files an import names, when files are
// followed; none when not, or when none matches.
func (w *cfWalk) importFiles(n *cfNode, depth int, top bool) ([]*cfNode, error) {
	pattern := n.word(1)
	if !w.follow {
		return nil, nil
	}
	mainDir := filepath.Dir(w.file)
	local := filepath.Join(filepath.Dir(n.file), filepath.FromSlash(pattern))
	if rest, ok := strings.CutPrefix(pattern, "/etc/caddy/"); ok {
		local = filepath.Join(mainDir, filepath.FromSlash(rest))
	} else if path.IsAbs(pattern) {
		return nil, nil
	}
	matches, err := filepath.Glob(local)
	if err != nil {
		return nil, &ConfigError{File: n.file, Line: n.line, Msg: fmt.Sprintf("import %s: %v", pattern, err)}
	}
	var out []*cfNode
	for _, m := range matches {
		if st, err := os.Stat(m); err != nil || !st.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(m)
		if err != nil {
			return nil, &ConfigError{File: n.file, Line: n.line, Msg: fmt.Sprintf("import %s: cannot read %s: %s", pattern, m, cause(err))}
		}
		rel, _ := filepath.Rel(mainDir, m)
		named := filepath.ToSlash(rel)
		if strings.HasPrefix(pattern, "/etc/caddy/") {
			named = "/etc/caddy/" + named
		}
		if !slices.Contains(w.c.Imports, CaddyImport{Local: m, Named: named}) {
			w.c.Imports = append(w.c.Imports, CaddyImport{Local: m, Named: named})
		}
		toks, err := cfLex(m, data)
		if err != nil {
			return nil, err
		}
		nodes, err := cfParse(m, toks)
		if err != nil {
			return nil, err
		}
		sub, err := w.expand(nodes, depth+1, top)
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	return out, nil
}

// cfArgs are a snippet's lines with an import's arguments in place of
// {args[N]} and {args.N}.
func cfArgs(nodes []*cfNode, args []cfToken) []*cfNode {
	var pairs []string
	for i, a := range args {
		pairs = append(pairs, fmt.Sprintf("{args[%d]}", i), a.text, fmt.Sprintf("{args.%d}", i), a.text)
	}
	if len(pairs) == 0 {
		return nodes
	}
	rep := strings.NewReplacer(pairs...)
	var out []*cfNode
	for _, n := range nodes {
		m := *n
		m.args = nil
		for _, t := range n.args {
			t.text = rep.Replace(t.text)
			m.args = append(m.args, t)
		}
		m.block = cfArgs(n.block, args)
		out = append(out, &m)
	}
	return out
}

// cfIsDirective reports whether a word is a directive with a block that
// can open a site's body, not a site address.
func cfIsDirective(w string) bool {
	return slices.Contains([]string{"reverse_proxy", "handle", "handle_path", "route", "transport", "log", "tls", "header", "encode", "file_server", "php_fastcgi", "redir", "respond"}, w) || strings.HasPrefix(w, "@")
}

func (w *cfWalk) sites(sites []*cfNode) (*CaddyConfig, error) {
	for _, s := range sites {
		w.addrs = nil
		for _, a := range s.args {
			for _, part := range strings.Split(a.text, ",") {
				if part == "" {
					continue
				}
				site, err := cfAddress(w.file, cfToken{text: part, line: a.line})
				if err != nil {
					return nil, err
				}
				w.addrs = append(w.addrs, site)
			}
		}
		w.named = map[string]string{}
		if err := w.body(s.block, ""); err != nil {
			return nil, err
		}
	}
	return w.c, nil
}

// body walks a block of directives, path the path matcher reaching it.
func (w *cfWalk) body(nodes []*cfNode, path string) error {
	for _, n := range nodes {
		d := n.word(0)
		switch {
		case strings.HasPrefix(d, "@"):
			w.matcher(n)
		case d == "tls" && len(n.args) == 3:
			var hosts []string
			for _, a := range w.addrs {
				if a.host != "" {
					hosts = append(hosts, a.host)
				}
			}
			w.c.Certs = append(w.c.Certs, CaddyCert{Cert: n.word(1), Key: n.word(2), Hosts: hosts, Line: n.line})
		case d == "handle" || d == "handle_path" || d == "route":
			p := path
			if m := n.word(1); m != "" {
				p = w.pathOf(m)
			}
			if err := w.body(n.block, p); err != nil {
				return err
			}
		case d == "reverse_proxy":
			if err := w.proxy(n, path); err != nil {
				return err
			}
		}
	}
	return nil
}

// matcher records a named matcher's path: @name path P, or @name { path P }.
func (w *cfWalk) matcher(n *cfNode) {
	name := n.word(0)
	if n.word(1) == "path" && n.word(2) != "" {
		w.named[name] = n.word(2)
	}
	for _, m := range n.block {
		if m.word(0) == "path" && m.word(1) != "" {
			w.named[name] = m.word(1)
		}
	}
}

// pathOf is the path a matcher token selects.
func (w *cfWalk) pathOf(m string) string {
	switch {
	case strings.HasPrefix(m, "/"):
		return m
	case m == "*":
		return ""
	case strings.HasPrefix(m, "@"):
		if p, ok := w.named[m]; ok {
			return p
		}
		return m
	}
	return ""
}

// proxy reads a reverse_proxy directive into a route per listen port.
func (w *cfWalk) proxy(n *cfNode, path string) error {
	args := n.args[1:]
	if len(args) > 0 && (strings.HasPrefix(args[0].text, "/") || args[0].text == "*" || strings.HasPrefix(args[0].text, "@")) {
		path = w.pathOf(args[0].text)
		args = args[1:]
	}
	r := CaddyRoute{Path: path, Line: n.line}
	if n.file != w.file {
		r.File = n.file
	}
	ups := append([]cfToken(nil), args...)
	scheme := ""
	for _, b := range n.block {
		switch b.word(0) {
		case "to":
			ups = append(ups, b.args[1:]...)
		case "header_up":
			if strings.EqualFold(strings.TrimPrefix(b.word(1), "+"), "Host") && b.word(2) != "" {
				r.HostHeader = cfShorthands.Replace(b.word(2))
			}
		case "transport":
			if b.word(1) != "http" {
				continue
			}
			for _, t := range b.block {
				switch t.word(0) {
				case "tls":
					r.TLS = true
				case "tls_server_name":
					r.TLS, r.ServerName = true, cfShorthands.Replace(t.word(1))
				case "tls_insecure_skip_verify":
					r.TLS, r.Insecure = true, true
				case "tls_trusted_ca_certs":
					r.TLS = true
					for _, a := range t.args[1:] {
						r.CAFiles = append(r.CAFiles, a.text)
					}
				case "tls_trust_pool":
					r.TLS = true
					if t.word(1) == "file" {
						for _, a := range t.args[2:] {
							r.CAFiles = append(r.CAFiles, a.text)
						}
						for _, f := range t.block {
							if f.word(0) == "pem_file" {
								for _, a := range f.args[1:] {
									r.CAFiles = append(r.CAFiles, a.text)
								}
							}
						}
					}
				}
			}
		}
	}
	for _, u := range ups {
		dial, s, err := cfUpstream(w.file, u)
		if err != nil {
			return err
		}
		if scheme == "" {
			scheme = s
		}
		r.Dials = append(r.Dials, dial)
	}
	if scheme == "https" {
		r.TLS = true
	}
	ports := map[int]bool{}
	for _, a := range w.addrs {
		if ports[a.port] {
			continue
		}
		ports[a.port] = true
		rt := r
		rt.Port, rt.HTTPS, rt.Hosts = a.port, a.https, nil
		for _, b := range w.addrs {
			if b.port == a.port && b.host != "" && !slices.Contains(rt.Hosts, b.host) {
				rt.Hosts = append(rt.Hosts, b.host)
			}
		}
		if slices.ContainsFunc(w.addrs, func(b cfSite) bool { return b.port == a.port && b.host == "" }) {
			rt.Hosts = nil
		}
		w.c.Routes = append(w.c.Routes, rt)
	}
	return nil
}

// cfUpstream is an upstream's dial address and scheme: https://host
// dials host:443, http://host and a bare host host:80.
func cfUpstream(file string, t cfToken) (dial, scheme string, err error) {
	a := t.text
	if i := strings.Index(a, "://"); i >= 0 {
		scheme, a = a[:i], a[i+3:]
	}
	if i := strings.Index(a, "/"); i >= 0 {
		return "", "", &ConfigError{File: file, Line: t.line, Msg: fmt.Sprintf("upstream %q: an upstream address has no path", t.text)}
	}
	host, port := SplitHost(a)
	if host == "" {
		return "", "", &ConfigError{File: file, Line: t.line, Msg: fmt.Sprintf("upstream %q: want [scheme://]host[:port]", t.text)}
	}
	switch {
	case scheme == "https" && port == "80":
		return "", "", &ConfigError{File: file, Line: t.line, Msg: "upstream " + t.text + ": conflicting scheme (https://) and port (:80, the HTTP port)"}
	case port != "":
	case scheme == "https":
		port = "443"
	default:
		port = "80"
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), port), scheme, nil
}

// cfShorthands are the Caddyfile's placeholder shorthands that name a
// host, as caddy adapt expands them.
var cfShorthands = strings.NewReplacer(
	"{host}", "{http.request.host}",
	"{hostport}", "{http.request.hostport}",
	"{upstream_host}", "{http.reverse_proxy.upstream.host}",
	"{upstream_hostport}", "{http.reverse_proxy.upstream.hostport}",
	"{upstream_port}", "{http.reverse_proxy.upstream.port}",
)
