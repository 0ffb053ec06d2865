package harness

import "regexp"

// haproxyKind is HAProxy from Debian's haproxy package. It runs in the
// foreground (-db) as one process, and its configuration sends every log
// line, requests and server state changes alike, to stdout. The releases
// give HAProxy 2.6 (bookworm), 3.0 (trixie), 3.2 (forky) and 3.4
// (experimental, on a sid base).
var haproxyKind = Kind{
	Name:       "haproxy",
	Image:      "haproxy",
	Releases:   []string{"bookworm", "trixie", "forky", "experimental"},
	Series:     map[string]string{"bookworm": "2.6", "trixie": "3.0", "forky": "3.2", "experimental": "3.4"},
	ConfigPath: "/etc/sniproof/haproxy.cfg",
	Cmd:        []string{"haproxy", "-db", "-f", "/etc/sniproof/haproxy.cfg"},
	VersionCmd: []string{"haproxy", "-v"},
	VersionRE:  regexp.MustCompile(`HAProxy version (\d+\.\d+\.\d+)`),
	TestCmd:    func(path string) []string { return []string{"haproxy", "-c", "-f", path} },
	// The log-format of haproxy.conf.tmpl has the method and the path,
	// followed by a space, in every request's line.
	Mark: func(token string) string { return "GET " + MarkPath + token + " " },
}
