package harness

import "regexp"

// poundKind is pound from Debian's pound package: one Service per case,
// chosen by the request's Host, in one HTTP listener on 8080. It runs in
// the foreground (-F) and logs to the standard streams (LogFacility -):
// errors to stderr, request lines (a LogFormat of the template) to stdout,
// which is a pipe and so fully buffered by stdio: a request line would stay
// in pound's buffer until 4 KiB of them came. stdbuf (coreutils) makes
// stdout line-buffered, and both streams are one, so that they stay in order.
var poundKind = Kind{
	Name:       "pound",
	Image:      "pound",
	Releases:   []string{"trixie", "forky"},
	ConfigPath: "/etc/sniproof/pound.cfg",
	Cmd:        []string{"sh", "-c", "exec stdbuf -oL pound -F -f /etc/sniproof/pound.cfg 2>&1"},
	VersionCmd: []string{"pound", "-V"},
	VersionRE:  regexp.MustCompile(`pound \(pound\) (\d+\.\d+(?:\.\d+)?)`),
	TestCmd:    func(path string) []string { return []string{"pound", "-c", "-f", path} },
	// The template's LogFormat starts with the request line.
	Mark: func(token string) string { return "pound-request GET " + MarkPath + token + " " },
}
