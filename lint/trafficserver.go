package lint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sniproof/sniproof/redact"
)

// trafficserverDialect is Apache Traffic Server's configuration folder
// (Debian's /etc/trafficserver), read from its remap.config: the remap
// rules, one a line (map, regex_map, ...), with the conf_remap overrides
// of each; the records beside it (records.config, or records.yaml from
// 10.0 on) and sni.yaml's outbound keys.
type trafficserverDialect struct{}

func init() { registerDialect(trafficserverDialect{}) }

func (trafficserverDialect) name() string { return "trafficserver" }

func (trafficserverDialect) claims(data []byte) bool { return LooksLikeTrafficServer(data) }

func (trafficserverDialect) none() string { return "no remap rule maps to an https:// origin" }

// TrafficServerConfDir is where Debian's Traffic Server reads its
// configuration.
const TrafficServerConfDir = "/etc/trafficserver"

// The records that decide the SNI and the verification of an origin's
// certificate, and the ports.
const (
	TSSNIPolicy    = "proxy.config.ssl.client.sni_policy"
	TSPristine     = "proxy.config.url_remap.pristine_host_hdr"
	TSVerifyPolicy = "proxy.config.ssl.client.verify.server.policy"
	TSVerifyProps  = "proxy.config.ssl.client.verify.server.properties"
	TSCAFile       = "proxy.config.ssl.client.CA.cert.filename"
	TSServerPorts  = "proxy.config.http.server_ports"
)

// The records naming the remap rules' file and sni.yaml, relative to
// /etc/trafficserver.
const (
	tsRemapFile = "proxy.config.url_remap.filename"
	tsSNIFile   = "proxy.config.ssl.servername.filename"
)

// TSNull reports whether a string record is unset: empty, or NULL.
func TSNull(v string) bool { return v == "" || v == "NULL" }

// tsDefaults are the records' values when nothing sets them, 9.2's (and
// those of Debian's packaged records.config).
var tsDefaults = map[string]string{TSSNIPolicy: "host", TSPristine: "0", TSVerifyPolicy: "PERMISSIVE", TSVerifyProps: "ALL",
	TSServerPorts: "8080 8080:ipv6"}

// tsRemapKinds are remap.config's rule keywords; tsFilterKinds its other
// directives, which name no origin.
var (
	tsRemapKinds  = []string{"map", "map_with_recv_port", "map_with_referer", "reverse_map", "redirect", "redirect_temporary", "regex_map", "regex_map_with_recv_port", "regex_redirect"}
	tsFilterKinds = []string{".definefilter", ".deffilter", ".activatefilter", ".useflt", ".deactivatefilter", ".unuseflt", ".deletefilter", ".delflt"}
)

// LooksLikeTrafficServer reports whether data is a Traffic Server
// remap.config: every line that is no comment is a remap rule (its
// keyword and a URL or path, no braces or semicolons) or a .include or
// filter directive, and one is a rule.
func LooksLikeTrafficServer(data []byte) bool {
	rules := 0
	for _, l := range tsLines(string(data)) {
		w := strings.Fields(l.text)
		switch {
		case slices.Contains(tsRemapKinds, w[0]):
			if len(w) < 2 || !tsURLish(w[1]) || strings.ContainsAny(l.text, "{};") {
				return false
			}
			rules++
		case w[0] == ".include" || slices.Contains(tsFilterKinds, w[0]):
		default:
			return false
		}
	}
	return rules > 0
}

// tsURLish reports whether a remap rule's word is a URL or a path.
func tsURLish(w string) bool { return strings.Contains(w, "://") || strings.HasPrefix(w, "/") }

// The Traffic Server rules, grounded in fixtures/trafficserver/cases.yaml.
var trafficserverRules = []Rule{
	{"TSV001", "trafficserver-ip-origin-without-sni", Error,
		"Traffic Server: a remap rule to an https:// origin that is an IP address: no SNI is sent.",
		"The SNI is the outgoing Host (sni_policy host, the default, with pristine_host_hdr 0) or the remap target (sni_policy remap): " +
			"here the IP address, which Traffic Server never sends (RFC 6066 section 3), so the ClientHello has no server_name; an upstream " +
			"that routes by SNI refuses it and Traffic Server answers 502 after its connect retries. Fix: " +
			"@plugin=conf_remap.so @pparam=proxy.config.ssl.client.sni_policy=@<the upstream's host name> on the rule.", nil},
	{"TSV002", "trafficserver-server-name-policy", Error,
		"Traffic Server: sni_policy server_name: the client's own SNI goes upstream, none for a plain-HTTP client.",
		"server_name forwards the SNI of the client's own TLS connection: a plain-HTTP client has none, so none is sent, and a TLS " +
			"client's is the public name, which the origin need not serve; an upstream that routes by SNI refuses either handshake " +
			"(502). Fix: sni_policy remap (the remap target), in records or with conf_remap on the rule.", nil},
	{"TSV003", "trafficserver-pristine-host-sni", Warning,
		"Traffic Server: pristine_host_hdr 1 with sni_policy host: the client's Host is sent as SNI.",
		"pristine_host_hdr keeps the client's Host upstream, and sni_policy host (the default; verify_with_name_source too) sends the " +
			"outgoing Host as SNI, port dropped: the origin must serve every name clients use, or it refuses the handshake (502); with " +
			"ENFORCED verification its certificate must hold them. Fix: @pparam=proxy.config.ssl.client.sni_policy=remap with conf_remap " +
			"on the rule (the remap target as SNI, the client's Host kept).", nil},
	{"TSV004", "trafficserver-verification-not-enforced", Warning,
		"Traffic Server: the origin's certificate is not enforced (PERMISSIVE, the default, or DISABLED), or its name is not checked.",
		"proxy.config.ssl.client.verify.server.policy defaults to PERMISSIVE: a failed verification is logged and the connection goes " +
			"on, so a wrong SNI answered with another site's certificate goes unnoticed; properties SIGNATURE or NONE check no name. " +
			"sni.yaml's verify_server_policy and verify_server_properties do the same for the TLS clients whose SNI matches the entry's " +
			"fqdn. Fix: verify.server.policy ENFORCED (records, or conf_remap on the rule; verify_server_policy: ENFORCED in sni.yaml) " +
			"and the CA that issued the origin's certificate (proxy.config.ssl.client.CA.cert.filename).", nil},
}

// init adds Traffic Server's rules to lint's.
func init() { rules = append(rules, trafficserverRules...) }

// TSRecord is a record's value and the line that sets it: a
// records.config CONFIG line, a records.yaml key, or a conf_remap
// @pparam of a remap rule.
type TSRecord struct {
	Name, Value string
	File        string
	Line        int
	// Rule is set for a rule's conf_remap override.
	Rule bool
}

// Pos is the record's file:line, "" for a default.
func (r TSRecord) Pos() string {
	if r.File == "" {
		return ""
	}
	return fmt.Sprintf("%s:%d", r.File, r.Line)
}

// TSURL is a remap rule's URL: scheme, host, port ("" for the scheme's)
// and path.
type TSURL struct {
	Raw, Scheme, Host, Port, Path string
}

// TSRule is a remap rule: a line of remap.config (or of a file it
// includes), continuations joined.
type TSRule struct {
	Kind     string
	From, To TSURL
	// Overrides are its conf_remap.so parameters, in order.
	Overrides []TSRecord
	// Words are the line's words after the two URLs.
	Words []string
	File  string
	Line  int
}

// Pos is the rule's file:line.
func (r *TSRule) Pos() string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

// Text is the rule as written, on one line, credentials redacted.
func (r *TSRule) Text() string { return tsRuleLine(r, r.Words) }

// tsRuleLine is rule r's line with words after its URLs, the value of every
// plugin parameter that names a credential redacted: --secret_key=V, or
// --secret_key followed by @pparam=V (s3_auth.so's form).
func tsRuleLine(r *TSRule, words []string) string {
	words = slices.Clone(words)
	for i, w := range words {
		param, ok := strings.CutPrefix(w, "@pparam=")
		if !ok {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(param, "-"), "=")
		switch {
		case !redact.Sensitive(name):
		case hasValue:
			words[i] = strings.TrimSuffix(w, value) + redact.Mark
		case i+1 < len(words) && strings.HasPrefix(words[i+1], "@pparam="):
			words[i+1] = "@pparam=" + redact.Mark
		}
	}
	return strings.Join(append([]string{r.Kind, r.From.Raw, r.To.Raw}, words...), " ")
}

// HTTPS reports whether the rule sends requests to an https:// origin.
func (r *TSRule) HTTPS() bool {
	return strings.EqualFold(r.To.Scheme, "https") && r.Kind != "reverse_map" && !strings.Contains(r.Kind, "redirect")
}

// TSSNIEntry is an entry of sni.yaml, its fqdn and its outbound keys.
type TSSNIEntry struct {
	FQDN string
	// Keys are its outbound keys (verify_server_policy, ...) by name.
	Keys map[string]TSRecord
	File string
	Line int
}

// TrafficServerConfig is a Traffic Server configuration folder as lint
// reads it from its remap.config.
type TrafficServerConfig struct {
	// Dir is the folder of remap.config on this machine, standing for
	// /etc/trafficserver.
	Dir string
	// Files are the files read, remap.config first.
	Files []string
	// Records are the records set by records.config or records.yaml, by
	// name; RecordsFile is the file read, "" when the folder has neither.
	Records     map[string]TSRecord
	RecordsFile string
	Rules       []*TSRule
	SNI         []TSSNIEntry
	Notes       []string
}

// tsSNIKeys are sni.yaml's outbound keys by the record each stands for.
var tsSNIKeys = map[string]string{TSSNIPolicy: "client_sni_policy", TSVerifyPolicy: "verify_server_policy", TSVerifyProps: "verify_server_properties"}

// SNIEntry is the sni.yaml entry a TLS client of rule r matches by the
// SNI it sends, the rule's host (an fqdn equal to it, else the first
// *.DOMAIN wildcard it ends in); nil for a rule of plain-HTTP clients,
// whose connections no entry matches.
func (c *TrafficServerConfig) SNIEntry(r *TSRule) *TSSNIEntry {
	if r == nil || r.From.Scheme != "https" || r.From.Host == "" || strings.HasPrefix(r.Kind, "regex_") {
		return nil
	}
	host := strings.ToLower(r.From.Host)
	for i, e := range c.SNI {
		if strings.EqualFold(e.FQDN, host) {
			return &c.SNI[i]
		}
	}
	for i, e := range c.SNI {
		if suffix, ok := strings.CutPrefix(strings.ToLower(e.FQDN), "*"); ok && strings.HasPrefix(suffix, ".") && strings.HasSuffix(host, suffix) {
			return &c.SNI[i]
		}
	}
	return nil
}

// Setting is the record name in effect for rule r (nil: the records'
// alone): its last conf_remap override, else the key standing for it in
// the sni.yaml entry its TLS clients match, else the records' value, else
// the default (with no file). The entry's client_sni_policy wins over
// conf_remap's sni_policy (observed in 9.2.9).
func (c *TrafficServerConfig) Setting(r *TSRule, name string) TSRecord {
	entry, fromEntry := TSRecord{}, false
	if e := c.SNIEntry(r); e != nil {
		entry, fromEntry = e.Keys[tsSNIKeys[name]]
	}
	if fromEntry && name == TSSNIPolicy {
		return entry
	}
	if r != nil {
		for i := len(r.Overrides) - 1; i >= 0; i-- {
			if r.Overrides[i].Name == name {
				return r.Overrides[i]
			}
		}
	}
	if fromEntry {
		return entry
	}
	if rec, ok := c.Records[name]; ok {
		return rec
	}
	return TSRecord{Name: name, Value: tsDefaults[name]}
}

// SNIPolicy is the sni_policy in effect for r, lower-case but for a
// literal @NAME.
func (c *TrafficServerConfig) SNIPolicy(r *TSRule) string {
	v := strings.TrimSpace(c.Setting(r, TSSNIPolicy).Value)
	if strings.HasPrefix(v, "@") {
		return v
	}
	return strings.ToLower(v)
}

// Pristine reports whether pristine_host_hdr is on for r.
func (c *TrafficServerConfig) Pristine(r *TSRule) bool {
	return strings.TrimSpace(c.Setting(r, TSPristine).Value) == "1"
}

// OutboundSNI is what Traffic Server sends as SNI for rule r: the name,
// or "" for none, with what decides it; clientHost is true when it is
// the client's Host (pristine_host_hdr 1) and clientSNI when it is the
// client's own SNI (server_name).
func (c *TrafficServerConfig) OutboundSNI(r *TSRule) (name string, clientHost, clientSNI bool) {
	policy := c.SNIPolicy(r)
	switch {
	case strings.HasPrefix(policy, "@"):
		name = strings.TrimPrefix(policy, "@")
	case policy == "server_name":
		return "", false, true
	case policy == "remap":
		name = r.To.Host
	default: // host, verify_with_name_source: the outgoing Host.
		if c.Pristine(r) {
			return "", true, false
		}
		name = r.To.Host
	}
	if isIP(name) || strings.Contains(name, ":") {
		return "", false, false
	}
	return name, false, false
}

// tsLine is a line of a Traffic Server file, continuations joined: its
// text (comment lines and blank ones left out) and its first line.
type tsLine struct {
	text string
	line int
}

// tsLines are data's lines that are no comment, "\" continuations joined.
func tsLines(data string) []tsLine {
	var out []tsLine
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(data, "\n") {
		l := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if cur.Len() == 0 && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if more, ok := strings.CutSuffix(l, "\\"); ok {
			cur.WriteString(more + " ")
			continue
		}
		cur.WriteString(l)
		if t := strings.TrimSpace(cur.String()); t != "" {
			out = append(out, tsLine{text: t, line: start})
		}
		cur.Reset()
	}
	if t := strings.TrimSpace(cur.String()); t != "" {
		out = append(out, tsLine{text: t, line: start})
	}
	return out
}

// ParseTrafficServerFolder reads the Traffic Server configuration whose
// remap.config is file on this machine, its folder standing for
// /etc/trafficserver: the records (records.config, else records.yaml),
// remap.config with the files it includes, and sni.yaml.
func ParseTrafficServerFolder(file string) (*TrafficServerConfig, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &ConfigError{File: file, Msg: "cannot read: " + cause(err)}
	}
	c := &TrafficServerConfig{Dir: filepath.Dir(file), Records: map[string]TSRecord{}}
	read := func(name string) ([]byte, string, error) {
		local := c.local(name)
		if local == "" {
			return nil, "", fs.ErrNotExist
		}
		d, err := os.ReadFile(local)
		return d, local, err
	}
	for _, name := range []string{"records.config", "records.yaml"} {
		d, local, err := read(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, &ConfigError{File: local, Msg: "cannot read: " + cause(err)}
		}
		if err := c.parseRecords(local, d); err != nil {
			return nil, err
		}
		break
	}
	if rec, ok := c.Records[tsRemapFile]; ok && c.local(rec.Value) != "" && c.local(rec.Value) != filepath.Join(c.Dir, filepath.Base(file)) {
		d, local, err := read(rec.Value)
		if err != nil {
			return nil, &ConfigError{File: rec.File, Line: rec.Line, Msg: fmt.Sprintf("%s %s: cannot read %s: %s", tsRemapFile, rec.Value, local, cause(err))}
		}
		c.Notes = append(c.Notes, fmt.Sprintf("%s: %s names %s, which Traffic Server reads instead of %s", rec.Pos(), tsRemapFile, rec.Value, filepath.Base(file)))
		file, data = local, d
	}
	if err := c.parse(file, data, read, 0); err != nil {
		return nil, err
	}
	c.Files = append([]string{file}, slices.DeleteFunc(c.Files, func(f string) bool { return f == file })...)
	sniFile := "sni.yaml"
	if rec, ok := c.Records[tsSNIFile]; ok && !TSNull(rec.Value) {
		sniFile = rec.Value
	}
	if d, local, err := read(sniFile); err == nil {
		c.Files = append(c.Files, local)
		if err := c.parseSNI(local, d); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// ParseTrafficServer parses one remap.config alone, with the records'
// defaults, following no .include.
func ParseTrafficServer(file string, data []byte) (*TrafficServerConfig, error) {
	c := &TrafficServerConfig{Dir: filepath.Dir(file), Records: map[string]TSRecord{}}
	return c, c.parse(file, data, nil, 0)
}

// local is the file on this machine standing for name, a path of the
// configuration (relative to /etc/trafficserver, or under it); "" for a
// path outside it.
func (c *TrafficServerConfig) local(name string) string {
	p := name
	if !path.IsAbs(p) {
		p = path.Join(TrafficServerConfDir, p)
	}
	rel, ok := strings.CutPrefix(path.Clean(p), TrafficServerConfDir+"/")
	if !ok {
		return ""
	}
	return filepath.Join(c.Dir, filepath.FromSlash(rel))
}

// parseRecords reads records.config (CONFIG NAME TYPE VALUE lines) or
// records.yaml (the ts: tree, NAME's parts after proxy.config as keys).
func (c *TrafficServerConfig) parseRecords(file string, data []byte) error {
	c.RecordsFile = file
	c.Files = append(c.Files, file)
	if strings.HasSuffix(file, ".yaml") {
		return c.parseRecordsYAML(file, data)
	}
	recs, err := ParseTSRecordsConfig(file, data)
	for _, r := range recs {
		c.Records[r.Name] = r
	}
	return err
}

// ParseTSRecordsConfig reads records.config lines: CONFIG (or LOCAL) NAME
// TYPE VALUE, the value the rest of the line.
func ParseTSRecordsConfig(file string, data []byte) ([]TSRecord, error) {
	var out []TSRecord
	for _, l := range tsLines(string(data)) {
		w := strings.Fields(l.text)
		if len(w) < 3 || (w[0] != "CONFIG" && w[0] != "LOCAL") || !slices.Contains([]string{"INT", "STRING", "FLOAT", "COUNTER"}, w[2]) {
			return out, &ConfigError{File: file, Line: l.line, Msg: fmt.Sprintf("%q: want CONFIG NAME TYPE VALUE, TYPE one of INT, STRING, FLOAT, COUNTER", l.text)}
		}
		out = append(out, TSRecord{Name: w[1], Value: tsAfterFields(l.text, 3), File: file, Line: l.line})
	}
	return out, nil
}

// tsAfterFields is the rest of text after its first n words.
func tsAfterFields(text string, n int) string {
	rest := strings.TrimSpace(text)
	for range n {
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			return ""
		}
		rest = strings.TrimSpace(rest[i:])
	}
	return rest
}

// parseRecordsYAML reads records.yaml: every scalar under ts: is the
// record proxy.config. and its keys joined by dots.
func (c *TrafficServerConfig) parseRecordsYAML(file string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return tsYAMLError(file, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	ts := tsYAMLKey(root, "ts")
	if root.Kind != yaml.MappingNode || ts == nil {
		return &ConfigError{File: file, Line: root.Line, Msg: "records.yaml: want a mapping with the key ts:"}
	}
	var walk func(prefix string, n *yaml.Node) error
	walk = func(prefix string, n *yaml.Node) error {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := walk(prefix+"."+n.Content[i].Value, n.Content[i+1]); err != nil {
					return err
				}
			}
		case yaml.ScalarNode:
			c.Records[prefix] = TSRecord{Name: prefix, Value: n.Value, File: file, Line: n.Line}
		default:
			return &ConfigError{File: file, Line: n.Line, Msg: prefix + ": want a mapping or a value"}
		}
		return nil
	}
	return walk("proxy.config", ts)
}

// tsYAMLKey is mapping n's value of key, nil when it has none.
func tsYAMLKey(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// tsYAMLError is a YAML parser's error as a ConfigError with its line.
func tsYAMLError(file string, err error) error {
	ce := &ConfigError{File: file, Msg: err.Error()}
	var line int
	if _, scanErr := fmt.Sscanf(strings.TrimPrefix(err.Error(), "yaml: "), "line %d:", &line); scanErr == nil {
		ce.Line = line
	}
	return ce
}

// tsOutboundKeys are sni.yaml's keys for the connection to the origin.
var tsOutboundKeys = []string{"verify_server_policy", "verify_server_properties", "client_cert", "client_key", "client_sni_policy"}

// parseSNI reads sni.yaml's entries (sni: a list of mappings with fqdn).
func (c *TrafficServerConfig) parseSNI(file string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return tsYAMLError(file, err)
	}
	if len(doc.Content) == 0 {
		return nil
	}
	list := tsYAMLKey(doc.Content[0], "sni")
	if list == nil || list.Kind != yaml.SequenceNode {
		return &ConfigError{File: file, Line: doc.Content[0].Line, Msg: "sni.yaml: want a mapping with the list sni:"}
	}
	for _, e := range list.Content {
		if e.Kind != yaml.MappingNode {
			return &ConfigError{File: file, Line: e.Line, Msg: "sni.yaml: an entry of sni: must be a mapping (fqdn: ...)"}
		}
		entry := TSSNIEntry{Keys: map[string]TSRecord{}, File: file, Line: e.Line}
		if f := tsYAMLKey(e, "fqdn"); f != nil {
			entry.FQDN = f.Value
		}
		for _, k := range tsOutboundKeys {
			if v := tsYAMLKey(e, k); v != nil {
				entry.Keys[k] = TSRecord{Name: k, Value: v.Value, File: file, Line: v.Line}
			}
		}
		c.SNI = append(c.SNI, entry)
	}
	return nil
}

// parse reads a remap file's rules into c; read finds an included file.
func (c *TrafficServerConfig) parse(file string, data []byte, read func(string) ([]byte, string, error), depth int) error {
	c.Files = append(c.Files, file)
	for _, l := range tsLines(string(data)) {
		bad := func(format string, args ...any) error {
			return &ConfigError{File: file, Line: l.line, Msg: fmt.Sprintf(format, args...)}
		}
		w := strings.Fields(l.text)
		switch {
		case w[0] == ".include":
			if len(w) < 2 {
				return bad(".include names no file")
			}
			if depth > 8 {
				return bad(".include %s: includes nest deeper than 8 files", w[1])
			}
			for _, name := range w[1:] {
				if read == nil {
					c.Notes = append(c.Notes, fmt.Sprintf("%s:%d: .include %s is not read", file, l.line, name))
					continue
				}
				d, local, err := read(name)
				if err != nil {
					c.Notes = append(c.Notes, fmt.Sprintf("%s:%d: .include %s is not read: the configuration's folder does not hold it", file, l.line, name))
					continue
				}
				if err := c.parse(local, d, read, depth+1); err != nil {
					return err
				}
			}
		case slices.Contains(tsFilterKinds, w[0]):
		case slices.Contains(tsRemapKinds, w[0]):
			r, err := c.parseRule(file, l.line, w, read)
			if err != nil {
				return bad("%v", err)
			}
			c.Rules = append(c.Rules, r)
		default:
			return bad("%q: want a remap rule (map, regex_map, reverse_map, redirect, ...) or .include", w[0])
		}
	}
	return nil
}

// parseRule reads a rule's words: its kind, the URLs and the @ options.
func (c *TrafficServerConfig) parseRule(file string, line int, w []string, read func(string) ([]byte, string, error)) (*TSRule, error) {
	if len(w) < 3 {
		return nil, fmt.Errorf("%s: want %s FROM-URL TO-URL", w[0], w[0])
	}
	r := &TSRule{Kind: w[0], Words: w[3:], File: file, Line: line}
	var err error
	if r.From, err = parseTSURL(w[1], true); err != nil {
		return nil, fmt.Errorf("%s %s: %v", w[0], w[1], err)
	}
	if r.To, err = parseTSURL(w[2], false); err != nil {
		return nil, fmt.Errorf("%s %s: %v", w[0], w[2], err)
	}
	confRemap := false
	for _, opt := range w[3:] {
		switch {
		case strings.HasPrefix(opt, "@plugin="):
			confRemap = path.Base(strings.TrimPrefix(opt, "@plugin=")) == "conf_remap.so"
		case strings.HasPrefix(opt, "@pparam=") && confRemap:
			param := strings.TrimPrefix(opt, "@pparam=")
			name, value, ok := strings.Cut(param, "=")
			if ok {
				r.Overrides = append(r.Overrides, TSRecord{Name: name, Value: value, File: file, Line: line, Rule: true})
				continue
			}
			if err := c.confRemapFile(r, param, read); err != nil {
				return nil, err
			}
		case strings.HasPrefix(opt, "@pparam="):
		case strings.HasPrefix(opt, "@"):
		default:
			return nil, fmt.Errorf("%q: want @plugin=, @pparam=, @action=, @src_ip=, @method= or another @ option after the URLs", opt)
		}
	}
	return r, nil
}

// confRemapFile reads a conf_remap parameter that names a file of
// records.config lines into r's overrides.
func (c *TrafficServerConfig) confRemapFile(r *TSRule, name string, read func(string) ([]byte, string, error)) error {
	if read == nil {
		c.Notes = append(c.Notes, fmt.Sprintf("%s: conf_remap's file %s is not read", r.Pos(), name))
		return nil
	}
	d, local, err := read(name)
	if err != nil {
		c.Notes = append(c.Notes, fmt.Sprintf("%s: conf_remap's file %s is not read: the configuration's folder does not hold it", r.Pos(), name))
		return nil
	}
	if strings.HasSuffix(name, ".yaml") {
		c.Notes = append(c.Notes, fmt.Sprintf("%s: conf_remap's file %s (YAML) is not read", r.Pos(), name))
		return nil
	}
	c.Files = append(c.Files, local)
	recs, err := ParseTSRecordsConfig(local, d)
	if err != nil {
		return err
	}
	for _, rec := range recs {
		rec.Rule = true
		r.Overrides = append(r.Overrides, rec)
	}
	return nil
}

// parseTSURL splits a remap rule's URL; from may be a bare path (a rule
// for any host).
func parseTSURL(raw string, from bool) (TSURL, error) {
	u := TSURL{Raw: raw}
	rest := raw
	if scheme, after, ok := strings.Cut(raw, "://"); ok {
		u.Scheme, rest = strings.ToLower(scheme), after
	} else if !from || !strings.HasPrefix(raw, "/") {
		return u, fmt.Errorf("want a URL, scheme://host[:port]/path")
	}
	if u.Scheme != "" {
		hostport := rest
		if i := strings.Index(rest, "/"); i >= 0 {
			hostport, rest = rest[:i], rest[i:]
		} else {
			rest = ""
		}
		if at := strings.LastIndex(hostport, "@"); at >= 0 {
			hostport = hostport[at+1:]
		}
		u.Host, u.Port = SplitHost(hostport)
		u.Host = strings.ToLower(strings.Trim(u.Host, "[]"))
		if u.Host == "" && !from {
			return u, fmt.Errorf("the origin URL names no host")
		}
	}
	u.Path = rest
	if u.Path == "" {
		u.Path = "/"
	}
	return u, nil
}

// Findings runs Traffic Server's rules over the configuration.
func (c *TrafficServerConfig) Findings() []Finding {
	var out []Finding
	seen := map[string]bool{}
	for _, r := range c.Rules {
		out = append(out, c.RuleFindings(r)...)
	}
	out = slices.DeleteFunc(out, func(f Finding) bool {
		k := fmt.Sprintf("%s %s:%d %s", f.Rule, f.File, f.Line, f.Message)
		dup := seen[k]
		seen[k] = true
		return dup
	})
	for _, e := range c.SNI {
		pol, props := e.Keys["verify_server_policy"], e.Keys["verify_server_properties"]
		switch {
		case pol.File != "" && !strings.EqualFold(pol.Value, "ENFORCED"):
			out = append(out, tsFinding("TSV004", pol, fmt.Sprintf("sni.yaml's entry for %s sets verify_server_policy %s: for TLS clients with that SNI a failed verification of the origin's certificate does not stop the connection", e.FQDN, pol.Value),
				"verify_server_policy: ENFORCED"))
		case props.File != "" && (strings.EqualFold(props.Value, "SIGNATURE") || strings.EqualFold(props.Value, "NONE")):
			out = append(out, tsFinding("TSV004", props, fmt.Sprintf("sni.yaml's entry for %s sets verify_server_properties %s: for TLS clients with that SNI the origin's certificate name is not checked", e.FQDN, props.Value),
				"verify_server_properties: ALL"))
		}
	}
	return out
}

// tsFinding is a finding of rule at rec's line.
func tsFinding(rule string, rec TSRecord, msg, fix string) Finding {
	sev := Error
	for _, ru := range trafficserverRules {
		if ru.ID == rule {
			sev = ru.Severity
		}
	}
	return Finding{Rule: rule, Severity: sev, File: rec.File, Line: rec.Line, Message: msg, Fix: fix}
}

// RuleFindings are the findings of remap rule r.
func (c *TrafficServerConfig) RuleFindings(r *TSRule) []Finding {
	if !r.HTTPS() {
		return nil
	}
	var out []Finding
	at := TSRecord{File: r.File, Line: r.Line}
	who := fmt.Sprintf("%s %s %s", r.Kind, r.From.Raw, r.To.Raw)
	policy := c.Setting(r, TSSNIPolicy)
	ip := isIP(r.To.Host) || strings.Contains(r.To.Host, ":")
	name, clientHost, clientSNI := c.OutboundSNI(r)
	switch {
	case clientSNI:
		out = append(out, tsFinding("TSV002", at, fmt.Sprintf("%s has %s server_name (%s): the SNI is the client's own, none for a plain-HTTP client and the public name for a TLS client, and an upstream that routes by SNI refuses the handshake (502)", who, TSKey(policy), TSSource(policy)),
			TSPolicyFix(r, policy, ip)))
	case clientHost:
		out = append(out, tsFinding("TSV003", at, fmt.Sprintf("%s has pristine_host_hdr 1 (%s) and %s %s (%s): the client's Host is sent as SNI, which the origin %s must serve (502 otherwise)", who, TSSource(c.Setting(r, TSPristine)), TSKey(policy), policy.Value, TSSource(policy), r.To.Host),
			TSPolicyFix(r, TSRecord{}, ip)))
	case name == "" && ip && !strings.HasPrefix(c.SNIPolicy(r), "@"):
		out = append(out, tsFinding("TSV001", at, fmt.Sprintf("%s proxies to %s, an IP address, with %s %s (%s): Traffic Server sends no IP literal as SNI, so it sends none, and an upstream that routes by SNI refuses the handshake (502)", who, r.To.Host, TSKey(policy), policy.Value, TSSource(policy)),
			TSOverrideFix(r, TSSNIPolicy, "@"+nameUnknown)))
	}
	verify, props := c.Setting(r, TSVerifyPolicy), c.Setting(r, TSVerifyProps)
	switch {
	case !strings.EqualFold(verify.Value, "ENFORCED"):
		out = append(out, tsFinding("TSV004", at, fmt.Sprintf("%s: verify.server.policy is %s (%s): a failed verification of the origin's certificate is %s, so a wrong SNI answered with another site's certificate goes unnoticed", who, verify.Value, TSSource(verify), map[bool]string{true: "logged and the connection goes on", false: "not even made"}[strings.EqualFold(verify.Value, "PERMISSIVE")]),
			TSOverrideFix(r, TSVerifyPolicy, "ENFORCED")))
	case strings.EqualFold(props.Value, "SIGNATURE") || strings.EqualFold(props.Value, "NONE"):
		out = append(out, tsFinding("TSV004", at, fmt.Sprintf("%s: verify.server.properties is %s (%s): the origin's certificate name is not checked", who, props.Value, TSSource(props)),
			TSOverrideFix(r, TSVerifyProps, "ALL")))
	}
	return out
}

// TSKey is the name rec's setting has where it is set: sni_policy,
// pristine_host_hdr, ... for a record, sni.yaml's key for an entry's.
func TSKey(rec TSRecord) string {
	if n, ok := strings.CutPrefix(rec.Name, "proxy.config."); ok {
		return n[strings.LastIndex(n, ".")+1:]
	}
	return rec.Name
}

// TSSource says where a record's value comes from.
func TSSource(rec TSRecord) string {
	switch {
	case rec.File == "":
		return "the default"
	case rec.Rule:
		return "conf_remap on the rule"
	}
	return filepath.Base(rec.File) + ":" + fmt.Sprint(rec.Line)
}

// TSPolicyFix is the fix of rule r's SNI policy: the remap target as SNI
// (sni_policy remap), or for an IP origin the upstream's name (@NAME); in
// sni.yaml's entry when rec, the policy in effect, is set there (it wins
// over conf_remap), in the records file when set there (but for an IP
// origin, whose name is the rule's own), else on the rule.
func TSPolicyFix(r *TSRule, rec TSRecord, ip bool) string {
	value := "remap"
	if ip {
		value = "@" + nameUnknown
	}
	sniYAML := rec.File != "" && !strings.HasPrefix(rec.Name, "proxy.config.")
	if sniYAML || rec.File != "" && !rec.Rule && !ip {
		return TSRecordFix(rec, value)
	}
	return TSOverrideFix(r, TSSNIPolicy, value)
}

// TSRecordFix is the line setting rec's record, a STRING one, to value in
// the file that sets it: records.config's CONFIG line, records.yaml's
// keys (flow style), or sni.yaml's key.
func TSRecordFix(rec TSRecord, value string) string {
	if !strings.HasPrefix(rec.Name, "proxy.config.") {
		if strings.HasPrefix(value, "@") {
			value = strconv.Quote(value)
		}
		return fmt.Sprintf("%s: %s (%s:%d, sni.yaml's entry)", rec.Name, value, filepath.Base(rec.File), rec.Line)
	}
	if strings.HasSuffix(rec.File, ".yaml") {
		keys := strings.Split(strings.TrimPrefix(rec.Name, "proxy.config."), ".")
		out := value
		for i := len(keys) - 1; i >= 0; i-- {
			out = "{" + keys[i] + ": " + out + "}"
		}
		return "ts: " + out + " (" + filepath.Base(rec.File) + ")"
	}
	return fmt.Sprintf("CONFIG %s STRING %s (%s)", rec.Name, value, filepath.Base(rec.File))
}

// TSOverrideFix is rule r with record name overridden to value by
// conf_remap, in remap.config's syntax: the rule's own override replaced,
// else a @pparam added to its conf_remap.so plugin, else the plugin added.
func TSOverrideFix(r *TSRule, name, value string) string {
	param := "@pparam=" + name + "=" + value
	words := slices.Clone(r.Words)
	for i, w := range words {
		if strings.HasPrefix(w, "@pparam="+name+"=") {
			words[i] = param
			return tsRuleLine(r, words)
		}
	}
	in, last := false, -1
	for i, w := range words {
		switch {
		case strings.HasPrefix(w, "@plugin="):
			in = path.Base(strings.TrimPrefix(w, "@plugin=")) == "conf_remap.so"
			if in {
				last = i
			}
		case in && strings.HasPrefix(w, "@pparam="):
			last = i
		}
	}
	if last >= 0 {
		words = slices.Insert(words, last+1, param)
	} else {
		words = append(words, "@plugin=conf_remap.so", param)
	}
	return tsRuleLine(r, words)
}

// lint reads each remap.config with the folder it stands in.
func (trafficserverDialect) lint(files []string, _ Options) (*Result, []string, error) {
	res := &Result{}
	var notes []string
	for _, p := range files {
		c, err := ParseTrafficServerFolder(p)
		if err != nil {
			return nil, nil, err
		}
		res.Findings = append(res.Findings, c.Findings()...)
		res.Files = append(res.Files, c.Files...)
		notes = append(notes, c.Notes...)
		if len(c.Files) > 1 {
			notes = append(notes, fmt.Sprintf("%s is read with its folder, as Traffic Server reads %s: %s", p, TrafficServerConfDir, strings.Join(c.Files[1:], ", ")))
		}
		for _, r := range c.Rules {
			if r.HTTPS() {
				res.Upstreams++
			}
		}
	}
	return res, notes, nil
}
