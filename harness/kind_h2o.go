package harness

import "regexp"

// h2oKind is h2o from Debian's h2o package. Its errors go to stderr, and the
// mark path's access log writes the mark lines there too.
var h2oKind = Kind{
	Name:       "h2o",
	Image:      "h2o",
	Releases:   []string{"bookworm"},
	ConfigPath: "/etc/sniproof/h2o.conf",
	// -m worker: one process in the foreground, no master or daemon.
	Cmd:        []string{"h2o", "-m", "worker", "-c", "/etc/sniproof/h2o.conf"},
	VersionCmd: []string{"h2o", "--version"},
	VersionRE:  regexp.MustCompile(`h2o version (\d+\.\d+\.\d+)`),
	TestCmd:    func(path string) []string { return []string{"h2o", "-t", "-c", path} },
	Mark:       func(token string) string { return "__sniproof_mark " + MarkPath + token },
}
