package lint

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad input: what lint says of a configuration nginx's parser refuses, of
// a file that is no configuration at all, and of one with nothing to
// lint. Each error is one sentence with the file and line.
//
// The nginx column is what nginx -t says of the same text (with events {}
// above it, so lines here are one less), confirmed on the project's images
// of nginx 1.22 (bookworm) and 1.26 (trixie), which agree. lint's message
// is nginx's, at nginx's line, and names the directive that lacks its ";";
// at the end of the file lint points at the last line with anything on
// it, where nginx points past it.

// TestSyntaxErrors pins nginx's words for a directive without its ";" and
// the other errors of nginx's parser.
func TestSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, text string
		nginx      string // nginx -t, its line made ours
		want       string
	}{
		{"before the next directive",
			"http {\n server {\n  listen 80\n  server_name x;\n }\n}\n",
			`invalid parameter "server_name" in nginx.conf:4`,
			`:4: directive "listen" is not terminated by ";" (it starts at line 3; nginx reads "server_name x" as more of its arguments)`},
		{"before a block",
			"http {\n server {\n  listen 80\n  location / {\n   return 200;\n  }\n }\n}\n",
			`directive "listen" is not terminated by ";" in nginx.conf:4`,
			`:4: directive "listen" is not terminated by ";" (it starts at line 3; nginx reads "location / {" as more of its arguments)`},
		{"before the closing brace",
			"http {\n server {\n proxy_set_header A \"b\"\n }\n}",
			`unexpected "}" in nginx.conf:4`,
			`:4: unexpected "}" (the directive "proxy_set_header" at line 3 is not terminated by ";")`},
		{"at the end of the file",
			"http {\n}\nworker_processes 1\n",
			`unexpected end of file, expecting ";" or "}" in nginx.conf:4`,
			`:3: unexpected end of file, expecting ";" or "}" (the directive "worker_processes" is not terminated by ";")`},
		{"at the end of the file without a newline",
			"http {\n}\nworker_processes 1",
			`unexpected end of file, expecting ";" or "}" in nginx.conf:3`,
			`:3: unexpected end of file, expecting ";" or "}" (the directive "worker_processes" is not terminated by ";")`},
		{"a block directive ended by a semicolon",
			"http {\n server {\n  location /;\n }\n}\n",
			`directive "location" has no opening "{" in nginx.conf:3`,
			`:3: directive "location" has no opening "{"`},
		{"a word glued to a quoted string",
			"http {\n server {\n  add_header A \"b\"x;\n }\n}\n",
			`unexpected "x" in nginx.conf:3`,
			`:3: unexpected "x"`},
		{"a semicolon alone",
			";\n",
			`unexpected ";" in nginx.conf:1`,
			`:1: unexpected ";"`},
		{"a block not closed",
			"http {\n server {\n",
			`unexpected end of file, expecting "}" in nginx.conf:3`,
			`:2: unexpected end of file, expecting "}"`},
		{"a quote not closed",
			"http {\n proxy_set_header Host \"www.xx.test;\n}\n",
			`unexpected end of file, expecting ";" or "}" in nginx.conf:4`,
			`:2: unexpected end of file, expecting ";" or "}" (the quoted string that starts on this line is not closed)`},
		{"a byte order mark",
			"\xef\xbb\xbfhttp {\n}\n",
			"unknown directive \"\xef\xbb\xbfhttp\" in nginx.conf:1",
			`:1: unknown directive "\ufeffhttp": the file starts with a UTF-8 byte order mark, which nginx reads as part of the first directive's name (save the file without it)`},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".conf")
			write(t, file, tt.text)
			_, err := Files(file)
			var ce *ConfigError
			if !errors.As(err, &ce) || err.Error() != file+tt.want {
				t.Errorf("got %v\nwant %s%s\n(nginx -t: %s)", err, file, tt.want, tt.nginx)
			}
		})
	}
}

// TestNginxReads: what nginx's parser reads, lint reads too: Lua code with
// braces in strings and comments, ${variables}, parentheses after a quote,
// directives spread over lines, and map data named like directives.
func TestNginxReads(t *testing.T) {
	for name, text := range map[string]string{
		"lua":                  "http {\n server {\n  location / {\n   content_by_lua_block {\n    local t = { a = \"}\" } -- }\n    ngx.say([[}]], '{')\n   }\n  }\n }\n}\n",
		"variables and quotes": "http {\n server {\n  location / {\n   if ($host = \"a\") { return 200 \"${host}}\"; }\n   proxy_pass https://$host;\n  }\n }\n}\n",
		"over lines":           "http {\n server {\n  listen 443 ssl\n   http2;\n  log_format main '$a'\n   '$b';\n  server_name a.example\n   b.example;\n }\n}\n",
		"map data":             "http {\n map $host $x {\n  default off;\n  listen server_name 1;\n }\n upstream u {\n  server a.example:443\n   max_fails=3;\n }\n}\n",
	} {
		dir := t.TempDir()
		file := filepath.Join(dir, "nginx.conf")
		write(t, file, text)
		if _, err := Files(file); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestNotConfig: a binary file and text in another language are one
// sentence each, naming the file, the line that shows it and what it looks
// like, of class ErrNotConfig; the caller says what it reads instead.
func TestNotConfig(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"config.yaml", "apiVersion: v1\nkind: ConfigMap\ndata:\n  nginx.conf: |\n    http {}\n", ":1: YAML (a Kubernetes ConfigMap), not an nginx configuration"},
		{"values.yaml", "# values\nserver:\n  listen: 80\n", ":2: YAML, not an nginx configuration"},
		{"config.json", "{\n  \"server\": {\"listen\": 80}\n}\n", ":1: JSON, not an nginx configuration"},
		{"sniproof.conf", "\x7fELF\x02\x01\x01\x00\x00", ":1: binary data (an ELF executable), not an nginx configuration"},
		{"nul.conf", "http {\n}\n\x00\x01", ":3: binary data (it holds NUL bytes), not an nginx configuration"},
		{"utf16.conf", "\xff\xfeh\x00t\x00", ":1: UTF-16 text (save it as UTF-8), not an nginx configuration"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		file := filepath.Join(dir, tt.name)
		write(t, file, tt.text)
		_, err := Files(file)
		if !errors.Is(err, ErrNotConfig) || err.Error() != file+tt.want {
			t.Errorf("%s: got %v, want %s%s of class ErrNotConfig", tt.name, err, file, tt.want)
		}
	}
	for _, tt := range []struct{ text, want string }{
		{"events {}\nhttp {\n}\n", "haproxy.cfg:1: an nginx configuration, not an HAProxy configuration"},
		{"apiVersion: v1\nkind: ConfigMap\n", "haproxy.cfg:1: YAML (a Kubernetes ConfigMap), not an HAProxy configuration"},
		{"global\n\x00", "haproxy.cfg:2: binary data (it holds NUL bytes), not an HAProxy configuration"},
	} {
		_, err := ParseHAProxy("haproxy.cfg", []byte(tt.text))
		if !errors.Is(err, ErrNotConfig) || err.Error() != tt.want {
			t.Errorf("ParseHAProxy(%q): got %v, want %s", tt.text, err, tt.want)
		}
	}
	if _, err := ParseHAProxy("haproxy.cfg", []byte("# none\n")); err == nil || err.Error() != "haproxy.cfg: no section: the file holds only comments (an HAProxy configuration has global, defaults, frontend, backend or listen sections)" {
		t.Errorf("ParseHAProxy of comments: %v", err)
	}
}

// TestNothing: files with no directive, or nothing that proxies to an
// upstream, are said to hold nothing to lint, in one sentence; a finding
// or an upstream is something.
func TestNothing(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"empty.conf":    "",
		"comments.conf": "\n# just a comment\n",
		"static.conf":   "server {\n    listen 80;\n    root /srv;\n}\n",
		"plain.conf":    "server {\n    location / { proxy_pass http://app; }\n}\n",
		"frontend.cfg":  "frontend f\n    bind :80\n    http-request return status 200\n",
		"backend.cfg":   "backend b\n    server s 10.0.0.1:80\n",
	}
	for name, text := range files {
		write(t, filepath.Join(dir, name), text)
	}
	at := func(name string) string { return filepath.Join(dir, name) }
	for _, tt := range []struct {
		files []string
		want  string
	}{
		{[]string{"empty.conf"}, at("empty.conf") + " is empty: nothing to lint"},
		{[]string{"empty.conf", "comments.conf"}, at("empty.conf") + " is empty, and " + at("comments.conf") + " holds only comments: nothing to lint"},
		{[]string{"static.conf"}, "nothing to lint in " + at("static.conf") + ": no server or location proxies to an upstream (proxy_pass, grpc_pass, uwsgi_pass)"},
		{[]string{"frontend.cfg"}, "nothing to lint in " + at("frontend.cfg") + ": no backend or listen section has a server line"},
		{[]string{"empty.conf", "frontend.cfg"}, "nothing to lint in " + at("empty.conf") + ", " + at("frontend.cfg") + ": no backend or listen section has a server line"},
		{[]string{"plain.conf"}, ""},
		{[]string{"backend.cfg"}, ""},
		{[]string{"empty.conf", "plain.conf"}, ""},
	} {
		var paths []string
		for _, f := range tt.files {
			paths = append(paths, at(f))
		}
		res, _, err := Lint(Options{}, paths...)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Nothing(); got != tt.want {
			t.Errorf("%q: Nothing() = %q, want %q", tt.files, got, tt.want)
		}
	}
}

// FuzzFiles: whatever a file holds, Files neither panics nor fails
// without a ConfigError naming a file (the fuzzed one, within its lines,
// or one it includes); what it reads
// has nothing to lint exactly when it has no finding and no upstream.
func FuzzFiles(f *testing.F) {
	for _, dir := range []string{"testdata", "testdata/errors"} {
		names, err := filepath.Glob(filepath.Join(dir, "*.conf"))
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range names {
			data, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add([]byte("http {\n server {\n  listen 80\n  server_name x;\n }\n}\n"))
	f.Add([]byte("http {\n server {\n proxy_set_header A \"b\"\n }\n}"))
	f.Add([]byte("content_by_lua_block { local s = [==[ } ]==] --[[ } ]] }\n"))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\n"))
	f.Add([]byte("example.com {\n\treverse_proxy :8080\n}\n"))
	f.Add([]byte("<VirtualHost *:443>\n</VirtualHost>\n"))
	f.Add([]byte("\xef\xbb\xbfif ($a = \"b\") { set $x \"${y}\"; }\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(t.TempDir(), "nginx.conf")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		res, err := Files(file)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.File == "" || ce.Line < 0 || ce.File == file && ce.Line > lines {
				t.Fatalf("error %v is no ConfigError within the %d lines of %s", err, lines, file)
			}
			return
		}
		if nothing := res.Nothing() != ""; nothing != (len(res.Findings) == 0 && res.Upstreams == 0) {
			t.Fatalf("Nothing() = %q with %d findings and %d upstreams", res.Nothing(), len(res.Findings), res.Upstreams)
		}
	})
}
