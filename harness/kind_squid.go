package harness

import "regexp"

// squidCmd starts Squid in the foreground (-N). Squid drops root for its
// cache_effective_user (proxy) before it opens its logs, and the container's
// stdout and stderr are pipes that only root may open: the shell first lets
// every user open them, so that cache_log and access_log can be /dev/stderr.
func squidCmd(conf string) []string {
	return []string{"sh", "-c", "chmod 0666 /proc/self/fd/1 /proc/self/fd/2 && exec squid -N -f " + conf}
}

// squidMark is the access log line of the mark request (logformat
// sniproof_mark in the template), written once it is answered.
func squidMark(token string) string { return "__sniproof_mark " + MarkPath + token }

// squidKind is Squid from Debian's squid package, built with GnuTLS: as a
// reverse proxy with one TLS cache_peer per case.
var squidKind = Kind{
	Name:       "squid",
	Image:      "squid",
	Releases:   []string{"bookworm", "trixie", "forky"},
	ConfigPath: "/etc/sniproof/squid.conf",
	Cmd:        squidCmd("/etc/sniproof/squid.conf"),
	VersionCmd: []string{"squid", "-v"},
	VersionRE:  regexp.MustCompile(`Squid Cache: Version (\d+\.\d+(?:\.\d+)?)`),
	TestCmd:    func(path string) []string { return []string{"squid", "-k", "parse", "-f", path} },
	Mark:       squidMark,
}
