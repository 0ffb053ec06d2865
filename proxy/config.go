package proxy

import (
	"cmp"
	"errors"
	"fmt"
	"github.com/sniproof/sniproof/internal/jsonfile"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config is the whole proxy: its frontends, their certificates, the
// upstream timeouts and the routes.
type Config struct {
	// HTTP is the plain HTTP frontend's listen address, such as ":8080";
	// "" means none.
	HTTP string `json:"http"`
	// HTTPS is the HTTPS frontend's listen address, such as ":8443"; ""
	// means none. It needs Certificates.
	HTTPS string `json:"https"`
	// Certificates are the HTTPS frontend's certificates. crypto/tls picks
	// the first whose names match the client's SNI, else the first one.
	Certificates []Certificate `json:"certificates"`
	Timeouts     Timeouts      `json:"timeouts"`
	Routes       []Route       `json:"routes"`
}

// Certificate names the PEM files of one frontend certificate. Relative
// paths are relative to the working directory.
type Certificate struct {
	// Cert is the leaf certificate followed by its intermediates.
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// Timeouts bound the work of the proxy, as Go durations such as "5s".
// Those left empty take their default.
type Timeouts struct {
	// Dial bounds connecting to an upstream. Default 5s.
	Dial string `json:"dial"`
	// TLSHandshake bounds the TLS handshake with an upstream. Default 5s.
	TLSHandshake string `json:"tls_handshake"`
	// ResponseHeader bounds the wait for an upstream's response header once
	// the request is sent. Default 10s.
	ResponseHeader string `json:"response_header"`
	// Idle is how long an idle keep-alive connection is kept, with clients
	// and with upstreams alike. Default 60s.
	Idle string `json:"idle"`
}

// Route sends the requests for a host and path prefix to one upstream.
type Route struct {
	// Host is the Host header the route serves, matched without its port
	// and case-insensitively; "*" serves any host that no other route
	// serves.
	Host string `json:"host"`
	// Path is a path prefix, "/" when empty. Among the routes of a host,
	// the longest prefix of the request path wins; routes of "*" are tried
	// only when no route of the request's own host matches.
	Path string `json:"path"`
	// Upstream is an http:// or https:// URL. Its path, if any, is put in
	// front of the request path; the request path is kept whole.
	Upstream string `json:"upstream"`
	// Dial is an optional host:port to connect to instead of the upstream
	// URL's host and port. The URL's host still decides the SNI, the name
	// verified and the Host header, so tests can reach a named upstream on
	// 127.0.0.1 without a resolver.
	Dial string `json:"dial"`
	// SNI chooses the server name sent to an https upstream: "auto" (the
	// default) sends the URL's host, "off" sends none, "host-header" sends
	// the client's Host header without its port, and "name:NAME" sends
	// NAME. IP literals are never sent and trailing dots are dropped, as
	// crypto/tls does. Unused for http:// upstreams.
	SNI string `json:"sni"`
	// Verify is required for an https upstream, and unused for http://
	// ones. "off" accepts any certificate; anything else is the path of a
	// PEM bundle of the only CAs trusted (relative to the working
	// directory), and the certificate must match the SNI name sent, or the
	// URL's host when none is sent (an IP host is checked against IP SANs).
	Verify string `json:"verify"`
	// HostHeader chooses the Host header sent upstream: "upstream" (the
	// default) is the URL's host as written, port included; "client" is the
	// client's Host header; "value:NAME" is NAME.
	HostHeader string `json:"host_header"`
}

// name labels the route in logs and errors: host and path, such as
// "www.shop.test/" or "*/api".
func (r *Route) name() string {
	return r.Host + cmp.Or(r.Path, "/")
}

// The values of Route.SNI, Route.Verify and Route.HostHeader.
const (
	sniAuto       = "auto"
	sniOff        = "off"
	sniHostHeader = "host-header"
	sniNamePrefix = "name:"

	verifyOff = "off"

	hostUpstream    = "upstream"
	hostClient      = "client"
	hostValuePrefix = "value:"
)

// Default timeouts.
const (
	defaultDial           = 5 * time.Second
	defaultTLSHandshake   = 5 * time.Second
	defaultResponseHeader = 10 * time.Second
	defaultIdle           = 60 * time.Second
)

// LoadConfig reads a JSON config file and validates it. Unknown fields are
// errors. Syntax and type errors name the file, line and column; other
// errors name the file and the field or route. It reads no other file:
// certificates and CA bundles are read by New.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig decodes and validates data, read from the file name, as
// LoadConfig does.
func ParseConfig(name string, data []byte) (*Config, error) {
	cfg, err := decodeConfig(name, data)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
}

// decodeConfig decodes data, read from the file name, strictly.
func decodeConfig(name string, data []byte) (*Config, error) {
	var cfg Config
	if err := jsonfile.Decode(name, data, &cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// Validate checks that c can be served, without reading any file: there is
// at least one frontend and one route; an HTTPS frontend has certificates
// and only it has; timeouts are positive durations; routes are unique by
// host and path, and each has a known SNI mode, Host header mode and
// verification, and an upstream URL with a scheme and host only (a path is
// allowed).
func (c *Config) Validate() error {
	if c.HTTP == "" && c.HTTPS == "" {
		return errors.New("http, https: at least one frontend address required")
	}
	if c.HTTPS != "" && len(c.Certificates) == 0 {
		return errors.New("certificates: at least one required for https")
	}
	if c.HTTPS == "" && len(c.Certificates) > 0 {
		return errors.New("certificates: set, but there is no https frontend")
	}
	for i, cert := range c.Certificates {
		if cert.Cert == "" || cert.Key == "" {
			return fmt.Errorf("certificates[%d]: cert and key required", i)
		}
	}
	if _, err := c.Timeouts.parse(); err != nil {
		return err
	}
	if len(c.Routes) == 0 {
		return errors.New("routes: at least one required")
	}
	seen := make(map[string]bool, len(c.Routes))
	for i := range c.Routes {
		r := &c.Routes[i]
		if r.Host == "" {
			return fmt.Errorf("routes[%d]: host required", i)
		}
		if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
			return fmt.Errorf("routes[%d]: path: got %q, expected a prefix starting with /", i, r.Path)
		}
		key := strings.ToLower(r.Host) + cmp.Or(r.Path, "/")
		if seen[key] {
			return fmt.Errorf("route %s: duplicate host and path", r.name())
		}
		seen[key] = true
		if err := r.validate(); err != nil {
			return fmt.Errorf("route %s: %w", r.name(), err)
		}
	}
	return nil
}

// timeouts are Timeouts parsed, defaults applied.
type timeouts struct {
	dial, tlsHandshake, responseHeader, idle time.Duration
}

func (t Timeouts) parse() (timeouts, error) {
	var out timeouts
	for _, f := range []struct {
		field string
		value string
		def   time.Duration
		dst   *time.Duration
	}{
		{"dial", t.Dial, defaultDial, &out.dial},
		{"tls_handshake", t.TLSHandshake, defaultTLSHandshake, &out.tlsHandshake},
		{"response_header", t.ResponseHeader, defaultResponseHeader, &out.responseHeader},
		{"idle", t.Idle, defaultIdle, &out.idle},
	} {
		if f.value == "" {
			*f.dst = f.def
			continue
		}
		d, err := time.ParseDuration(f.value)
		if err != nil || d <= 0 {
			return timeouts{}, fmt.Errorf("timeouts.%s: got %q, expected a positive duration such as \"5s\"", f.field, f.value)
		}
		*f.dst = d
	}
	return out, nil
}

func (r *Route) validate() error {
	if _, _, err := net.SplitHostPort(r.Host); err == nil {
		return fmt.Errorf("host: %q has a port; routes match the Host header without its port", r.Host)
	}
	u, err := parseUpstream(r.Upstream)
	if err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	if r.Dial != "" {
		host, port, err := net.SplitHostPort(r.Dial)
		if err != nil || host == "" || port == "" {
			return fmt.Errorf("dial: got %q, expected host:port", r.Dial)
		}
	}
	if err := validateSNI(r.SNI); err != nil {
		return fmt.Errorf("sni: %w", err)
	}
	if u.Scheme == "https" && r.Verify == "" {
		return errors.New(`verify: required for an https upstream: "off" or a CA bundle file`)
	}
	switch {
	case r.HostHeader == "", r.HostHeader == hostUpstream, r.HostHeader == hostClient:
	case strings.HasPrefix(r.HostHeader, hostValuePrefix) && len(r.HostHeader) > len(hostValuePrefix) &&
		!strings.ContainsAny(r.HostHeader, " \t\r\n"):
	default:
		return fmt.Errorf("host_header: got %q, expected upstream, client or value:NAME", r.HostHeader)
	}
	return nil
}

// parseUpstream parses an upstream URL: http or https, a host, an optional
// path, nothing else.
func parseUpstream(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("got %q, expected an http:// or https:// URL", raw)
	case u.Host == "" || u.Hostname() == "":
		return nil, fmt.Errorf("got %q, expected a host in the URL", raw)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, fmt.Errorf("got %q, expected no user, query or fragment", raw)
	}
	return u, nil
}

func validateSNI(mode string) error {
	switch mode {
	case "", sniAuto, sniOff, sniHostHeader:
		return nil
	}
	name, ok := strings.CutPrefix(mode, sniNamePrefix)
	if !ok {
		return fmt.Errorf("got %q, expected auto, off, host-header or name:NAME", mode)
	}
	if net.ParseIP(name) != nil || strings.ContainsAny(name, "[]:/ \t") || sniName(name) == "" {
		return fmt.Errorf("got %q, expected a DNS name after name: (IP literals are never sent as SNI; \"off\" sends none)", mode)
	}
	return nil
}
