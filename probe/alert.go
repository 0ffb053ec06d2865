package probe

import (
	"crypto/tls"
	"errors"
	"net"
	"strconv"
)

// Alert is a TLS alert the server sent.
type Alert struct {
	// Code is the alert description number, e.g. 80.
	Code int `json:"code"`
	// Name is its name in RFC 8446 §6, e.g. "internal_error".
	Name string `json:"name"`
}

// String is the alert as reports print it: "alert 80 internal_error".
func (a Alert) String() string {
	return "alert " + strconv.Itoa(a.Code) + " " + a.Name
}

// alertNames are the alert descriptions of RFC 8446 §6 and RFC 5246 §7.2.
var alertNames = map[int]string{
	0:   "close_notify",
	10:  "unexpected_message",
	20:  "bad_record_mac",
	21:  "decryption_failed",
	22:  "record_overflow",
	30:  "decompression_failure",
	40:  "handshake_failure",
	41:  "no_certificate",
	42:  "bad_certificate",
	43:  "unsupported_certificate",
	44:  "certificate_revoked",
	45:  "certificate_expired",
	46:  "certificate_unknown",
	47:  "illegal_parameter",
	48:  "unknown_ca",
	49:  "access_denied",
	50:  "decode_error",
	51:  "decrypt_error",
	60:  "export_restriction",
	70:  "protocol_version",
	71:  "insufficient_security",
	80:  "internal_error",
	86:  "inappropriate_fallback",
	90:  "user_canceled",
	100: "no_renegotiation",
	109: "missing_extension",
	110: "unsupported_extension",
	111: "certificate_unobtainable",
	112: "unrecognized_name",
	113: "bad_certificate_status_response",
	114: "bad_certificate_hash_value",
	115: "unknown_psk_identity",
	116: "certificate_required",
	120: "no_application_protocol",
	121: "ech_required",
}

// newAlert is the Alert with the given code, named "unknown" when RFC 8446
// and RFC 5246 do not define it.
func newAlert(code int) Alert {
	name, ok := alertNames[code]
	if !ok {
		name = "unknown"
	}
	return Alert{Code: code, Name: name}
}

// alertCodes maps the text crypto/tls gives a received alert ("tls:
// internal error") to its number. crypto/tls reports a received alert as a
// *net.OpError "remote error" around an unexported type, and wraps
// tls.AlertError only on QUIC connections; but tls.AlertError's text is the
// unexported type's text, so the table is exact for every alert number.
var alertCodes = func() map[string]int {
	m := make(map[string]int, 256)
	for n := range 256 {
		m[tls.AlertError(n).Error()] = n
	}
	return m
}()

// remoteAlert returns the alert a failed client handshake received.
func remoteAlert(err error) (Alert, bool) {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "remote error" || op.Err == nil {
		return Alert{}, false
	}
	code, ok := alertCodes[op.Err.Error()]
	if !ok {
		return Alert{}, false
	}
	return newAlert(code), true
}
