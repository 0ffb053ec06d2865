// Package probe answers an operator's question about a live upstream: does
// it require SNI, and what must the proxy send? It automates the field
// report's manual diagnosis (openssl s_client -connect, without and with
// -servername): one TLS handshake without SNI, one with the upstream's name,
// and one with a name no server serves, to tell "requires SNI" from
// "requires a known SNI" and to spot a default certificate. A Report records
// each answer (the alert, or the version, ALPN and certificate chain, and
// whether the chain verifies for the name), a verdict in one sentence, and,
// when the name is needed, the configuration that makes each proxy send it.
package probe

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultTimeout bounds each step of a probe when Options.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// UnknownName is the server name of the third handshake. It is under
// .invalid (RFC 2606), so no server can serve it.
const UnknownName = "sniproof-probe.invalid"

// Options configure a probe. The zero value probes with the host as the
// name, DefaultTimeout and the system roots.
type Options struct {
	// Name is sent as SNI in the second handshake, and every certificate
	// chain is verified for it. Empty means the host when it is a DNS name;
	// when the host is an IP address too, the SNI handshake is skipped and
	// chains are verified for the IP address. Name must not be an IP
	// address, which RFC 6066 forbids in SNI, nor end in a dot: crypto/tls
	// sends neither.
	Name string
	// Timeout bounds each step on its own: the DNS lookup, and the connect
	// and the handshake of every connection. Zero means DefaultTimeout.
	Timeout time.Duration
	// Roots verify the certificate chains; nil means the system roots.
	Roots *x509.CertPool
	// RootsName names Roots in reports, such as the file they came from.
	// It is unused when Roots is nil.
	RootsName string
}

// HandshakeKind says which ClientHello a handshake sent.
type HandshakeKind string

// The handshakes of a probe, in the order they run.
const (
	// NoSNI sends no server_name extension, like nginx without
	// proxy_ssl_server_name on.
	NoSNI HandshakeKind = "no-sni"
	// WithSNI sends the probe's name.
	WithSNI HandshakeKind = "sni"
	// UnknownSNI sends UnknownName.
	UnknownSNI HandshakeKind = "unknown-sni"
)

// Outcome is how a handshake ended.
type Outcome string

// The outcomes of a handshake.
const (
	// OK: the handshake completed.
	OK Outcome = "ok"
	// Alerted: the server sent a fatal TLS alert (see Handshake.Alert).
	Alerted Outcome = "alert"
	// Closed: the server closed or reset the connection without an alert.
	Closed Outcome = "closed"
	// TimedOut: the server accepted the connection but did not finish the
	// handshake within the timeout.
	TimedOut Outcome = "timeout"
	// NotTLS: the server answered with something other than TLS records,
	// such as plain HTTP.
	NotTLS Outcome = "not-tls"
	// Refused: the connection was refused; nothing listens on the port.
	Refused Outcome = "refused"
	// Unreachable: the connection could not be made for another reason,
	// such as a connect timeout or no route to the host.
	Unreachable Outcome = "unreachable"
	// Failed: the handshake failed for another reason, given in
	// Handshake.Error, such as no common TLS version.
	Failed Outcome = "error"
)

// Report is the result of a probe, and the document `sniproof probe --json`
// prints. Field names are stable.
type Report struct {
	// Host and Port are the target as given.
	Host string `json:"host"`
	Port int    `json:"port"`
	// Address is the IP address and port every handshake dialed; empty when
	// the host did not resolve.
	Address string `json:"address"`
	// Name is the name sent in the WithSNI handshake and the name every
	// chain is verified for; empty when the host is an IP address and
	// Options.Name was empty.
	Name string `json:"name"`
	// NameSkipped says why no WithSNI handshake ran; empty when it ran.
	NameSkipped string `json:"name_skipped,omitempty"`
	// Trust names the roots chains were verified against.
	Trust string `json:"trust"`
	// Handshakes are those that ran, in order: NoSNI, then WithSNI and
	// UnknownSNI unless skipped. Never nil.
	Handshakes []Handshake `json:"handshakes"`
	// Verdict is the diagnosis.
	Verdict Verdict `json:"verdict"`
	// Fixes are the configurations that make each proxy send Name as SNI,
	// when the verdict says a proxy must send it. Never nil.
	Fixes []Fix `json:"fixes"`
}

// Handshake is one TLS handshake of a probe.
type Handshake struct {
	Kind HandshakeKind `json:"kind"`
	// SNI is the server name sent; empty when none was.
	SNI     string  `json:"sni"`
	Outcome Outcome `json:"outcome"`
	// Alert is the alert received when Outcome is Alerted.
	Alert *Alert `json:"alert,omitempty"`
	// Error is the client's error text for every outcome but OK.
	Error string `json:"error,omitempty"`
	// ElapsedMS is the time from connect to the outcome, in milliseconds.
	ElapsedMS int64 `json:"elapsed_ms"`
	// Version and ALPN are the negotiated TLS version ("TLS 1.3") and
	// application protocol ("" when none); set when Outcome is OK.
	Version string `json:"tls_version,omitempty"`
	ALPN    string `json:"alpn,omitempty"`
	// Chain is the certificate chain the server sent, leaf first. Never nil.
	Chain []Certificate `json:"chain"`
	// Verified reports whether Chain verifies for Report.Name (or the host)
	// against Report.Trust; VerifyError says why not.
	Verified    bool   `json:"verified"`
	VerifyError string `json:"verify_error,omitempty"`
	// CoversName reports whether the leaf's names cover Report.Name (or the
	// host), whoever issued it: a default certificate does not.
	CoversName bool `json:"covers_name"`
}

// Certificate is what a report shows of one certificate.
type Certificate struct {
	CommonName string `json:"common_name"`
	// DNSNames and IPAddresses are the subject alternative names. Never nil.
	DNSNames    []string  `json:"dns_names"`
	IPAddresses []string  `json:"ip_addresses"`
	Issuer      string    `json:"issuer"`
	NotAfter    time.Time `json:"not_after"`
	// SHA256 is the fingerprint of the DER encoding, in hex.
	SHA256 string `json:"sha256"`
}

// Run probes host:port. It returns an error only for bad arguments or when
// ctx ends; an unreachable host is a Report whose verdict is Unreachable.
func Run(ctx context.Context, host string, port int, opts Options) (*Report, error) {
	switch {
	case host == "":
		return nil, errors.New("empty host")
	case port < 1 || port > 65535:
		return nil, fmt.Errorf("port %d out of range 1-65535", port)
	case opts.Timeout < 0:
		return nil, fmt.Errorf("negative timeout %v", opts.Timeout)
	case opts.Name != "" && net.ParseIP(opts.Name) != nil:
		return nil, fmt.Errorf("name %s is an IP address, which is never sent as SNI (RFC 6066)", opts.Name)
	case strings.HasSuffix(opts.Name, "."):
		return nil, fmt.Errorf("name %s ends in a dot, which crypto/tls never sends as SNI", opts.Name)
	}
	p := &prober{timeout: opts.Timeout, roots: opts.Roots}
	if p.timeout == 0 {
		p.timeout = DefaultTimeout
	}
	r := &Report{Host: host, Port: port, Name: opts.Name, Trust: "system roots",
		Handshakes: []Handshake{}, Fixes: []Fix{}}
	if opts.Roots != nil {
		r.Trust = cmp.Or(opts.RootsName, "the given roots")
	}
	if r.Name == "" && net.ParseIP(host) == nil {
		r.Name = host
	}
	if r.Name == "" {
		r.NameSkipped = host + " is an IP address, which clients never send as SNI (RFC 6066), and no name was given"
	}
	p.verifyName = cmp.Or(r.Name, host)

	ip, err := p.resolve(ctx, host)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		r.Verdict = Verdict{Kind: VerdictUnreachable,
			Summary: fmt.Sprintf("unreachable: cannot resolve %s (port %d): %v", host, port, err)}
		return r, nil
	}
	p.addr = net.JoinHostPort(ip.String(), strconv.Itoa(port))
	r.Address = p.addr

	first := p.handshake(ctx, NoSNI, "")
	r.Handshakes = append(r.Handshakes, first)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if first.Outcome != Refused && first.Outcome != Unreachable && first.Outcome != NotTLS {
		if r.Name != "" {
			r.Handshakes = append(r.Handshakes, p.handshake(ctx, WithSNI, r.Name))
		}
		r.Handshakes = append(r.Handshakes, p.handshake(ctx, UnknownSNI, UnknownName))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	r.Verdict = judge(r, p.timeout)
	if r.Verdict.NeedsName() && r.Name != "" {
		r.Fixes = fixes(r.Name, host, port)
	}
	return r, nil
}

// Handshake returns the report's handshake of the given kind, or nil when
// it did not run.
func (r *Report) Handshake(kind HandshakeKind) *Handshake {
	for i := range r.Handshakes {
		if r.Handshakes[i].Kind == kind {
			return &r.Handshakes[i]
		}
	}
	return nil
}

// prober runs the handshakes of one probe.
type prober struct {
	timeout    time.Duration
	roots      *x509.CertPool
	verifyName string
	addr       string // IP:port, set after resolving
}

// resolve returns the first address of host, or host itself when it is an
// IP address. Every handshake dials the same address, so that the three
// answers come from one server.
func (p *prober) resolve(ctx context.Context, host string) (net.IP, error) {
	if ip := net.ParseIP(host); ip != nil {
		return ip, nil
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) {
			return nil, errors.New(dnsErr.Err)
		}
		return nil, err
	}
	return addrs[0].IP, nil
}

// handshake connects to the prober's address and runs one TLS handshake
// sending sni ("" sends none).
func (p *prober) handshake(ctx context.Context, kind HandshakeKind, sni string) (h Handshake) {
	h = Handshake{Kind: kind, SNI: sni, Chain: []Certificate{}}
	start := time.Now()
	defer func() { h.ElapsedMS = time.Since(start).Milliseconds() }()

	dialCtx, cancel := context.WithTimeout(ctx, p.timeout)
	conn, err := new(net.Dialer).DialContext(dialCtx, "tcp", p.addr)
	cancel()
	if err != nil {
		h.Outcome, h.Error = Unreachable, err.Error()
		switch {
		case errors.Is(err, syscall.ECONNREFUSED):
			h.Outcome, h.Error = Refused, "connection refused"
		case isTimeout(err):
			h.Error = fmt.Sprintf("connect timed out after %v", p.timeout)
		}
		return h
	}
	_ = conn.SetDeadline(time.Now().Add(p.timeout))
	tc := tls.Client(conn, &tls.Config{
		ServerName: sni,
		// Verification runs below, for the probe's name whatever the SNI,
		// so that a chain that does not verify is reported, not fatal.
		InsecureSkipVerify: true,
		NextProtos:         []string{"h2", "http/1.1"},
		MinVersion:         tls.VersionTLS10,
	})
	defer tc.Close()
	if err := tc.HandshakeContext(ctx); err != nil {
		if a, ok := remoteAlert(err); ok {
			h.Outcome, h.Alert, h.Error = Alerted, &a, err.Error()
		} else {
			h.Outcome, h.Error = classify(err)
		}
		if h.Outcome == TimedOut {
			h.Error = fmt.Sprintf("no answer within %v (%v)", p.timeout, err)
		}
		return h
	}
	state := tc.ConnectionState()
	h.Outcome = OK
	h.Version = tls.VersionName(state.Version)
	h.ALPN = state.NegotiatedProtocol
	for _, c := range state.PeerCertificates {
		h.Chain = append(h.Chain, describe(c))
	}
	if len(state.PeerCertificates) > 0 {
		h.CoversName = state.PeerCertificates[0].VerifyHostname(p.verifyName) == nil
	}
	if err := p.verify(state.PeerCertificates); err != nil {
		h.VerifyError = err.Error()
	} else {
		h.Verified = true
	}
	return h
}

// classify turns the error of a handshake that failed without an alert into
// its outcome and text.
func classify(err error) (Outcome, string) {
	var rhe tls.RecordHeaderError
	switch {
	case errors.As(err, &rhe):
		return NotTLS, fmt.Sprintf("the server answered %q, not a TLS record", printable(rhe.RecordHeader[:]))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Closed, "the server closed the connection without an alert"
	case errors.Is(err, syscall.ECONNRESET):
		return Closed, "the server reset the connection without an alert"
	case isTimeout(err):
		return TimedOut, err.Error()
	}
	return Failed, err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// printable is b with bytes outside printable ASCII as '.'.
func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

// verify checks chain, leaf first, for the prober's name against its roots,
// taking the rest of the chain as intermediates.
func (p *prober) verify(chain []*x509.Certificate) error {
	if len(chain) == 0 {
		return errors.New("no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{DNSName: p.verifyName, Roots: p.roots, Intermediates: inter})
	return err
}

// describe is what a report shows of c.
func describe(c *x509.Certificate) Certificate {
	sum := sha256.Sum256(c.Raw)
	d := Certificate{
		CommonName:  c.Subject.CommonName,
		DNSNames:    append([]string{}, c.DNSNames...),
		IPAddresses: []string{},
		Issuer:      c.Issuer.String(),
		NotAfter:    c.NotAfter.UTC(),
		SHA256:      hex.EncodeToString(sum[:]),
	}
	for _, ip := range c.IPAddresses {
		d.IPAddresses = append(d.IPAddresses, ip.String())
	}
	return d
}

// ParseTarget splits HOST[:PORT] into the host and the port, 443 when
// absent. HOST may be a DNS name, an IPv4 address, or an IPv6 address,
// bracketed when a port follows; an https:// URL is accepted too.
func ParseTarget(s string) (host string, port int, err error) {
	if rest, ok := strings.CutPrefix(s, "https://"); ok {
		s, _, _ = strings.Cut(rest, "/")
	} else if strings.Contains(s, "://") {
		return "", 0, fmt.Errorf("target %q: only https:// URLs can be probed", s)
	}
	if at := strings.LastIndex(s, "@"); at >= 0 {
		// The part before @ is a user (and password): never echoed.
		return "", 0, fmt.Errorf("target %q: a USER[:PASSWORD]@ part has no place in a probe target (a TLS handshake sends no credentials): name HOST[:PORT] alone", "…@"+s[at+1:])
	}
	host, portText := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return "", 0, fmt.Errorf("target %q: missing ']' after an IPv6 address", s)
		}
		host, portText = s[1:end], strings.TrimPrefix(s[end+1:], ":")
		if s[end+1:] != "" && !strings.HasPrefix(s[end+1:], ":") {
			return "", 0, fmt.Errorf("target %q: want [IPv6]:PORT", s)
		}
		if net.ParseIP(host) == nil {
			return "", 0, fmt.Errorf("target %q: %q is not an IPv6 address", s, host)
		}
	case strings.Count(s, ":") == 1:
		host, portText, _ = strings.Cut(s, ":")
	}
	if host == "" || strings.ContainsAny(host, " \t/@?#") || (strings.Contains(host, ":") && net.ParseIP(host) == nil) {
		return "", 0, fmt.Errorf("target %q: want HOST[:PORT]", s)
	}
	port = 443
	if portText != "" {
		port, err = strconv.Atoi(portText)
		if err != nil || port < 1 || port > 65535 {
			return "", 0, fmt.Errorf("target %q: port %q is not a number from 1 to 65535", s, portText)
		}
	}
	return host, port, nil
}
