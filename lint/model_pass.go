package lint

import "strings"

// NameUnknown stands for the upstream's host name in fixes when the
// configuration does not tell it.
const NameUnknown = nameUnknown

// TLSPass is a directive that proxies to a TLS upstream, as lint's rules
// recognise it: proxy_pass https://, grpc_pass grpcs://, uwsgi_pass
// suwsgi://, or a stream proxy_pass with proxy_ssl on.
type TLSPass struct {
	Node *Node
	// Prefix names its SSL directives: "proxy", "grpc" or "uwsgi".
	Prefix string
	Stream bool
	// HostPort is the upstream as written, scheme and URI stripped; Host
	// and Port are HostPort split as nginx splits it (Port "" when none).
	HostPort   string
	Host, Port string
	// Dynamic: HostPort has variables. Unix: it is a unix: socket.
	Dynamic, Unix bool
	// Upstream is the upstream {} block HostPort names, or nil.
	Upstream *Node
	// The SSL directives in effect for it, nil when not set anywhere.
	ServerName, SSLName, Verify, Trusted *Node
}

// TLSPasses returns every TLS pass of the tree, in file order.
func (t *Tree) TLSPasses() []TLSPass {
	c := newChecker(t.roots)
	var out []TLSPass
	for _, root := range t.roots {
		walk(root, func(d *directive) {
			p, ok := tlsPass(d)
			if !ok {
				return
			}
			tp := TLSPass{Node: t.nodes[d], Prefix: p.prefix, Stream: p.stream, HostPort: p.hostport,
				Dynamic: strings.Contains(p.hostport, "$"), Unix: strings.HasPrefix(strings.ToLower(p.hostport), "unix:")}
			tp.Host, tp.Port = splitHost(p.hostport)
			if !tp.Dynamic && !tp.Unix && tp.Port == "" {
				tp.Upstream = t.nodes[c.upstreams[p.module()+"/"+strings.ToLower(tp.Host)]]
			}
			b := d.parent
			tp.ServerName = t.nodes[lookup(b, p.prefix+"_ssl_server_name")]
			tp.SSLName = t.nodes[lookup(b, p.prefix+"_ssl_name")]
			tp.Verify = t.nodes[lookup(b, p.prefix+"_ssl_verify")]
			tp.Trusted = t.nodes[lookup(b, p.prefix+"_ssl_trusted_certificate")]
			out = append(out, tp)
		})
	}
	return out
}

// Upstreams returns the upstream {} blocks of the tree, in file order.
func (t *Tree) Upstreams() []*Node {
	var out []*Node
	t.Root.Walk(func(n *Node) {
		if n.Name == "upstream" && n.Block {
			out = append(out, n)
		}
	})
	return out
}

// SNI is the name lint predicts nginx sends as SNI for the pass, and
// whether it sends one; known is false when variables decide.
func (p TLSPass) SNI() (name string, sent, known bool) {
	if p.ServerName == nil || p.ServerName.Arg(0) != "on" {
		return "", false, true
	}
	value := p.HostPort
	switch {
	case p.SSLName != nil:
		value = p.SSLName.Arg(0)
	case p.Upstream != nil:
		value = p.Upstream.Arg(0)
	}
	if strings.Contains(value, "$") {
		return "", false, false
	}
	name, sent = sentName(value)
	return name, sent, true
}

// SplitHost splits host[:port] at the first colon, as nginx does, keeping a
// bracketed IPv6 address whole.
func SplitHost(s string) (host, port string) { return splitHost(s) }

// IsIP reports whether host is an IPv4 address or a bracketed IPv6 one.
func IsIP(host string) bool { return isIP(host) }

// SuspiciousName reports whether an upstream block's name is no host name
// an upstream would serve: it has no dot, or an underscore.
func SuspiciousName(name string) bool { return suspicious(name) }

// SuggestName is the name lint suggests for proxy_ssl_name for an upstream
// block: the host of its first server named by a host name, or
// NameUnknown.
func SuggestName(up *Node) string {
	if up == nil {
		return nameUnknown
	}
	return suggestName(up.d)
}
