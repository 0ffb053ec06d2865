package proxy

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// chooseSNI is the server name to send upstream for a route whose SNI mode
// is mode (a valid Route.SNI), whose upstream URL host is upstreamHost
// (host or host:port, IPv6 in brackets) and a request whose Host header is
// clientHost. "" means no SNI. The name is what goes on the wire: see
// sniName.
func chooseSNI(mode, upstreamHost, clientHost string) string {
	switch mode {
	case "", sniAuto:
		return sniName(upstreamHost)
	case sniOff:
		return ""
	case sniHostHeader:
		return sniName(clientHost)
	}
	return sniName(strings.TrimPrefix(mode, sniNamePrefix))
}

// sniName is the server name crypto/tls sends for host (host or
// host:port): the host without port and brackets, "" for an IP literal,
// trailing dots dropped, letter case kept. crypto/tls does the same to
// tls.Config.ServerName, so what the proxy logs is what it sent.
func sniName(host string) string {
	h := hostOnly(host)
	ip := h
	if i := strings.LastIndexByte(ip, '%'); i > 0 {
		ip = ip[:i] // an IPv6 zone
	}
	if net.ParseIP(ip) != nil {
		return ""
	}
	return strings.TrimRight(h, ".")
}

// hostOnly is host (a Host header or URL host) without its port and IPv6
// brackets.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// upstreamTLS is how a route talks TLS to its upstream, for one SNI name.
type upstreamTLS struct {
	sni string // "" sends none
	// roots are the only CAs trusted; nil turns verification off.
	roots *x509.CertPool
	// verifyName is the name the certificate must match: the SNI name, or
	// the upstream URL's host when no SNI is sent.
	verifyName string
	// dialAddr replaces the address the transport asks for, when set.
	dialAddr         string
	dialTimeout      time.Duration
	handshakeTimeout time.Duration
}

// config is the crypto/tls configuration of a connection. crypto/tls
// verifies nothing itself: with verification on, VerifyConnection checks
// the chain against roots and the certificate against verifyName, which
// works whether or not SNI is sent and checks IP SANs for IP hosts.
func (u *upstreamTLS) config() *tls.Config {
	cfg := &tls.Config{
		ServerName:         u.sni,
		InsecureSkipVerify: true,
		NextProtos:         []string{"h2", "http/1.1"},
	}
	if u.roots != nil {
		cfg.VerifyConnection = u.verify
	}
	return cfg
}

func (u *upstreamTLS) verify(cs tls.ConnectionState) error {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return errors.New("tls: the upstream sent no certificate")
	}
	opts := x509.VerifyOptions{
		Roots:         u.roots,
		Intermediates: x509.NewCertPool(),
		DNSName:       u.verifyName,
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	return nil
}

// dial connects to addr, or to dialAddr when set.
func (u *upstreamTLS) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d := net.Dialer{Timeout: u.dialTimeout}
	return d.DialContext(ctx, network, cmp.Or(u.dialAddr, addr))
}

// dialTLS connects and completes the TLS handshake itself, so that the
// server name sent is exactly u.sni: http.Transport would fill in the dial
// host when it is empty.
func (u *upstreamTLS) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := u.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(conn, u.config())
	hctx, cancel := context.WithTimeout(ctx, u.handshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		_ = conn.Close()
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("timed out after %s: %w", u.handshakeTimeout, err)
		}
		return nil, &handshakeError{addr: conn.RemoteAddr().String(), err: err}
	}
	return tc, nil
}

// handshakeError is a failed TLS handshake with an upstream.
type handshakeError struct {
	addr string
	err  error
}

func (e *handshakeError) Error() string {
	return fmt.Sprintf("tls handshake with %s: %v", e.addr, e.err)
}

func (e *handshakeError) Unwrap() error { return e.err }
