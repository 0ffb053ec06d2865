package lint

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// poundDialect is pound's configuration (pound.cfg, Debian's pound):
// directives, one a line, and ListenHTTP, ListenHTTPS, Service, Backend
// and the other blocks, each closed by End. Its rules judge the HTTPS
// backends.
type poundDialect struct{}

func init() { registerDialect(poundDialect{}) }

func (poundDialect) name() string { return "pound" }

func (poundDialect) claims(data []byte) bool { return LooksLikePound(data) }

func (poundDialect) none() string { return "no Backend has HTTPS" }

// poundListen is a ListenHTTP or ListenHTTPS line.
var poundListen = regexp.MustCompile(`(?im)^[ \t]*Listen(HTTP|HTTPS)[ \t]*(#.*)?$`)

// LooksLikePound reports whether data is a pound configuration: it has a
// ListenHTTP or ListenHTTPS block.
func LooksLikePound(data []byte) bool { return poundListen.Match(data) }

// The pound rules, grounded in fixtures/pound/cases.yaml.
var poundRules = []Rule{
	{"POU001", "pound-https-backend-without-servername", Error,
		"pound: an HTTPS Backend without ServerName: no SNI is sent.",
		"pound sends SNI only from ServerName, whatever the Address: an upstream that routes by SNI refuses the handshake and " +
			"pound answers 503. Fix: ServerName \"<the upstream's host name>\" in the Backend (it also sets the Host sent).", nil},
	{"POU002", "pound-no-verification", Warning,
		"pound: an HTTPS Backend's certificate is never verified.",
		"pound has no CA or verify directive for backends: a certificate from any CA, for any name, is accepted. Fix: none in " +
			"pound; put a verifying proxy (or a network that cannot be impersonated) between pound and the upstream.", nil},
	{"POU003", "pound-servername-ip-literal", Warning,
		"pound: ServerName is an IP address, which pound sends as SNI.",
		"RFC 6066 section 3 forbids IP literals in server_name, yet pound passes ServerName to OpenSSL as it is; an upstream that " +
			"routes by SNI does not serve the address. Fix: ServerName \"<the upstream's host name>\".", nil},
	{"POU004", "pound-host-differs-from-servername", Warning,
		"pound: a SetHeader \"Host: ...\" sends another Host than the ServerName sent as SNI.",
		"A SetHeader Host in the Service wins over the Host ServerName writes: an upstream that checks that both name one site " +
			"answers 421 Misdirected Request (RFC 9110 section 15.5.20). Fix: drop the SetHeader Host, or make it the ServerName.", nil},
}

// init adds pound's rules to lint's.
func init() { rules = append(rules, poundRules...) }

// PoundNode is a directive of a pound configuration, with its block's
// directives when it opens one.
type PoundNode struct {
	File    string
	Line    int
	Keyword string
	Args    []string
	Block   []*PoundNode
	// Open reports whether the directive opens a block.
	Open bool
}

// Pos is the directive's FILE:LINE.
func (n *PoundNode) Pos() string { return fmt.Sprintf("%s:%d", n.File, n.Line) }

// Get is the block's last key directive.
func (n *PoundNode) Get(key string) *PoundNode {
	var out *PoundNode
	for _, c := range n.Block {
		if strings.EqualFold(c.Keyword, key) {
			out = c
		}
	}
	return out
}

// Arg is the directive's first argument, "" for none.
func (n *PoundNode) Arg() string {
	if n == nil || len(n.Args) == 0 {
		return ""
	}
	return n.Args[0]
}

// PoundConfig is a parsed pound configuration.
type PoundConfig struct {
	File string
	Top  []*PoundNode
	// Included are the files Include lines read, with their data.
	Included []PoundFile
	Notes    []string
}

// PoundFile is a file an Include line reads.
type PoundFile struct {
	Name, Path string
	Data       []byte
}

// PoundInclude reads the file of an Include line: nil data and a note
// when it is not there to read.
type PoundInclude func(name string) (*PoundFile, string, error)

// poundBlocks are the keywords that open a block anywhere; poundTopBlocks
// those that open one at the top only (elsewhere they name one).
var (
	poundBlocks    = []string{"listenhttp", "listenhttps", "service", "backend", "emergency", "session", "match", "rewrite", "resolver", "combineheaders"}
	poundTopBlocks = []string{"acl", "trustedip"}
)

// ParsePound parses a pound configuration, file naming it in errors and
// findings; include reads Include files (nil follows none). The error, a
// *ConfigError, names the file and line.
func ParsePound(file string, data []byte, include PoundInclude) (*PoundConfig, error) {
	c := &PoundConfig{File: file}
	root := &PoundNode{File: file, Open: true}
	stack := []*PoundNode{root}
	if err := c.read(file, data, include, &stack, 0); err != nil {
		return nil, err
	}
	if len(stack) > 1 {
		open := stack[len(stack)-1]
		return nil, &ConfigError{File: open.File, Line: open.Line, Msg: open.Keyword + " is never closed: expected End"}
	}
	c.Top = root.Block
	return c, nil
}

func (c *PoundConfig) read(file string, data []byte, include PoundInclude, stack *[]*PoundNode, depth int) error {
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		words, err := poundWords(raw)
		if err != nil {
			return &ConfigError{File: file, Line: n, Msg: err.Error()}
		}
		if len(words) == 0 {
			continue
		}
		key := words[0]
		top := (*stack)[len(*stack)-1]
		switch {
		case strings.EqualFold(key, "End"):
			if len(*stack) == 1 {
				return &ConfigError{File: file, Line: n, Msg: "End closes no block"}
			}
			*stack = (*stack)[:len(*stack)-1]
			continue
		case strings.EqualFold(key, "Include") && include != nil:
			if len(words) != 2 {
				return &ConfigError{File: file, Line: n, Msg: "expected Include \"FILE\""}
			}
			if depth >= maxStunnelDepth {
				return &ConfigError{File: file, Line: n, Msg: fmt.Sprintf("Include %s: more than %d nested includes", words[1], maxStunnelDepth)}
			}
			f, note, err := include(words[1])
			if err != nil {
				return &ConfigError{File: file, Line: n, Msg: "Include " + words[1] + ": " + err.Error()}
			}
			if note != "" {
				c.Notes = append(c.Notes, fmt.Sprintf("%s:%d: %s", file, n, note))
			}
			if f != nil {
				c.Included = append(c.Included, *f)
				if err := c.read(f.Name, f.Data, include, stack, depth+1); err != nil {
					return err
				}
			}
			continue
		}
		node := &PoundNode{File: file, Line: n, Keyword: key, Args: words[1:]}
		lower := strings.ToLower(key)
		node.Open = containsWord(poundBlocks, lower) || (len(*stack) == 1 && containsWord(poundTopBlocks, lower))
		top.Block = append(top.Block, node)
		if node.Open {
			*stack = append(*stack, node)
		}
	}
	return nil
}

func containsWord(list []string, w string) bool {
	for _, l := range list {
		if l == w {
			return true
		}
	}
	return false
}

// poundWords splits a line into its words: bare, or quoted with
// backslash escapes; a # outside quotes starts a comment.
func poundWords(line string) ([]string, error) {
	var out []string
	for i := 0; i < len(line); {
		switch ch := line[i]; {
		case ch == ' ' || ch == '\t' || ch == '\r':
			i++
		case ch == '#':
			return out, nil
		case ch == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(line) && line[j] != '"'; j++ {
				if line[j] == '\\' && j+1 < len(line) {
					j++
				}
				b.WriteByte(line[j])
			}
			if j >= len(line) {
				return nil, fmt.Errorf("unclosed quote in %q", strings.TrimSpace(line))
			}
			out = append(out, b.String())
			i = j + 1
		default:
			j := i
			for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != '\r' && line[j] != '#' {
				j++
			}
			out = append(out, line[i:j])
			i = j
		}
	}
	return out, nil
}

// PoundListener is a ListenHTTP or ListenHTTPS block.
type PoundListener struct {
	*PoundNode
	HTTPS    bool
	Services []*PoundService
}

// PoundService is a Service block and its backends.
type PoundService struct {
	*PoundNode
	Backends []*PoundBackend
}

// PoundBackend is a Backend block.
type PoundBackend struct {
	*PoundNode
	// Address and Port are the upstream's; HTTPS whether pound speaks TLS
	// to it; ServerName its SNI and Host, "" for none.
	Address, Port string
	HTTPS         bool
	ServerName    string
}

// Listeners are the listeners, each with its services and theirs (a
// Service at the top belongs to every listener), and the services at the
// top.
func (c *PoundConfig) Listeners() ([]*PoundListener, []*PoundService) {
	var top []*PoundService
	named := map[string]*PoundNode{}
	for _, n := range c.Top {
		if strings.EqualFold(n.Keyword, "Backend") && n.Arg() != "" {
			named[n.Arg()] = n
		}
	}
	service := func(n *PoundNode) *PoundService {
		s := &PoundService{PoundNode: n}
		for _, b := range n.Block {
			switch {
			case strings.EqualFold(b.Keyword, "Backend") || strings.EqualFold(b.Keyword, "Emergency"):
				s.Backends = append(s.Backends, poundBackend(b))
			case strings.EqualFold(b.Keyword, "UseBackend") && named[b.Arg()] != nil:
				s.Backends = append(s.Backends, poundBackend(named[b.Arg()]))
			}
		}
		return s
	}
	var out []*PoundListener
	for _, n := range c.Top {
		switch {
		case strings.EqualFold(n.Keyword, "Service"):
			top = append(top, service(n))
		case strings.EqualFold(n.Keyword, "ListenHTTP") || strings.EqualFold(n.Keyword, "ListenHTTPS"):
			l := &PoundListener{PoundNode: n, HTTPS: strings.EqualFold(n.Keyword, "ListenHTTPS")}
			for _, s := range n.Block {
				if strings.EqualFold(s.Keyword, "Service") {
					l.Services = append(l.Services, service(s))
				}
			}
			out = append(out, l)
		}
	}
	return out, top
}

func poundBackend(n *PoundNode) *PoundBackend {
	b := &PoundBackend{PoundNode: n, Address: n.Get("Address").Arg(), Port: n.Get("Port").Arg(), HTTPS: n.Get("HTTPS") != nil}
	b.ServerName = n.Get("ServerName").Arg()
	return b
}

// Services are every service, the listeners' then the top's.
func (c *PoundConfig) Services() []*PoundService {
	ls, top := c.Listeners()
	var out []*PoundService
	for _, l := range ls {
		out = append(out, l.Services...)
	}
	return append(out, top...)
}

// SetHost is the Host a service's SetHeader sets, "" for none.
func (s *PoundService) SetHost() *PoundNode {
	var out *PoundNode
	for _, n := range s.Block {
		if strings.EqualFold(n.Keyword, "SetHeader") || strings.EqualFold(n.Keyword, "HeaderAdd") || strings.EqualFold(n.Keyword, "AddHeader") {
			if k, _, ok := strings.Cut(n.Arg(), ":"); ok && strings.EqualFold(strings.TrimSpace(k), "Host") {
				out = n
			}
		}
	}
	return out
}

// PoundName is the name a fix names for backend b: its Address when a
// host name, else a placeholder.
func PoundName(b *PoundBackend) string {
	if b.Address != "" && !IsIP(b.Address) && !strings.Contains(b.Address, ":") && !strings.HasPrefix(b.Address, "/") {
		return b.Address
	}
	return nameUnknown
}

// Findings runs pound's rules over every HTTPS backend.
func (c *PoundConfig) Findings() []Finding {
	var out []Finding
	for _, s := range c.Services() {
		out = append(out, c.ServiceFindings(s)...)
	}
	return out
}

// ServiceFindings are the findings of one service's HTTPS backends.
func (c *PoundConfig) ServiceFindings(s *PoundService) []Finding {
	var out []Finding
	add := func(rule string, at *PoundNode, msg, fix string) {
		sev := Error
		for _, ru := range rules {
			if ru.ID == rule {
				sev = ru.Severity
			}
		}
		out = append(out, Finding{Rule: rule, Severity: sev, File: at.File, Line: at.Line, Message: msg, Fix: fix})
	}
	for _, b := range s.Backends {
		if !b.HTTPS {
			continue
		}
		who := fmt.Sprintf("Backend %s:%s", b.Address, b.Port)
		if b.Address == "" {
			who = "Backend " + b.Arg()
		}
		switch {
		case b.ServerName == "":
			add("POU001", b.PoundNode, who+" has HTTPS without ServerName: pound sends no SNI, and an upstream that routes by SNI refuses the handshake (503)",
				fmt.Sprintf("ServerName %q", PoundName(b)))
		case IsIP(b.ServerName) || strings.Contains(b.ServerName, ":"):
			add("POU003", b.Get("ServerName"), fmt.Sprintf("%s has ServerName %q, an IP address: pound sends it as SNI, which RFC 6066 forbids", who, b.ServerName),
				fmt.Sprintf("ServerName %q", PoundName(b)))
		}
		add("POU002", b.Get("HTTPS"), who+" is HTTPS: pound verifies nothing of its certificate (no CA, no name check)",
			"none in pound: a verifying proxy between pound and the upstream")
		if h := s.SetHost(); h != nil && b.ServerName != "" {
			_, v, _ := strings.Cut(h.Arg(), ":")
			if host, _ := SplitHost(strings.TrimSpace(v)); !strings.EqualFold(host, b.ServerName) {
				add("POU004", h, fmt.Sprintf("%s sends the Host %s but the SNI %q (ServerName): an upstream that checks that both name one site answers 421", who, strings.TrimSpace(v), b.ServerName),
					"drop the SetHeader \"Host: ...\" (ServerName sets the Host), or set it to "+b.ServerName)
			}
		}
	}
	return out
}

// PoundIncludes reads Include files as lint and check do: a path under
// /etc/pound from the main file's folder, which stands for it, a
// relative one against that folder, any other as written.
func PoundIncludes(main string) PoundInclude {
	folder := filepath.Dir(main)
	return func(name string) (*PoundFile, string, error) {
		host := name
		switch {
		case strings.HasPrefix(name, "/etc/pound/"):
			host = filepath.Join(folder, strings.TrimPrefix(name, "/etc/pound/"))
		case !path.IsAbs(name):
			host = filepath.Join(folder, name)
		}
		data, err := os.ReadFile(host)
		if os.IsNotExist(err) {
			return nil, fmt.Sprintf("Include %s not followed: %s is not there to read", name, host), nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("cannot read %s: %s", host, cause(err))
		}
		return &PoundFile{Name: host, Path: name, Data: data}, "", nil
	}
}

// lint reads and judges each file.
func (poundDialect) lint(files []string, _ Options) (*Result, []string, error) {
	res := &Result{}
	var notes []string
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, &ConfigError{File: p, Msg: "cannot read: " + cause(err)}
		}
		c, err := ParsePound(p, data, PoundIncludes(p))
		if err != nil {
			return nil, nil, err
		}
		res.Findings = append(res.Findings, c.Findings()...)
		res.Files = append(res.Files, p)
		for _, f := range c.Included {
			res.Files = append(res.Files, f.Name)
		}
		for _, s := range c.Services() {
			for _, b := range s.Backends {
				if b.HTTPS {
					res.Upstreams++
				}
			}
		}
		notes = append(notes, c.Notes...)
	}
	return res, notes, nil
}
