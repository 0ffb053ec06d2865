package lint

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// stunnelDialect is stunnel's configuration (stunnel.conf, Debian's
// stunnel4): global options, then [service] sections of option = value
// lines. Its rules judge the client-mode services, which wrap plain TCP
// into TLS to their connect address.
type stunnelDialect struct{}

func init() { registerDialect(stunnelDialect{}) }

func (stunnelDialect) name() string { return "stunnel" }

func (stunnelDialect) claims(data []byte) bool { return LooksLikeStunnel(data) }

func (stunnelDialect) none() string {
	return "no client-mode service (client = yes) has a connect line"
}

// stunnelSection is a [service] line; stunnelClient a client = yes line.
var (
	stunnelSection = regexp.MustCompile(`(?m)^[ \t]*\[[^\]\n]+\][ \t]*$`)
	stunnelClient  = regexp.MustCompile(`(?im)^[ \t]*(client|connect|accept)[ \t]*=`)
)

// LooksLikeStunnel reports whether data is a stunnel configuration: it has
// a [service] section and an accept, connect or client option, and no
// brace (nginx's blocks, JSON) before its first section.
func LooksLikeStunnel(data []byte) bool {
	loc := stunnelSection.FindIndex(data)
	return loc != nil && !bytes.ContainsAny(data[:loc[0]], "{}") && stunnelClient.Match(data)
}

// The stunnel rules, grounded in fixtures/stunnel/cases.yaml.
var stunnelRules = []Rule{
	{"STN001", "stunnel-ip-connect-sent-as-sni", Error,
		"stunnel: a client-mode service connects to an IP address without sni: the IP literal is sent as SNI.",
		"In client mode stunnel's SNI is the host of connect, whatever it is: an IP literal is sent as server_name, which RFC 6066 " +
			"section 3 forbids, and an upstream that routes by SNI refuses the unknown name (the client's connection closes). Fix: " +
			"sni = <the upstream's host name> (or an empty sni = for an upstream that wants none).", nil},
	{"STN002", "stunnel-sni-empty", Error,
		"stunnel: an empty sni = sends no SNI.",
		"An empty sni disables the server_name extension: an upstream that routes by SNI refuses the handshake and the client's " +
			"connection closes. Fix: sni = <the upstream's host name>, or no sni line for the host of connect.", nil},
	{"STN003", "stunnel-verify-chain-without-checkhost", Warning,
		"stunnel: verifyChain without checkHost: the certificate's name is not checked.",
		"verifyChain checks the chain only: any certificate the CAs issued, for any name, is accepted. Fix: checkHost = <the " +
			"upstream's host name> (checkHost is not the SNI: sni sets that).", nil},
	{"STN004", "stunnel-no-verification", Warning,
		"stunnel: a client-mode service verifies nothing of the upstream's certificate.",
		"stunnel verifies no certificate unless verifyChain (or verifyPeer) says so: any certificate, from anyone, is accepted. " +
			"Fix: verifyChain = yes with CAfile = <the CA bundle> and checkHost = <the upstream's host name>.", nil},
}

// init adds stunnel's rules to lint's.
func init() { rules = append(rules, stunnelRules...) }

// StunnelOption is an option = value line.
type StunnelOption struct {
	File       string
	Line       int
	Key, Value string
}

// Pos is the option's FILE:LINE.
func (o StunnelOption) Pos() string { return fmt.Sprintf("%s:%d", o.File, o.Line) }

// StunnelService is a [service] section, or the global options.
type StunnelService struct {
	// Name is the section's name, "" for the global options.
	Name string
	File string
	Line int
	Opts []StunnelOption
	// global holds the defaults of the service-level options.
	global *StunnelService
}

// Get is the service's last key option, else the global options'
// (stunnel takes service-level options in the global section as every
// service's defaults).
func (s *StunnelService) Get(key string) (StunnelOption, bool) {
	for i := len(s.Opts) - 1; i >= 0; i-- {
		if strings.EqualFold(s.Opts[i].Key, key) {
			return s.Opts[i], true
		}
	}
	if s.global != nil {
		return s.global.Get(key)
	}
	return StunnelOption{}, false
}

// All are the service's key options, or the global options' when it has
// none.
func (s *StunnelService) All(key string) []StunnelOption {
	var out []StunnelOption
	for _, o := range s.Opts {
		if strings.EqualFold(o.Key, key) {
			out = append(out, o)
		}
	}
	if out == nil && s.global != nil {
		return s.global.All(key)
	}
	return out
}

// yes reports whether a boolean option is yes.
func (s *StunnelService) yes(key string) bool {
	o, ok := s.Get(key)
	return ok && strings.EqualFold(o.Value, "yes")
}

// Client reports whether the service is in client mode.
func (s *StunnelService) Client() bool { return s.yes("client") }

// PSK reports whether the service authenticates its peer by a pre-shared
// key (PSKsecrets): a tunnel to another stunnel, not to an HTTPS upstream.
func (s *StunnelService) PSK() bool { _, ok := s.Get("PSKsecrets"); return ok }

// Connect is the service's first connect: its option, host ("" for a port
// alone, which is localhost) and port.
func (s *StunnelService) Connect() (StunnelOption, string, string, bool) {
	all := s.All("connect")
	if len(all) == 0 {
		return StunnelOption{}, "", "", false
	}
	host, port := StunnelAddr(all[0].Value)
	return all[0], host, port, true
}

// SNI is the SNI the client-mode service sends and whether it sends one:
// sni's value, none for an empty sni, else the host of connect.
func (s *StunnelService) SNI() (string, bool) {
	if o, ok := s.Get("sni"); ok {
		return o.Value, o.Value != ""
	}
	_, host, _, ok := s.Connect()
	if !ok || host == "" {
		return "", false
	}
	return strings.Trim(host, "[]"), true
}

// StunnelAddr splits an accept or connect address, [HOST:]PORT.
func StunnelAddr(v string) (host, port string) {
	v = strings.TrimSpace(v)
	if _, err := strconv.Atoi(v); err == nil {
		return "", v
	}
	if i := strings.LastIndex(v, ":"); i >= 0 {
		return v[:i], v[i+1:]
	}
	return v, ""
}

// StunnelConfig is a parsed stunnel configuration.
type StunnelConfig struct {
	File     string
	Global   *StunnelService
	Services []*StunnelService
	// Included are the files read for include options, by their path as
	// written joined with their name, with their data.
	Included []StunnelFile
	// Notes say which includes were not followed.
	Notes []string
}

// StunnelFile is a file of an included folder.
type StunnelFile struct {
	Path string
	Data []byte
}

// StunnelInclude reads the files of an include folder, as stunnel reads
// them (every file, in the order of their names); nil files and a note
// when the folder is not there to read.
type StunnelInclude func(dir string) ([]StunnelFile, string, error)

// maxStunnelDepth bounds nested includes (a folder including itself).
const maxStunnelDepth = 8

// ParseStunnel parses a stunnel configuration, file naming it in errors
// and findings; include reads include folders (nil follows none). The
// error, a *ConfigError, names the file and line.
func ParseStunnel(file string, data []byte, include StunnelInclude) (*StunnelConfig, error) {
	c := &StunnelConfig{File: file, Global: &StunnelService{File: file, Line: 1}}
	cur := c.Global
	if err := c.read(file, data, include, &cur, 0); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *StunnelConfig) read(file string, data []byte, include StunnelInclude, cur **StunnelService, depth int) error {
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(strings.TrimPrefix(raw, "\ufeff"))
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		n := i + 1
		if line[0] == '[' {
			name, ok := strings.CutSuffix(line[1:], "]")
			if !ok || strings.TrimSpace(name) == "" {
				return &ConfigError{File: file, Line: n, Msg: fmt.Sprintf("expected a section name in brackets, [service], got %q", line)}
			}
			*cur = &StunnelService{Name: strings.TrimSpace(name), File: file, Line: n, global: c.Global}
			c.Services = append(c.Services, *cur)
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			return &ConfigError{File: file, Line: n, Msg: fmt.Sprintf("expected option = value or [service], got %q", line)}
		}
		if strings.EqualFold(key, "include") && include != nil {
			if depth >= maxStunnelDepth {
				return &ConfigError{File: file, Line: n, Msg: fmt.Sprintf("include %s: more than %d nested includes", value, maxStunnelDepth)}
			}
			files, note, err := include(value)
			if err != nil {
				return &ConfigError{File: file, Line: n, Msg: "include " + value + ": " + err.Error()}
			}
			if note != "" {
				c.Notes = append(c.Notes, fmt.Sprintf("%s:%d: %s", file, n, note))
			}
			for _, f := range files {
				c.Included = append(c.Included, f)
				if err := c.read(f.Path, f.Data, include, cur, depth+1); err != nil {
					return err
				}
			}
			continue
		}
		(*cur).Opts = append((*cur).Opts, StunnelOption{File: file, Line: n, Key: key, Value: value})
	}
	return nil
}

// TLSClients are the client-mode services with a connect: those that
// speak TLS to an upstream.
func (c *StunnelConfig) TLSClients() []*StunnelService {
	var out []*StunnelService
	for _, s := range c.Services {
		if _, _, _, ok := s.Connect(); ok && s.Client() {
			out = append(out, s)
		}
	}
	return out
}

// Findings runs stunnel's rules over every client-mode service but those
// with a pre-shared key, whose peer is another stunnel.
func (c *StunnelConfig) Findings() []Finding {
	var out []Finding
	for _, s := range c.TLSClients() {
		out = append(out, c.ServiceFindings(s)...)
	}
	return out
}

// ServiceFindings are the findings of one client-mode service.
func (c *StunnelConfig) ServiceFindings(s *StunnelService) []Finding {
	if s.PSK() {
		return nil
	}
	var out []Finding
	add := func(rule string, at StunnelOption, msg, fix string) {
		sev := Error
		for _, ru := range rules {
			if ru.ID == rule {
				sev = ru.Severity
			}
		}
		out = append(out, Finding{Rule: rule, Severity: sev, File: at.File, Line: at.Line, Message: msg, Fix: fix})
	}
	head := StunnelOption{File: s.File, Line: s.Line}
	conn, host, _, _ := s.Connect()
	who := fmt.Sprintf("service [%s] (connect = %s)", s.Name, conn.Value)
	name := nameUnknown
	if h, ok := s.Get("checkHost"); ok && h.Value != "" {
		name = h.Value
	} else if host != "" && !IsIP(host) && !strings.Contains(host, ":") {
		name = host
	}
	sni, sniSet := s.Get("sni")
	switch {
	case sniSet && sni.Value == "":
		add("STN002", sni, who+" has an empty sni =: stunnel sends no SNI, and an upstream that routes by SNI refuses the handshake",
			"sni = "+name)
	case !sniSet && (IsIP(host) || strings.Contains(host, ":")):
		add("STN001", conn, who+" connects to an IP address: stunnel sends the IP literal as SNI (RFC 6066 forbids it), a name an upstream that routes by SNI does not serve",
			"sni = "+name)
	}
	verify := s.yes("verifyChain") || s.yes("verifyPeer")
	_, checkHost := s.Get("checkHost")
	_, checkIP := s.Get("checkIP")
	switch {
	case !verify:
		add("STN004", head, who+" verifies nothing of the upstream's certificate (no verifyChain or verifyPeer): any certificate is accepted",
			"verifyChain = yes, CAfile = <the CA bundle>, checkHost = "+name)
	case s.yes("verifyChain") && !checkHost && !checkIP:
		v, _ := s.Get("verifyChain")
		add("STN003", v, who+" has verifyChain without checkHost: a certificate for any name the CAs issued is accepted",
			"checkHost = "+name)
	}
	return out
}

// StunnelIncludes reads include folders as lint and check do: a folder under
// /etc/stunnel from the main file's folder, which stands for it, any
// other as written, relative ones against the main file's folder.
func StunnelIncludes(main string) StunnelInclude {
	folder := filepath.Dir(main)
	return func(dir string) ([]StunnelFile, string, error) {
		host := dir
		switch {
		case dir == "/etc/stunnel" || strings.HasPrefix(dir, "/etc/stunnel/"):
			host = filepath.Join(folder, strings.TrimPrefix(strings.TrimPrefix(dir, "/etc/stunnel"), "/"))
		case !path.IsAbs(dir):
			host = filepath.Join(folder, dir)
		}
		entries, err := os.ReadDir(host)
		if err != nil {
			return nil, fmt.Sprintf("include %s not followed: %s is not there to read", dir, host), nil
		}
		var out []StunnelFile
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			data, err := os.ReadFile(filepath.Join(host, e.Name()))
			if err != nil {
				return nil, "", fmt.Errorf("cannot read %s: %s", e.Name(), cause(err))
			}
			out = append(out, StunnelFile{Path: filepath.Join(host, e.Name()), Data: data})
		}
		slices.SortFunc(out, func(a, b StunnelFile) int { return strings.Compare(a.Path, b.Path) })
		return out, "", nil
	}
}

// lint reads and judges each file.
func (stunnelDialect) lint(files []string, _ Options) (*Result, []string, error) {
	res := &Result{}
	var notes []string
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, &ConfigError{File: p, Msg: "cannot read: " + cause(err)}
		}
		c, err := ParseStunnel(p, data, StunnelIncludes(p))
		if err != nil {
			return nil, nil, err
		}
		res.Findings = append(res.Findings, c.Findings()...)
		res.Files = append(res.Files, p)
		for _, f := range c.Included {
			res.Files = append(res.Files, f.Path)
		}
		res.Upstreams += len(c.TLSClients())
		notes = append(notes, c.Notes...)
	}
	return res, notes, nil
}
