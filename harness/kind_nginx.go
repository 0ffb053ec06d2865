package harness

import "regexp"

// nginxKind is nginx from Debian's nginx package, with the stream module.
var nginxKind = Kind{
	Name:     "nginx",
	Image:    "nginx",
	Releases: []string{"bookworm", "trixie", "forky"},
	// Series lets a case refuse a directive on older versions only
	// (a config_error override; see refuses in proxystack.go).
	Series: map[string]string{"bookworm": "1.22", "trixie": "1.26", "forky": "1.30"},
	// -c lets any image with nginx on its PATH run our configuration.
	ConfigPath: "/etc/sniproof/nginx.conf",
	Cmd:        []string{"nginx", "-c", "/etc/sniproof/nginx.conf", "-g", "daemon off;"},
	VersionCmd: []string{"nginx", "-v"},
	VersionRE:  regexp.MustCompile(`nginx/(\d+\.\d+\.\d+)`),
	TestCmd:    func(path string) []string { return []string{"nginx", "-t", "-c", path} },
	Ports:      []string{GRPCPort},
	Mark:       func(token string) string { return "__sniproof_mark " + MarkPath + token },
}
