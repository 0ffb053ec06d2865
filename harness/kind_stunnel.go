package harness

import "regexp"

// stunnelDir holds the rendered configuration and its further files.
const stunnelDir = "/etc/sniproof/"

// stunnelKind is stunnel from Debian's stunnel4 package, in client mode: a
// plain TCP port per case (stream cases only) wrapped into TLS to the
// case's upstream. stunnel never reads HTTP, so its health check and marks
// on 8080 take a detour through stunnel itself: a client-mode service
// wraps them into TLS with a pre-shared key to a server-mode service on
// loopback, whose program (mark.sh, bash) relays the request to the
// backend's mark listener, answers it and then writes the mark line to
// stderr, where stunnel (foreground = yes) logs too.
var stunnelKind = Kind{
	Name:       "stunnel",
	Image:      "stunnel",
	Releases:   []string{"trixie", "forky"},
	ConfigPath: stunnelDir + "stunnel.conf",
	Files: map[string]string{
		stunnelDir + "psk.txt": "psk.txt.tmpl",
		stunnelDir + "mark.sh": "mark.sh.tmpl",
	},
	Cmd:        []string{"stunnel", stunnelDir + "stunnel.conf"},
	VersionCmd: []string{"stunnel", "-version"},
	VersionRE:  regexp.MustCompile(`stunnel (\d+\.\d+(?:\.\d+)?) on `),
	Mark:       func(token string) string { return "__sniproof_mark " + MarkPath + token },
}
