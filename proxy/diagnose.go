package proxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
)

// diagnosis is what the proxy makes of an error from an upstream.
type diagnosis struct {
	status int    // 504 for a timeout, else 502
	detail string // the error, with a received TLS alert named
	hint   string // advice, or ""
}

// diagnose explains err, met on route rt while sending sni ("" for none).
func diagnose(err error, rt *route, sni string) diagnosis {
	d := diagnosis{status: http.StatusBadGateway, detail: err.Error()}
	if isTimeout(err) {
		d.status = http.StatusGatewayTimeout
	}
	alert, alerted := receivedAlert(err)
	closed := closedEarly(err)
	switch {
	case alerted:
		d.detail += fmt.Sprintf(" (alert %d %s)", alert, alertName(alert))
	case closed:
		d.detail += " (the upstream closed the connection)"
	}
	var hs *handshakeError
	if !errors.As(err, &hs) {
		return d
	}
	var certErr *tls.CertificateVerificationError
	refused := closed || alerted && (alert == 80 || alert == 112 || alert == 40)
	switch {
	case errors.As(err, &certErr):
		d.hint = fmt.Sprintf(`the certificate does not match %s or is not issued by the CA in "verify"`, rt.verifyName(sni))
	case refused && sni == "":
		d.hint = "the upstream refuses a ClientHello without SNI; " + rt.sniAdvice()
	case refused:
		d.hint = fmt.Sprintf("the upstream refuses the SNI name %q; send a name it serves (see \"sni\")", sni)
	case d.status == http.StatusGatewayTimeout && sni == "":
		d.hint = fmt.Sprintf("the upstream did not answer a ClientHello without SNI within %s (timeouts.tls_handshake); it may require SNI: %s",
			rt.timeouts.tlsHandshake, rt.sniAdvice())
	case d.status == http.StatusGatewayTimeout:
		d.hint = fmt.Sprintf("the upstream did not complete the TLS handshake within %s (timeouts.tls_handshake)", rt.timeouts.tlsHandshake)
	}
	return d
}

// sniAdvice says how to make rt send SNI.
func (rt *route) sniAdvice() string {
	if name := sniName(rt.upstream.Host); name != "" {
		return fmt.Sprintf(`set "sni": "auto" or "name:%s"`, name)
	}
	return `set "sni": "name:NAME" with a name the upstream serves`
}

// isTimeout reports whether err is a timeout: dialing, the TLS handshake
// or the wait for the response header.
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// closedEarly reports whether err means the upstream closed or reset the
// connection without a word.
func closedEarly(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// alertsByText maps the error text crypto/tls gives a received alert to
// the alert's number. crypto/tls hides the number in an unexported type
// but words it exactly as its exported AlertError.
var alertsByText = func() map[string]uint8 {
	m := make(map[string]uint8, 256)
	for n := range 256 {
		m[tls.AlertError(n).Error()] = uint8(n)
	}
	return m
}()

// receivedAlert is the number of the TLS alert the upstream sent, if err
// says it sent one.
func receivedAlert(err error) (uint8, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return 0, false
	}
	n, ok := alertsByText[op.Err.Error()]
	return n, ok
}

// alertNames are the RFC 8446 names of the alerts upstreams send when
// they refuse a handshake, and a few more.
var alertNames = map[uint8]string{
	10:  "unexpected_message",
	40:  "handshake_failure",
	42:  "bad_certificate",
	46:  "certificate_unknown",
	47:  "illegal_parameter",
	48:  "unknown_ca",
	50:  "decode_error",
	70:  "protocol_version",
	71:  "insufficient_security",
	80:  "internal_error",
	109: "missing_extension",
	112: "unrecognized_name",
	116: "certificate_required",
	120: "no_application_protocol",
}

func alertName(n uint8) string {
	if name, ok := alertNames[n]; ok {
		return name
	}
	return "unknown"
}
