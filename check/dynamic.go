package check

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/sniproof/sniproof/lint"
)

// variable is an nginx variable in a URL: $name or ${name}.
var variable = regexp.MustCompile(`\$(?:\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))`)

// resolveURL gives a pass whose URL has variables (proxy_pass $up,
// proxy_pass https://$backend/) the URL nginx builds at run time, from the
// literal values the configuration sets: the innermost `set $name VALUE`
// of the blocks around the pass (not one inside an if), else the default
// of a `map ... $name` block. It returns the URL and the directives that
// gave it, or why it cannot.
func resolveURL(pass *lint.Node, maps map[string]*lint.Node) (string, []*lint.Node, string) {
	url := pass.Arg(0)
	var from []*lint.Node
	var why string
	out := variable.ReplaceAllStringFunc(url, func(v string) string {
		m := variable.FindStringSubmatch(v)
		name := m[1] + m[2]
		value, at, ok := setValue(pass, name, maps)
		switch {
		case !ok && why == "":
			why = fmt.Sprintf("$%s is set by no `set` or `map` default check can read", name)
		case ok && strings.Contains(value, "$") && why == "":
			why = fmt.Sprintf("$%s is set to %q (%s), which has variables itself", name, value, at.Pos())
		case ok:
			from = append(from, at)
		}
		return value
	})
	if why != "" {
		return "", nil, why
	}
	return out, from, ""
}

// setValue is the literal value a variable has where pass runs: its
// innermost unconditional set, else its map's default.
func setValue(pass *lint.Node, name string, maps map[string]*lint.Node) (string, *lint.Node, bool) {
	for b := pass.Parent; b != nil; b = b.Parent {
		var last *lint.Node
		for _, c := range b.Children {
			if c.Name == "set" && c.Arg(0) == "$"+name {
				last = c
			}
		}
		if last != nil {
			return last.Arg(1), last, true
		}
	}
	if m := maps[name]; m != nil {
		for _, c := range m.Children {
			if c.Name == "default" {
				return c.Arg(0), c, true
			}
		}
	}
	return "", nil, false
}

// mapBlocks are the http {} map blocks by the variable they set.
func mapBlocks(t *lint.Tree) map[string]*lint.Node {
	out := map[string]*lint.Node{}
	t.Root.Walk(func(n *lint.Node) {
		if n.Name == "map" && n.Block && n.Module() == "http" {
			out[strings.TrimPrefix(n.Arg(1), "$")] = n
		}
	})
	return out
}

// resolvePass makes a pass with variables concrete where the
// configuration's literals tell its URL: its scheme, host and port, and
// the notes saying so; a URL that speaks plain HTTP leaves it not
// checked, with the reason.
func resolvePass(ps *Pass, maps map[string]*lint.Node) {
	url, from, why := resolveURL(ps.Node, maps)
	if why != "" {
		ps.Unresolved = why
		return
	}
	var at []string
	for _, n := range from {
		at = append(at, fmt.Sprintf("%s %s at %s", n.Name, strings.Join(n.Args, " "), n.Pos()))
	}
	ps.Resolved = fmt.Sprintf("%s (%s)", url, strings.Join(at, "; "))
	scheme, rest, ok := strings.Cut(url, "://")
	tls := map[string]string{"proxy_pass": "https", "grpc_pass": "grpcs", "uwsgi_pass": "suwsgi"}[ps.Node.Name]
	if !ok || !strings.EqualFold(scheme, tls) {
		ps.Unresolved = fmt.Sprintf("%s resolves to %s: no TLS to the upstream, so no SNI to check", ps.Directive(), ps.Resolved)
		return
	}
	hostport, _, _ := strings.Cut(rest, "/")
	ps.HostPort = hostport
	ps.Host, ps.Port = lint.SplitHost(hostport)
	ps.Dynamic, ps.SchemeUnknown = false, false
}

// resolvers are the addresses of the resolver directives, as host:port.
func resolvers(t *lint.Tree) []netip.AddrPort {
	var out []netip.AddrPort
	seen := map[netip.AddrPort]bool{}
	t.Root.Walk(func(n *lint.Node) {
		if n.Name != "resolver" {
			return
		}
		for _, a := range n.Args {
			if strings.Contains(a, "=") {
				continue
			}
			ap, err := netip.ParseAddrPort(a)
			if err != nil {
				addr, aerr := netip.ParseAddr(strings.Trim(a, "[]"))
				if aerr != nil {
					continue
				}
				ap = netip.AddrPortFrom(addr, 53)
			}
			if !seen[ap] {
				seen[ap] = true
				out = append(out, ap)
			}
		}
	})
	return out
}

// mapBranches are, for a pass with variables whose URL takes a variable
// from a map {} block (no unconditional set giving it), the map's
// variable and the URL of each of its entries other than the default:
// what a request whose header or Host the map reads (an --expect
// request's headers) makes nginx request instead. Entries whose value
// has variables, and maps other variables of the URL cannot be read
// for, are left out.
func mapBranches(pass *lint.Node, maps map[string]*lint.Node) (string, []string) {
	url := pass.Arg(0)
	mapVar := ""
	for _, m := range variable.FindAllStringSubmatch(url, -1) {
		name := m[1] + m[2]
		if _, at, ok := setValue(pass, name, maps); ok && at.Name != "set" {
			mapVar = name
			break
		}
	}
	if mapVar == "" {
		return "", nil
	}
	var out []string
	for _, entry := range maps[mapVar].Children {
		if slices.Contains([]string{"default", "hostnames", "volatile", "include"}, entry.Name) || len(entry.Args) != 1 || strings.Contains(entry.Arg(0), "$") {
			continue
		}
		ok := true
		branch := variable.ReplaceAllStringFunc(url, func(v string) string {
			m := variable.FindStringSubmatch(v)
			if name := m[1] + m[2]; name != mapVar {
				value, _, found := setValue(pass, name, maps)
				ok = ok && found && !strings.Contains(value, "$")
				return value
			}
			return entry.Arg(0)
		})
		if ok && !slices.Contains(out, branch) {
			out = append(out, branch)
		}
	}
	return mapVar, out
}

// addBranches makes every other branch of the map a resolved pass takes
// its URL from an upstream of the pass too: its targets are impersonated,
// so that a request choosing a branch (--expect headers) is attributed to
// the upstream it reached, and a note names them.
func addBranches(ps *Pass, maps map[string]*lint.Node, upstreams map[string]*lint.Node) (notes []string) {
	if ps.Unresolved != "" || ps.Resolved == "" {
		return nil
	}
	mapVar, branches := mapBranches(ps.Node, maps)
	var hosts []string
	for _, url := range branches {
		scheme, rest, ok := strings.Cut(url, "://")
		if !ok || !strings.EqualFold(scheme, ps.Prefix) && !strings.EqualFold(scheme, map[string]string{"proxy": "https", "grpc": "grpcs", "uwsgi": "suwsgi"}[ps.Prefix]) {
			continue
		}
		hostport, _, _ := strings.Cut(rest, "/")
		tp := ps.TLSPass
		tp.HostPort, tp.Dynamic = hostport, false
		tp.Host, tp.Port = lint.SplitHost(hostport)
		tp.Upstream = nil
		if tp.Port == "" {
			tp.Upstream = upstreams[ps.Node.Module()+"/"+strings.ToLower(tp.Host)]
		}
		for _, t := range targets(tp) {
			if !slices.ContainsFunc(ps.Targets, func(o Target) bool { return o.Host == t.Host && o.Port == t.Port && o.Socket == t.Socket }) {
				ps.Targets = append(ps.Targets, t)
			}
		}
		hosts = append(hosts, hostport)
	}
	if len(hosts) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%s (%s): the other branches of map $%s, %s, are impersonated too: an expectations entry's request.headers choose one (--expect)",
		ps.Directive(), ps.Node.Pos(), mapVar, strings.Join(hosts, ", "))}
}
