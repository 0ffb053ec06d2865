package check

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/sniproof/sniproof/backend"
	"github.com/sniproof/sniproof/fixtures"
	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// Causes of a broken location, as reports and expectations name them.
const (
	// CauseNoSNI: nginx sent no SNI and the upstream refused the handshake.
	CauseNoSNI = "no-sni"
	// CauseWrongName: nginx sent a name the upstream does not serve.
	CauseWrongName = "wrong-name"
	// CauseVerify: nginx refused the upstream's certificate.
	CauseVerify = "verify-error"
	// CauseHandshake: the handshake failed another way.
	CauseHandshake = "handshake-failed"
	// CauseTimeout: the upstream or the request timed out.
	CauseTimeout = "timeout"
	// CauseUnreachable: no ClientHello reached the upstream (nginx could
	// not resolve or connect to it).
	CauseUnreachable = "upstream-unreachable"
	// CauseBadResponse: the upstream answered, the client got an error.
	CauseBadResponse = "bad-response"
	// CauseNoResolver: a proxy_pass with variables names a host nginx
	// resolves at request time, and no resolver is configured.
	CauseNoResolver = "no-resolver"
)

// Causes lists every cause.
var Causes = []string{CauseNoSNI, CauseWrongName, CauseVerify, CauseHandshake, CauseTimeout, CauseUnreachable, CauseBadResponse, CauseNoResolver}

// diagnosis is what check concludes from an observation.
type diagnosis struct {
	Works       bool
	Cause       string
	Explanation string
	Fix         string
}

// diagnose explains an observation of a request served through pass ps
// (nil when the request reached no TLS pass): whether the upstream served
// it and, when not, the cause and the configuration line that fixes it.
func diagnose(ps *Pass, obs *harness.Observation) diagnosis {
	var d diagnosis
	refused := func() string {
		for _, ev := range obs.Events {
			if ev.Kind == backend.KindRefused && ev.Alert != 0 {
				return fmt.Sprintf(" (alert %d)", ev.Alert)
			}
		}
		return ""
	}
	switch obs.Backend {
	case fixtures.BackendServed:
		if obs.Status > 0 && obs.Status < 500 {
			d.Works = true
			return d
		}
		d.Cause = CauseBadResponse
		d.Explanation = servedButFailed(obs)
	case fixtures.BackendRefused:
		switch obs.Reason {
		case backend.ReasonMissingSNI:
			d.Cause = CauseNoSNI
			d.Explanation = "nginx sent no SNI" + whyNoSNI(ps) + ", and the upstream refused the handshake" + refused()
		case backend.ReasonUnknownSNI:
			d.Cause = CauseWrongName
			d.Explanation = fmt.Sprintf("nginx sent SNI %q%s, a name the upstream does not serve, and it refused the handshake%s", deref(obs.SNI), whyName(ps, deref(obs.SNI)), refused())
		default:
			d.Cause = CauseTimeout
			d.Explanation = "the upstream never answered the handshake"
		}
	case fixtures.BackendFailed:
		line := logLine(obs.ProxyLog, "upstream SSL certificate", "SSL_do_handshake", "SSL_connect")
		if strings.Contains(line, "upstream SSL certificate") || strings.Contains(obs.Reason, "certificate") || strings.Contains(obs.Reason, "unknown ca") {
			d.Cause = CauseVerify
			d.Explanation = "nginx refused the upstream's certificate"
		} else {
			d.Cause = CauseHandshake
			d.Explanation = "the handshake with the upstream failed"
		}
		d.Explanation += fmt.Sprintf(" (the upstream saw %q)", obs.Reason)
		if line != "" {
			d.Explanation += "; nginx: " + trimLog(line)
		}
	default:
		if obs.Status > 0 && obs.Status < 500 {
			// nginx answered by itself: a redirect, a page, a cache.
			d.Works = true
			return d
		}
		if obs.Status == 504 || strings.Contains(strings.ToLower(obs.Error), "timeout") {
			d.Cause = CauseTimeout
			d.Explanation = "the request timed out before any ClientHello reached the upstream"
		} else {
			d.Cause = CauseUnreachable
			d.Explanation = "no ClientHello reached the upstream"
		}
		if line := logLine(obs.ProxyLog, "[error]", "[crit]", "[emerg]"); line != "" {
			d.Explanation += "; nginx: " + trimLog(line)
		}
		if line := logLine(obs.ProxyLog, "no resolver defined to resolve"); line != "" {
			d.Cause = CauseNoResolver
			d.Explanation = "nginx resolves the host of a proxy_pass with variables at request time, and no resolver is configured; nginx: " + trimLog(line)
		}
	}
	d.Fix = fixFor(d.Cause, ps, obs)
	return d
}

// whyNoSNI says why nginx sent no SNI for the pass.
func whyNoSNI(ps *Pass) string {
	if ps == nil {
		return ""
	}
	switch {
	case ps.ServerName == nil:
		return fmt.Sprintf(": %s_ssl_server_name is off by default", ps.Prefix)
	case ps.ServerName.Arg(0) != "on":
		return fmt.Sprintf(": %s_ssl_server_name is off at %s", ps.Prefix, ps.ServerName.Pos())
	case ps.SSLName != nil:
		return fmt.Sprintf(": %s_ssl_name %q at %s is no name nginx sends", ps.Prefix, ps.SSLName.Arg(0), ps.SSLName.Pos())
	case lint.IsIP(ps.Host) || ipTargets(ps):
		return " for an IP address, even with " + ps.Prefix + "_ssl_server_name on (RFC 6066 forbids IP literals)"
	}
	return ""
}

// whyName says where the name nginx sent comes from.
func whyName(ps *Pass, sni string) string {
	if ps == nil {
		return ""
	}
	switch {
	case ps.SSLName != nil:
		return fmt.Sprintf(" (%s_ssl_name at %s)", ps.Prefix, ps.SSLName.Pos())
	case ps.Upstream != nil && strings.EqualFold(ps.Upstream.Arg(0), sni):
		return fmt.Sprintf(" (the name of the upstream {} block at %s, which %s_ssl_name defaults to)", ps.Upstream.Pos(), ps.Prefix)
	}
	return ""
}

// ipTargets reports whether the pass reaches only IP addresses through an
// upstream {} block whose name nginx would not send.
func ipTargets(ps *Pass) bool {
	if len(ps.Targets) == 0 {
		return false
	}
	for _, t := range ps.Targets {
		if !t.IP {
			return false
		}
	}
	return ps.Upstream == nil
}

// fixFor is the configuration that fixes a cause for the pass, as lines
// to add to its location (or stream server), and where.
func fixFor(cause string, ps *Pass, obs *harness.Observation) string {
	if ps == nil {
		return ""
	}
	var lines []string
	on := ps.ServerName != nil && ps.ServerName.Arg(0) == "on"
	switch cause {
	case CauseNoSNI:
		if !on {
			lines = append(lines, ps.Prefix+"_ssl_server_name on;")
		}
		if ps.SSLName == nil && !ps.Dynamic && (lint.IsIP(ps.Host) || ps.Upstream != nil && lint.SuspiciousName(ps.Upstream.Arg(0))) || on {
			lines = append(lines, fmt.Sprintf("%s_ssl_name %s;", ps.Prefix, suggestedName(ps)))
		}
	case CauseWrongName:
		lines = append(lines, fmt.Sprintf("%s_ssl_name %s;", ps.Prefix, suggestedName(ps)))
		if !on {
			lines = append(lines, ps.Prefix+"_ssl_server_name on;")
		}
	case CauseVerify:
		line := logLine(obs.ProxyLog, "upstream SSL certificate")
		switch {
		case strings.Contains(line, "does not match"):
			lines = append(lines, fmt.Sprintf("%s_ssl_name %s;", ps.Prefix, suggestedName(ps)))
		case strings.Contains(line, "(20:") && ps.Verify != nil:
			lines = append(lines, ps.Prefix+"_ssl_verify_depth 2;")
		default:
			lines = append(lines, ps.Prefix+"_ssl_trusted_certificate <the CA bundle that issued the upstream's certificate>;")
		}
	case CauseNoResolver:
		lines = append(lines, "resolver <the address of the DNS server that resolves "+ps.Host+">;")
	default:
		return ""
	}
	where := fmt.Sprintf("in %s (%s)", ps.Describe(), ps.At())
	if !on && ps.ServerName != nil && (cause == CauseNoSNI || cause == CauseWrongName) {
		where += fmt.Sprintf(", instead of %s_ssl_server_name off at %s", ps.Prefix, ps.ServerName.Pos())
	}
	return strings.Join(lines, " ") + "   # " + where
}

// suggestedName is the name a fix puts in *_ssl_name: the host of the
// upstream block's first named server, the pass's host name, or a
// placeholder when the configuration does not tell.
func suggestedName(ps *Pass) string {
	switch {
	case ps.Upstream != nil:
		return lint.SuggestName(ps.Upstream)
	case !ps.Dynamic && !ps.Unix && ps.Host != "" && !lint.IsIP(ps.Host) && !strings.HasPrefix(ps.Host, "["):
		return strings.TrimSuffix(ps.Host, ".")
	}
	return lint.NameUnknown
}

// logLine is the first log line holding any of the phrases, or "".
func logLine(lines []string, phrases ...string) string {
	for _, l := range lines {
		for _, p := range phrases {
			if strings.Contains(l, p) {
				return l
			}
		}
	}
	return ""
}

// connID is the "*12 " connection number of an nginx log message.
var connID = regexp.MustCompile(`^\*\d+ `)

// trimLog cuts an nginx error-log line to its message: no time stamp, no
// pid, no client and request details.
func trimLog(line string) string {
	if i := strings.Index(line, "]"); i >= 0 && i < 40 {
		line = strings.TrimSpace(line[i+1:])
		if j := strings.Index(line, ": "); j >= 0 && j < 20 {
			line = line[j+2:]
		}
		if conn := connID.FindString(line); conn != "" {
			line = line[len(conn):]
		}
	}
	if i := strings.Index(line, ", client:"); i >= 0 {
		line = line[:i]
	}
	return line
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// sniText prints an SNI: the name quoted, "none" when none was sent, "no
// ClientHello" when nil.
func sniText(s *string) string {
	switch {
	case s == nil:
		return "no ClientHello"
	case *s == "":
		return "none"
	}
	return *s
}

// statusText prints a client status: the number, or the error when there
// was no response.
func statusText(status int, errText string) string {
	if status == 0 {
		if errText == "" {
			return "no response"
		}
		return "no response (" + errText + ")"
	}
	return fmt.Sprint(status)
}

// servedButFailed explains a failed status where the upstream accepted
// the proxy's handshake: by what reached it, the request itself or only
// the handshake (the proxy failed before it sent the request, such as a
// plugin of its own answering 500).
func servedButFailed(obs *harness.Observation) string {
	got := statusText(obs.Status, obs.Error)
	if slices.ContainsFunc(obs.Events, func(ev backend.Event) bool { return ev.Kind == backend.KindRequest }) {
		return "the upstream served the request, but the client got " + got
	}
	return fmt.Sprintf("the upstream accepted the handshake (%s) but no request reached it, and the client got %s", sawText(obs.SNI), got)
}
