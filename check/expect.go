package check

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/sniproof/sniproof/fixtures"
)

// Request is one request check sends to the configuration under test.
type Request struct {
	// Scheme is http, https (TLS with SNI = Host, any certificate
	// accepted) or tcp (a stream server: the bytes of an HTTP/1.1 GET,
	// over TLS when the server listens with ssl).
	Scheme string `yaml:"scheme" json:"scheme"`
	// Host is the Host header and, for https, the SNI.
	Host string `yaml:"host" json:"host,omitempty"`
	// Port is the port nginx listens on in the container.
	Port   int    `yaml:"port" json:"port"`
	Path   string `yaml:"path" json:"path,omitempty"`
	Method string `yaml:"method" json:"method,omitempty"`
	// Headers are further request headers, e.g. the header a map {}
	// chooses its branch by (map $http_x_tenant $upstream); not Host.
	Headers map[string]string `yaml:"headers" json:"headers,omitempty"`
	// HTTP2 sends HTTP/2 (with TLS by ALPN, else in cleartext); check sets
	// it where the listen directive has http2.
	HTTP2 bool `yaml:"-" json:"http2,omitempty"`
	// TLS speaks TLS to a stream server; check sets it where the listen
	// directive has ssl.
	TLS bool `yaml:"-" json:"tls,omitempty"`
}

// String is the request as reports print it, e.g.
// "GET https://shop.example.com/api/ (X-Tenant: acme)"; the port shows
// when it is not the scheme's own, the headers when there are any.
func (r Request) String() string {
	if r.Scheme == "tcp" {
		return fmt.Sprintf("tcp :%d", r.Port)
	}
	host := r.Host
	// A Host that names its port (h2o's "name:8443" host keys) says it.
	if _, port, _ := net.SplitHostPort(host); port == "" && !(r.Scheme == "http" && r.Port == 80) && !(r.Scheme == "https" && r.Port == 443) {
		host += ":" + strconv.Itoa(r.Port)
	}
	out := fmt.Sprintf("%s %s://%s%s", r.Method, r.Scheme, host, r.Path)
	var hs []string
	for name, value := range r.Headers {
		hs = append(hs, name+": "+value)
	}
	slices.Sort(hs)
	if len(hs) > 0 {
		out += " (" + strings.Join(hs, ", ") + ")"
	}
	return out
}

// Expect is what an expectations entry says a request gets.
type Expect struct {
	// Status is the client's status; 0 for a stream connection closed
	// without a response.
	Status *int `yaml:"status" json:"status"`
	// SNI is the name the upstream must see; "" asserts that none was sent.
	SNI *string `yaml:"sni" json:"sni"`
	// Cause, when set, is the cause check must find (see Causes).
	Cause string `yaml:"cause" json:"cause,omitempty"`
}

// String is the expectation as reports print it.
func (e Expect) String() string {
	s := fmt.Sprintf("status %d, SNI %s", *e.Status, sniText(e.SNI))
	if e.Cause != "" {
		s += ", cause " + e.Cause
	}
	return s
}

// Entry is one item of an expectations file.
type Entry struct {
	Request Request `yaml:"request" json:"request"`
	Expect  Expect  `yaml:"expect" json:"expect"`
	// Source is FILE:LINE of the entry.
	Source string `yaml:"-" json:"source"`
}

// LoadExpectations reads an expectations file: a YAML list of
//
//   - request: {host: shop.example.com, path: /api/, port: 443, scheme: https}
//     expect: {status: 200, sni: api.internal.example}
//
// port defaults to the scheme's (80, 443); scheme to https when the port's
// listen directive has ssl, else http; path to /; method to GET. expect.sni
// is required ("" asserts no SNI), as is expect.status. Every error names
// the file and line, as a *UsageError.
func LoadExpectations(file string) ([]Entry, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, usagef("cannot read the expectations file %s: %v", file, cause(err))
	}
	var entries []Entry
	lines, err := fixtures.DecodeList(file, data, &entries)
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	if len(entries) == 0 {
		return nil, usagef("%s: no entry: want a list of '- request: {...}' with 'expect: {...}'", file)
	}
	for i := range entries {
		e := &entries[i]
		e.Source = fmt.Sprintf("%s:%d", file, lines[i])
		if err := e.validate(); err != nil {
			return nil, usagef("%s: %v", e.Source, err)
		}
	}
	return entries, nil
}

func (e *Entry) validate() error {
	r := &e.Request
	switch r.Scheme {
	case "", "http", "https", "tcp":
	default:
		return fmt.Errorf("request.scheme must be http, https or tcp, got %q", r.Scheme)
	}
	switch {
	case r.Port < 0 || r.Port > 65535:
		return fmt.Errorf("request.port must be 1 to 65535, got %d", r.Port)
	case r.Scheme == "tcp" && r.Port == 0:
		return errors.New("request.port is required for scheme tcp (the stream server's listen port)")
	case r.Scheme != "tcp" && r.Host == "":
		return errors.New("request.host is required: the Host (and for https the SNI) to send")
	case strings.ContainsAny(r.Host, "/ "):
		return fmt.Errorf("request.host must be a host name, got %q", r.Host)
	case r.Path != "" && !strings.HasPrefix(r.Path, "/"):
		return fmt.Errorf("request.path must start with /, got %q", r.Path)
	case r.Scheme == "tcp" && len(r.Headers) > 0:
		return errors.New("request.headers are for HTTP requests, not scheme tcp")
	case e.Expect.Status == nil:
		return errors.New("expect.status is required (0 for a stream connection closed without a response)")
	case e.Expect.SNI == nil:
		return errors.New(`expect.sni is required: the name the upstream must see, or "" for none (no SNI, or no ClientHello at all)`)
	case e.Expect.Cause != "" && !slices.Contains(Causes, e.Expect.Cause):
		return fmt.Errorf("expect.cause must be one of %s, got %q", strings.Join(Causes, ", "), e.Expect.Cause)
	}
	for name, value := range r.Headers {
		switch {
		case strings.EqualFold(name, "host"):
			return errors.New("request.headers: the Host is request.host")
		case name == "" || strings.ContainsAny(name, ": \t\r\n") || strings.ContainsAny(value, "\r\n"):
			return fmt.Errorf("request.headers: %q: %q is no header line", name, value)
		}
	}
	if r.Path == "" {
		r.Path = "/"
	}
	if r.Method == "" {
		r.Method = "GET"
	}
	r.Method = strings.ToUpper(r.Method)
	return nil
}
