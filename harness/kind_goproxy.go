package harness

import "regexp"

// goproxyKind is the bundled Go reverse proxy (sniproof proxy), run from the
// sniproof binary image; its version is the Go version it was built with.
var goproxyKind = Kind{
	Name:       "goproxy",
	Releases:   []string{"bundled"},
	ConfigPath: "/etc/sniproof/goproxy.json",
	Cmd:        []string{"proxy", "--config", "/etc/sniproof/goproxy.json"},
	VersionCmd: []string{"/sniproof", "version"},
	VersionRE:  regexp.MustCompile(`go(\d+\.\d+(?:\.\d+)?)`),
	TestCmd:    func(path string) []string { return []string{"/sniproof", "proxy", "--test", "--config", path} },
	Mark:       func(token string) string { return "path=" + MarkPath + token + " " },
}
