package lint

import (
	"fmt"
	"net"
	"strings"
)

// nameUnknown stands for the host name the upstream serves in fixes, when
// the configuration does not tell it.
const nameUnknown = "<the upstream's host name>"

// checker runs the rules over the configurations of one run.
type checker struct {
	// upstreams are the upstream {} blocks, by module and lower-case name
	// ("http/backend"), as nginx matches proxy_pass hosts to them.
	upstreams map[string]*directive
	findings  []Finding
	seen      map[string]bool // findings reported, by rule and position
}

func newChecker(roots []*directive) *checker {
	c := &checker{upstreams: map[string]*directive{}, seen: map[string]bool{}}
	for _, root := range roots {
		walk(root, func(d *directive) {
			if d.name == "upstream" && d.block {
				c.upstreams[module(d)+"/"+strings.ToLower(d.arg(0))] = d
			}
		})
	}
	return c
}

// walk calls f for every directive under d, depth first, in file order.
func walk(d *directive, f func(*directive)) {
	for _, c := range d.children {
		f(c)
		walk(c, f)
	}
}

// module is "stream" for a directive inside stream {}, else "http": a site
// file without an http block holds http directives.
func module(d *directive) string {
	for p := d.parent; p != nil; p = p.parent {
		if p.name == "stream" {
			return "stream"
		}
	}
	return "http"
}

// lookup returns the directive named name in effect in block b: the first
// one in b or, failing that, in the nearest enclosing block; nil when none.
func lookup(b *directive, name string) *directive {
	for ; b != nil; b = b.parent {
		for _, c := range b.children {
			if c.name == name {
				return c
			}
		}
	}
	return nil
}

// lookupAll returns the directives named name in effect in block b, for
// array directives such as proxy_set_header: those of the nearest block
// that has any, since nginx inherits them only into a block with none.
func lookupAll(b *directive, name string) []*directive {
	for ; b != nil; b = b.parent {
		var ds []*directive
		for _, c := range b.children {
			if c.name == name {
				ds = append(ds, c)
			}
		}
		if len(ds) > 0 {
			return ds
		}
	}
	return nil
}

func (c *checker) report(rule string, at *directive, msg, fix string) {
	key := rule + "|" + at.pos()
	if c.seen[key] {
		return
	}
	c.seen[key] = true
	sev := Error
	for _, r := range rules {
		if r.ID == rule {
			sev = r.Severity
		}
	}
	c.findings = append(c.findings, Finding{Rule: rule, Severity: sev, File: at.file, Line: at.line, Message: msg, Fix: fix})
}

// check runs every rule over the configuration under root.
func (c *checker) check(root *directive) {
	walk(root, func(d *directive) {
		if p, ok := tlsPass(d); ok {
			c.checkPass(p)
		} else if p, ok := setPass(d); ok {
			c.checkPass(p)
		}
		switch d.name {
		case "proxy_ssl_name", "grpc_ssl_name", "uwsgi_ssl_name":
			c.checkSSLName(d)
		}
	})
}

// pass is a directive that proxies to a TLS upstream.
type pass struct {
	d *directive
	// prefix names its SSL directives: "proxy", "grpc" or "uwsgi".
	prefix string
	stream bool
	// hostport is the upstream as written, host[:port], scheme and URI
	// stripped.
	hostport string
}

// tlsPass reports whether d proxies to a TLS upstream: proxy_pass https://,
// grpc_pass grpcs://, uwsgi_pass suwsgi://, or a stream proxy_pass with
// proxy_ssl on.
func tlsPass(d *directive) (pass, bool) {
	target := d.arg(0)
	if module(d) == "stream" {
		if d.name != "proxy_pass" || !isOn(lookup(d.parent, "proxy_ssl")) {
			return pass{}, false
		}
		return pass{d: d, prefix: "proxy", stream: true, hostport: target}, true
	}
	s, ok := tlsSchemes[d.name]
	if !ok || len(target) < len(s.scheme) || !strings.EqualFold(target[:len(s.scheme)], s.scheme) {
		return pass{}, false
	}
	hostport, _, _ := strings.Cut(target[len(s.scheme):], "/")
	return pass{d: d, prefix: s.prefix, hostport: hostport}, true
}

// setPass reports whether d, an http pass whose whole URL is a variable
// (proxy_pass $up), proxies to a TLS upstream by the literal URL an
// unconditional set gives that variable in d's block or one around it,
// the innermost winning, as nginx evaluates it: set $up
// https://search.internal; proxy_pass $up;. The pass's host is that URL's.
func setPass(d *directive) (pass, bool) {
	s, ok := tlsSchemes[d.name]
	name, rest, _ := strings.Cut(strings.TrimPrefix(d.arg(0), "$"), "/")
	if !ok || module(d) != "http" || !strings.HasPrefix(d.arg(0), "$") || name == "" || strings.ContainsAny(name, "${}") {
		return pass{}, false
	}
	for b := d.parent; b != nil; b = b.parent {
		var value string
		for _, c := range b.children {
			if c.name == "set" && c.arg(0) == "$"+name {
				value = c.arg(1)
			}
		}
		if value == "" {
			continue
		}
		url := value
		if rest != "" {
			url += "/" + rest
		}
		if strings.Contains(url, "$") || len(url) < len(s.scheme) || !strings.EqualFold(url[:len(s.scheme)], s.scheme) {
			return pass{}, false
		}
		hostport, _, _ := strings.Cut(url[len(s.scheme):], "/")
		return pass{d: d, prefix: s.prefix, hostport: hostport}, true
	}
	return pass{}, false
}

// tlsSchemes are the http module's pass directives that can speak TLS, with
// the URL scheme that makes them do so and the prefix of their SSL
// directives.
var tlsSchemes = map[string]struct{ scheme, prefix string }{
	"proxy_pass": {"https://", "proxy"},
	"grpc_pass":  {"grpcs://", "grpc"},
	"uwsgi_pass": {"suwsgi://", "uwsgi"},
}

func isOn(d *directive) bool { return d != nil && d.arg(0) == "on" }

// module is the pass's module: "http" or "stream".
func (p pass) module() string {
	if p.stream {
		return "stream"
	}
	return "http"
}

// describe names the pass in messages.
func (p pass) describe() string {
	if p.stream {
		return fmt.Sprintf("stream proxy_pass %s with proxy_ssl on", p.d.arg(0))
	}
	return p.d.name + " " + p.d.arg(0)
}

// checkPass runs the rules about one TLS upstream: SNI001 to SNI005.
func (c *checker) checkPass(p pass) {
	b := p.d.parent
	serverName := lookup(b, p.prefix+"_ssl_server_name")
	sslName := lookup(b, p.prefix+"_ssl_name")
	dynamic := strings.Contains(p.hostport, "$")
	unix := strings.HasPrefix(strings.ToLower(p.hostport), "unix:")
	host, port := splitHost(p.hostport)
	var up *directive
	if !dynamic && !unix && port == "" {
		up = c.upstreams[p.module()+"/"+strings.ToLower(host)]
	}
	// badDefault: even with the server name on, nginx would send no name,
	// or a block name no upstream serves, unless told proxy_ssl_name.
	badDefault := !dynamic && !unix && sslName == nil && (isIP(host) || (up != nil && suspicious(up.arg(0))))
	fail := "nginx answers 502"
	if p.stream {
		fail = "nginx closes the client's connection"
	}

	c.checkVerify(p)
	if !isOn(serverName) {
		why := p.prefix + "_ssl_server_name is off by default"
		fix := fmt.Sprintf("add `%s_ssl_server_name on;` next to this %s (or in its server or %s block)", p.prefix, p.d.name, p.module())
		if serverName != nil {
			why = fmt.Sprintf("%s_ssl_server_name is off at %s", p.prefix, serverName.pos())
			fix = fmt.Sprintf("turn %s_ssl_server_name on at %s, or add `%s_ssl_server_name on;` next to this %s", p.prefix, serverName.pos(), p.prefix, p.d.name)
		}
		if badDefault {
			fix += fmt.Sprintf(", with `%s_ssl_name %s;`", p.prefix, suggestName(up))
		}
		c.report("SNI001", p.d, fmt.Sprintf("%s sends no SNI: %s; an upstream that routes by SNI refuses the handshake and %s", p.describe(), why, fail), fix)
		return
	}
	switch {
	case badDefault && up != nil:
		c.report("SNI002", p.d, fmt.Sprintf("%s sends the upstream block's name %q as SNI, as %s_ssl_name defaults to it; an upstream that routes by SNI refuses that name and %s",
			p.describe(), up.arg(0), p.prefix, fail),
			fmt.Sprintf("add `%s_ssl_name %s;` next to this %s", p.prefix, suggestName(up), p.d.name))
	case badDefault:
		c.report("SNI003", p.d, fmt.Sprintf("%s names an IP address, so nginx sends no SNI even with %s_ssl_server_name on (RFC 6066 forbids IP literals); an upstream that routes by SNI refuses the handshake and %s",
			p.describe(), p.prefix, fail),
			fmt.Sprintf("add `%s_ssl_name %s;` next to this %s", p.prefix, nameUnknown, p.d.name))
	}
	if p.prefix == "proxy" && !p.stream {
		c.checkHost(p, sslName, up)
	}
}

// checkVerify reports SNI004: verification on without a CA to verify with.
func (c *checker) checkVerify(p pass) {
	verify := lookup(p.d.parent, p.prefix+"_ssl_verify")
	if !isOn(verify) || lookup(p.d.parent, p.prefix+"_ssl_trusted_certificate") != nil {
		return
	}
	c.report("SNI004", verify, fmt.Sprintf("%s_ssl_verify on has no %s_ssl_trusted_certificate in scope of %s at %s: nginx refuses to start with \"no %s_ssl_trusted_certificate for %s_ssl_verify\"",
		p.prefix, p.prefix, p.describe(), p.d.pos(), p.prefix, p.prefix),
		fmt.Sprintf("add `%s_ssl_trusted_certificate FILE;` next to it, FILE holding the CA that issued the upstream's certificate (/etc/ssl/certs/ca-certificates.crt for public CAs)", p.prefix))
}

// checkHost reports SNI005: a Host header set to another name than the SNI.
func (c *checker) checkHost(p pass, sslName, up *directive) {
	var hostHeader *directive
	for _, h := range lookupAll(p.d.parent, "proxy_set_header") {
		if strings.EqualFold(h.arg(0), "Host") {
			hostHeader = h
		}
	}
	if hostHeader == nil {
		return
	}
	source, value := "the proxy_pass host", p.hostport
	switch {
	case sslName != nil:
		source, value = "proxy_ssl_name at "+sslName.pos(), sslName.arg(0)
	case up != nil:
		source, value = "the upstream block's name", up.arg(0)
	}
	sni, sent := sentName(value)
	if !sent {
		return
	}
	host := hostHeader.arg(1)
	if comparable(host, p.hostport) == comparable(sni, p.hostport) {
		return
	}
	fix := fmt.Sprintf("send one name in both: `proxy_ssl_name %s;` makes the SNI follow the Host", host)
	if sslName != nil || up == nil || !suspicious(up.arg(0)) {
		fix += ", or set Host to " + sni
	}
	c.report("SNI005", hostHeader, fmt.Sprintf("proxy_set_header Host %s differs from the SNI %s (%s) sent to %s: an upstream that checks both answers 421 Misdirected Request",
		host, sni, source, p.d.arg(0)), fix)
}

// comparable normalises a Host or SNI value for comparison: $proxy_host
// becomes the proxy_pass host, $http_host becomes $host, and the port and
// letter case go.
func comparable(v, proxyHost string) string {
	v = strings.ReplaceAll(v, "$proxy_host", proxyHost)
	v = strings.ReplaceAll(v, "$http_host", "$host")
	name, _ := sentName(v)
	return strings.ToLower(name)
}

// checkSSLName reports SNI006: a proxy_ssl_name that nginx mangles or drops.
func (c *checker) checkSSLName(d *directive) {
	v := d.arg(0)
	if strings.Contains(v, "$") {
		return
	}
	name, _ := sentName(v)
	fix := fmt.Sprintf("`%s %s;`, a DNS name the upstream serves", d.name, nameUnknown)
	var msg string
	switch {
	case v == "":
		msg = "is empty: nginx sends no SNI"
	case strings.HasPrefix(v, "["):
		msg = "is a bracketed IPv6 address: nginx sends no SNI (RFC 6066 forbids IP literals)"
	case strings.Count(v, ":") > 1:
		msg = fmt.Sprintf("is a bare IPv6 address: nginx cuts it at the first colon, as if a port followed, and sends %q as SNI", name)
	case isIP(name):
		msg = "is an IPv4 address: nginx sends no SNI (RFC 6066 forbids IP literals)"
	case strings.HasSuffix(name, "."):
		msg = fmt.Sprintf("ends in a dot: nginx sends %q as SNI, dot included, which upstreams that match names exactly refuse", name)
		fix = fmt.Sprintf("`%s %s;`", d.name, strings.TrimSuffix(name, "."))
	default:
		return
	}
	c.report("SNI006", d, fmt.Sprintf("%s %q %s", d.name, v, msg), fix)
}

// splitHost splits host[:port] at the first colon, as nginx does, keeping a
// bracketed IPv6 address whole.
func splitHost(s string) (host, port string) {
	if strings.HasPrefix(s, "[") {
		if i := strings.IndexByte(s, ']'); i >= 0 {
			return s[:i+1], strings.TrimPrefix(s[i+1:], ":")
		}
	}
	host, port, _ = strings.Cut(s, ":")
	return host, port
}

// sentName is the SNI nginx sends for a name (proxy_ssl_name's value, or
// the proxy_pass host) with *_ssl_server_name on, and whether it sends one
// (ngx_http_upstream_ssl_name): it cuts the name at the first colon after
// any bracketed part, and sends nothing for an empty name, a name starting
// with '[' or an IPv4 address.
func sentName(v string) (string, bool) {
	name, _ := splitHost(v)
	return name, name != "" && name[0] != '[' && !isIP(name)
}

// isIP reports whether host is an IPv4 address or a bracketed IPv6 one.
func isIP(host string) bool {
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		return net.ParseIP(host[1:len(host)-1]) != nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.To4() != nil
}

// suspicious reports whether an upstream block's name is no host name an
// upstream would serve: it has no dot, or an underscore.
func suspicious(name string) bool {
	return !strings.Contains(name, ".") || strings.Contains(name, "_")
}

// suggestName is the name to put in proxy_ssl_name for an upstream block:
// the host of its first server named by a host name, or nameUnknown.
func suggestName(up *directive) string {
	if up == nil {
		return nameUnknown
	}
	for _, s := range up.children {
		if s.name != "server" {
			continue
		}
		host, _ := splitHost(s.arg(0))
		if host != "" && !strings.HasPrefix(s.arg(0), "unix:") && net.ParseIP(strings.Trim(host, "[]")) == nil {
			return host
		}
	}
	return nameUnknown
}
