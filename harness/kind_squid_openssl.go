package harness

import "regexp"

// squidOpenSSLKind is Squid from Debian's squid-openssl package, the same
// Squid built with OpenSSL, which sends SNI to TLS cache_peers.
var squidOpenSSLKind = Kind{
	Name:       "squid-openssl",
	Image:      "squid-openssl",
	Releases:   []string{"bookworm", "trixie", "forky"},
	ConfigPath: "/etc/sniproof/squid-openssl.conf",
	Cmd:        squidCmd("/etc/sniproof/squid-openssl.conf"),
	VersionCmd: []string{"squid", "-v"},
	VersionRE:  regexp.MustCompile(`Squid Cache: Version (\d+\.\d+(?:\.\d+)?)`),
	TestCmd:    func(path string) []string { return []string{"squid", "-k", "parse", "-f", path} },
	Mark:       squidMark,
}
