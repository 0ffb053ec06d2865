package harness

import "regexp"

// caddyKind is Caddy from Debian's caddy package, configured with a
// Caddyfile. It logs JSON to stderr: its access log for the mark, and the
// proxy errors of every site (logger http.log.error).
var caddyKind = Kind{
	Name:       "caddy",
	Image:      "caddy",
	Releases:   []string{"bookworm", "forky"},
	ConfigPath: "/etc/sniproof/Caddyfile",
	Cmd:        []string{"caddy", "run", "--config", "/etc/sniproof/Caddyfile", "--adapter", "caddyfile"},
	VersionCmd: []string{"caddy", "version"},
	VersionRE:  regexp.MustCompile(`v?(\d+\.\d+\.\d+)`),
	TestCmd: func(path string) []string {
		return []string{"caddy", "validate", "--config", path, "--adapter", "caddyfile"}
	},
	// The access log line of the mark request, in JSON.
	Mark: func(token string) string { return `"uri":"` + MarkPath + token + `"` },
}
