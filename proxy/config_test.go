package proxy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeConfig writes text to a config file in a fresh directory.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "proxy.json")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfig(t *testing.T) {
	path := writeConfig(t, `{
  "http": ":8080",
  "https": ":8443",
  "certificates": [{"cert": "/etc/sniproof/shop.crt", "key": "/etc/sniproof/shop.key"}],
  "timeouts": {"dial": "1s", "tls_handshake": "2s"},
  "routes": [
    {"host": "www.shop.test", "path": "/api", "upstream": "https://www.xx.test:443/base",
     "dial": "127.0.0.1:9443", "sni": "name:www.xx.test", "verify": "/etc/sniproof/ca.pem", "host_header": "client"},
    {"host": "*", "upstream": "http://10.0.0.1:8080"}
  ]
}`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Routes[0]
	if cfg.HTTP != ":8080" || cfg.HTTPS != ":8443" || len(cfg.Certificates) != 1 || len(cfg.Routes) != 2 ||
		r.SNI != "name:www.xx.test" || r.Dial != "127.0.0.1:9443" || r.HostHeader != "client" || r.name() != "www.shop.test/api" {
		t.Fatalf("LoadConfig = %+v", cfg)
	}
	got, err := cfg.Timeouts.parse()
	want := timeouts{dial: time.Second, tlsHandshake: 2 * time.Second, responseHeader: defaultResponseHeader, idle: defaultIdle}
	if err != nil || got != want {
		t.Errorf("timeouts = %+v, %v; want %+v", got, err, want)
	}
}

// TestLoadConfigErrors pins that every error names the file, and the line
// and column, the field or the route.
func TestLoadConfigErrors(t *testing.T) {
	route := func(fields string) string {
		return `{"http": ":8080", "routes": [{"host": "www.shop.test", "upstream": "https://www.xx.test", "verify": "off"` + fields + `}]}`
	}
	tests := []struct {
		name string
		text string
		want string // after the file name
	}{
		{"syntax", "{\n  \"http\": \":8080\",\n  \"routes\": [}\n}", ":3:14: invalid character '}' looking for beginning of value"},
		{"type", "{\n  \"http\": 8080\n}", ":2:14: http: expected a string, got number"},
		{"timeout type", `{"timeouts": {"dial": 5}}`, ":1:23: timeouts.dial: expected a string, got number"},
		{"unknown field", route(`, "sni_mode": "auto"`), `: unknown field "sni_mode"`},
		{"empty", "", ": empty file, expected a JSON object"},
		{"truncated", "{\n  \"http\": \":8080\",", ":2:18: unexpected end of file"},
		{"trailing data", `{"http": ":8080"} {}`, ":1:19: unexpected data after the config object"},
		{"no frontend", `{"routes": []}`, ": http, https: at least one frontend address required"},
		{"https without certificates", `{"https": ":8443"}`, ": certificates: at least one required for https"},
		{"certificates without https", `{"http": ":80", "certificates": [{"cert": "a", "key": "b"}]}`, ": certificates: set, but there is no https frontend"},
		{"certificate without key", `{"https": ":443", "certificates": [{"cert": "a"}]}`, ": certificates[0]: cert and key required"},
		{"bad timeout", `{"http": ":80", "timeouts": {"idle": "forever"}}`, `: timeouts.idle: got "forever", expected a positive duration such as "5s"`},
		{"no routes", `{"http": ":80"}`, ": routes: at least one required"},
		{"no host", `{"http": ":80", "routes": [{"upstream": "http://a.test"}]}`, ": routes[0]: host required"},
		{"duplicate", `{"http": ":80", "routes": [{"host": "a.test", "upstream": "http://a.test"}, {"host": "A.test", "path": "/", "upstream": "http://b.test"}]}`,
			": route A.test/: duplicate host and path"},
		{"host with port", `{"http": ":80", "routes": [{"host": "a.test:80", "upstream": "http://a.test"}]}`,
			`: route a.test:80/: host: "a.test:80" has a port`},
		{"relative path", route(`, "path": "api"`), `: routes[0]: path: got "api", expected a prefix starting with /`},
		{"bad sni mode", route(`, "sni": "on"`), `: route www.shop.test/: sni: got "on", expected auto, off, host-header or name:NAME`},
		{"sni name empty", route(`, "sni": "name:"`), `: route www.shop.test/: sni: got "name:", expected a DNS name`},
		{"sni name IP", route(`, "sni": "name:10.0.0.1"`), `: route www.shop.test/: sni: got "name:10.0.0.1", expected a DNS name after name: (IP literals are never sent as SNI`},
		{"sni name port", route(`, "sni": "name:a.test:443"`), `: route www.shop.test/: sni: got "name:a.test:443", expected a DNS name`},
		{"bad upstream scheme", `{"http": ":80", "routes": [{"host": "a.test", "upstream": "ftp://a.test"}]}`,
			`: route a.test/: upstream: got "ftp://a.test", expected an http:// or https:// URL`},
		{"upstream without host", `{"http": ":80", "routes": [{"host": "a.test", "upstream": "https:///x", "verify": "off"}]}`,
			`: route a.test/: upstream: got "https:///x", expected a host in the URL`},
		{"upstream with query", `{"http": ":80", "routes": [{"host": "a.test", "upstream": "http://a.test/?x=1"}]}`,
			`: route a.test/: upstream: got "http://a.test/?x=1", expected no user, query or fragment`},
		{"upstream unparsable", `{"http": ":80", "routes": [{"host": "a.test", "upstream": "http://a.test:port"}]}`,
			`: route a.test/: upstream: parse "http://a.test:port": invalid port ":port" after host`},
		{"no verify", `{"http": ":80", "routes": [{"host": "a.test", "upstream": "https://a.test"}]}`,
			`: route a.test/: verify: required for an https upstream: "off" or a CA bundle file`},
		{"bad dial", route(`, "dial": "127.0.0.1"`), `: route www.shop.test/: dial: got "127.0.0.1", expected host:port`},
		{"bad host_header", route(`, "host_header": "value:"`), `: route www.shop.test/: host_header: got "value:", expected upstream, client or value:NAME`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.text)
			_, err := LoadConfig(path)
			if err == nil {
				t.Fatalf("LoadConfig succeeded, want %s%s", path, tt.want)
			}
			if want := path + tt.want; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error:\n%s\nwant prefix:\n%s", err, want)
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, err := LoadConfig(filepath.Join(t.TempDir(), "nope.json"))
	if err == nil || !strings.Contains(err.Error(), "read config: open ") {
		t.Errorf("err = %v, want read config: open ...", err)
	}
}

// TestNewReadsFiles pins the errors of files read by New, which name the
// route or certificate.
func TestNewReadsFiles(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"missing CA", Config{HTTP: ":0", Routes: []Route{{Host: "*", Upstream: "https://a.test", Verify: filepath.Join(dir, "nope.pem")}}},
			"route */: verify: read CA bundle: open "},
		{"CA not PEM", Config{HTTP: ":0", Routes: []Route{{Host: "*", Upstream: "https://a.test", Verify: notPEM}}},
			"route */: verify: no PEM certificate in " + notPEM},
		{"missing certificate", Config{HTTPS: ":0", Certificates: []Certificate{{Cert: filepath.Join(dir, "a.crt"), Key: filepath.Join(dir, "a.key")}},
			Routes: []Route{{Host: "*", Upstream: "http://a.test"}}},
			"certificates[0]: load key pair: open "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(&tt.cfg, nil)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("New: %v, want prefix %q", err, tt.want)
			}
		})
	}
}

// FuzzLoadConfig checks that any input either fails with an error naming
// the file or yields a config that validates again and that New accepts
// when it names no file to read. The seeds are in testdata/fuzz.
func FuzzLoadConfig(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig("fuzz.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Validate after parse: %v", err)
		}
		for _, r := range cfg.Routes {
			if r.Verify != "" && r.Verify != verifyOff {
				return
			}
		}
		if cfg.HTTPS == "" {
			if _, err := New(cfg, nil); err != nil {
				t.Fatalf("New after parse: %v", err)
			}
		}
	})
}
