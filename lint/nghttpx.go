package lint

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

// nghttpxDialect is nghttpx's configuration file (nghttpx --conf, Debian's
// /etc/nghttpx/nghttpx.conf): one NAME=VALUE option a line, the long
// command-line option names.
type nghttpxDialect struct{}

func init() { registerDialect(nghttpxDialect{}) }

func (nghttpxDialect) name() string { return "nghttpx" }

func (nghttpxDialect) claims(data []byte) bool { return LooksLikeNghttpx(data) }

func (nghttpxDialect) none() string { return "no backend line has the tls parameter" }

// NghttpxConfDir is where Debian's nghttpx reads its configuration.
const NghttpxConfDir = "/etc/nghttpx"

// LooksLikeNghttpx reports whether data is an nghttpx configuration: its
// first line that is no comment is a NAME=VALUE option, and one of its
// options is frontend= or backend=.
func LooksLikeNghttpx(data []byte) bool {
	first, seen := true, false
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if first && (!ok || name == "" || strings.ContainsAny(name, " \t{};")) {
			return false
		}
		first = false
		if name == "frontend" || name == "backend" {
			seen = true
		}
	}
	return seen
}

// The nghttpx rules, grounded in fixtures/nghttpx/cases.yaml.
var nghttpxRules = []Rule{
	{"NGH001", "nghttpx-ip-backend-without-sni", Error,
		"nghttpx: a tls backend whose host is an IP address, without sni=: no SNI is sent.",
		"nghttpx sends the backend host as SNI, and never a numeric host (RFC 6066 section 3), so the ClientHello to an IP backend " +
			"has no server_name; an upstream that routes by SNI refuses it and nghttpx answers 502. Fix: add sni=<the upstream's host name> " +
			"to the backend line.", nil},
	{"NGH002", "nghttpx-host-rewrite-differs-from-sni", Warning,
		"nghttpx: host-rewrite=yes writes the backend host into the Host, and sni= sends another name.",
		"host-rewrite writes the backend host, not the sni value, into the Host: an upstream that checks that both name one site " +
			"answers 421 Misdirected Request (RFC 9110 section 15.5.20). Fix: name the upstream's host in both, e.g. the backend's " +
			"host name as HOST and no sni=.", nil},
	{"NGH003", "nghttpx-insecure", Warning,
		"nghttpx: insecure=yes (-k): no backend's certificate is verified.",
		"insecure is an option of the whole process: nghttpx accepts any certificate from every tls backend, so a wrong SNI that " +
			"a lenient upstream answers with another site's certificate goes unnoticed. Fix: remove insecure=yes and name the CA " +
			"bundle that issued the upstreams' certificates with cacert=.", nil},
}

// init adds nghttpx's rules to lint's.
func init() { rules = append(rules, nghttpxRules...) }

// NgOption is one NAME=VALUE line of an nghttpx configuration.
type NgOption struct {
	Name, Value string
	File        string
	Line        int
}

// Pos is the option's file:line.
func (o NgOption) Pos() string { return fmt.Sprintf("%s:%d", o.File, o.Line) }

// NgFrontend is a frontend= line: where nghttpx listens.
type NgFrontend struct {
	NgOption
	Host string
	Port int
	// Unix is the socket path of a unix:PATH frontend.
	Unix string
	TLS  bool
}

// NgBackend is a backend= line: an upstream and the request patterns
// routed to it.
type NgBackend struct {
	NgOption
	Host string
	Port int
	// Unix is the socket path of a unix:PATH backend.
	Unix string
	// Patterns are its host/path patterns; one "" is the catch-all.
	Patterns []string
	TLS      bool
	// SNI is the sni= parameter, "" when the backend host is sent.
	SNI   string
	Proto string
}

// IP reports whether the backend's host is an IP address.
func (b NgBackend) IP() bool { return b.Unix == "" && (IsIP(b.Host) || strings.Contains(b.Host, ":")) }

// Name is the SNI nghttpx sends the backend: sni=, else its host; "" for
// a numeric one, which nghttpx never sends.
func (b NgBackend) Name() string {
	n := b.SNI
	if n == "" {
		n = b.Host
	}
	if IsIP(n) || strings.Contains(n, ":") || b.Unix != "" && b.SNI == "" {
		return ""
	}
	return n
}

// NghttpxConfig is a parsed nghttpx configuration with its includes.
type NghttpxConfig struct {
	File string
	// Files are the files read, the main one first, each by its path on
	// this machine, and Paths theirs on the proxy's host.
	Files, Paths []string
	Frontends    []NgFrontend
	Backends     []NgBackend
	// Options are the other options, in order.
	Options []NgOption
	// Notes say what was not read.
	Notes []string
}

// Flag reports whether the boolean option name is yes (the last line
// naming it wins, as in nghttpx), with that line.
func (c *NghttpxConfig) Flag(name string) (bool, NgOption) {
	o, ok := c.Option(name)
	return ok && strings.EqualFold(o.Value, "yes"), o
}

// Option is the last line setting name.
func (c *NghttpxConfig) Option(name string) (NgOption, bool) {
	for i := len(c.Options) - 1; i >= 0; i-- {
		if c.Options[i].Name == name {
			return c.Options[i], true
		}
	}
	return NgOption{}, false
}

// ParseNghttpxFile reads an nghttpx configuration from file on this
// machine, which stands for /etc/nghttpx/ of the proxy's host: its
// include= lines under /etc/nghttpx (or relative ones) are read from the
// file's folder, others are noted and not read.
func ParseNghttpxFile(file string) (*NghttpxConfig, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &ConfigError{File: file, Msg: "cannot read: " + cause(err)}
	}
	dir := filepath.Dir(file)
	c := &NghttpxConfig{File: file}
	read := func(name string) (string, []byte, bool) {
		p := name
		if !path.IsAbs(p) {
			p = path.Join(NghttpxConfDir, p)
		}
		rel, ok := strings.CutPrefix(path.Clean(p), NghttpxConfDir+"/")
		if !ok {
			return "", nil, false
		}
		local := filepath.Join(dir, filepath.FromSlash(rel))
		d, err := os.ReadFile(local)
		if err != nil {
			return "", nil, false
		}
		return local, d, true
	}
	return c, c.parse(file, path.Join(NghttpxConfDir, filepath.Base(file)), data, read, 0)
}

// ParseNghttpx parses one nghttpx configuration, following no include.
func ParseNghttpx(file string, data []byte) (*NghttpxConfig, error) {
	c := &NghttpxConfig{File: file}
	return c, c.parse(file, path.Join(NghttpxConfDir, filepath.Base(file)), data, nil, 0)
}

// parse reads one file's lines into c; read finds an included file.
func (c *NghttpxConfig) parse(file, at string, data []byte, read func(string) (string, []byte, bool), depth int) error {
	c.Files, c.Paths = append(c.Files, file), append(c.Paths, at)
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(format string, args ...any) error {
			return &ConfigError{File: file, Line: i + 1, Msg: fmt.Sprintf(format, args...)}
		}
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" {
			return bad("%q: want an option as NAME=VALUE (the long option name of nghttpx(1), without --)", line)
		}
		o := NgOption{Name: name, Value: value, File: file, Line: i + 1}
		switch name {
		case "frontend":
			f, err := parseNgFrontend(o)
			if err != nil {
				return bad("%v", err)
			}
			c.Frontends = append(c.Frontends, f)
		case "backend":
			b, err := parseNgBackend(o)
			if err != nil {
				return bad("%v", err)
			}
			c.Backends = append(c.Backends, b)
		case "include":
			if depth > 8 {
				return bad("include=%s: includes nest deeper than 8 files", value)
			}
			if value == "" {
				return bad("include= names no file")
			}
			var local string
			var d []byte
			found := false
			if read != nil {
				local, d, found = read(value)
			}
			if !found {
				c.Notes = append(c.Notes, fmt.Sprintf("%s: include=%s is not read: the configuration's folder does not hold it", o.Pos(), value))
				c.Options = append(c.Options, o)
				continue
			}
			incAt := value
			if !path.IsAbs(incAt) {
				incAt = path.Join(NghttpxConfDir, incAt)
			}
			if err := c.parse(local, incAt, d, read, depth+1); err != nil {
				return err
			}
		default:
			c.Options = append(c.Options, o)
		}
	}
	return nil
}

// ngAddr parses HOST,PORT or unix:PATH.
func ngAddr(s string) (host string, port int, unix string, err error) {
	if p, ok := strings.CutPrefix(s, "unix:"); ok {
		if p == "" {
			return "", 0, "", fmt.Errorf("unix: names no socket path")
		}
		return "", 0, p, nil
	}
	i := strings.LastIndex(s, ",")
	if i < 0 {
		return "", 0, "", fmt.Errorf("address %q: want HOST,PORT or unix:PATH", s)
	}
	host = strings.Trim(s[:i], "[]")
	port, perr := strconv.Atoi(s[i+1:])
	if host == "" || perr != nil || port < 0 || port > 65535 {
		return "", 0, "", fmt.Errorf("address %q: want HOST,PORT with a port from 0 to 65535", s)
	}
	return host, port, "", nil
}

func parseNgFrontend(o NgOption) (NgFrontend, error) {
	parts := strings.Split(o.Value, ";")
	f := NgFrontend{NgOption: o, TLS: true}
	var err error
	if f.Host, f.Port, f.Unix, err = ngAddr(parts[0]); err != nil {
		return f, fmt.Errorf("frontend=%s: %v", o.Value, err)
	}
	for _, p := range parts[1:] {
		if p == "no-tls" {
			f.TLS = false
		}
	}
	return f, nil
}

func parseNgBackend(o NgOption) (NgBackend, error) {
	parts := strings.Split(o.Value, ";")
	b := NgBackend{NgOption: o, Patterns: []string{""}}
	var err error
	if b.Host, b.Port, b.Unix, err = ngAddr(parts[0]); err != nil {
		return b, fmt.Errorf("backend=%s: %v", o.Value, err)
	}
	if len(parts) > 1 && parts[1] != "" {
		b.Patterns = strings.Split(parts[1], ":")
	}
	if len(parts) > 2 {
		for _, p := range parts[2:] {
			k, v, _ := strings.Cut(p, "=")
			switch k {
			case "tls":
				b.TLS = true
			case "sni":
				b.SNI = v
			case "proto":
				b.Proto = v
			}
		}
	}
	return b, nil
}

// Findings runs nghttpx's rules over the configuration.
func (c *NghttpxConfig) Findings() []Finding {
	var out []Finding
	add := func(rule string, o NgOption, msg, fix string) {
		sev := Error
		for _, ru := range rules {
			if ru.ID == rule {
				sev = ru.Severity
			}
		}
		out = append(out, Finding{Rule: rule, Severity: sev, File: o.File, Line: o.Line, Message: msg, Fix: fix})
	}
	rewrite, _ := c.Flag("host-rewrite")
	tlsBackends := 0
	for _, b := range c.Backends {
		if !b.TLS {
			continue
		}
		tlsBackends++
		who := "backend=" + b.Value
		switch {
		case b.IP() && b.SNI == "":
			add("NGH001", b.NgOption, who+" names an IP address without sni=: nghttpx sends no numeric host as SNI, so it sends none, and an upstream that routes by SNI refuses the handshake (502)",
				NghttpxFix(b, nameUnknown))
		case rewrite && b.SNI != "" && b.Unix == "" && !strings.EqualFold(b.SNI, b.Host):
			add("NGH002", b.NgOption, fmt.Sprintf("%s sends the SNI %s, but host-rewrite=yes writes the backend host %s into the Host: an upstream that checks that both name one site answers 421", who, b.SNI, b.Host),
				"name the upstream's host in both: "+NghttpxHostFix(b, b.SNI)+" (its address from DNS), or no host-rewrite")
		}
	}
	if on, o := c.Flag("insecure"); on && tlsBackends > 0 {
		add("NGH003", o, "insecure=yes: nghttpx verifies no tls backend's certificate, so a wrong SNI answered with another site's certificate goes unnoticed",
			"remove insecure=yes and name the upstreams' CA bundle: cacert=<the CA bundle that issued the upstreams' certificates>")
	}
	return out
}

// NghttpxFix is backend line b with sni=name, in nghttpx's syntax; with
// no sni= for name "".
func NghttpxFix(b NgBackend, name string) string {
	parts := strings.Split(b.Value, ";")
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	kept := parts[:2]
	for _, p := range parts[2:] {
		if p != "" && !strings.HasPrefix(p, "sni=") {
			kept = append(kept, p)
		}
	}
	if name != "" {
		kept = append(kept, "sni="+name)
	}
	return "backend=" + strings.TrimRight(strings.Join(kept, ";"), ";")
}

// NghttpxHostFix is backend line b reaching host, with no sni=: nghttpx
// then sends host both as SNI and, with host-rewrite, as Host.
func NghttpxHostFix(b NgBackend, host string) string {
	_, rest, _ := strings.Cut(NghttpxFix(b, ""), ";")
	line := "backend=" + host + "," + strconv.Itoa(b.Port)
	if rest != "" {
		line += ";" + rest
	}
	return line
}

// lint reads and judges each file.
func (nghttpxDialect) lint(files []string, _ Options) (*Result, []string, error) {
	res := &Result{}
	var notes []string
	for _, p := range files {
		c, err := ParseNghttpxFile(p)
		if err != nil {
			return nil, nil, err
		}
		res.Findings = append(res.Findings, c.Findings()...)
		res.Files = append(res.Files, c.Files...)
		notes = append(notes, c.Notes...)
		for _, b := range c.Backends {
			if b.TLS {
				res.Upstreams++
			}
		}
	}
	return res, notes, nil
}
