package harness

import "regexp"

// apacheKind is Apache httpd from Debian's apache2-bin package, with
// mod_proxy, mod_proxy_http and mod_ssl. Its configuration is
// self-contained (ServerRoot, PidFile, LoadModule, User, logs), so it needs
// neither /etc/apache2 nor the variables of /etc/apache2/envvars.
var apacheKind = Kind{
	Name:       "apache",
	Image:      "apache",
	Releases:   []string{"bookworm", "trixie", "forky"},
	ConfigPath: "/etc/sniproof/apache.conf",
	Cmd:        []string{"apache2", "-f", "/etc/sniproof/apache.conf", "-D", "FOREGROUND"},
	VersionCmd: []string{"apache2", "-v"},
	VersionRE:  regexp.MustCompile(`Apache/(\d+\.\d+\.\d+)`),
	TestCmd:    func(path string) []string { return []string{"apache2", "-t", "-f", path} },
	Mark:       func(token string) string { return "__sniproof_mark " + MarkPath + token },
}
