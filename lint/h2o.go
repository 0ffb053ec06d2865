package lint

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// h2oDialect is h2o's configuration (h2o -c, Debian's /etc/h2o/h2o.conf):
// YAML whose hosts: map "name:port" keys to their paths:, each path to
// its handler's directives. Directives of the proxy handler may stand at
// the global, host or path level; a level inherits those of the levels
// around it. Its rules judge every path whose proxy.reverse.url is
// https.
type h2oDialect struct{}

func init() { registerDialect(h2oDialect{}) }

func (h2oDialect) name() string { return "h2o" }

func (h2oDialect) claims(data []byte) bool { return LooksLikeH2O(data) }

func (h2oDialect) none() string { return "no path has a proxy.reverse.url to https" }

// H2OConfDir is where Debian's h2o reads its configuration.
const H2OConfDir = "/etc/h2o"

// h2oHosts is a top-level hosts: key; h2oPaths an indented paths: key.
var (
	h2oHosts = regexp.MustCompile(`(?m)^hosts:[ \t]*(#.*)?\r?$`)
	h2oPaths = regexp.MustCompile(`(?m)^[ \t]+["']?paths["']?:[ \t]*(#.*)?\r?$`)
)

// LooksLikeH2O reports whether data is an h2o configuration: YAML with a
// top-level hosts: key and a paths: key under it.
func LooksLikeH2O(data []byte) bool {
	loc := h2oHosts.FindIndex(data)
	return loc != nil && h2oPaths.Match(data[loc[1]:])
}

// The h2o rules, grounded in fixtures/h2o/cases.yaml.
var h2oRules = []Rule{
	{"H2O001", "h2o-ip-url-sent-as-sni", Error,
		"h2o: proxy.reverse.url names an IP address: h2o sends the IP literal as SNI.",
		"h2o's SNI is always the host of proxy.reverse.url, without its port, and it has no directive to name another: an IP " +
			"literal is sent as server_name, which RFC 6066 section 3 forbids, and an upstream that routes by SNI refuses the unknown " +
			"name (h2o answers 502, logging \"ssl handshake failure\"). proxy.preserve-host changes the Host header only. Fix: " +
			"proxy.reverse.url: https://<the upstream's host name>/ (resolvable by h2o, e.g. through /etc/hosts).", nil},
	{"H2O002", "h2o-no-ca-file", Error,
		"h2o: an https upstream verified without proxy.ssl.cafile: Debian's h2o has no default CA bundle.",
		"proxy.ssl.verify-peer is ON by default, and h2o then verifies against share/h2o/ca-bundle.crt, which Debian's package " +
			"does not ship: no chain verifies, and every " +
			"request answers 502 after a handshake with the right SNI (\"unable to get local issuer certificate\"). Fix: " +
			"proxy.ssl.cafile: /etc/ssl/certs/ca-certificates.crt (or the CA bundle that issued the upstream's certificate).", nil},
	{"H2O003", "h2o-preserve-host-differs-from-sni", Warning,
		"h2o: proxy.preserve-host: ON sends the client's Host, while the SNI stays the host of proxy.reverse.url.",
		"With proxy.preserve-host ON the upstream gets the client's Host header and, in the ClientHello, the URL's host: an " +
			"upstream that checks that both name one site answers 421 Misdirected Request. Fix: proxy.preserve-host: OFF, or a " +
			"proxy.reverse.url whose host is the name the clients use.", nil},
	{"H2O004", "h2o-verify-peer-off", Warning,
		"h2o: proxy.ssl.verify-peer: OFF accepts any certificate.",
		"With verification off h2o accepts any certificate, from anyone, for the upstream. Fix: proxy.ssl.verify-peer: ON with " +
			"proxy.ssl.cafile: <the CA bundle that issued the upstream's certificate>.", nil},
}

// init adds h2o's rules to lint's.
func init() { rules = append(rules, h2oRules...) }

// H2OValue is a directive as written: its name, its scalar value ("" for
// a mapping or sequence), and where it is.
type H2OValue struct {
	Name, Value string
	File        string
	Line        int
}

// Pos is the directive's FILE:LINE.
func (v H2OValue) Pos() string { return fmt.Sprintf("%s:%d", v.File, v.Line) }

// H2OLevel is the directives of one level (global, a host, a path), in
// their order, and the level around it whose directives it inherits.
type H2OLevel struct {
	Values []H2OValue
	parent *H2OLevel
}

// Get is the level's last name directive, else the inherited one.
func (l *H2OLevel) Get(name string) (H2OValue, bool) {
	for i := len(l.Values) - 1; i >= 0; i-- {
		if l.Values[i].Name == name {
			return l.Values[i], true
		}
	}
	if l.parent != nil {
		return l.parent.Get(name)
	}
	return H2OValue{}, false
}

// H2OListen is a listen: entry, global or of a host.
type H2OListen struct {
	H2OValue
	// Host is its bind address, "" for every address; Port 0 when it is
	// no TCP port (a unix socket).
	Host string
	Port int
	// SSL says it has an ssl: block; Cert and Key are its
	// certificate-file and key-file.
	SSL       bool
	Cert, Key H2OValue
}

// H2OHost is a host of hosts:, keyed "name" or "name:port".
type H2OHost struct {
	H2OLevel
	// Key is as written, Name its host part, lower-case; Port 0 when
	// the key has none.
	Key, Name string
	Port      int
	File      string
	Line      int
	Listens   []H2OListen
	Paths     []*H2OPath
}

// H2OPath is a path of a host's paths:.
type H2OPath struct {
	H2OLevel
	Host *H2OHost
	Path string
	File string
	Line int
}

// H2OUpstream is an https proxy.reverse.url: the directive and its
// parts.
type H2OUpstream struct {
	URL H2OValue
	// Host is the URL's host, without brackets; Port its port (443 when
	// it names none); PortWritten whether it names one.
	Host        string
	Port        int
	PortWritten bool
	// Rest is the URL's path and query, as written.
	Rest string
}

// IP reports whether the upstream's host is an IP literal.
func (u H2OUpstream) IP() bool { return net.ParseIP(u.Host) != nil }

// With is the URL with host in place of its host.
func (u H2OUpstream) With(host string) string {
	hp := host
	if u.PortWritten {
		hp = net.JoinHostPort(host, strconv.Itoa(u.Port))
	}
	return "https://" + hp + u.Rest
}

// Upstream is the path's https proxy.reverse.url, when it has one.
func (p *H2OPath) Upstream() (H2OUpstream, bool) {
	v, ok := p.Get("proxy.reverse.url")
	if !ok {
		return H2OUpstream{}, false
	}
	u, err := url.Parse(v.Value)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Hostname() == "" {
		return H2OUpstream{}, false
	}
	up := H2OUpstream{URL: v, Host: strings.ToLower(u.Hostname()), Port: 443}
	if n, err := strconv.Atoi(u.Port()); err == nil {
		up.Port, up.PortWritten = n, true
	}
	if _, authority, ok := strings.Cut(v.Value, "://"); ok {
		if i := strings.IndexAny(authority, "/?#"); i >= 0 {
			up.Rest = authority[i:]
		}
	}
	return up, true
}

// On reports whether a flag directive is ON where the level is, def when
// none is in effect.
func (l *H2OLevel) On(name string, def bool) (bool, H2OValue) {
	v, ok := l.Get(name)
	if !ok {
		return def, v
	}
	return strings.EqualFold(v.Value, "ON"), v
}

// Location names the path in reports: "host shop.example.com path /api/".
func (p *H2OPath) Location() string { return "host " + p.Host.Key + " path " + p.Path }

// H2OFile is a file of the configuration: the main file or one a !file
// tag names, by its path on this machine and in the proxy's host.
type H2OFile struct {
	Path, Container string
	Data            []byte
}

// H2OConfig is a parsed h2o configuration.
type H2OConfig struct {
	File   string
	Global H2OLevel
	// Listens are the global listen: entries, on which every host is.
	Listens []H2OListen
	Hosts   []*H2OHost
	// Files are the main file and those its !file tags name, in the
	// order read.
	Files []H2OFile
	// Notes say what was not read.
	Notes []string
}

// H2OInclude reads the file a !file tag names, as written: its path on
// this machine and its data.
type H2OInclude func(name string) (host string, data []byte, err error)

// maxH2ODepth bounds nested !file tags (a file naming itself).
const maxH2ODepth = 8

// yamlLine is the line yaml's errors name, when they name one.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError is the line and message of yaml's error err in data. yaml
// names the line of the construct the error is in, or none, rather than
// the line at fault: that is the first line with which data's beginning
// fails with the same message; else the line yaml names, else 1.
func yamlError(data []byte, err error) (int, string) {
	line, msg := 1, strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	lines := strings.SplitAfter(string(data), "\n")
	var prefix strings.Builder
	for i, l := range lines {
		prefix.WriteString(l)
		var doc yaml.Node
		perr := yaml.Unmarshal([]byte(prefix.String()), &doc)
		if perr == nil {
			continue
		}
		m := strings.TrimPrefix(perr.Error(), "yaml: ")
		if sub := yamlLine.FindStringSubmatch(perr.Error()); sub != nil {
			m = sub[2]
		}
		if m == msg {
			return i + 1, msg
		}
	}
	return max(line, 1), msg
}

// ParseH2O parses an h2o configuration, file naming it in errors and
// findings, container being its path in the proxy's host; include reads
// the files of !file tags (nil reads none: a !file tag is then an
// error). The error, a *ConfigError, names the file and line.
func ParseH2O(file, container string, data []byte, include H2OInclude) (*H2OConfig, error) {
	c := &H2OConfig{File: file, Files: []H2OFile{{Path: file, Container: container, Data: data}}}
	p := &h2oParser{c: c, include: include}
	root, err := p.load(file, data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return c, nil
	}
	if err := p.global(root, file); err != nil {
		return nil, err
	}
	return c, nil
}

// h2oParser reads a configuration's YAML into its levels.
type h2oParser struct {
	c       *H2OConfig
	include H2OInclude
	depth   int
}

// load parses one file's YAML: its document's root node, nil for an
// empty file.
func (p *h2oParser) load(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line, msg := yamlError(data, err)
		return nil, &ConfigError{File: file, Line: line, Msg: "not YAML h2o can read: " + msg}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// resolve is node as h2o reads it: an alias's anchor, a !file tag's
// file, with the file it is in.
func (p *h2oParser) resolve(n *yaml.Node, file string) (*yaml.Node, string, error) {
	for hops := 0; n.Kind == yaml.AliasNode && n.Alias != nil && hops < maxH2ODepth; hops++ {
		n = n.Alias
	}
	if n.Kind == yaml.AliasNode {
		return nil, "", &ConfigError{File: file, Line: n.Line, Msg: "an alias that names no anchor"}
	}
	if n.Tag != "!file" {
		return n, file, nil
	}
	if n.Kind != yaml.ScalarNode || n.Value == "" {
		return nil, "", &ConfigError{File: file, Line: n.Line, Msg: "!file takes a file name"}
	}
	if p.include == nil {
		return nil, "", &ConfigError{File: file, Line: n.Line, Msg: "!file " + n.Value + ": files are not read"}
	}
	if p.depth >= maxH2ODepth {
		return nil, "", &ConfigError{File: file, Line: n.Line, Msg: fmt.Sprintf("!file %s: more than %d nested !file tags", n.Value, maxH2ODepth)}
	}
	host, data, err := p.include(n.Value)
	if err != nil {
		return nil, "", &ConfigError{File: file, Line: n.Line, Msg: "!file " + n.Value + ": " + err.Error()}
	}
	p.c.Files = append(p.c.Files, H2OFile{Path: host, Container: H2OFileAt(n.Value), Data: data})
	p.depth++
	defer func() { p.depth-- }()
	root, err := p.load(host, data)
	if err != nil {
		return nil, "", err
	}
	if root == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: 1}, host, nil
	}
	return p.resolve(root, host)
}

// H2OFileAt is where h2o opens a file the configuration names (a !file
// tag's, a proxy.ssl.cafile, a certificate): a relative one from its
// working directory, /, as Debian's service starts it.
func H2OFileAt(name string) string {
	if path.IsAbs(name) {
		return path.Clean(name)
	}
	return path.Join("/", name)
}

// h2oPair is one key and value of a mapping, the value resolved, with
// the file it is in.
type h2oPair struct {
	key     string
	keyLine int
	value   *yaml.Node
	file    string
}

// mapping is the pairs of a mapping node, what names it for errors.
func (p *h2oParser) mapping(n *yaml.Node, file, what string) ([]h2oPair, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, &ConfigError{File: file, Line: n.Line, Msg: what + " must be a mapping"}
	}
	var out []h2oPair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			return nil, &ConfigError{File: file, Line: k.Line, Msg: what + ": a key must be a scalar"}
		}
		v, vf, err := p.resolve(n.Content[i+1], file)
		if err != nil {
			return nil, err
		}
		out = append(out, h2oPair{key: k.Value, keyLine: k.Line, value: v, file: vf})
	}
	return out, nil
}

// h2oDirective records a directive of a level: its scalar value, at its
// key's line.
func h2oDirective(l *H2OLevel, kv h2oPair, file string) {
	v := H2OValue{Name: kv.key, File: file, Line: kv.keyLine}
	if kv.value.Kind == yaml.ScalarNode {
		v.Value = kv.value.Value
	}
	l.Values = append(l.Values, v)
}

func (p *h2oParser) global(root *yaml.Node, file string) error {
	pairs, err := p.mapping(root, file, "the configuration")
	if err != nil {
		return err
	}
	c := p.c
	for _, kv := range pairs {
		switch kv.key {
		case "hosts":
			if err := p.hosts(kv); err != nil {
				return err
			}
		case "listen":
			ls, err := p.listens(kv, file)
			if err != nil {
				return err
			}
			c.Listens = append(c.Listens, ls...)
		default:
			h2oDirective(&c.Global, kv, file)
		}
	}
	if len(c.Hosts) == 0 && len(pairs) > 0 {
		c.Notes = append(c.Notes, file+": no hosts: mapping, so no path to proxy")
	}
	return nil
}

func (p *h2oParser) hosts(kv h2oPair) error {
	pairs, err := p.mapping(kv.value, kv.file, "hosts")
	if err != nil {
		return err
	}
	for _, h := range pairs {
		host := &H2OHost{H2OLevel: H2OLevel{parent: &p.c.Global}, Key: h.key, File: kv.file, Line: h.keyLine}
		host.Name = strings.ToLower(h.key)
		if i := strings.LastIndex(h.key, ":"); i >= 0 && !strings.HasSuffix(h.key, "]") {
			n, err := strconv.Atoi(h.key[i+1:])
			if err != nil || n < 1 || n > 65535 {
				return &ConfigError{File: kv.file, Line: h.keyLine, Msg: fmt.Sprintf("host %q: a key is host or host:port", h.key)}
			}
			host.Name, host.Port = strings.ToLower(h.key[:i]), n
		}
		host.Name = strings.Trim(host.Name, "[]")
		hp, err := p.mapping(h.value, h.file, "host "+strconv.Quote(h.key))
		if err != nil {
			return err
		}
		for _, d := range hp {
			switch d.key {
			case "paths":
				if err := p.paths(host, d); err != nil {
					return err
				}
			case "listen":
				ls, err := p.listens(d, h.file)
				if err != nil {
					return err
				}
				host.Listens = append(host.Listens, ls...)
			default:
				h2oDirective(&host.H2OLevel, d, h.file)
			}
		}
		p.c.Hosts = append(p.c.Hosts, host)
	}
	return nil
}

func (p *h2oParser) paths(host *H2OHost, kv h2oPair) error {
	pairs, err := p.mapping(kv.value, kv.file, "paths of host "+strconv.Quote(host.Key))
	if err != nil {
		return err
	}
	for _, pp := range pairs {
		pa := &H2OPath{H2OLevel: H2OLevel{parent: &host.H2OLevel}, Host: host, Path: pp.key, File: kv.file, Line: pp.keyLine}
		ds, err := p.mapping(pp.value, pp.file, "path "+strconv.Quote(pp.key))
		if err != nil {
			return err
		}
		for _, d := range ds {
			h2oDirective(&pa.H2OLevel, d, pp.file)
		}
		host.Paths = append(host.Paths, pa)
	}
	return nil
}

// listens reads a listen: value: a port, a mapping, or a sequence of
// them.
func (p *h2oParser) listens(kv h2oPair, file string) ([]H2OListen, error) {
	items := []*yaml.Node{kv.value}
	if kv.value.Kind == yaml.SequenceNode {
		items = kv.value.Content
	}
	var out []H2OListen
	for _, it := range items {
		n, f, err := p.resolve(it, kv.file)
		if err != nil {
			return nil, err
		}
		l := H2OListen{H2OValue: H2OValue{Name: "listen", File: file, Line: kv.keyLine}}
		switch n.Kind {
		case yaml.ScalarNode:
			l.Value = n.Value
			l.Port, _ = strconv.Atoi(n.Value)
		case yaml.MappingNode:
			pairs, err := p.mapping(n, f, "listen")
			if err != nil {
				return nil, err
			}
			unix := false
			for _, e := range pairs {
				switch e.key {
				case "port":
					l.Value = e.value.Value
					l.Port, _ = strconv.Atoi(e.value.Value)
				case "host":
					l.Host = e.value.Value
				case "type":
					unix = e.value.Value == "unix"
				case "ssl":
					l.SSL = true
					ssl, err := p.mapping(e.value, e.file, "listen's ssl")
					if err != nil {
						return nil, err
					}
					for _, s := range ssl {
						v := H2OValue{Name: s.key, Value: s.value.Value, File: s.file, Line: s.keyLine}
						switch s.key {
						case "certificate-file":
							l.Cert = v
						case "key-file":
							l.Key = v
						}
					}
				}
			}
			if unix {
				l.Port = 0
			}
		default:
			return nil, &ConfigError{File: f, Line: n.Line, Msg: "listen takes a port, a mapping or a sequence of them"}
		}
		out = append(out, l)
	}
	return out, nil
}

// Paths are every path of every host, in order.
func (c *H2OConfig) Paths() []*H2OPath {
	var out []*H2OPath
	for _, h := range c.Hosts {
		out = append(out, h.Paths...)
	}
	return out
}

// TLSPaths are the paths whose proxy.reverse.url is https.
func (c *H2OConfig) TLSPaths() []*H2OPath {
	var out []*H2OPath
	for _, p := range c.Paths() {
		if _, ok := p.Upstream(); ok {
			out = append(out, p)
		}
	}
	return out
}

// Findings runs h2o's rules over every path with an https upstream, each
// finding once (a directive of the global or a host level is in effect
// at several paths).
func (c *H2OConfig) Findings() []Finding {
	var out []Finding
	for _, p := range c.TLSPaths() {
		for _, f := range p.Findings() {
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

// Findings are the findings of the directives in effect at the path.
func (p *H2OPath) Findings() []Finding {
	u, ok := p.Upstream()
	if !ok {
		return nil
	}
	var out []Finding
	add := func(rule string, at H2OValue, msg, fix string) {
		sev := Error
		for _, ru := range h2oRules {
			if ru.ID == rule {
				sev = ru.Severity
			}
		}
		out = append(out, Finding{Rule: rule, Severity: sev, File: at.File, Line: at.Line, Message: msg, Fix: fix})
	}
	who := fmt.Sprintf("%s (proxy.reverse.url: %s)", p.Location(), u.URL.Value)
	if u.IP() {
		add("H2O001", u.URL, who+" names an IP address: h2o sends the IP literal as SNI (RFC 6066 forbids it), a name an upstream that routes by SNI does not serve",
			"proxy.reverse.url: "+u.With(nameUnknown))
	}
	verify, vv := p.On("proxy.ssl.verify-peer", true)
	_, hasCA := p.Get("proxy.ssl.cafile")
	switch {
	case verify && !hasCA:
		add("H2O002", u.URL, who+" is verified (proxy.ssl.verify-peer is ON by default) against h2o's default CA bundle, which Debian's package does not ship: no certificate verifies, and h2o answers 502",
			"proxy.ssl.cafile: /etc/ssl/certs/ca-certificates.crt")
	case !verify:
		add("H2O004", vv, who+" has proxy.ssl.verify-peer: OFF: any certificate is accepted",
			"proxy.ssl.verify-peer: ON, proxy.ssl.cafile: <the CA bundle that issued the upstream's certificate>")
	}
	if on, ph := p.On("proxy.preserve-host", false); on {
		add("H2O003", ph, who+" has proxy.preserve-host: ON: the upstream gets the client's Host and the SNI "+u.Host+", and answers 421 where it checks that they match",
			"proxy.preserve-host: OFF")
	}
	return out
}

// H2OIncludes reads the files of !file tags as lint and check do: a
// file under /etc/h2o (a relative name is from /, h2o's working directory
// under Debian's service) from the main file's folder, which stands for
// it, any other as written.
func H2OIncludes(main string) H2OInclude {
	folder := filepath.Dir(main)
	return func(name string) (string, []byte, error) {
		at := H2OFileAt(name)
		host := at
		if rel, ok := strings.CutPrefix(at, H2OConfDir+"/"); ok {
			host = filepath.Join(folder, filepath.FromSlash(rel))
		}
		data, err := os.ReadFile(host)
		if errors.Is(err, os.ErrNotExist) {
			return "", nil, fmt.Errorf("%s is not there to read", host)
		}
		if err != nil {
			return "", nil, fmt.Errorf("cannot read %s: %s", host, cause(err))
		}
		return host, data, nil
	}
}

// ParseH2OFile reads and parses the h2o configuration at file, which
// stands for /etc/h2o/NAME, with the files its !file tags name.
func ParseH2OFile(file string) (*H2OConfig, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &ConfigError{File: file, Msg: "cannot read: " + cause(err)}
	}
	return ParseH2O(file, path.Join(H2OConfDir, filepath.Base(file)), data, H2OIncludes(file))
}

// lint reads and judges each file.
func (h2oDialect) lint(files []string, _ Options) (*Result, []string, error) {
	res := &Result{}
	var notes []string
	for _, p := range files {
		c, err := ParseH2OFile(p)
		if err != nil {
			return nil, nil, err
		}
		res.Findings = append(res.Findings, c.Findings()...)
		for _, f := range c.Files {
			res.Files = append(res.Files, f.Path)
		}
		res.Upstreams += len(c.TLSPaths())
		notes = append(notes, c.Notes...)
	}
	return res, notes, nil
}
