package harness

import "regexp"

// nghttpxKind is nghttpx from Debian's nghttp2-proxy package. nghttpx's
// TLS options (--cacert, --insecure, --host-rewrite) are per process, not
// per backend, so its rendered configuration is a shell script: each case
// runs an nghttpx of its own on a loopback port, with the case's options
// and its one backend, and a router nghttpx on 8080 sends each case's Host
// there (plain HTTP/1.1, Host unchanged) and the health check and the marks
// to the backend's mark listener. Every process logs to stderr; the
// router's access log line of the mark comes once the mark is answered.
var nghttpxKind = Kind{
	Name:       "nghttpx",
	Image:      "nghttpx",
	Releases:   []string{"trixie", "forky"},
	ConfigPath: "/etc/sniproof/nghttpx.sh",
	Cmd:        []string{"bash", "/etc/sniproof/nghttpx.sh"},
	VersionCmd: []string{"nghttpx", "--version"},
	VersionRE:  regexp.MustCompile(`nghttp2/(\d+\.\d+\.\d+)`),
	// The router's accesslog-format starts with the request line.
	Mark: func(token string) string { return "nghttpx-router GET " + MarkPath + token + " " },
}
