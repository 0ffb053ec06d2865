package lint

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// squidDialect is Squid's squid.conf as a reverse proxy (accelerator):
// http_port ... accel, cache_peer ... originserver tls, cache_peer_access.
type squidDialect struct{}

func init() { registerDialect(squidDialect{}) }

func (squidDialect) name() string { return "squid" }

func (squidDialect) claims(data []byte) bool { return LooksLikeSquid(data) }

func (squidDialect) none() string { return "no cache_peer line has the tls option" }

// SquidConfDir is where Debian's Squid reads its configuration.
const SquidConfDir = "/etc/squid"

// LooksLikeSquid reports whether data is a squid.conf: it has an
// http_port or https_port line and a cache_peer line.
func LooksLikeSquid(data []byte) bool {
	port, peer := false, false
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "http_port", "https_port":
			port = true
		case "cache_peer":
			peer = true
		}
	}
	return port && peer
}

// The Squid rules, grounded in fixtures/squid/cases.yaml (the GnuTLS
// build, Debian's squid package).
var squidRules = []Rule{
	{"SQD001", "squid-gnutls-sends-no-sni", Warning,
		"Squid: Debian's squid package (the GnuTLS build) sends no SNI to a tls cache_peer, tls-domain= included.",
		"Squid sets the SNI only when it is built with OpenSSL: the GnuTLS build of Debian's squid package sends a ClientHello " +
			"without server_name to every tls cache_peer, so an upstream that routes by SNI refuses it and Squid answers 503. " +
			"Fix: install squid-openssl, the same Squid built with OpenSSL, which sends tls-domain= or the peer's host.", nil},
	{"SQD002", "squid-ip-peer-without-tls-domain", Error,
		"Squid: a tls cache_peer whose host is an IP address, without tls-domain=: no SNI is sent.",
		"The OpenSSL build sends tls-domain=, else the peer's host, and never an IP literal (RFC 6066 section 3), so the ClientHello " +
			"to an IP peer has no server_name; an upstream that routes by SNI refuses it and Squid answers 503. Fix: add " +
			"tls-domain=<the upstream's host name> to the cache_peer line.", nil},
	{"SQD003", "squid-dont-verify-peer", Warning,
		"Squid: tls-flags=DONT_VERIFY_PEER (sslflags=): the peer's certificate is not verified.",
		"Squid accepts any certificate from the peer, so a wrong SNI answered with another site's certificate goes unnoticed. " +
			"Fix: drop DONT_VERIFY_PEER and name the CA bundle that issued the peer's certificate with tls-cafile=.", nil},
}

// init adds Squid's rules to lint's.
func init() { rules = append(rules, squidRules...) }

// SquidLine is a directive of a squid.conf, its continuation lines
// joined.
type SquidLine struct {
	File  string
	Line  int
	Words []string
}

// Pos is the directive's file:line.
func (l SquidLine) Pos() string { return fmt.Sprintf("%s:%d", l.File, l.Line) }

// Text is the directive as one line.
func (l SquidLine) Text() string { return strings.Join(l.Words, " ") }

// SquidPort is an http_port or https_port line.
type SquidPort struct {
	SquidLine
	// Host is the address of a HOST:PORT, "" for any.
	Host  string
	Port  int
	Accel bool
	// TLS is an https_port, or an http_port with tls-cert=.
	TLS         bool
	Cert, Key   string
	DefaultSite string
}

// SquidPeer is a cache_peer line.
type SquidPeer struct {
	SquidLine
	Host string
	Port int
	// Name is name=, else the host.
	Name string
	TLS  bool
	// Domain is tls-domain= (ssldomain=), CAFile tls-cafile= (sslcafile=),
	// Flags tls-flags= (sslflags=).
	Domain, CAFile, Flags string
}

// IP reports whether the peer's host is an IP address.
func (p SquidPeer) IP() bool { return IsIP(p.Host) || strings.Contains(p.Host, ":") }

// SNI is the name the OpenSSL build sends: tls-domain=, else the host;
// "" for an IP literal, which it never sends.
func (p SquidPeer) SNI() string {
	n := p.Domain
	if n == "" {
		n = p.Host
	}
	if IsIP(n) || strings.Contains(n, ":") {
		return ""
	}
	return n
}

// SquidACL is an acl line.
type SquidACL struct {
	SquidLine
	Name, Type string
	Values     []string
}

// SquidAccess is a cache_peer_access line: allow or deny the peer for
// requests matching every acl (a ! negates one).
type SquidAccess struct {
	SquidLine
	Peer  string
	Allow bool
	ACLs  []string
}

// SquidConfig is a parsed squid.conf with its includes.
type SquidConfig struct {
	File string
	// Files are the files read, the main one first, by their path on
	// this machine, and Paths theirs on the proxy's host.
	Files, Paths []string
	Ports        []SquidPort
	Peers        []SquidPeer
	ACLs         []SquidACL
	Access       []SquidAccess
	Notes        []string
}

// ParseSquidFile reads a squid.conf from file on this machine, which
// stands for /etc/squid/ of the proxy's host: its include lines under
// /etc/squid (globs too) are read from the file's folder, others are
// noted and not read.
func ParseSquidFile(file string) (*SquidConfig, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &ConfigError{File: file, Msg: "cannot read: " + cause(err)}
	}
	dir := filepath.Dir(file)
	c := &SquidConfig{File: file}
	find := func(pattern string) ([]string, []string, bool) {
		rel, ok := strings.CutPrefix(path.Clean(pattern), SquidConfDir+"/")
		if !ok {
			return nil, nil, false
		}
		locals, err := filepath.Glob(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, nil, false
		}
		slices.Sort(locals)
		var at []string
		for _, l := range locals {
			r, _ := filepath.Rel(dir, l)
			at = append(at, path.Join(SquidConfDir, filepath.ToSlash(r)))
		}
		return locals, at, true
	}
	return c, c.parse(file, path.Join(SquidConfDir, filepath.Base(file)), data, find, 0)
}

// ParseSquid parses one squid.conf, following no include.
func ParseSquid(file string, data []byte) (*SquidConfig, error) {
	c := &SquidConfig{File: file}
	return c, c.parse(file, path.Join(SquidConfDir, filepath.Base(file)), data, nil, 0)
}

// squidLines are a file's directives: comments and blank lines dropped,
// a line ending in a backslash joined with the next.
func squidLines(file string, data []byte) []SquidLine {
	var out []SquidLine
	var cur []string
	start := 0
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSuffix(raw, "\r")
		if len(cur) == 0 {
			start = i + 1
			if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
				continue
			}
		}
		more := strings.HasSuffix(line, "\\")
		cur = append(cur, strings.Fields(strings.TrimSuffix(line, "\\"))...)
		if !more {
			if len(cur) > 0 {
				out = append(out, SquidLine{File: file, Line: start, Words: cur})
			}
			cur = nil
		}
	}
	if len(cur) > 0 {
		out = append(out, SquidLine{File: file, Line: start, Words: cur})
	}
	return out
}

// parse reads one file's directives into c; find lists the files an
// include names.
func (c *SquidConfig) parse(file, at string, data []byte, find func(string) ([]string, []string, bool), depth int) error {
	c.Files, c.Paths = append(c.Files, file), append(c.Paths, at)
	for _, l := range squidLines(file, data) {
		bad := func(format string, args ...any) error {
			return &ConfigError{File: file, Line: l.Line, Msg: fmt.Sprintf(format, args...)}
		}
		w := l.Words
		switch w[0] {
		case "http_port", "https_port":
			if len(w) < 2 {
				return bad("%s names no port", w[0])
			}
			p, err := squidPort(l)
			if err != nil {
				return bad("%v", err)
			}
			c.Ports = append(c.Ports, p)
		case "cache_peer":
			p, err := squidPeer(l)
			if err != nil {
				return bad("%v", err)
			}
			c.Peers = append(c.Peers, p)
		case "acl":
			if len(w) < 3 {
				return bad("acl: want acl NAME TYPE VALUE...")
			}
			c.ACLs = append(c.ACLs, SquidACL{SquidLine: l, Name: w[1], Type: w[2], Values: w[3:]})
		case "cache_peer_access":
			if len(w) < 3 || (w[2] != "allow" && w[2] != "deny") {
				return bad("cache_peer_access: want cache_peer_access PEER allow|deny [!]ACL...")
			}
			c.Access = append(c.Access, SquidAccess{SquidLine: l, Peer: w[1], Allow: w[2] == "allow", ACLs: w[3:]})
		case "include":
			if len(w) < 2 {
				return bad("include names no file")
			}
			if depth > 8 {
				return bad("include %s: includes nest deeper than 8 files", w[1])
			}
			for _, pattern := range w[1:] {
				var locals, ats []string
				ok := false
				if find != nil {
					locals, ats, ok = find(pattern)
				}
				if !ok {
					c.Notes = append(c.Notes, fmt.Sprintf("%s: include %s is not read: the configuration's folder does not hold it", l.Pos(), pattern))
					continue
				}
				for i, local := range locals {
					d, err := os.ReadFile(local)
					if err != nil {
						return bad("include %s: cannot read %s: %s", pattern, local, cause(err))
					}
					if err := c.parse(local, ats[i], d, find, depth+1); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// squidPortNumber is the port of an http_port's [HOST:]PORT.
func squidPortNumber(s string) (int, error) {
	if i := strings.LastIndex(s, ":"); i >= 0 {
		s = s[i+1:]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 65535 {
		return 0, fmt.Errorf("port %q: want [HOST:]PORT with a port from 1 to 65535", s)
	}
	return n, nil
}

func squidPort(l SquidLine) (SquidPort, error) {
	p := SquidPort{SquidLine: l, TLS: l.Words[0] == "https_port"}
	if i := strings.LastIndex(l.Words[1], ":"); i >= 0 {
		p.Host = strings.Trim(l.Words[1][:i], "[]")
	}
	var err error
	if p.Port, err = squidPortNumber(l.Words[1]); err != nil {
		return p, fmt.Errorf("%s %v", l.Words[0], err)
	}
	for _, o := range l.Words[2:] {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "accel":
			p.Accel = true
		case "defaultsite":
			p.DefaultSite, p.Accel = v, true
		case "tls-cert", "cert":
			p.Cert, p.TLS = v, true
		case "tls-key", "key":
			p.Key = v
		}
	}
	if p.Key == "" {
		p.Key = p.Cert
	}
	return p, nil
}

func squidPeer(l SquidLine) (SquidPeer, error) {
	w := l.Words
	if len(w) < 5 {
		return SquidPeer{}, fmt.Errorf("cache_peer: want cache_peer HOST TYPE HTTP-PORT ICP-PORT [OPTIONS]")
	}
	p := SquidPeer{SquidLine: l, Host: strings.ToLower(strings.Trim(w[1], "[]")), Name: w[1]}
	n, err := strconv.Atoi(w[3])
	if err != nil || n <= 0 || n > 65535 {
		return p, fmt.Errorf("cache_peer %s: HTTP port %q: want a port from 1 to 65535", w[1], w[3])
	}
	p.Port = n
	for _, o := range w[5:] {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "tls", "ssl":
			p.TLS = true
		case "name":
			p.Name = v
		case "tls-domain", "ssldomain":
			p.Domain = v
		case "tls-cafile", "sslcafile":
			p.CAFile = v
		case "tls-flags", "sslflags":
			p.Flags = v
		}
	}
	return p, nil
}

// Findings runs Squid's rules over the tls cache_peers.
func (c *SquidConfig) Findings() []Finding {
	var out []Finding
	add := func(rule string, p SquidPeer, msg, fix string) {
		sev := Error
		for _, ru := range rules {
			if ru.ID == rule {
				sev = ru.Severity
			}
		}
		out = append(out, Finding{Rule: rule, Severity: sev, File: p.File, Line: p.Line, Message: msg, Fix: fix})
	}
	for _, p := range c.Peers {
		if !p.TLS {
			continue
		}
		who := "cache_peer " + p.Name
		add("SQD001", p, who+" has tls: Debian's squid package (the GnuTLS build) sends it no SNI, tls-domain= included, and an upstream that routes by SNI refuses the handshake (503)",
			"apt-get install squid-openssl (the OpenSSL build, which sends "+squidSNIText(p)+")")
		if p.IP() && p.Domain == "" {
			add("SQD002", p, who+" names an IP address without tls-domain=: Squid sends no IP literal as SNI, so it sends none, and an upstream that routes by SNI refuses the handshake (503)",
				SquidFix(p, nameUnknown))
		}
		if slices.Contains(strings.Split(p.Flags, ","), "DONT_VERIFY_PEER") {
			add("SQD003", p, who+" has DONT_VERIFY_PEER: Squid accepts any certificate from it, so a wrong SNI answered with another site's certificate goes unnoticed",
				"drop DONT_VERIFY_PEER and add tls-cafile=<the CA bundle that issued the peer's certificate>")
		}
	}
	return out
}

// squidSNIText says what the OpenSSL build sends peer p.
func squidSNIText(p SquidPeer) string {
	if n := p.SNI(); n != "" {
		return "SNI " + n
	}
	return "tls-domain= as SNI"
}

// SquidFix is cache_peer line p with tls-domain=name, in Squid's syntax.
func SquidFix(p SquidPeer, name string) string {
	var words []string
	for _, w := range p.Words {
		if !strings.HasPrefix(w, "tls-domain=") && !strings.HasPrefix(w, "ssldomain=") {
			words = append(words, w)
		}
	}
	if i := slices.IndexFunc(words, func(w string) bool { return w == "tls" || w == "ssl" }); i >= 0 {
		words = slices.Insert(words, i+1, "tls-domain="+name)
	} else {
		words = append(words, "tls", "tls-domain="+name)
	}
	return strings.Join(words, " ")
}

// lint reads and judges each file.
func (squidDialect) lint(files []string, _ Options) (*Result, []string, error) {
	res := &Result{}
	var notes []string
	for _, p := range files {
		c, err := ParseSquidFile(p)
		if err != nil {
			return nil, nil, err
		}
		res.Findings = append(res.Findings, c.Findings()...)
		res.Files = append(res.Files, c.Files...)
		notes = append(notes, c.Notes...)
		for _, peer := range c.Peers {
			if peer.TLS {
				res.Upstreams++
			}
		}
	}
	return res, notes, nil
}
