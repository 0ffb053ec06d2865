package backend

import (
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/sniproof/sniproof/internal/jsonfile"
	"os"
	"strings"
)

// Refusal is how a listener reacts to a ClientHello without SNI or with a
// name it does not serve.
type Refusal string

// The refusals a listener can be configured with.
const (
	// RefuseAlert80 sends a fatal internal_error alert. It is what the field
	// reports show, and what crypto/tls sends when GetConfigForClient fails.
	RefuseAlert80 Refusal = "alert80"
	// RefuseAlert112 sends a fatal unrecognized_name alert.
	RefuseAlert112 Refusal = "alert112"
	// RefuseAlert40 sends a fatal handshake_failure alert.
	RefuseAlert40 Refusal = "alert40"
	// RefuseClose closes the TCP connection without any alert.
	RefuseClose Refusal = "close"
	// RefuseHang reads the ClientHello and never answers, until HangTimeout
	// passes; then it closes the connection.
	RefuseHang Refusal = "hang"
)

// alert is the TLS alert description r sends, or 0 when it sends none.
// The empty Refusal is RefuseAlert80.
func (r Refusal) alert() int {
	switch r {
	case "", RefuseAlert80:
		return 80
	case RefuseAlert112:
		return 112
	case RefuseAlert40:
		return 40
	}
	return 0
}

func (r Refusal) valid() bool {
	switch r {
	case "", RefuseAlert80, RefuseAlert112, RefuseAlert40, RefuseClose, RefuseHang:
		return true
	}
	return false
}

// Listener configures one port of the backend.
type Listener struct {
	// Name labels the listener in events and responses; it is required and
	// unique within a Config.
	Name string `json:"name"`
	// Addr is the listen address, such as ":8443" or "127.0.0.1:0", or
	// unix:PATH for a unix socket.
	Addr string `json:"addr"`
	// Plain serves plain HTTP instead of TLS (a "wrong port" personality).
	// Every field below is then unused.
	Plain bool `json:"plain"`
	// Names are the SNI names served, matched exactly but case-insensitively.
	// A trailing dot is not stripped, so "www.example.test." is unknown
	// unless listed as such; Validate rejects such names (see there).
	Names []string `json:"names"`
	// Refuse is the reaction to a missing or unknown SNI; "" means
	// RefuseAlert80.
	Refuse Refusal `json:"refuse"`
	// Lenient accepts a missing or unknown SNI and serves the certificate
	// anyway (a default-certificate personality); Refuse is then unused.
	Lenient bool `json:"lenient"`
	// HangAll never answers any ClientHello, whatever its SNI: the handshake
	// never completes. It overrides Names, Refuse and Lenient.
	HangAll bool `json:"hang_all"`
	// StrictHost answers 421 Misdirected Request when the request's Host,
	// port stripped, differs from the SNI (compared case-insensitively).
	// With Lenient, a connection without SNI is taken as addressed to the
	// first of Names (a default virtual host): only a Host that is another
	// of Names gets 421, as from Apache httpd 2.4.64 on (see misdirected).
	StrictHost bool `json:"strict_host"`
	// MinVersion and MaxVersion bound the TLS versions: "", "1.2" or "1.3".
	// "" leaves the crypto/tls default.
	MinVersion string `json:"min_version"`
	MaxVersion string `json:"max_version"`
	// CertPEM is the leaf certificate followed by its intermediates, in PEM.
	CertPEM string `json:"cert_pem"`
	// KeyPEM is the leaf's private key in PEM.
	KeyPEM string `json:"key_pem"`
}

// Config is the whole backend: its listeners and the address of the plain
// HTTP control API.
type Config struct {
	// Control is the control API's listen address, such as ":9000".
	Control   string     `json:"control"`
	Listeners []Listener `json:"listeners"`
	// KeepEvents bounds the events kept in memory for Events and the
	// control API; 0 means MaxKeptEvents. Every event is logged anyway.
	KeepEvents int `json:"keep_events,omitempty"`
	// Cold starts the server cold (see Server.SetCold): every connection
	// closed after its response, no TLS session resumable.
	Cold bool `json:"cold,omitempty"`
	// DNS are the resolvers the backend impersonates.
	DNS []DNSServer `json:"dns,omitempty"`
}

// LoadConfig reads a JSON config file and validates it. Unknown fields are
// errors. Syntax and type errors name the file, line and column.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := decodeConfig(path, data)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
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

// Validate checks that c can be served: there is a control address and at
// least one listener; listener names are present and unique; every listener
// has an address; refusals and TLS versions are known; every TLS listener
// has a certificate and key that form a pair. Names served must not end in a
// dot: crypto/tls rejects such a ClientHello as malformed, so such a name
// could never be served.
func (c *Config) Validate() error {
	if c.Control == "" {
		return errors.New("control: address required")
	}
	if len(c.Listeners) == 0 {
		return errors.New("listeners: at least one required")
	}
	for i, d := range c.DNS {
		if err := d.validate(); err != nil {
			return fmt.Errorf("dns[%d]: %w", i, err)
		}
	}
	seen := make(map[string]bool, len(c.Listeners))
	for i := range c.Listeners {
		l := &c.Listeners[i]
		if l.Name == "" {
			return fmt.Errorf("listeners[%d]: name required", i)
		}
		if seen[l.Name] {
			return fmt.Errorf("listeners[%d]: duplicate name %q", i, l.Name)
		}
		seen[l.Name] = true
		if err := l.validate(); err != nil {
			return fmt.Errorf("listener %q: %w", l.Name, err)
		}
	}
	return nil
}

func (l *Listener) validate() error {
	if l.Addr == "" {
		return errors.New("addr required")
	}
	if l.Plain {
		return nil
	}
	if !l.Refuse.valid() {
		return fmt.Errorf("refuse: got %q, expected one of %q, %q, %q, %q, %q or empty",
			l.Refuse, RefuseAlert80, RefuseAlert112, RefuseAlert40, RefuseClose, RefuseHang)
	}
	for _, n := range l.Names {
		if n == "" {
			return errors.New("names: empty name")
		}
		if strings.HasSuffix(n, ".") {
			return fmt.Errorf("names: %q ends in a dot, which crypto/tls never accepts in SNI", n)
		}
	}
	_, err := l.tlsConfig()
	return err
}

// tlsConfig is the crypto/tls configuration of a TLS listener.
func (l *Listener) tlsConfig() (*tls.Config, error) {
	minV, err := parseVersion(l.MinVersion)
	if err != nil {
		return nil, fmt.Errorf("min_version: %w", err)
	}
	maxV, err := parseVersion(l.MaxVersion)
	if err != nil {
		return nil, fmt.Errorf("max_version: %w", err)
	}
	if minV != 0 && maxV != 0 && minV > maxV {
		return nil, fmt.Errorf("min_version %s is above max_version %s", l.MinVersion, l.MaxVersion)
	}
	if l.CertPEM == "" || l.KeyPEM == "" {
		return nil, errors.New("cert_pem and key_pem required")
	}
	cert, err := tls.X509KeyPair([]byte(l.CertPEM), []byte(l.KeyPEM))
	if err != nil {
		return nil, fmt.Errorf("load key pair: %w", err)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{"h2", "http/1.1"},
		MinVersion:   minV,
		MaxVersion:   maxV,
	}, nil
}

func parseVersion(v string) (uint16, error) {
	switch v {
	case "":
		return 0, nil
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("got %q, expected \"1.2\", \"1.3\" or empty", v)
}
