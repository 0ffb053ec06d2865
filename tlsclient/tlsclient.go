// Package tlsclient is a small TLS client for diagnosing SNI: it dials an
// address, offers a chosen server name or none, verifies the certificate as
// crypto/tls would, and reports the handshake: the TLS version, the alert
// the server answered with, and the certificate it presented. It is what
// `sniproof tlsclient` runs, and the Go row of the client suite.
package tlsclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Options say where to connect and which name to offer.
type Options struct {
	// Connect is HOST:PORT.
	Connect string
	// ServerName is the name to offer as SNI and to verify the certificate
	// against; "" means the host of Connect, as tls.Dial does. crypto/tls
	// never sends an IP address as SNI, but still verifies against it.
	ServerName string
	// NoServerName offers no SNI and verifies the certificate chain only.
	NoServerName bool
	// CAFile, when set, is a PEM bundle trusted instead of the system roots.
	CAFile string
	// Timeout bounds the dial and the handshake; 0 means 10 s.
	Timeout time.Duration
}

// Result is what one handshake showed.
type Result struct {
	Connect string `json:"connect"`
	// ServerName is the SNI offered, "" when none was.
	ServerName string `json:"server_name"`
	OK         bool   `json:"ok"`
	Version    string `json:"version,omitempty"`
	// Alert is the TLS alert the server answered with, e.g. 80; AlertText
	// its name, e.g. "internal error".
	Alert     int    `json:"alert,omitempty"`
	AlertText string `json:"alert_text,omitempty"`
	// Certificate is the leaf the server presented, when it got that far.
	Certificate *Certificate `json:"certificate,omitempty"`
	// Verified says the certificate was verified (chain, and name unless
	// NoServerName).
	Verified bool   `json:"verified"`
	Error    string `json:"error,omitempty"`
}

// Certificate is a leaf certificate, in a few fields.
type Certificate struct {
	CommonName  string   `json:"cn"`
	DNSNames    []string `json:"dns_names,omitempty"`
	IPAddresses []string `json:"ip_addresses,omitempty"`
	Issuer      string   `json:"issuer"`
}

// Run dials, handshakes and closes. A failed handshake or verification is
// reported in the Result, not as an error; the error is for bad options.
func Run(ctx context.Context, o Options) (Result, error) {
	host, _, err := net.SplitHostPort(o.Connect)
	if err != nil {
		return Result{}, fmt.Errorf("--connect %q: want HOST:PORT: %w", o.Connect, err)
	}
	if o.NoServerName && o.ServerName != "" {
		return Result{}, errors.New("--servername and --noservername exclude each other")
	}
	var roots *x509.CertPool
	if o.CAFile != "" {
		data, err := os.ReadFile(o.CAFile)
		if err != nil {
			return Result{}, fmt.Errorf("read CA file: %w", err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(data) {
			return Result{}, fmt.Errorf("read CA file %s: no PEM certificate in it", o.CAFile)
		}
	}
	name := o.ServerName
	if name == "" && !o.NoServerName {
		name = host
	}
	res := Result{Connect: o.Connect}
	if net.ParseIP(name) == nil {
		res.ServerName = name
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	cfg := &tls.Config{
		ServerName: name,
		// Verification happens in VerifyConnection, as crypto/tls would do
		// it, so that the certificate is known even when it fails.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("tls: server presented no certificate")
			}
			leaf := cs.PeerCertificates[0]
			res.Certificate = describe(leaf)
			opts := x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: x509.NewCertPool()}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			if _, err := leaf.Verify(opts); err != nil {
				return fmt.Errorf("tls: failed to verify certificate: %w", err)
			}
			res.Verified = true
			return nil
		},
	}
	d := tls.Dialer{Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", o.Connect)
	if err != nil {
		res.Error = err.Error()
		res.Alert, res.AlertText = remoteAlert(err)
		return res, nil
	}
	defer conn.Close()
	st := conn.(*tls.Conn).ConnectionState()
	res.OK, res.Version = true, tls.VersionName(st.Version)
	return res, nil
}

// remoteAlert is the alert the server sent, when err is one: crypto/tls
// reports it as a "remote error" whose text names the alert.
func remoteAlert(err error) (int, string) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return 0, ""
	}
	text := op.Err.Error()
	for a := 0; a < 256; a++ {
		if tls.AlertError(a).Error() == text {
			return a, strings.TrimPrefix(text, "tls: ")
		}
	}
	return 0, ""
}

func describe(c *x509.Certificate) *Certificate {
	d := &Certificate{CommonName: c.Subject.CommonName, DNSNames: c.DNSNames, Issuer: c.Issuer.CommonName}
	for _, ip := range c.IPAddresses {
		d.IPAddresses = append(d.IPAddresses, ip.String())
	}
	return d
}
