package lint

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// haproxyDialect is HAProxy's configuration language: files whose first
// keyword is a section keyword.
type haproxyDialect struct{}

func init() { registerDialect(haproxyDialect{}) }

func (haproxyDialect) name() string { return "haproxy" }

func (haproxyDialect) claims(data []byte) bool { return LooksLikeHAProxy(data) }

func (haproxyDialect) none() string { return "no backend or listen section has a server line" }

// lint reads each file as HAProxy's version in opts reads it and judges
// it for that version.
func (d haproxyDialect) lint(files []string, opts Options) (*Result, []string, error) {
	res := &Result{}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, &ConfigError{File: p, Msg: "cannot read: " + cause(err)}
		}
		c, err := ParseHAProxyFor(p, data, opts.Versions[d.name()])
		if err != nil {
			return nil, nil, err
		}
		res.Findings = append(res.Findings, c.Findings()...)
		res.Files = append(res.Files, p)
		res.Upstreams += len(c.Servers())
	}
	return res, nil, nil
}

// The rules whose verdict depends on the HAProxy version; lint.go's
// table holds HAP001 to HAP005, whose help says how the version changes
// them.
var haVersionRules = []Rule{
	{"HAP007", "haproxy-sni-from-client-host", Warning,
		"HAProxy 3.3 and later: an ssl server without sni sends the request's Host as SNI.",
		"From 3.3 a server line without sni takes its SNI from the Host of the request as HAProxy sends it, without the port " +
			"(sni-auto, on by default: manual 3.4, server keyword \"sni-auto\"; commit 668916c1a). That is the client's public name " +
			"unless a rule rewrites it: right only where the upstream serves that name; a Host that is an IP literal is sent as is, " +
			"which RFC 6066 forbids. Silent where the backend sets Host to a constant (http-request set-header Host NAME). Fix: " +
			"sni str(<the upstream's host name>), or http-request set-header Host <that name> when the upstream wants it in Host too.", nil},
	{"HAP008", "haproxy-httpchk-hidden-header", Error,
		"HAProxy: option httpchk hides a header in its version string: 2.7 and later refuse to start.",
		"\"option httpchk GET / HTTP/1.1\\r\\nHost:\\ NAME\" was the old way to send a Host in health checks; from 2.7 HAProxy " +
			"refuses it: \"hiding headers or body at the end of the version string is unsupported\" (commit 4b5f3029b); 2.6 only " +
			"warns that it is deprecated. Fix: http-check send meth GET uri / ver HTTP/1.1 hdr Host <name>.", nil},
	{"HAP009", "haproxy-keyword-unknown-to-version", Error,
		"HAProxy: a keyword the version judged for does not know: it refuses to start.",
		"sni-auto, no-sni-auto, check-sni-auto and no-check-sni-auto are server keywords from 3.3 (commits 668916c1a and ffc1f096e); " +
			"option httpchk's Host argument is from 3.1 (commit 27ee29273). An older HAProxy refuses the configuration (\"unknown " +
			"keyword\", \"cannot handle unexpected argument\"). Without --version lint judges for 2.6 to 3.2. Fix: drop the keyword, " +
			"or guard it with .if version_atleast(3.3) (manual 3.4, section 2.4 \"Conditional blocks\").", nil},
}

// init adds the version rules to lint's rules, after HAP006.
func init() { rules = append(rules, haVersionRules...) }

// HostAsSNI reports whether HAProxy version sends the request's Host as
// the server's SNI (sni-auto): from 3.3, for an ssl server without sni
// and without no-sni-auto, in mode http.
func (s *HAServer) HostAsSNI(version string) bool {
	return atLeast(version, 3, 3) && s.SSL() && !s.Has("sni") && !s.Has("no-sni-auto") && s.Section.Mode() == "http"
}

// sniAuto reports whether the version judged for sends the Host as SNI
// by default (3.3 and later).
func (c *HAConfig) sniAuto() bool { return atLeast(c.Version, 3, 3) }

// withoutSNI judges an ssl server line without sni: no SNI at all
// (HAP001) before 3.3 and, from 3.3, in mode tcp, with no-sni-auto or
// when the backend deletes the Host; else the client's Host (HAP007),
// unless the backend sets Host to a constant.
func (c *HAConfig) withoutSNI(s *HAServer, who, name string, add func(rule string, l *HALine, msg, fix string)) {
	fix := fmt.Sprintf("add sni str(%s) to the server line (or sni req.hdr(host),field(1,:) to send the client's host)", name)
	host, deleted := hostRule(s.Section)
	switch {
	case !c.sniAuto():
		add("HAP001", s.Line, who+" has ssl without sni: HAProxy sends no SNI, and an upstream that routes by SNI refuses the handshake (HAProxy answers 503)", fix)
	case s.Has("no-sni-auto"):
		add("HAP001", s.Line, who+" has ssl without sni and no-sni-auto: HAProxy sends no SNI, and an upstream that routes by SNI refuses the handshake (HAProxy answers 503)", fix)
	case s.Section.Mode() != "http":
		add("HAP001", s.Line, who+" has ssl without sni in mode tcp: sni-auto takes the name from an HTTP Host, so HAProxy sends no SNI, and an upstream that routes by SNI refuses the handshake", fix)
	case deleted != nil:
		add("HAP001", s.Line, fmt.Sprintf("%s has ssl without sni, and %s deletes the Host: sni-auto has no Host to send, so HAProxy sends no SNI (HAProxy answers 503 where the upstream routes by SNI)", who, deleted.Pos()), fix)
	case host != "":
	default:
		add("HAP007", s.Line, who+" has ssl without sni: HAProxy 3.3 and later send the request's Host as SNI (sni-auto), the client's public name unless a rule rewrites it: right only if the upstream serves that name (an IP literal in Host is sent as is)",
			fmt.Sprintf("add sni str(%s) to the server line, or http-request set-header Host %s to the backend when the upstream wants that name in Host too", name, name))
	}
}

// hostRule is what the section's last http-request rule on the Host
// header does: the constant set-header Host writes (its fetches make it
// no constant: ""), or the del-header line removing it.
func hostRule(sec *HASection) (constant string, deleted *HALine) {
	for _, l := range sec.All("http-request") {
		if len(l.Args) < 2 || !strings.EqualFold(l.Arg(1), "host") {
			continue
		}
		switch l.Arg(0) {
		case "set-header":
			constant, deleted = l.Arg(2), nil
			if strings.Contains(constant, "%[") {
				constant = ""
			}
		case "del-header":
			constant, deleted = "", l
		}
	}
	return constant, deleted
}

// checkWithoutSNI judges the health check of an ssl server with check
// and no check-sni (HAP004): from 3.3 the check takes its SNI from the
// Host of option httpchk or http-check send, unless an http-check connect
// rule is used or no-check-sni-auto says otherwise; then it is silent.
func (c *HAConfig) checkWithoutSNI(s *HAServer, who, name string, add func(rule string, l *HALine, msg, fix string)) {
	why := ""
	if c.sniAuto() {
		host, connect := checkHost(s.Section)
		switch {
		case s.Has("no-check-sni-auto"):
			why = " (no-check-sni-auto turns off the Host's name)"
		case connect != nil:
			why = fmt.Sprintf(" (check-sni-auto takes no name for an http-check connect rule, %s)", connect.Pos())
		case host != "":
			return
		default:
			why = " (check-sni-auto finds no Host in option httpchk or an http-check send rule)"
		}
	}
	add("HAP004", s.Line, who+" has check without check-sni: the health check sends no SNI (sni is for traffic only)"+why+", an upstream that routes by SNI refuses it, and HAProxy marks the server DOWN (503 for every request)",
		fmt.Sprintf("add check-sni %s to the server line", name))
}

// checkHost is the Host the section's health checks send, from option
// httpchk's fifth word or an http-check send rule's hdr Host, and the
// http-check connect rule that keeps it from being the SNI, if any.
func checkHost(sec *HASection) (host string, connect *HALine) {
	for s := sec; s != nil; s = s.Defaults {
		for _, l := range s.Lines {
			switch {
			case host == "" && l.Keyword == "option" && l.Arg(0) == "httpchk" && len(l.Args) >= 5:
				host = l.Arg(4)
			case host == "" && l.Keyword == "http-check" && l.Arg(0) == "send":
				if i := slices.IndexFunc(l.Args, func(a string) bool { return a == "hdr" }); i > 0 && strings.EqualFold(l.Arg(i+1), "host") {
					host = l.Arg(i + 2)
				}
			case connect == nil && l.Keyword == "http-check" && l.Arg(0) == "connect":
				connect = l
			}
		}
		if host != "" || connect != nil {
			break
		}
	}
	return host, connect
}

// versionFindings are a section's lines that the version judged for
// refuses: a header hidden in option httpchk's version (HAP008, from
// 2.7), and keywords it does not know yet (HAP009).
func (c *HAConfig) versionFindings(sec *HASection, add func(rule string, l *HALine, msg, fix string)) {
	judged := "HAProxy " + c.Version
	if c.Version == "" {
		judged = "HAProxy 2.6 to 3.2 (no --version)"
	}
	for _, l := range sec.Lines {
		switch {
		case l.Keyword == "option" && l.Arg(0) == "httpchk" && strings.ContainsAny(l.Arg(3), "\r\n"):
			if c.Version == "" || atLeast(c.Version, 2, 7) {
				add("HAP008", l, "option httpchk hides a header in its version string: HAProxy 2.7 and later refuse to start (\"hiding headers or body at the end of the version string is unsupported\"; 2.6 only warns)",
					"http-check send meth "+l.Arg(1)+" uri "+l.Arg(2)+" ver HTTP/1.1 hdr Host "+hiddenHost(l.Arg(3)))
			}
		case l.Keyword == "option" && l.Arg(0) == "httpchk" && len(l.Args) >= 5 && !atLeast(c.Version, 3, 1):
			add("HAP009", l, fmt.Sprintf("option httpchk's Host argument (%s) is known from HAProxy 3.1: %s refuses to start (\"cannot handle unexpected argument\")", l.Arg(4), judged),
				"http-check send meth "+l.Arg(1)+" uri "+l.Arg(2)+" ver "+l.Arg(3)+" hdr Host "+l.Arg(4))
		case (l.Keyword == "server" || l.Keyword == "default-server") && !c.sniAuto():
			for _, a := range l.Args {
				if slices.Contains(haAuto, strings.TrimPrefix(a, "no-")) {
					add("HAP009", l, fmt.Sprintf("%s is a server keyword from HAProxy 3.3: %s refuses to start (\"unknown keyword '%s'\")", a, judged, a),
						fmt.Sprintf("drop %s, or guard the line with .if version_atleast(3.3)", a))
				}
			}
		}
	}
}

// hiddenHost is the name of the Host header hidden after option
// httpchk's version, e.g. "www.example.com" of "HTTP/1.1\r\nHost: www.example.com";
// nameUnknown when there is none.
func hiddenHost(version string) string {
	for _, h := range strings.FieldsFunc(version, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if name, value, ok := strings.Cut(h, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "host") {
			return strings.TrimSpace(value)
		}
	}
	return nameUnknown
}
