package harness

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Kind says how to run one kind of proxy under test: its image, its
// configuration, its command line, and how the harness recognises its
// version and its synchronisation mark. Its configuration template is
// fixtures/NAME/NAME.conf.tmpl and its cases fixtures/NAME/cases.yaml.
//
// Every rendered configuration must serve GET /__sniproof/health with 200
// on port 8080, and proxy GET /__sniproof/mark/TOKEN (any Host) to the
// backend's plain mark listener, logging a line containing Mark(TOKEN) to
// the same stream as its error log, after that request is answered (for a
// kind with Pushes, once the pushes that follow it are logged).
type Kind struct {
	// Name is the proxy's name in reports and the fixtures folder.
	Name string
	// Image is the docker/ recipe of its Debian image; "" for kinds run
	// from the sniproof binary image.
	Image string
	// Releases are the Debian releases whose packages are under test, one
	// proxy version each; the binary image has the one release "sniproof".
	Releases []string
	// Series are, for kinds whose tools judge by version (sniproof lint
	// --release), the version series each release packages, "3.4" of
	// 3.4.7; every run checks a started proxy's version against it.
	Series map[string]string
	// ConfigPath is where the rendered configuration goes.
	ConfigPath string
	// Files are further configuration files, by path in the container:
	// templates under fixtures/NAME/, rendered with the same data as the
	// main template (for proxies whose configuration is several files).
	Files map[string]string
	// Cmd starts the proxy in the foreground, logging to stdout/stderr.
	Cmd []string
	// VersionCmd prints the version, which VersionRE's first group captures.
	VersionCmd []string
	VersionRE  *regexp.Regexp
	// TestCmd, when set, tests a configuration file at the given path, as
	// nginx -t does; it exits non-zero for a configuration the proxy refuses.
	TestCmd func(path string) []string
	// Ports are published ports beyond 8080, e.g. nginx's HTTP/2 port.
	Ports []string
	// Mark is the log line substring that the mark request for token makes.
	Mark func(token string) string
	// Pushes are, for a proxy that writes its log a full buffer at a time,
	// the paths of the requests (any Host) that the harness sends after each
	// mark, in order, so that their log lines fill the buffer holding the
	// mark's and the proxy writes it at once. Each starts with PushPath, which
	// the configuration proxies to the mark listener as it does the marks;
	// their lines belong to no case.
	Pushes []string
}

// kinds are the proxies the harness can run, by name; each is defined in
// its own kind_NAME.go.
var kinds = map[string]Kind{
	"nginx":         nginxKind,
	"haproxy":       haproxyKind,
	"squid":         squidKind,
	"squid-openssl": squidOpenSSLKind,
	"apache":        apacheKind,
	"caddy":         caddyKind,
	"goproxy":       goproxyKind,
	"h2o":           h2oKind,
	"trafficserver": trafficserverKind,
	"nghttpx":       nghttpxKind,
	"pound":         poundKind,
	"stunnel":       stunnelKind,
}

// CheckSeries says how a proxy of kind k from release, reporting
// version, disagrees with the kind's Series; "" when it agrees or the
// kind keeps none for the release.
func (k Kind) CheckSeries(release, version string) string {
	want, ok := k.Series[release]
	if !ok || version == want || strings.HasPrefix(version, want+".") {
		return ""
	}
	return fmt.Sprintf("%s from %s reports version %s, but its kind's Series says %s: update Series in harness/kind_%s.go", k.Name, release, version, want, k.Name)
}

// KindNames are the names of every kind, sorted.
func KindNames() []string {
	var names []string
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LookupKind returns the kind named name.
func LookupKind(name string) (Kind, error) {
	k, ok := kinds[name]
	if !ok {
		return Kind{}, fmt.Errorf("unknown proxy kind %q (known: %s)", name, strings.Join(KindNames(), ", "))
	}
	return k, nil
}
