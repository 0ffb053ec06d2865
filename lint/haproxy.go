package lint

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
)

// HAProxy configurations are line based: a section keyword (global,
// defaults, frontend, backend, listen, ...) opens a section, and every
// other line is a keyword and its arguments. ReadHAProxy reads one file as
// HAProxy 2.6 to 3.0 read it, with line numbers kept for every line, which
// findings and sniproof check's reports point to.

// haproxySections are HAProxy's section keywords.
var haproxySections = []string{"global", "defaults", "frontend", "backend", "listen", "resolvers", "peers", "userlist",
	"mailers", "program", "http-errors", "ring", "cache", "log-forward", "crt-store", "traces", "fcgi-app"}

// HAConfig is a parsed haproxy.cfg.
type HAConfig struct {
	// File is the file as named; Text its content.
	File     string
	Text     []byte
	Sections []*HASection
	// Version is the HAProxy version the configuration was read and is
	// judged for (see ParseHAProxyFor); "" for 2.6 to 3.2 alike.
	Version string
}

// HASection is one section: its kind (frontend, backend, ...), its name
// ("" for an anonymous defaults or global), and its lines.
type HASection struct {
	Kind, Name string
	// Line is the section keyword's line, End the section's last line
	// with a keyword.
	Line, End int
	File      string
	Lines     []*HALine
	// Defaults is the defaults section this proxy takes its settings
	// from: the one its "from" names, else the last one before it.
	Defaults *HASection
}

// HALine is one keyword line with its arguments, unquoted.
type HALine struct {
	Keyword string
	Args    []string
	File    string
	Line    int
}

// Arg returns the i-th argument, or "" when there is none.
func (l *HALine) Arg(i int) string {
	if i < len(l.Args) {
		return l.Args[i]
	}
	return ""
}

// Pos is where the line is, FILE:LINE.
func (l *HALine) Pos() string { return l.File + ":" + strconv.Itoa(l.Line) }

// Pos is where the section starts, FILE:LINE.
func (s *HASection) Pos() string { return s.File + ":" + strconv.Itoa(s.Line) }

// Label names the section as reports do: "backend be_api".
func (s *HASection) Label() string { return strings.TrimSpace(s.Kind + " " + s.Name) }

// Proxy reports whether the section is a proxy: frontend, backend or
// listen.
func (s *HASection) Proxy() bool {
	return s.Kind == "frontend" || s.Kind == "backend" || s.Kind == "listen"
}

// All are the section's lines with keyword kw, in order.
func (s *HASection) All(kw string) []*HALine {
	var out []*HALine
	for _, l := range s.Lines {
		if l.Keyword == kw {
			out = append(out, l)
		}
	}
	return out
}

// Setting is the last line with keyword kw in the section, else in its
// defaults section; nil when neither has one.
func (s *HASection) Setting(kw string) *HALine {
	for sec := s; sec != nil; sec = sec.Defaults {
		if ls := sec.All(kw); len(ls) > 0 {
			return ls[len(ls)-1]
		}
	}
	return nil
}

// Mode is the section's proxy mode, http or tcp (HAProxy's default).
func (s *HASection) Mode() string {
	if m := s.Setting("mode"); m != nil {
		return m.Arg(0)
	}
	return "tcp"
}

// LooksLikeHAProxy reports whether data is an HAProxy configuration: its
// first keyword is a section keyword, which no nginx configuration starts
// with.
func LooksLikeHAProxy(data []byte) bool {
	for _, line := range strings.Split(string(data), "\n") {
		words, err := haWords(line)
		if err != nil || len(words) == 0 {
			continue
		}
		return slices.Contains(haproxySections, words[0])
	}
	return false
}

// ReadHAProxy reads and parses an HAProxy configuration file. The error,
// a *ConfigError, names the file and line that cannot be read or parsed.
func ReadHAProxy(file string) (*HAConfig, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &ConfigError{File: file, Msg: "cannot read: " + cause(err)}
	}
	return ParseHAProxy(file, data)
}

// cause is an error's message without the operation and path an
// *os.PathError repeats.
func cause(err error) string {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// ParseHAProxy parses an HAProxy configuration, file naming it in errors
// and findings, for no version in particular: the lines of every branch
// of its conditional blocks are read. Binary data, and text in another
// language (nginx's too), is a ConfigError of class ErrNotConfig saying
// what it looks like.
func ParseHAProxy(file string, data []byte) (*HAConfig, error) {
	return ParseHAProxyFor(file, data, "")
}

// ParseHAProxyFor parses an HAProxy configuration as HAProxy version
// reads it: a conditional block (.if, .elif, .else, .endif; manual 3.4,
// section 2.4) testing version_atleast(V) or version_before(V) keeps the
// lines of the branch that version takes. A block testing anything else,
// or any block when version is "", keeps every branch's lines.
func ParseHAProxyFor(file string, data []byte, version string) (*HAConfig, error) {
	if what, line := binaryKind(data); what != "" {
		return nil, &ConfigError{File: file, Line: line, Msg: what + ", not an HAProxy configuration", Err: ErrNotConfig}
	}
	c := &HAConfig{File: file, Text: data, Version: version}
	var cur, lastDefaults *HASection
	named := map[string]*HASection{}
	var conds haConds
	for i, raw := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		words, err := haWords(string(raw))
		if err != nil {
			return nil, &ConfigError{File: file, Line: n, Msg: err.Error()}
		}
		if len(words) == 0 {
			continue
		}
		if strings.HasPrefix(words[0], ".") {
			if err := conds.read(words, version); err != nil {
				return nil, &ConfigError{File: file, Line: n, Msg: err.Error()}
			}
			continue
		}
		if !conds.active() {
			continue
		}
		if slices.Contains(haproxySections, words[0]) {
			cur = &HASection{Kind: words[0], Name: words[min(1, len(words)-1)], Line: n, End: n, File: file}
			if len(words) == 1 {
				cur.Name = ""
			}
			if cur.Proxy() && cur.Kind != "defaults" && cur.Name == "" {
				return nil, &ConfigError{File: file, Line: n, Msg: fmt.Sprintf("%s has no name: expected %q followed by a name", words[0], words[0])}
			}
			if cur.Proxy() || cur.Kind == "defaults" {
				cur.Defaults = lastDefaults
				if i := slices.Index(words, "from"); i > 0 && i+1 < len(words) {
					if d := named[words[i+1]]; d != nil {
						cur.Defaults = d
					} else {
						return nil, &ConfigError{File: file, Line: n, Msg: fmt.Sprintf("%s %s: no defaults section named %q before it", cur.Kind, cur.Name, words[i+1])}
					}
				}
			}
			if cur.Kind == "defaults" {
				lastDefaults = cur
				if cur.Name != "" && cur.Name != "from" {
					named[cur.Name] = cur
				}
			}
			c.Sections = append(c.Sections, cur)
			continue
		}
		if cur == nil {
			if what, line := otherLanguage(data); what != "" {
				return nil, &ConfigError{File: file, Line: line, Msg: what + ", not an HAProxy configuration", Err: ErrNotConfig}
			}
			if first, _, err := nginxSyntax(data); err == nil && nginxName.MatchString(first) {
				return nil, &ConfigError{File: file, Line: n, Msg: "an nginx configuration, not an HAProxy configuration", Err: ErrNotConfig}
			}
			return nil, &ConfigError{File: file, Line: n, Msg: fmt.Sprintf("%q is outside any section: expected a section keyword first (%s)", words[0], strings.Join(haproxySections[:5], ", "))}
		}
		cur.Lines = append(cur.Lines, &HALine{Keyword: words[0], Args: words[1:], File: file, Line: n})
		cur.End = n
	}
	if len(conds) > 0 {
		return nil, &ConfigError{File: file, Line: lastLine(data), Msg: "unexpected end of file: a conditional block (.if) is not closed by .endif"}
	}
	if len(c.Sections) == 0 {
		return nil, &ConfigError{File: file, Msg: "no section: the file " + Blank(data) + " (an HAProxy configuration has global, defaults, frontend, backend or listen sections)"}
	}
	return c, nil
}

// haWords splits a configuration line into words as HAProxy does: blanks
// separate words, '#' starts a comment, a backslash escapes the next
// character, and double or single quotes keep blanks in a word.
func haWords(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			} else if ch == '\\' && quote == '"' && i+1 < len(line) {
				i++
				w.WriteByte(line[i])
			} else {
				w.WriteByte(ch)
			}
		case ch == '\\' && i+1 < len(line):
			// \r, \n and \t are the control characters, as HAProxy reads
			// them (manual 3.4, section 2.2 "Quoting and escaping").
			i++
			if c, ok := haEscapes[line[i]]; ok {
				w.WriteByte(c)
			} else {
				w.WriteByte(line[i])
			}
			inWord = true
		case ch == '"' || ch == '\'':
			quote, inWord = ch, true
		case ch == '#' && !inWord:
			i = len(line)
		case ch == ' ' || ch == '\t' || ch == '\r':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(ch)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// Section is the proxy section of a kind and name, or nil.
func (c *HAConfig) Section(kind, name string) *HASection {
	for _, s := range c.Sections {
		if s.Name == name && (s.Kind == kind || kind == "backend" && s.Kind == "listen") {
			return s
		}
	}
	return nil
}

// Global is the first global section, or nil.
func (c *HAConfig) Global() *HASection {
	for _, s := range c.Sections {
		if s.Kind == "global" {
			return s
		}
	}
	return nil
}

// haValued are the server keywords that take a value: the word after them
// is that value, not a keyword of its own.
var haValued = []string{"addr", "agent-addr", "agent-inter", "agent-port", "agent-send", "alpn", "ca-file", "check-alpn",
	"check-proto", "check-sni", "ciphers", "ciphersuites", "cookie", "crl-file", "crt", "curves", "downinter", "error-limit",
	"fall", "fastinter", "hash-key", "id", "init-addr", "init-state", "inter", "log-proto", "max-reuse", "maxconn", "maxqueue",
	"minconn", "namespace", "npn", "observe", "on-error", "on-marked-down", "on-marked-up", "pool-conn-name", "pool-low-conn",
	"pool-max-conn", "pool-purge-delay", "port", "proto", "redir", "resolve-net", "resolve-opts", "resolve-prefer", "resolvers",
	"rise", "set-proxy-v2-tlv-fmt", "shard", "sigalgs", "slowstart", "sni", "source", "ssl-max-ver", "ssl-min-ver", "tcp-ut",
	"track", "usesrc", "verify", "verifyhost", "weight", "ws"}

// HAServer is a server line of a backend (or listen) section, with the
// settings in effect for it: its default-server lines', then its own.
type HAServer struct {
	Line    *HALine
	Section *HASection
	// Name and Addr as written (for a server-template line, the prefix
	// of its servers' names and their FQDN); Host and Port split from Addr
	// (Port "" when the line names none).
	Name, Addr, Host, Port string
	// Template is a server-template line's number or range of servers,
	// "3" or "1-3"; "" for a server line.
	Template string
	// Params are the settings in effect: a keyword with its value, or ""
	// for a flag.
	Params map[string]string
}

// Has reports whether the setting is in effect.
func (s *HAServer) Has(kw string) bool {
	_, ok := s.Params[kw]
	return ok
}

// SSL reports whether HAProxy speaks TLS to the server.
func (s *HAServer) SSL() bool { return s.Has("ssl") }

// Verify is the certificate verification in effect: the server's verify,
// else the global ssl-server-verify, else "required" (HAProxy's default).
func (s *HAServer) Verify(global *HASection) string {
	if v, ok := s.Params["verify"]; ok {
		return v
	}
	if global != nil {
		if l := global.Setting("ssl-server-verify"); l != nil {
			return l.Arg(0)
		}
	}
	return "required"
}

// IsIPHost reports whether the server's address is an IP address.
func (s *HAServer) IsIPHost() bool {
	h := strings.Trim(s.Host, "[]")
	return isIP(h) || strings.Contains(h, ":")
}

// SNIName is the name of a constant sni expression, str(NAME), and
// whether the expression is one.
func (s *HAServer) SNIName() (string, bool) {
	v, ok := s.Params["sni"]
	if !ok || !strings.HasPrefix(v, "str(") || !strings.HasSuffix(v, ")") {
		return "", false
	}
	return v[len("str(") : len(v)-1], true
}

// SuggestName is the host name a fix should send to the server: its
// address's host name, else its check-sni or verifyhost name, else
// NameUnknown.
func (s *HAServer) SuggestName() string {
	switch {
	case s.Host != "" && !s.IsIPHost():
		return strings.TrimSuffix(s.Host, ".")
	case s.Params["check-sni"] != "":
		return s.Params["check-sni"]
	case s.Params["verifyhost"] != "":
		return s.Params["verifyhost"]
	}
	return nameUnknown
}

// Servers are the server lines of every backend and listen section.
func (c *HAConfig) Servers() []*HAServer {
	var out []*HAServer
	for _, sec := range c.Sections {
		if sec.Kind == "backend" || sec.Kind == "listen" {
			out = append(out, sec.Servers()...)
		}
	}
	return out
}

// Servers are the section's server and server-template lines, with their
// settings in effect.
func (sec *HASection) Servers() []*HAServer {
	var defaults []*HALine
	if sec.Defaults != nil {
		defaults = sec.Defaults.All("default-server")
	}
	defaults = append(defaults, sec.All("default-server")...)
	var out []*HAServer
	for _, l := range sec.Lines {
		first := map[string]int{"server": 2, "server-template": 3}[l.Keyword]
		if first == 0 {
			continue
		}
		s := &HAServer{Line: l, Section: sec, Name: l.Arg(0), Addr: l.Arg(first - 1), Params: map[string]string{}}
		if l.Keyword == "server-template" {
			s.Template = l.Arg(1)
		}
		s.Host, s.Port = splitHAAddr(s.Addr)
		for _, d := range defaults {
			applyParams(s.Params, d.Args)
		}
		if len(l.Args) > first {
			applyParams(s.Params, l.Args[first:])
		}
		out = append(out, s)
	}
	return out
}

// Names are the names of the servers a line gives: its name, or for a
// server-template the prefix followed by each number of its range.
func (s *HAServer) Names() []string {
	if s.Template == "" {
		return []string{s.Name}
	}
	from, to := 1, 0
	lo, hi, isRange := strings.Cut(s.Template, "-")
	if n, err := strconv.Atoi(lo); err == nil {
		to = n
		if isRange {
			from = n
			to, _ = strconv.Atoi(hi)
		}
	}
	var out []string
	for i := from; i <= to && i-from < 64; i++ {
		out = append(out, s.Name+strconv.Itoa(i))
	}
	return out
}

// HANameserver is a nameserver line of a resolvers section and the
// address it names, its udp@ or tcp@ prefix cut ("10.96.0.10:53").
type HANameserver struct {
	Line *HALine
	Addr string
}

// Nameservers are the nameserver lines of the resolvers sections, in
// order.
func (c *HAConfig) Nameservers() []HANameserver {
	var out []HANameserver
	for _, sec := range c.Sections {
		if sec.Kind != "resolvers" {
			continue
		}
		for _, l := range sec.All("nameserver") {
			addr := l.Arg(1)
			if _, rest, ok := strings.Cut(addr, "@"); ok {
				addr = rest
			}
			out = append(out, HANameserver{Line: l, Addr: addr})
		}
	}
	return out
}

// applyParams adds server keywords to params: a keyword with its value, a
// flag with "", and "no-FLAG" removing FLAG.
func applyParams(params map[string]string, args []string) {
	for i := 0; i < len(args); i++ {
		kw := args[i]
		switch {
		case slices.Contains(haValued, kw) && i+1 < len(args):
			params[kw] = args[i+1]
			i++
		case slices.Contains(haAuto, strings.TrimPrefix(kw, "no-")):
			// sni-auto and no-sni-auto undo each other; both are kept
			// as said, the no- form being the one Has asks for.
			delete(params, "no-"+kw)
			if strings.HasPrefix(kw, "no-") {
				params[kw] = ""
			}
		case strings.HasPrefix(kw, "no-"):
			delete(params, strings.TrimPrefix(kw, "no-"))
		default:
			params[kw] = ""
		}
	}
}

// haEscapes are the escapes outside quotes that stand for control
// characters.
var haEscapes = map[byte]byte{'r': '\r', 'n': '\n', 't': '\t'}

// haAuto are the server keywords of HAProxy 3.3's automatic SNI, each
// with a no- form that turns it off (manual 3.4, server keywords
// "sni-auto" and "check-sni-auto").
var haAuto = []string{"sni-auto", "check-sni-auto"}

// splitHAAddr splits a server address into host and port: "[v6]:port",
// "v6" alone, "host:port", "host"; a unix socket or an abstract namespace
// stays whole in host.
func splitHAAddr(addr string) (host, port string) {
	switch {
	case strings.HasPrefix(addr, "/") || strings.Contains(addr, "@"):
		return addr, ""
	case strings.HasPrefix(addr, "["):
		return splitHost(addr)
	case strings.Count(addr, ":") > 1:
		return addr, ""
	}
	host, port, _ = strings.Cut(addr, ":")
	return host, port
}

// haRelativePath is rule HAP006; lint.go's table holds the others.
var haRelativePath = Rule{"HAP006", "haproxy-relative-path", Warning,
	"HAProxy: a relative crt, ca-file, crl-file or errorfile path: it resolves against HAProxy's working directory.",
	"HAProxy opens a relative crt (under crt-base when the global section sets it), ca-file or crl-file (under ca-base) and " +
		"errorfile (no base) from its working directory, not from the configuration's folder: / under systemd (Debian's " +
		"haproxy.service sets no WorkingDirectory=). A configuration that passes haproxy -c run from the folder holding its files fails " +
		"from / (\"unable to stat SSL certificate from file\", \"Couldn't open the ca-file\"). No case of the conformance matrix " +
		"names a relative file; the rule is grounded in sniproof check's run of fixtures/check/haproxy-relative " +
		"(check/haproxy/relative-paths), which runs HAProxy with the working directory its service gives it. Fix: name the " +
		"file by its absolute path, or set crt-base (crt) or ca-base (ca-file, crl-file) in the global section.", nil}

// init adds HAP006 to lint's rules, after HAP005.
func init() { rules = append(rules, haRelativePath) }

// haFileKeywords are the bind, server and default-server keywords naming
// files HAProxy reads when it starts, with the global setting a relative
// path of theirs is under.
var haFileKeywords = map[string]string{"crt": "crt-base", "ca-file": "ca-base", "crl-file": "ca-base"}

// haFileStart is where the keywords of a line naming files start: after
// the address of a bind line, the name and address of a server line.
var haFileStart = map[string]int{"bind": 1, "server": 2, "default-server": 0}

// HAFile is a file the configuration names for HAProxy to read at start:
// a crt, ca-file or crl-file of a bind, server or default-server line, or
// an errorfile.
type HAFile struct {
	Line *HALine
	// Keyword is crt, ca-file, crl-file or errorfile; Name the path as
	// written.
	Keyword, Name string
	// Base is the global crt-base (for crt) or ca-base (for ca-file and
	// crl-file) that a relative Name is under, or nil.
	Base *HALine
}

// PathFrom is the path HAProxy opens when its working directory is dir:
// Name when absolute, else Name under Base, else under dir. PathFrom("")
// is relative when the file depends on the working directory. A
// trailing slash (a crt naming a folder) is kept.
func (f HAFile) PathFrom(dir string) string {
	p := f.Name
	if !path.IsAbs(p) && f.Base != nil {
		p = path.Join(f.Base.Arg(0), p)
	}
	if !path.IsAbs(p) && dir != "" {
		p = path.Join(dir, p)
	}
	if strings.HasSuffix(f.Name, "/") && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// Files are the files the configuration names, in order: crt, ca-file
// and crl-file on bind, server and default-server lines, and errorfile
// lines, each with the base HAProxy puts a relative one under.
func (c *HAConfig) Files() []HAFile {
	base := map[string]*HALine{}
	if g := c.Global(); g != nil {
		for _, kw := range []string{"crt-base", "ca-base"} {
			base[kw] = g.Setting(kw)
		}
	}
	var out []HAFile
	for _, sec := range c.Sections {
		for _, l := range sec.Lines {
			start, ok := haFileStart[l.Keyword]
			switch {
			case ok:
				for i := start; i+1 < len(l.Args); i++ {
					if b, ok := haFileKeywords[l.Args[i]]; ok {
						out = append(out, HAFile{Line: l, Keyword: l.Args[i], Name: l.Args[i+1], Base: base[b]})
						i++
					}
				}
			case l.Keyword == "errorfile" && len(l.Args) == 2:
				out = append(out, HAFile{Line: l, Keyword: "errorfile", Name: l.Arg(1)})
			}
		}
	}
	return out
}

// Findings runs HAProxy's rules over every server line and HAP006 over
// every file the configuration names, in line order, for the version the
// configuration was read for (c.Version).
func (c *HAConfig) Findings() []Finding {
	var out []Finding
	add := func(rule string, l *HALine, msg, fix string) {
		sev := Error
		for _, r := range rules {
			if r.ID == rule {
				sev = r.Severity
			}
		}
		out = append(out, Finding{Rule: rule, Severity: sev, File: l.File, Line: l.Line, Message: msg, Fix: fix})
	}
	global := c.Global()
	for _, sec := range c.Sections {
		c.versionFindings(sec, add)
	}
	for _, s := range c.Servers() {
		if !s.SSL() {
			continue
		}
		who := fmt.Sprintf("server %s/%s (%s)", s.Section.Name, s.Name, s.Addr)
		name := s.SuggestName()
		sni, hasSNI := s.Params["sni"]
		if !hasSNI {
			c.withoutSNI(s, who, name, add)
		}
		if n, ok := s.SNIName(); ok && strings.HasSuffix(n, ".") {
			add("HAP002", s.Line, fmt.Sprintf("%s sends SNI %q with its trailing dot: upstreams matching names exactly refuse it", who, n),
				fmt.Sprintf("sni str(%s)", strings.TrimSuffix(n, ".")))
		}
		if hostHeaderWithPort(sni) {
			add("HAP003", s.Line, fmt.Sprintf("%s sends the Host header verbatim as SNI (sni %s): a Host with a port (name:8080) is sent with the port, which no upstream serves", who, sni),
				"sni "+strings.TrimSuffix(sni, ",lower")+",field(1,:)")
		}
		checkSSL := s.Has("check-ssl") || !s.Has("port") && !s.Has("addr")
		if s.Has("check") && checkSSL && !s.Has("check-sni") {
			c.checkWithoutSNI(s, who, name, add)
		}
		if s.Verify(global) == "required" && !s.Has("ca-file") {
			add("HAP005", s.Line, who+" verifies the certificate (verify required is HAProxy's default) without a ca-file: HAProxy refuses to start (\"verify is enabled by default but no CA file specified\")",
				"add ca-file /etc/ssl/certs/ca-certificates.crt (or the CA that issued the upstream's certificate), or verify none")
		}
	}
	for _, f := range c.Files() {
		if p := f.PathFrom(""); !path.IsAbs(p) {
			add(haRelativePath.ID, f.Line, relativeMessage(f, p), relativeFix(f))
		}
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Rule, b.Rule)) })
	return out
}

// relativeMessage is HAP006's message for file f, whose path p is
// relative.
func relativeMessage(f HAFile, p string) string {
	what := fmt.Sprintf("%s %s is a relative path", f.Keyword, f.Name)
	switch b := haFileKeywords[f.Keyword]; {
	case f.Base != nil:
		what += fmt.Sprintf(" under the relative %s %s", b, f.Base.Arg(0))
	case b != "":
		what += " and no " + b + " is set"
	}
	return what + fmt.Sprintf(": HAProxy resolves it against its working directory (/ under systemd: it opens %s), not the configuration's folder, and refuses to start when the file is not there",
		path.Join("/", p))
}

// relativeFix is HAP006's fix for file f.
func relativeFix(f HAFile) string {
	abs := f.Keyword + " " + f.PathFrom("/etc/haproxy")
	if f.Keyword == "errorfile" {
		abs = "errorfile " + f.Line.Arg(0) + " " + f.PathFrom("/etc/haproxy")
	}
	fix := fmt.Sprintf("name the file by its absolute path (%s if it is in /etc/haproxy)", abs)
	if b := haFileKeywords[f.Keyword]; b != "" {
		fix += fmt.Sprintf(", or set %s to its folder (an absolute path) in the global section", b)
	}
	return fix
}

// hostHeaderWithPort reports whether an sni expression is the Host header
// as is, port included: req.hdr(host) or hdr(host) without a converter
// that cuts the port.
func hostHeaderWithPort(sni string) bool {
	expr := strings.ToLower(sni)
	for _, f := range []string{"req.hdr(host)", "hdr(host)", "req.fhdr(host)"} {
		if strings.HasPrefix(expr, f) {
			rest := expr[len(f):]
			return !strings.Contains(rest, "field(1,:)") && !strings.Contains(rest, "host_only") && !strings.Contains(rest, "regsub")
		}
	}
	return false
}
