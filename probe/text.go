package probe

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
)

// WriteText writes r for people: the target, the verdict, each handshake
// with its certificate chain, then the fixes.
func (r *Report) WriteText(w io.Writer) error {
	b := bufio.NewWriter(w)
	target := net.JoinHostPort(r.Host, strconv.Itoa(r.Port))
	if r.Address != "" && r.Address != target {
		target += " (" + r.Address + ")"
	}
	fmt.Fprintf(b, "probe    %s\n", target)
	if r.Name != "" {
		fmt.Fprintf(b, "name     %s\n", r.Name)
	}
	if r.NameSkipped != "" {
		fmt.Fprintf(b, "name     none, so the handshake with SNI is skipped: %s\n", r.NameSkipped)
	}
	fmt.Fprintf(b, "verdict  %s\n", r.Verdict.Summary)
	for i, h := range r.Handshakes {
		fmt.Fprintf(b, "\nhandshake %d: %s\n", i+1, title(h))
		field(b, "outcome", outcomeText(h))
		if h.Outcome != OK {
			continue
		}
		field(b, "TLS version", h.Version)
		field(b, "ALPN", cmp.Or(h.ALPN, "none"))
		field(b, "verified", r.verification(h))
		for j, c := range h.Chain {
			field(b, fmt.Sprintf("certificate %d", j), "CN="+c.CommonName)
			if len(c.DNSNames) > 0 {
				field(b, "  DNS names", strings.Join(c.DNSNames, ", "))
			}
			if len(c.IPAddresses) > 0 {
				field(b, "  IP addresses", strings.Join(c.IPAddresses, ", "))
			}
			field(b, "  issuer", c.Issuer)
			field(b, "  not after", c.NotAfter.Format("2006-01-02 15:04:05 UTC"))
		}
	}
	if len(r.Fixes) > 0 {
		fmt.Fprintf(b, "\nfix: make the proxy send %s as SNI\n", r.Name)
		for _, f := range r.Fixes {
			for i, line := range f.Config {
				label := ""
				if i == 0 {
					label = f.Proxy
				}
				fmt.Fprintf(b, "  %-9s%s\n", label, strings.ReplaceAll(line, "\t", "    "))
			}
			for _, line := range wrap(f.Note, 78) {
				fmt.Fprintf(b, "  %-9s# %s\n", "", line)
			}
		}
	}
	return b.Flush()
}

// field writes one aligned line of a handshake.
func field(w io.Writer, label, value string) {
	fmt.Fprintf(w, "  %-15s %s\n", label, value)
}

// title names a handshake by the ClientHello it sent.
func title(h Handshake) string {
	switch h.Kind {
	case NoSNI:
		return "no SNI"
	case UnknownSNI:
		return "SNI " + h.SNI + " (a name no server serves)"
	}
	return "SNI " + h.SNI
}

// outcomeText says how a handshake ended.
func outcomeText(h Handshake) string {
	switch h.Outcome {
	case OK:
		return "ok"
	case Alerted:
		return "TLS " + h.Alert.String()
	case Refused:
		return "connection refused"
	case TimedOut:
		return "timed out: " + h.Error
	case Failed:
		return "failed: " + h.Error
	}
	return h.Error
}

// verification says whether a handshake's chain verified.
func (r *Report) verification(h Handshake) string {
	name := cmp.Or(r.Name, r.Host)
	if h.Verified {
		return fmt.Sprintf("yes, for %s against %s", name, r.Trust)
	}
	return fmt.Sprintf("no, for %s against %s: %s", name, r.Trust, h.VerifyError)
}

// wrap breaks s into lines of at most width bytes at spaces; a longer word
// gets a line of its own.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
