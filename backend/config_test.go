package backend

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeConfig writes text to a config file in a fresh directory.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "backend.json")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// jsonString is s as a JSON string literal.
func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoadConfig(t *testing.T) {
	path := writeConfig(t, `{
  "control": ":9000",
  "listeners": [
    {"name": "strict", "addr": ":8443", "names": ["www.example.test"], "refuse": "alert112",
     "min_version": "1.2", "max_version": "1.3",
     "cert_pem": `+jsonString(t, pki.certPEM)+`, "key_pem": `+jsonString(t, pki.keyPEM)+`},
    {"name": "plain", "addr": ":8080", "plain": true}
  ]
}`)
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Control != ":9000" || len(cfg.Listeners) != 2 || cfg.Listeners[0].Refuse != RefuseAlert112 || !cfg.Listeners[1].Plain {
		t.Fatalf("LoadConfig = %+v", cfg)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	cert, key := jsonString(t, pki.certPEM), jsonString(t, pki.keyPEM)
	tls := func(extra string) string {
		return `{"control": ":9000", "listeners": [{"name": "a", "addr": ":1", "cert_pem": ` + cert + `, "key_pem": ` + key + extra + `}]}`
	}
	tests := []struct {
		name string
		text string
		want string // after "PATH"
	}{
		{"syntax", "{\n  \"control\": \":9000\",\n  \"listeners\": [}\n}", ":3:17: invalid character '}' looking for beginning of value"},
		{"type", "{\n  \"control\": \":9000\",\n  \"listeners\": [{\"name\": \"a\", \"plain\": \"yes\"}]\n}", ":3:44: listeners.plain: expected true or false, got string"},
		{"type of list", `{"listeners": {}}`, ":1:15: listeners: expected an array, got object"},
		{"unknown field", `{"control": ":9000", "listners": []}`, `: unknown field "listners"`},
		{"trailing data", "{\"control\": \":9000\"}\n\n  {}", ":3:3: unexpected data after the config object"},
		{"truncated", `{"control": ":9000"`, ":1:19: unexpected end of file"},
		{"empty", "", ": empty file, expected a JSON object"},
		{"no control", `{"listeners": []}`, ": control: address required"},
		{"no listeners", `{"control": ":9000", "listeners": []}`, ": listeners: at least one required"},
		{"no name", `{"control": ":9000", "listeners": [{"addr": ":1", "plain": true}]}`, ": listeners[0]: name required"},
		{"duplicate names", `{"control": ":9000", "listeners": [{"name": "a", "addr": ":1", "plain": true}, {"name": "a", "addr": ":2", "plain": true}]}`, `: listeners[1]: duplicate name "a"`},
		{"no addr", `{"control": ":9000", "listeners": [{"name": "a", "plain": true}]}`, `: listener "a": addr required`},
		{"missing cert", `{"control": ":9000", "listeners": [{"name": "a", "addr": ":1"}]}`, `: listener "a": cert_pem and key_pem required`},
		{"mismatched key", `{"control": ":9000", "listeners": [{"name": "a", "addr": ":1", "cert_pem": ` + cert + `, "key_pem": ` + jsonString(t, pki.otherKeyPEM) + `}]}`, `: listener "a": load key pair: tls: private key does not match public key`},
		{"bad refusal", tls(`, "refuse": "alert50"`), `: listener "a": refuse: got "alert50", expected one of`},
		{"bad version", tls(`, "min_version": "1.1"`), `: listener "a": min_version: got "1.1", expected "1.2", "1.3" or empty`},
		{"versions crossed", tls(`, "min_version": "1.3", "max_version": "1.2"`), `: listener "a": min_version 1.3 is above max_version 1.2`},
		{"trailing dot name", tls(`, "names": ["www.example.test."]`), `: listener "a": names: "www.example.test." ends in a dot`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.text)
			_, err := LoadConfig(path)
			if err == nil || !strings.HasPrefix(err.Error(), path+tt.want) {
				t.Fatalf("LoadConfig error = %v\nwant prefix %s%s", err, path, tt.want)
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.json")
	_, err := LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), "read config: open "+path) {
		t.Fatalf("LoadConfig error = %v", err)
	}
}
