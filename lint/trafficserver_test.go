package lint

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTrafficServerCasesAgree lints every case of Traffic Server's table,
// as the proxies suite renders it alone (its rules, for the case's hosts
// with and without :8080, and the plain mark rule), and holds lint's rules
// there, each once, to the case's lint field, which every case has.
func TestTrafficServerCasesAgree(t *testing.T) {
	cases, rendered := standalone(t, "trafficserver")
	dir := t.TempDir()
	for _, c := range cases {
		if c.Expect.Lint == nil {
			t.Errorf("%s:%d: %s has no lint field", c.File, c.Line, c.ID)
			continue
		}
		file := filepath.Join(dir, strings.ReplaceAll(c.ID, "/", "--")+".config")
		if err := os.WriteFile(file, []byte(rendered[c.ID]), 0o644); err != nil {
			t.Fatal(err)
		}
		res, _, err := Lint(Options{}, file)
		if err != nil {
			t.Errorf("%s:%d: %s: %v", c.File, c.Line, c.ID, err)
			continue
		}
		var got []string
		for _, f := range res.Findings {
			if !slices.Contains(got, f.Rule) {
				got = append(got, f.Rule)
			}
		}
		slices.Sort(got)
		want := slices.Clone(*c.Expect.Lint)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s:%d: %s: lint found %q, want %q (the case's lint field)\n%s", c.File, c.Line, c.ID, got, want, rendered[c.ID])
		}
		sni := c.Expect.SNI
		if sni != nil && *sni == "" && !slices.ContainsFunc(got, func(r string) bool { return r == "TSV001" || r == "TSV002" }) {
			t.Errorf("%s: the backend sees no SNI, and lint has neither TSV001 nor TSV002", c.ID)
		}
	}
}

// TestParseTrafficServerFolder: records.config, remap.config with an
// .include, continuation lines and conf_remap overrides (inline and from
// a file), sni.yaml, and each rule's findings and fix.
func TestParseTrafficServerFolder(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("records.config", "CONFIG proxy.config.http.server_ports STRING 8080 8080:ipv6\nCONFIG proxy.config.ssl.client.verify.server.policy STRING ENFORCED\n")
	write("origin.config", "CONFIG proxy.config.url_remap.pristine_host_hdr INT 1\n")
	write("more.config", "map http://ip.example/ https://10.1.2.3/\n")
	write("sni.yaml", "sni:\n- fqdn: '*.example'\n  verify_server_policy: PERMISSIVE\n- fqdn: ok.example\n  http2: off\n")
	write("remap.config", `# front
map http://www.example/ https://origin.example/
map http://shop.example/ https://shop.origin.example/ \
    @plugin=conf_remap.so @pparam=origin.config
map http://lit.example/ https://10.1.2.4/ @plugin=conf_remap.so @pparam=proxy.config.ssl.client.sni_policy=@lit.origin.example
reverse_map https://origin.example/ http://www.example/
.include more.config
map http://plain.example/ http://10.1.2.5/
`)
	c, err := ParseTrafficServerFolder(filepath.Join(dir, "remap.config"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range c.Rules {
		name, host, _ := c.OutboundSNI(r)
		got = append(got, fmt.Sprintf("%s:%d %s %s %v %q %v", filepath.Base(r.File), r.Line, r.Kind, r.To.Host, r.HTTPS(), name, host))
	}
	want := []string{
		`remap.config:2 map origin.example true "origin.example" false`,
		`remap.config:3 map shop.origin.example true "" true`,
		`remap.config:5 map 10.1.2.4 true "lit.origin.example" false`,
		`remap.config:6 reverse_map www.example false "www.example" false`,
		`more.config:1 map 10.1.2.3 true "" false`,
		`remap.config:8 map 10.1.2.5 false "" false`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("rules\n%q\nwant\n%q", got, want)
	}
	var rules []string
	for _, f := range c.Findings() {
		rules = append(rules, fmt.Sprintf("%s %s:%d", f.Rule, filepath.Base(f.File), f.Line))
	}
	if want := []string{"TSV003 remap.config:3", "TSV001 more.config:1", "TSV004 sni.yaml:3"}; !slices.Equal(rules, want) {
		t.Errorf("findings %q, want %q", rules, want)
	}
	if fix := TSOverrideFix(c.Rules[2], TSSNIPolicy, "remap"); fix != "map http://lit.example/ https://10.1.2.4/ @plugin=conf_remap.so @pparam=proxy.config.ssl.client.sni_policy=remap" {
		t.Errorf("fix %q", fix)
	}
	if fix := TSOverrideFix(c.Rules[4], TSSNIPolicy, "@a.example"); fix != "map http://ip.example/ https://10.1.2.3/ @plugin=conf_remap.so @pparam=proxy.config.ssl.client.sni_policy=@a.example" {
		t.Errorf("fix %q", fix)
	}
	if fix := TSOverrideFix(c.Rules[1], TSSNIPolicy, "remap"); fix != "map http://shop.example/ https://shop.origin.example/ @plugin=conf_remap.so @pparam=origin.config @pparam=proxy.config.ssl.client.sni_policy=remap" {
		t.Errorf("fix %q", fix)
	}
	if n := len(c.Files); n != 5 {
		t.Errorf("%d files read (%q), want 5", n, c.Files)
	}
}

// TestTrafficServerRecordsYAML: records.yaml (10.0 on) is read when the
// folder has no records.config, its keys under ts: the records'.
func TestTrafficServerRecordsYAML(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "records.yaml"), []byte("ts:\n  ssl:\n    client:\n      sni_policy: server_name\n  url_remap:\n    pristine_host_hdr: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "remap.config"), []byte("map http://a.example/ https://a.origin.example/\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := ParseTrafficServerFolder(filepath.Join(dir, "remap.config"))
	if err != nil {
		t.Fatal(err)
	}
	rec := c.Setting(c.Rules[0], TSSNIPolicy)
	if rec.Value != "server_name" || rec.Line != 4 || filepath.Base(rec.File) != "records.yaml" {
		t.Errorf("sni_policy %+v, want server_name at records.yaml:4", rec)
	}
	fs := c.Findings()
	if len(fs) == 0 || fs[0].Rule != "TSV002" || fs[0].Fix != "ts: {ssl: {client: {sni_policy: remap}}} (records.yaml)" {
		t.Errorf("findings %v, want TSV002 first, fixed in records.yaml", fs)
	}
	rec.File = filepath.Join(dir, "records.config")
	if fix := TSRecordFix(TSRecord{Name: TSSNIPolicy, File: rec.File}, "remap"); fix != "CONFIG proxy.config.ssl.client.sni_policy STRING remap (records.config)" {
		t.Errorf("records.config fix %q", fix)
	}
}

// TestTrafficServerBadInput: errors name the file and line.
func TestTrafficServerBadInput(t *testing.T) {
	for _, tc := range []struct {
		data string
		line int
	}{{"map http://a/\n", 1}, {"# x\nmap http://a/ b\n", 2}, {"map http://a/ https:///\n", 1}, {"bogus http://a/ https://b/\n", 1},
		{"map http://a/ https://b/ \\\n  junk\n", 1}} {
		_, err := ParseTrafficServer("remap.config", []byte(tc.data))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.File != "remap.config" || ce.Line != tc.line {
			t.Errorf("%q: error %v, want a ConfigError at remap.config:%d", tc.data, err, tc.line)
		}
	}
	if _, err := ParseTSRecordsConfig("records.config", []byte("CONFIG a INT 1\nCONFIG b\n")); err == nil || !strings.Contains(err.Error(), "records.config:2") {
		t.Errorf("records.config error %v, want one at line 2", err)
	}
	if LooksLikeTrafficServer([]byte("map $http_host $x {\n default 1;\n}\n")) || !LooksLikeTrafficServer([]byte("map / https://a.example/\n")) {
		t.Error("LooksLikeTrafficServer claims an nginx map block, or no remap.config")
	}
}

// FuzzParseTrafficServer: any bytes parse or fail with a ConfigError
// naming a line of the input, never panic; what parses has its rules run,
// each finding on a line of the input.
func FuzzParseTrafficServer(f *testing.F) {
	sample, err := os.ReadFile("../fixtures/check/trafficserver/remap.config")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte("map http://a/ https://10.0.0.1/ @plugin=conf_remap.so @pparam=proxy.config.url_remap.pristine_host_hdr=1 \\\n @pparam=x\n.include\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		LooksLikeTrafficServer(data)
		lines := bytes.Count(data, []byte("\n")) + 1
		c, err := ParseTrafficServer("remap.config", data)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.File != "remap.config" || ce.Line < 1 || ce.Line > lines {
				t.Fatalf("error %v is not a ConfigError within the %d lines", err, lines)
			}
			return
		}
		for _, fd := range c.Findings() {
			if fd.Line < 1 || fd.Line > lines {
				t.Fatalf("finding %s at line %d of %d", fd.Rule, fd.Line, lines)
			}
		}
		for _, r := range c.Rules {
			TSOverrideFix(r, TSSNIPolicy, "remap")
		}
	})
}

// TestTrafficServerRedacts: a rule's text and fixes name no credential
// a plugin parameter holds (s3_auth.so's --secret_key VALUE, NAME=VALUE).
func TestTrafficServerRedacts(t *testing.T) {
	c, err := ParseTrafficServer("remap.config", []byte("map http://a.example/ https://10.0.0.1/ @plugin=s3_auth.so @pparam=--access_key @pparam=AKIDCANARY @pparam=--secret_key @pparam=CANARYSECRET @pparam=api_token=CANARYTOKEN @pparam=--version @pparam=2\n"))
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{c.Rules[0].Text(), TSOverrideFix(c.Rules[0], TSSNIPolicy, "remap")}
	for _, f := range c.Findings() {
		texts = append(texts, f.Message, f.Fix)
	}
	for _, text := range texts {
		if strings.Contains(text, "CANARY") || !strings.Contains(text, "@pparam=--version @pparam=2") && strings.Contains(text, "s3_auth") {
			t.Errorf("%q names a credential, or lost a parameter", text)
		}
	}
}

// TestTrafficServerFileRecords: proxy.config.url_remap.filename and
// proxy.config.ssl.servername.filename name the files Traffic Server
// reads instead of remap.config and sni.yaml.
func TestTrafficServerFileRecords(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"records.config":    "CONFIG proxy.config.url_remap.filename STRING edge-remap.config\nCONFIG proxy.config.ssl.servername.filename STRING edge-sni.yaml\n",
		"remap.config":      "map http://old.example/ https://10.0.0.1/\n",
		"edge-remap.config": "map http://new.example/ https://new.origin.example/ @plugin=conf_remap.so @pparam=proxy.config.ssl.client.verify.server.policy=ENFORCED\n",
		"edge-sni.yaml":     "sni:\n- fqdn: new.example\n  verify_server_properties: NONE\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := ParseTrafficServerFolder(filepath.Join(dir, "remap.config"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range c.Findings() {
		got = append(got, fmt.Sprintf("%s %s:%d", f.Rule, filepath.Base(f.File), f.Line))
	}
	if len(c.Rules) != 1 || c.Rules[0].From.Host != "new.example" || !slices.Equal(got, []string{"TSV004 edge-sni.yaml:3"}) || len(c.Notes) != 1 {
		t.Errorf("rules %v, findings %q, notes %q: want edge-remap.config's rule and edge-sni.yaml's entry", c.Rules, got, c.Notes)
	}
}

// TestTrafficServerSNIYAML: the rules of https:// clients take sni.yaml's
// outbound keys from the entry their host matches (exactly, else by a
// *.DOMAIN wildcard); client_sni_policy wins over conf_remap's sni_policy,
// as 9.2.9 does, and its fix is in sni.yaml.
func TestTrafficServerSNIYAML(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{
		"remap.config": "map https://a.example/ https://a.origin.example/ @plugin=conf_remap.so @pparam=proxy.config.ssl.client.sni_policy=remap\n" +
			"map https://b.example/ https://10.0.0.2/\nmap http://a.example/ https://a.origin.example/\n",
		"sni.yaml": "sni:\n- fqdn: '*.example'\n  client_sni_policy: server_name\n  verify_server_policy: ENFORCED\n- fqdn: a.example\n  client_sni_policy: host\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := ParseTrafficServerFolder(filepath.Join(dir, "remap.config"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range c.Rules {
		p, v := c.Setting(r, TSSNIPolicy), c.Setting(r, TSVerifyPolicy)
		got = append(got, fmt.Sprintf("%s %s:%d %s %s", r.From.Raw, filepath.Base(p.File), p.Line, p.Value, v.Value))
	}
	want := []string{"https://a.example/ sni.yaml:6 host PERMISSIVE", "https://b.example/ sni.yaml:3 server_name ENFORCED", "http://a.example/ .:0 host PERMISSIVE"}
	if !slices.Equal(got, want) {
		t.Errorf("settings %q, want %q", got, want)
	}
	fs := c.RuleFindings(c.Rules[1])
	if len(fs) != 1 || fs[0].Rule != "TSV002" || fs[0].Fix != `client_sni_policy: "@<the upstream's host name>" (sni.yaml:3, sni.yaml's entry)` {
		t.Errorf("findings %+v, want TSV002 fixed in sni.yaml", fs)
	}
}
