package probe

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// VerdictKind classifies a probe's diagnosis; the values are stable.
type VerdictKind string

// The verdicts of a probe.
const (
	// VerdictRequiresSNI: the server refuses a ClientHello without SNI and
	// serves the name: a proxy must send it.
	VerdictRequiresSNI VerdictKind = "requires-sni"
	// VerdictDefaultCertificate: without SNI the server completes the
	// handshake with a certificate that does not cover the name: a proxy
	// that sends no SNI fails verification (or, without verification,
	// talks to the wrong site).
	VerdictDefaultCertificate VerdictKind = "default-certificate"
	// VerdictSNINotRequired: without SNI the server presents a
	// certificate for the name, or the same one as with SNI.
	VerdictSNINotRequired VerdictKind = "sni-not-required"
	// VerdictRefusesName: the server refuses the name itself, so sending it
	// cannot help: it serves other names.
	VerdictRefusesName VerdictKind = "refuses-name"
	// VerdictRefusesAll: every handshake failed the same way: SNI is not
	// what is wrong, or the name is not served.
	VerdictRefusesAll VerdictKind = "refuses-all"
	// VerdictInconclusive: no name was probed and the server refuses a
	// ClientHello without SNI and one with an unknown name.
	VerdictInconclusive VerdictKind = "inconclusive"
	// VerdictNotTLS: the port does not speak TLS.
	VerdictNotTLS VerdictKind = "not-tls"
	// VerdictUnreachable: the host did not resolve, or the connection was
	// refused or timed out; no handshake ran.
	VerdictUnreachable VerdictKind = "unreachable"
)

// Verdict is a probe's diagnosis.
type Verdict struct {
	Kind VerdictKind `json:"kind"`
	// Summary is the diagnosis in one sentence, e.g. "requires SNI: refuses
	// a ClientHello without SNI with alert 80 internal_error; serves
	// www.xx.test with SNI".
	Summary string `json:"summary"`
}

// NeedsName reports whether a proxy must send the probed name as SNI.
func (v Verdict) NeedsName() bool {
	return v.Kind == VerdictRequiresSNI || v.Kind == VerdictDefaultCertificate
}

// judge diagnoses r from its handshakes; timeout is the probe's, for the
// sentence about a server that never answers.
func judge(r *Report, timeout time.Duration) Verdict {
	bare := r.Handshake(NoSNI)
	named := r.Handshake(WithSNI)
	unknown := r.Handshake(UnknownSNI)
	port := strconv.Itoa(r.Port)
	switch {
	case bare.Outcome == Refused || bare.Outcome == Unreachable:
		return Verdict{VerdictUnreachable, fmt.Sprintf("unreachable: %s port %s: %s", r.Host, port, bare.Error)}
	case bare.Outcome == NotTLS:
		return Verdict{VerdictNotTLS, fmt.Sprintf("not TLS: %s: %s; a proxy speaking TLS to it fails with \"wrong version number\"",
			net.JoinHostPort(r.Host, port), bare.Error)}
	case named == nil && bare.Outcome == OK:
		return Verdict{VerdictSNINotRequired, fmt.Sprintf("does not require SNI: serves %s without SNI; no name was probed with SNI", leafName(bare))}
	case named == nil && unknown.Outcome == OK:
		return Verdict{VerdictRequiresSNI, fmt.Sprintf("requires SNI: refuses a ClientHello without SNI %s; serves any name with SNI, even %s",
			refusal(bare, timeout), UnknownName)}
	case named == nil:
		return Verdict{VerdictInconclusive, fmt.Sprintf("inconclusive: refuses a ClientHello without SNI %s, and one with an unknown name %s; probe with the name the upstream serves",
			refusal(bare, timeout), refusal(unknown, timeout))}
	case bare.Outcome == OK && named.Outcome == OK:
		switch {
		case len(bare.Chain) > 0 && len(named.Chain) > 0 && bare.Chain[0].SHA256 == named.Chain[0].SHA256:
			return Verdict{VerdictSNINotRequired, "does not require SNI: serves the same certificate without SNI"}
		case bare.CoversName:
			return Verdict{VerdictSNINotRequired, fmt.Sprintf("does not require SNI: serves another certificate without SNI (%s), which also covers %s",
				leafName(bare), r.Name)}
		}
		return Verdict{VerdictDefaultCertificate, fmt.Sprintf("serves a default certificate without SNI (%s, does not cover %s): proxies that send no SNI will fail verification",
			leafName(bare), r.Name)}
	case named.Outcome == OK:
		return Verdict{VerdictRequiresSNI, fmt.Sprintf("requires SNI: refuses a ClientHello without SNI %s; serves %s with SNI%s",
			refusal(bare, timeout), r.Name, unknownClause(bare, unknown, timeout))}
	case bare.Outcome == OK:
		return Verdict{VerdictRefusesName, fmt.Sprintf("refuses %s: serves %s without SNI, but refuses %s as SNI %s; send a name it serves",
			r.Name, leafName(bare), r.Name, refusal(named, timeout))}
	case refusal(bare, timeout) == refusal(named, timeout) && refusal(named, timeout) == refusal(unknown, timeout):
		return Verdict{VerdictRefusesAll, fmt.Sprintf("refuses every ClientHello %s: without SNI, with %s and with an unknown name; %s is not a name it serves, or the handshake fails for a reason other than SNI",
			refusal(bare, timeout), r.Name, r.Name)}
	}
	return Verdict{VerdictRefusesName, fmt.Sprintf("refuses %s: refuses a ClientHello without SNI %s and one with %s %s; send a name it serves",
		r.Name, refusal(bare, timeout), r.Name, refusal(named, timeout))}
}

// unknownClause is what the unknown-name handshake adds to a requires-SNI
// verdict: whether any name will do.
func unknownClause(bare, unknown *Handshake, timeout time.Duration) string {
	switch {
	case unknown.Outcome == OK:
		return "; serves an unknown name too, so any SNI will do"
	case refusal(unknown, timeout) == refusal(bare, timeout):
		return "; refuses an unknown name the same way"
	}
	return "; refuses an unknown name " + refusal(unknown, timeout)
}

// refusal says how a failed handshake was refused, as the end of "refuses
// a ClientHello ...".
func refusal(h *Handshake, timeout time.Duration) string {
	switch h.Outcome {
	case Alerted:
		return "with " + h.Alert.String()
	case Closed:
		return "by closing the connection without an alert"
	case TimedOut:
		return fmt.Sprintf("by never answering (no answer within %v)", timeout)
	case NotTLS:
		return "with an answer that is not TLS"
	case Refused, Unreachable:
		return "(the connection failed: " + h.Error + ")"
	}
	return "with an error: " + h.Error
}

// leafName names the leaf certificate of a completed handshake.
func leafName(h *Handshake) string {
	if len(h.Chain) == 0 {
		return "no certificate"
	}
	if h.Chain[0].CommonName != "" {
		return "CN=" + h.Chain[0].CommonName
	}
	if len(h.Chain[0].DNSNames) > 0 {
		return "DNS:" + h.Chain[0].DNSNames[0]
	}
	return "a certificate without names"
}
