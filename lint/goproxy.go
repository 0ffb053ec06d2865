package lint

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/sniproof/sniproof/proxy"
)

// goproxyDialect is the bundled Go proxy's JSON configuration (sniproof
// proxy --config): a JSON object with routes.
type goproxyDialect struct{}

func init() { registerDialect(goproxyDialect{}) }

func (goproxyDialect) name() string { return "goproxy" }

func (goproxyDialect) claims(data []byte) bool { return LooksLikeGoProxy(data) }

func (goproxyDialect) none() string { return "no route proxies to an https:// upstream" }

// LooksLikeGoProxy reports whether data is the Go proxy's configuration:
// a JSON object with a "routes" member.
func LooksLikeGoProxy(data []byte) bool {
	var top map[string]json.RawMessage
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) || json.Unmarshal(data, &top) != nil {
		return false
	}
	_, ok := top["routes"]
	return ok
}

// The Go proxy's rules, grounded in fixtures/goproxy/cases.yaml.
var goproxyRules = []Rule{
	{"GOP001", "goproxy-sni-off", Error,
		"Go proxy: an https:// upstream with \"sni\": \"off\": no SNI is sent.",
		"\"sni\": \"off\" sends a ClientHello without server_name whatever the upstream's name; an upstream that routes by SNI refuses " +
			"it and the proxy answers 502. Fix: \"sni\": \"auto\" (the URL's host) or \"name:<the upstream's host name>\".", nil},
	{"GOP002", "goproxy-ip-upstream-without-name", Error,
		"Go proxy: an https:// upstream whose host is an IP address, without \"sni\": \"name:...\": no SNI is sent.",
		"With \"sni\": \"auto\" the SNI is the URL's host, and crypto/tls never sends an IP literal (RFC 6066 section 3), so the " +
			"ClientHello has no server_name. Fix: \"sni\": \"name:<the upstream's host name>\".", nil},
	{"GOP003", "goproxy-sni-from-client-host", Warning,
		"Go proxy: \"sni\": \"host-header\" sends the client's Host as SNI.",
		"The SNI is the client's Host without its port: right only where the upstream serves the public name clients use, and no " +
			"SNI at all for a Host that is an IP literal. Fix: \"sni\": \"name:<the upstream's host name>\" where it serves another name.", nil},
	{"GOP004", "goproxy-host-differs-from-sni", Warning,
		"Go proxy: the Host header sent differs from the SNI.",
		"\"host_header\": \"client\" or \"value:NAME\" sends a Host other than the name sent as SNI; an upstream that checks that both " +
			"name one site answers 421 Misdirected Request (RFC 9110 section 15.5.20). Fix: send one name in both, e.g. \"sni\": " +
			"\"host-header\" with \"host_header\": \"client\".", nil},
}

// init adds the Go proxy's rules to lint's.
func init() { rules = append(rules, goproxyRules...) }

// GoRoute is a route of a Go proxy configuration, with the line its
// object starts on.
type GoRoute struct {
	proxy.Route
	Index, Line int
}

// GoConfig is a parsed Go proxy configuration.
type GoConfig struct {
	File   string
	Text   []byte
	Config *proxy.Config
	Routes []GoRoute
}

// ParseGoProxy parses and validates a Go proxy configuration as the proxy
// does; the error, a *ConfigError, names the file and, where the proxy's
// message has one, the line.
func ParseGoProxy(file string, data []byte) (*GoConfig, error) {
	cfg, err := proxy.ParseConfig(file, data)
	if err != nil {
		return nil, goConfigError(file, err)
	}
	lines := routeLines(data)
	c := &GoConfig{File: file, Text: data, Config: cfg}
	for i, r := range cfg.Routes {
		line := 0
		if i < len(lines) {
			line = lines[i]
		}
		c.Routes = append(c.Routes, GoRoute{Route: r, Index: i, Line: line})
	}
	return c, nil
}

// goErrAt is the proxy's "FILE:LINE:COL: message" form.
var goErrAt = regexp.MustCompile(`^(.*?):(\d+):\d+: (.*)$`)

// goConfigError makes the proxy's message a ConfigError.
func goConfigError(file string, err error) *ConfigError {
	msg := err.Error()
	if m := goErrAt.FindStringSubmatch(msg); m != nil && m[1] == file {
		line, _ := strconv.Atoi(m[2])
		return &ConfigError{File: file, Line: line, Msg: m[3]}
	}
	return &ConfigError{File: file, Msg: strings.TrimPrefix(msg, file+": ")}
}

// routeLines are the lines on which the objects of the top-level
// "routes" array start, in order.
func routeLines(data []byte) []int {
	dec := json.NewDecoder(bytes.NewReader(data))
	line := func() int { return 1 + bytes.Count(data[:dec.InputOffset()], []byte("\n")) }
	depth, inRoutes := 0, false
	var key string
	var out []int
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if inRoutes && depth == 2 && t == '{' {
					// The offset is past the '{': its line is the object's.
					out = append(out, line())
				}
				if depth == 1 && t == '[' && key == "routes" {
					inRoutes = true
				}
				depth++
			default:
				depth--
				if depth == 1 {
					inRoutes = false
				}
			}
			key = ""
		case string:
			if depth == 1 && key == "" && dec.More() {
				key = t
				continue
			}
			key = ""
		default:
			key = ""
		}
	}
}

// Findings runs the Go proxy's rules over every route to an https://
// upstream.
func (c *GoConfig) Findings() []Finding {
	var out []Finding
	add := func(rule string, r GoRoute, msg, fix string) {
		sev := Error
		for _, ru := range rules {
			if ru.ID == rule {
				sev = ru.Severity
			}
		}
		out = append(out, Finding{Rule: rule, Severity: sev, File: c.File, Line: r.Line, Message: msg, Fix: fix})
	}
	for _, r := range c.Routes {
		u, err := url.Parse(r.Upstream)
		if err != nil || u.Scheme != "https" {
			continue
		}
		who := fmt.Sprintf("route %s%s (upstream %s)", r.Host, routePath(r.Path), r.Upstream)
		name := u.Hostname()
		if IsIP(name) || strings.Contains(name, ":") {
			name = nameUnknown
		}
		switch mode := r.SNI; {
		case mode == "off":
			add("GOP001", r, who+" has \"sni\": \"off\": the proxy sends no SNI, and an upstream that routes by SNI refuses the handshake (502)",
				fmt.Sprintf("\"sni\": \"name:%s\" (or \"auto\" for the URL's host)", name))
		case (mode == "" || mode == "auto") && name == nameUnknown:
			add("GOP002", r, who+" names an IP address: crypto/tls sends no IP literal as SNI, so the proxy sends none, and an upstream that routes by SNI refuses the handshake (502)",
				"\"sni\": \"name:"+nameUnknown+"\"")
		case mode == "host-header":
			add("GOP003", r, who+" has \"sni\": \"host-header\": the SNI is the client's Host, right only if the upstream serves that name (none for an IP literal Host)",
				fmt.Sprintf("\"sni\": \"name:%s\" where the upstream serves its own name", name))
		}
		if sni := goSNI(r, u); sni != "" && goHostDiffers(r, sni) {
			add("GOP004", r, fmt.Sprintf("%s sends the Host %s but the SNI %q: an upstream that checks that both name one site answers 421", who, goHostText(r), sni),
				"send one name in both: \"host_header\": \"upstream\" (the URL's host), or \"sni\": \"host-header\" with \"host_header\": \"client\"")
		}
	}
	return out
}

// goSNI is the SNI a route sends when it is fixed by the configuration:
// the URL's host (auto, not an IP) or a name:NAME; "" when none or the
// client's.
func goSNI(r GoRoute, u *url.URL) string {
	switch {
	case r.SNI == "" || r.SNI == "auto":
		if h := u.Hostname(); !IsIP(h) && !strings.Contains(h, ":") {
			return strings.TrimSuffix(h, ".")
		}
	case strings.HasPrefix(r.SNI, "name:"):
		return strings.TrimPrefix(r.SNI, "name:")
	}
	return ""
}

// goHostDiffers reports whether the Host a route sends upstream can
// differ from sni: the client's, or a fixed other name.
func goHostDiffers(r GoRoute, sni string) bool {
	switch {
	case r.HostHeader == "client":
		return true
	case strings.HasPrefix(r.HostHeader, "value:"):
		host, _ := SplitHost(strings.TrimPrefix(r.HostHeader, "value:"))
		return !strings.EqualFold(host, sni)
	}
	return false
}

// goHostText names the Host a route sends, for messages.
func goHostText(r GoRoute) string {
	if r.HostHeader == "client" {
		return "of the client (\"host_header\": \"client\")"
	}
	return strings.TrimPrefix(r.HostHeader, "value:")
}

func routePath(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

// lint reads and judges each file.
func (goproxyDialect) lint(files []string, _ Options) (*Result, []string, error) {
	res := &Result{}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, &ConfigError{File: p, Msg: "cannot read: " + cause(err)}
		}
		c, err := ParseGoProxy(p, data)
		if err != nil {
			return nil, nil, err
		}
		res.Findings = append(res.Findings, c.Findings()...)
		res.Files = append(res.Files, p)
		for _, r := range c.Routes {
			if strings.HasPrefix(r.Upstream, "https://") {
				res.Upstreams++
			}
		}
	}
	return res, nil, nil
}
