package harness

import "regexp"

// haproxyKind is HAProxy from Debian's haproxy package. It runs in the
// foreground (-db) as one process, and its configuration sends every log
// line, requests and server state changes alike, to stdout.
var haproxyKind = Kind{
	Name:       "haproxy",
	Image:      "haproxy",
	Releases:   []string{"bookworm", "trixie"},
	ConfigPath: "/etc/sniproof/haproxy.cfg",
	Cmd:        []string{"haproxy", "-db", "-f", "/etc/sniproof/haproxy.cfg"},
	VersionCmd: []string{"haproxy", "-v"},
	VersionRE:  regexp.MustCompile(`HAProxy version (\d+\.\d+\.\d+)`),
	TestCmd:    func(path string) []string { return []string{"haproxy", "-c", "-f", path} },
	// The log-format of haproxy.conf.tmpl has the method and the path,
	// followed by a space, in every request's line.
	Mark: func(token string) string { return "GET " + MarkPath + token + " " },
}
