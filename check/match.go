package check

import (
	"regexp"
	"strings"

	"github.com/sniproof/sniproof/lint"
)

// serverFor is the server nginx picks for a request to port with this
// Host (ngx_http_find_virtual_server): an exact name, else the longest
// wildcard name starting with "*." (or ".name"), else the longest ending
// with ".*", else the first regular expression that matches, else the
// port's default_server, else its first server. Stream servers are picked
// by port alone.
func (p *Plan) serverFor(port int, host string, stream bool) *Server {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	var onPort []*Server
	var def *Server
	for _, s := range p.Servers {
		if s.Stream != stream {
			continue
		}
		for _, l := range s.Listens {
			if l.Port == port && !l.Unix {
				onPort = append(onPort, s)
				if l.Default && def == nil {
					def = s
				}
				break
			}
		}
	}
	if len(onPort) == 0 {
		return nil
	}
	if stream {
		return onPort[0]
	}
	var best *Server
	bestLen, bestKind := -1, 4
	for _, s := range onPort {
		for _, n := range s.Names {
			n = strings.ToLower(n)
			kind, length := 4, 0
			switch {
			case n == host:
				return s
			case strings.HasPrefix(n, "*.") && strings.HasSuffix(host, n[1:]):
				kind, length = 1, len(n)
			case strings.HasPrefix(n, ".") && (host == n[1:] || strings.HasSuffix(host, n)):
				kind, length = 1, len(n)
			case strings.HasSuffix(n, ".*") && strings.HasPrefix(host, n[:len(n)-1]):
				kind, length = 2, len(n)
			case strings.HasPrefix(n, "~"):
				if re, err := regexp.Compile(n[1:]); err == nil && re.MatchString(host) {
					kind = 3
				}
			}
			if kind < bestKind || (kind == bestKind && kind < 3 && length > bestLen) {
				best, bestKind, bestLen = s, kind, length
			}
		}
	}
	if best != nil {
		return best
	}
	if def != nil {
		return def
	}
	return onPort[0]
}

// locationFor is the location {} of block that nginx picks for uri
// (ngx_http_core_find_location), or nil when none matches: an exact "="
// match; else the longest prefix, refined by the locations inside it; a
// "^~" prefix stops there; else the first regular expression that matches,
// those inside the longest prefix first.
func locationFor(block *lint.Node, uri string) *lint.Node {
	loc, _ := findLocation(block, uri)
	return loc
}

func findLocation(block *lint.Node, uri string) (*lint.Node, bool) {
	var best *lint.Node
	bestLen := -1
	var regexps []*lint.Node
	for _, c := range block.Children {
		if c.Name != "location" || !c.Block {
			continue
		}
		mod, p := locationArgs(c)
		switch mod {
		case "=":
			if uri == p {
				return c, true
			}
		case "", "^~":
			if strings.HasPrefix(uri, p) && len(p) > bestLen {
				best, bestLen = c, len(p)
			}
		case "~", "~*":
			regexps = append(regexps, c)
		}
	}
	if best != nil {
		if inner, final := findLocation(best, uri); inner != nil {
			if final {
				return inner, true
			}
			best = inner
		}
		if mod, _ := locationArgs(best); mod == "^~" {
			return best, true
		}
	}
	for _, c := range regexps {
		mod, p := locationArgs(c)
		if mod == "~*" {
			p = "(?i)" + p
		}
		if re, err := regexp.Compile(p); err == nil && re.MatchString(uri) {
			return c, true
		}
	}
	return best, false
}

// locationArgs splits a location's arguments into its modifier ("", "=",
// "^~", "~", "~*" or "@" for a named location) and its path or pattern,
// whether or not a space separates them.
func locationArgs(n *lint.Node) (mod, p string) {
	if len(n.Args) >= 2 {
		return n.Args[0], n.Args[1]
	}
	a := n.Arg(0)
	for _, m := range []string{"=", "^~", "~*", "~", "@"} {
		if strings.HasPrefix(a, m) {
			return m, strings.TrimPrefix(a, m)
		}
	}
	return "", a
}
