package lint

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// want matches the expectations written into testdata: a comment
// "# want SNI001 [SNI005...]" on the line of each expected finding.
var want = regexp.MustCompile(`#\s*want((?:\s+SNI\d{3})+)`)

// wants reads the expectations of the given files as "FILE:LINE RULE".
func wants(t *testing.T, files []string) []string {
	t.Helper()
	var out []string
	for _, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		s := bufio.NewScanner(f)
		for line := 1; s.Scan(); line++ {
			if m := want.FindStringSubmatch(s.Text()); m != nil {
				for _, rule := range strings.Fields(m[1]) {
					out = append(out, fmt.Sprintf("%s:%d %s", file, line, rule))
				}
			}
		}
		f.Close()
	}
	slices.Sort(out)
	return out
}

// got lists findings as "FILE:LINE RULE", sorted.
func got(findings []Finding) []string {
	var out []string
	for _, f := range findings {
		out = append(out, fmt.Sprintf("%s:%d %s", f.File, f.Line, f.Rule))
	}
	slices.Sort(out)
	return out
}

// TestTestdata lints each testdata/*.conf, and the realistic sample in
// testdata/sample, and compares the findings with
// the "# want" comments of every file read, included ones too.
func TestTestdata(t *testing.T) {
	files, err := filepath.Glob("testdata/*.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	files = append(files, "testdata/sample/nginx.conf")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			res, err := Files(file)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := got(res.Findings), wants(t, res.Files); !slices.Equal(g, w) {
				t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(g, "\n  "), strings.Join(w, "\n  "))
				for _, f := range res.Findings {
					t.Log(f)
				}
			}
		})
	}
}

// TestIncludes pins how includes are followed: relative to the linted
// file's directory, glob patterns sorted, hidden files skipped.
func TestIncludes(t *testing.T) {
	res, err := Files("testdata/include.conf")
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []string{
		"testdata/include.conf",
		"testdata/include/snippets/upstreams.conf",
		"testdata/include/sites/api.conf",
		"testdata/include/sites/shop.conf",
		"testdata/include/snippets/sni-on.conf",
		"testdata/include/snippets/sni-on.conf", // gonginx moves an http block's servers after its other directives
	}
	if !slices.Equal(res.Files, wantFiles) {
		t.Errorf("files read %q, want %q", res.Files, wantFiles)
	}
}

// TestMessages pins the message and fix of one finding per rule: each
// names what nginx sends and the directive that fixes it.
func TestMessages(t *testing.T) {
	find := func(file string, line int) Finding {
		t.Helper()
		res, err := Files(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Findings {
			if f.Line == line {
				return f
			}
		}
		t.Fatalf("%s:%d: no finding in %v", file, line, res.Findings)
		return Finding{}
	}
	tests := []struct {
		file        string
		line        int
		text        string
		messageFrom string // the line a message names, if any
	}{
		{"testdata/scope.conf", 9, `testdata/scope.conf:9: SNI001 error: proxy_pass https://www.xx.test sends no SNI: proxy_ssl_server_name is off by default; an upstream that routes by SNI refuses the handshake and nginx answers 502
    fix: add ` + "`proxy_ssl_server_name on;`" + ` next to this proxy_pass (or in its server or http block)`, ""},
		{"testdata/scope.conf", 33, `testdata/scope.conf:33: SNI001 error: proxy_pass https://www.xx.test sends no SNI: proxy_ssl_server_name is off at testdata/scope.conf:32; an upstream that routes by SNI refuses the handshake and nginx answers 502
    fix: turn proxy_ssl_server_name on at testdata/scope.conf:32, or add ` + "`proxy_ssl_server_name on;`" + ` next to this proxy_pass`, ""},
		{"testdata/upstreams.conf", 23, `testdata/upstreams.conf:23: SNI002 error: proxy_pass https://backend sends the upstream block's name "backend" as SNI, as proxy_ssl_name defaults to it; an upstream that routes by SNI refuses that name and nginx answers 502
    fix: add ` + "`proxy_ssl_name www.xx.test;`" + ` next to this proxy_pass`, ""},
		{"testdata/upstreams.conf", 26, "fix: add `proxy_ssl_name <the upstream's host name>;` next to this proxy_pass", ""},
		{"testdata/upstreams.conf", 47, "fix: turn proxy_ssl_server_name on at testdata/upstreams.conf:46, or add `proxy_ssl_server_name on;` next to this proxy_pass, with `proxy_ssl_name www.xx.test;`", ""},
		{"testdata/upstreams.conf", 36, `SNI003 error: proxy_pass https://10.0.0.5:443 names an IP address, so nginx sends no SNI even with proxy_ssl_server_name on (RFC 6066 forbids IP literals)`, ""},
		{"testdata/upstreams.conf", 55, "fix: add `grpc_ssl_name www.xx.test;` next to this grpc_pass", ""},
		{"testdata/verify.conf", 5, `SNI004 error: proxy_ssl_verify on has no proxy_ssl_trusted_certificate in scope of proxy_pass https://www.xx.test at testdata/verify.conf:12: nginx refuses to start with "no proxy_ssl_trusted_certificate for proxy_ssl_verify"`, ""},
		{"testdata/host.conf", 13, `SNI005 warning: proxy_set_header Host $host differs from the SNI s421.xx.test (the proxy_pass host) sent to https://s421.xx.test:8421: an upstream that checks both answers 421 Misdirected Request
    fix: send one name in both: ` + "`proxy_ssl_name $host;`" + ` makes the SNI follow the Host, or set Host to s421.xx.test`, ""},
		{"testdata/sslname.conf", 11, `SNI006 error: proxy_ssl_name "www.xx.test." ends in a dot: nginx sends "www.xx.test." as SNI, dot included, which upstreams that match names exactly refuse
    fix: ` + "`proxy_ssl_name www.xx.test;`", ""},
		{"testdata/sslname.conf", 23, `SNI006 error: proxy_ssl_name "2001:db8::1" is a bare IPv6 address: nginx cuts it at the first colon, as if a port followed, and sends "2001" as SNI`, ""},
		{"testdata/stream.conf", 10, `SNI001 error: stream proxy_pass www.xx.test:443 with proxy_ssl on sends no SNI: proxy_ssl_server_name is off by default; an upstream that routes by SNI refuses the handshake and nginx closes the client's connection
    fix: add ` + "`proxy_ssl_server_name on;`" + ` next to this proxy_pass (or in its server or stream block)`, ""},
		{"testdata/stream.conf", 34, "fix: add `proxy_ssl_name www.xx.test;` next to this proxy_pass", ""},
	}
	for _, tt := range tests {
		if f := find(tt.file, tt.line); !strings.Contains(f.String(), tt.text) {
			t.Errorf("%s:%d:\n%s\nlacks\n%s", tt.file, tt.line, f, tt.text)
		}
	}
}

// TestConfigErrors pins the one sentence, with file and line, for a
// configuration lint cannot read or parse.
func TestConfigErrors(t *testing.T) {
	tests := []struct{ file, want string }{
		{"testdata/errors/unclosed.conf", `testdata/errors/unclosed.conf:6: unexpected end of file, expecting "}"`},
		{"testdata/errors/stray-brace.conf", `testdata/errors/stray-brace.conf:5: unexpected "}"`},
		{"testdata/errors/missing-semicolon.conf", `testdata/errors/missing-semicolon.conf:5: unexpected "}" (the directive "proxy_pass" at line 4 is not terminated by ";")`},
		{"testdata/errors/open-quote.conf", `testdata/errors/open-quote.conf:2: unexpected end of file, expecting ";" or "}" (the quoted string that starts on this line is not closed)`},
		{"testdata/errors/missing-include.conf", "testdata/errors/missing-include.conf:2: include conf.d/nothing-here.conf: no such file testdata/errors/conf.d/nothing-here.conf " +
			"(relative paths are resolved against testdata/errors, the directory of the file linted)"},
		{"testdata/errors/cycle.conf", "testdata/errors/cycle.conf:2: include cycle.conf: includes itself through testdata/errors/cycle.conf"},
		{"testdata/errors/absent.conf", "testdata/errors/absent.conf: cannot read: no such file or directory"},
	}
	for _, tt := range tests {
		res, err := Files("testdata/clean.conf", tt.file)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%s: got %v, %v\nwant %s", tt.file, res, err, tt.want)
		}
		if _, ok := err.(*ConfigError); !ok {
			t.Errorf("%s: error is a %T, want *ConfigError", tt.file, err)
		}
	}
}

// TestFilesTogether: site files linted together see the upstream blocks
// defined in another file, like the nginx.conf that includes them all.
func TestFilesTogether(t *testing.T) {
	dir := t.TempDir()
	upstreams := filepath.Join(dir, "upstreams.conf")
	site := filepath.Join(dir, "site.conf")
	write(t, upstreams, "upstream backend_pool {\n    server shop.xx.test:443;\n}\n")
	write(t, site, "server {\n    location / {\n        proxy_ssl_server_name on;\n        proxy_pass https://backend_pool;\n    }\n}\n")
	res, err := Files(upstreams, site)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := got(res.Findings), []string{site + ":4 SNI002"}; !slices.Equal(g, w) {
		t.Errorf("findings %q, want %q", g, w)
	}
	res, err = Files(site)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 {
		t.Errorf("site alone: %v, want nothing: backend_pool is then a host name", res.Findings)
	}
}

func write(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestText pins the text output: two lines per finding.
func TestText(t *testing.T) {
	res, err := Files("testdata/include.conf")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteText(&b, res.Findings); err != nil {
		t.Fatal(err)
	}
	want := "testdata/include.conf:12: SNI002 error: proxy_pass https://shop_backend sends the upstream block's name \"shop_backend\" as SNI, " +
		"as proxy_ssl_name defaults to it; an upstream that routes by SNI refuses that name and nginx answers 502\n" +
		"    fix: add `proxy_ssl_name shop.xx.test;` next to this proxy_pass\n" +
		"testdata/include/sites/api.conf:6: SNI001 error: proxy_pass https://api.xx.test sends no SNI: proxy_ssl_server_name is off by default; " +
		"an upstream that routes by SNI refuses the handshake and nginx answers 502\n" +
		"    fix: add `proxy_ssl_server_name on;` next to this proxy_pass (or in its server or http block)\n" +
		"testdata/include/sites/shop.conf:8: SNI004 error: proxy_ssl_verify on has no proxy_ssl_trusted_certificate in scope of " +
		"proxy_pass https://shop.xx.test at testdata/include/sites/shop.conf:7: nginx refuses to start with \"no proxy_ssl_trusted_certificate for proxy_ssl_verify\"\n" +
		"    fix: add `proxy_ssl_trusted_certificate FILE;` next to it, FILE holding the CA that issued the upstream's certificate (/etc/ssl/certs/ca-certificates.crt for public CAs)\n"
	if b.String() != want {
		t.Errorf("text:\n%s\nwant:\n%s", b.String(), want)
	}
}

// TestSARIF decodes the SARIF log and checks the fields SARIF 2.1.0
// requires and code-scanning UIs read.
func TestSARIF(t *testing.T) {
	res, err := Files("testdata/include.conf")
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteSARIF(&b, append(res.Findings, Finding{Rule: "SNI001", Severity: Error, File: "/elsewhere/nginx.conf", Line: 3, Message: "m", Fix: "f"}), root); err != nil {
		t.Fatal(err)
	}
	type text struct {
		Text *string `json:"text"`
	}
	var log struct {
		Schema  string `json:"$schema"`
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  *string `json:"name"`
					Rules []struct {
						ID                   string `json:"id"`
						Name                 string `json:"name"`
						ShortDescription     text   `json:"shortDescription"`
						FullDescription      text   `json:"fullDescription"`
						Help                 text   `json:"help"`
						DefaultConfiguration struct {
							Level string `json:"level"`
						} `json:"defaultConfiguration"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			OriginalURIBaseIDs map[string]struct {
				URI string `json:"uri"`
			} `json:"originalUriBaseIds"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Message   text   `json:"message"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine int `json:"startLine"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	dec := json.NewDecoder(&b)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || !strings.Contains(log.Schema, "sarif-schema-2.1.0") || len(log.Runs) != 1 {
		t.Fatalf("version %q, schema %q, %d runs", log.Version, log.Schema, len(log.Runs))
	}
	run := log.Runs[0]
	if d := run.Tool.Driver; d.Name == nil || *d.Name != "sniproof lint" || len(d.Rules) != len(Rules()) {
		t.Errorf("driver %+v", d)
	}
	for i, r := range run.Tool.Driver.Rules {
		if r.ID != Rules()[i].ID || r.ShortDescription.Text == nil || *r.ShortDescription.Text == "" ||
			r.Help.Text == nil || *r.Help.Text == "" || (r.DefaultConfiguration.Level != "error" && r.DefaultConfiguration.Level != "warning") {
			t.Errorf("rule %d: %+v", i, r)
		}
	}
	if u := run.OriginalURIBaseIDs["%SRCROOT%"].URI; u != "file://"+filepath.ToSlash(root)+"/" {
		t.Errorf("%%SRCROOT%% = %q", u)
	}
	var locs []string
	for _, r := range run.Results {
		if r.Message.Text == nil || !strings.Contains(*r.Message.Text, "Fix: ") || len(r.Locations) != 1 ||
			run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID || r.Level != "error" {
			t.Errorf("result %+v", r)
			continue
		}
		l := r.Locations[0].PhysicalLocation
		locs = append(locs, fmt.Sprintf("%s %s:%d %s", l.ArtifactLocation.URIBaseID, l.ArtifactLocation.URI, l.Region.StartLine, r.RuleID))
	}
	wantLocs := []string{
		"%SRCROOT% include.conf:12 SNI002",
		"%SRCROOT% include/sites/api.conf:6 SNI001",
		"%SRCROOT% include/sites/shop.conf:8 SNI004",
		" file:///elsewhere/nginx.conf:3 SNI001",
	}
	if !slices.Equal(locs, wantLocs) {
		t.Errorf("locations %q, want %q", locs, wantLocs)
	}
}

// TestSARIFEmpty: a clean run is a SARIF log with an empty results list,
// not null.
func TestSARIFEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSARIF(&b, nil, "."); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"results": []`) {
		t.Errorf("no empty results list:\n%s", b.String())
	}
}

// TestFilesIn: a copy of a Debian layout, whose includes are absolute, is
// read whole with its folder standing for /etc/nginx; without, lint stops
// at the first absolute include this machine lacks.
func TestFilesIn(t *testing.T) {
	const main = "../fixtures/check/sample/nginx.conf"
	if _, err := Files(main); err == nil || !strings.Contains(err.Error(), "include /etc/nginx/") {
		t.Skipf("this machine provides the sample's absolute includes (%v)", err)
	}
	res, notes, err := Lint(Options{ConfDir: "/etc/nginx"}, main)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%s:%d %s", f.File, f.Line, f.Rule))
	}
	want := []string{
		"../fixtures/check/sample/nginx.conf:35 SNI001",
		"../fixtures/check/sample/sites-enabled/admin.conf:9 SNI001",
		"../fixtures/check/sample/sites-enabled/admin.conf:13 SNI003",
		"../fixtures/check/sample/sites-enabled/grpc.conf:9 SNI001",
		"../fixtures/check/sample/sites-enabled/shop.conf:22 SNI002",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Files) != 5 || len(notes) != 2 || !strings.Contains(notes[1], "include /etc/nginx/mime.types is not followed") {
		t.Errorf("files %q, notes %q: want 5 files and the 2 includes the sample does not provide", res.Files, notes)
	}
}

// TestPathsDebianCopy: a copy of a Debian /etc/nginx named by its
// nginx.conf is read whole without --conf-dir, its folder standing for
// /etc/nginx, as check reads it (sites-enabled/ symlinks included); one
// note says so, and the others name each include the copy does not
// provide: a folder it lacks, a file outside /etc/nginx.
func TestPathsDebianCopy(t *testing.T) {
	const main = "testdata/debian/nginx.conf"
	res, notes, err := Lint(Options{}, main)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := got(res.Findings), wants(t, res.Files); len(w) == 0 || !slices.Equal(g, w) {
		t.Errorf("findings:\n  %s\nwant:\n  %s", strings.Join(g, "\n  "), strings.Join(w, "\n  "))
	}
	wantFiles := []string{main, "testdata/debian/mime.types", "testdata/debian/conf.d/upstreams.conf",
		"testdata/debian/sites-enabled/shop", "testdata/debian/snippets/proxy-tls.conf"}
	if !slices.Equal(res.Files, wantFiles) {
		t.Errorf("files %q, want %q", res.Files, wantFiles)
	}
	wantNotes := []string{
		main + " is read as /etc/nginx/nginx.conf: its includes under /etc/nginx are read from its folder testdata/debian, as sniproof check reads them (--conf-dir names another folder)",
		main + ":7: include /etc/nginx/modules-enabled/*.conf is not followed: testdata/debian does not provide it (nginx reads what the machine has there)",
		"testdata/debian/sites-enabled/shop:6: include /etc/letsencrypt/options-ssl-nginx.conf is not followed: testdata/debian does not provide it (nginx reads what the machine has there)",
	}
	if !slices.Equal(notes, wantNotes) {
		t.Errorf("notes:\n  %s\nwant:\n  %s", strings.Join(notes, "\n  "), strings.Join(wantNotes, "\n  "))
	}

	// With other files: each is linted as Files lints it.
	res, notes, err = Lint(Options{}, main, "testdata/host.conf")
	if err != nil {
		t.Fatal(err)
	}
	if g, w := got(res.Findings), wants(t, res.Files); !slices.Equal(g, w) || len(notes) != 3 || !slices.Contains(res.Files, "testdata/host.conf") {
		t.Errorf("with host.conf: findings %q (want %q), files %q, notes %q", g, w, res.Files, notes)
	}
}

// TestIsDebianCopy pins what makes a main file a copy of /etc/nginx: its
// name, nginx.conf, and an absolute include under /etc/nginx that its
// folder provides. Relative includes, includes the folder does not
// provide, includes outside /etc/nginx and HAProxy files do not count.
func TestIsDebianCopy(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		main  string // the file named; "" for nginx.conf
		want  bool
	}{
		{"a provided file", map[string]string{"nginx.conf": "http { include /etc/nginx/mime.types; }", "mime.types": "types {}"}, "", true},
		{"a provided folder", map[string]string{"nginx.conf": "include /etc/nginx/sites-enabled/*;", "sites-enabled/.keep": ""}, "", true},
		{"quoted", map[string]string{"nginx.conf": `http { server { include "/etc/nginx/snippets/a.conf"; } }`, "snippets/a.conf": ""}, "", true},
		{"one of several", map[string]string{"nginx.conf": "include /etc/nginx/modules-enabled/*.conf;\nhttp { include /etc/nginx/conf.d/*.conf; }", "conf.d/a.conf": ""}, "", true},
		{"nothing provided", map[string]string{"nginx.conf": "http { include /etc/nginx/mime.types; include /etc/nginx/conf.d/*.conf; }"}, "", false},
		{"a folder for a file", map[string]string{"nginx.conf": "http { include /etc/nginx/mime.types; }", "mime.types/a": ""}, "", false},
		{"relative", map[string]string{"nginx.conf": "http { include mime.types; }", "mime.types": ""}, "", false},
		{"outside /etc/nginx", map[string]string{"nginx.conf": "http { include /etc/letsencrypt/options.conf; }", "letsencrypt/options.conf": "", "options.conf": ""}, "", false},
		{"climbing out", map[string]string{"nginx.conf": "http { include /etc/nginx/../nginx/../x.conf; }", "x.conf": ""}, "", false},
		{"another name", map[string]string{"main.conf": "http { include /etc/nginx/mime.types; }", "mime.types": ""}, "main.conf", false},
		{"HAProxy", map[string]string{"nginx.conf": "global\n    log /dev/log local0\n", "mime.types": ""}, "", false},
		{"unparsable", map[string]string{"nginx.conf": "http { include /etc/nginx/mime.types;", "mime.types": ""}, "", false},
		{"empty", map[string]string{"nginx.conf": ""}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				p := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			main := cmp.Or(tt.main, "nginx.conf")
			if got := isDebianCopy(filepath.Join(dir, main)); got != tt.want {
				t.Errorf("isDebianCopy = %v, want %v", got, tt.want)
			}
		})
	}
	if isDebianCopy("/etc/nginx/nginx.conf") {
		t.Error("isDebianCopy(/etc/nginx/nginx.conf) = true: /etc/nginx itself is no copy of it")
	}
}

// FuzzPaths: whatever a Debian-shaped copy's nginx.conf holds, Paths
// neither panics nor fails without a ConfigError, and a copy it detects
// is read with the note that says so.
func FuzzPaths(f *testing.F) {
	sample, err := os.ReadFile("testdata/debian/nginx.conf")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sample)
	f.Add([]byte("http { include /etc/nginx/mime.types; include '/etc/nginx/conf.d/*.conf'; }"))
	f.Add([]byte("include /etc/nginx/../nginx/mime.types;\ninclude /etc/nginx/[;\n"))
	f.Add([]byte("include /etc/nginx/nginx.conf;"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		for name, content := range map[string][]byte{"nginx.conf": data, "mime.types": []byte("types {}\n"), "conf.d/a.conf": nil} {
			p := filepath.Join(dir, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, content, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		main := filepath.Join(dir, "nginx.conf")
		res, notes, err := Lint(Options{}, main)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is no ConfigError", err)
			}
			return
		}
		if copied := isDebianCopy(main); copied != (len(notes) > 0 && strings.HasPrefix(notes[0], main+" is read as /etc/nginx/nginx.conf")) || len(res.Files) == 0 {
			t.Fatalf("copy %v, notes %q, files %q", copied, notes, res.Files)
		}
	})
}

// TestSetPass: a pass whose URL is a variable is judged by the literal an
// unconditional set gives it, the innermost winning; a plain-HTTP or
// unknown value is no TLS pass.
func TestSetPass(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "nginx.conf")
	write(t, file, `http {
    server {
        listen 80;
        set $up http://plain.internal;
        location /a/ {
            set $up https://search.internal.example;
            proxy_pass $up;
        }
        location /b/ {
            proxy_pass $up;
        }
        location /c/ {
            set $ip https://10.0.0.5:8443;
            proxy_pass $ip/x;
            proxy_ssl_server_name on;
        }
        location /d/ {
            proxy_pass $unknown;
        }
    }
}
`)
	res, err := Files(file)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%d %s", f.Line, f.Rule))
	}
	if want := []string{"7 SNI001", "14 SNI003"}; !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
}
