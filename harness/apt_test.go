package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMirrorIn pins how the Debian mirror is found in apt sources: the
// first http(s) archive URI of a one-line "deb" entry (options allowed) or
// of a deb822 "URIs:" field (several URIs allowed), skipping security
// archives, non-http URIs and comments.
func TestMirrorIn(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"empty", "", ""},
		{"blank and comments", "\n# deb http://x/debian bookworm main\n   \n", ""},
		{"one-line", "deb http://mirror.example/debian bookworm main\n", "http://mirror.example/debian"},
		{"one-line signed-by", "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://x/debian bookworm main", "http://x/debian"},
		{"one-line spaced options", "deb [ arch=amd64 signed-by=/k.gpg ] https://mirror.example/debian bookworm main contrib\n", "https://mirror.example/debian"},
		{"one-line CRLF", "deb http://x/debian bookworm main\r\n", "http://x/debian"},
		{"security first", "deb http://security.example/debian-security bookworm-security main\n" +
			"deb http://mirror.example/debian bookworm main\n", "http://mirror.example/debian"},
		{"only security", "deb http://mirror.example/debian-security bookworm-security main\n", ""},
		{"file URI skipped", "deb file:///srv/debian bookworm main\ndeb http://x/debian bookworm main\n", "http://x/debian"},
		{"cdrom skipped", "deb cdrom:[Debian GNU/Linux 12]/ bookworm main\n", ""},
		{"mirror+http skipped", "deb mirror+http://x/mirrors.txt bookworm main\n", ""},
		{"too few fields", "deb http://x/debian\n", ""},
		{"deb822", "Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n" +
			"Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n" +
			"Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n",
			"http://mirror.example/debian"},
		{"deb822 security stanza first", "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\n" +
			"Types: deb\nURIs: https://mirror.example/debian\nSuites: bookworm\n", "https://mirror.example/debian"},
		{"deb822 several URIs", "Types: deb\nURIs: file:/srv/local http://security.example/debian-security https://m.example/debian http://n.example/debian\n",
			"https://m.example/debian"},
		{"deb822 only non-http", "Types: deb\nURIs: file:/srv/local\n", ""},
		{"deb822 empty URIs", "Types: deb\nURIs:\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mirrorIn(tt.text); got != tt.want {
				t.Errorf("mirrorIn(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestDebianMirror pins where DebianMirror looks: SNIPROOF_DEBIAN_MIRROR
// first, then the apt files in order, and an error naming the variable when
// nothing is found.
func TestDebianMirror(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "sources.list")
	d := filepath.Join(dir, "sources.list.d")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	saved := aptSources
	t.Cleanup(func() { aptSources = saved })
	aptSources = []string{list, filepath.Join(d, "*.list"), filepath.Join(d, "*.sources")}

	t.Setenv("SNIPROOF_DEBIAN_MIRROR", "")
	if m, err := DebianMirror(); err == nil || !strings.Contains(err.Error(), "SNIPROOF_DEBIAN_MIRROR") {
		t.Errorf("DebianMirror without sources = %q, %v; want an error naming SNIPROOF_DEBIAN_MIRROR", m, err)
	}

	write := func(path, text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(d, "debian.sources"), "Types: deb\nURIs: http://from-sources.example/debian\nSuites: bookworm\n")
	if m, err := DebianMirror(); err != nil || m != "http://from-sources.example/debian" {
		t.Errorf("DebianMirror = %q, %v; want the .sources URI", m, err)
	}
	// sources.list without a usable URI is skipped; then it comes first.
	write(list, "# deb http://commented.example/debian bookworm main\n")
	if m, err := DebianMirror(); err != nil || m != "http://from-sources.example/debian" {
		t.Errorf("DebianMirror = %q, %v; want the .sources URI", m, err)
	}
	write(list, "deb http://from-list.example/debian bookworm main\n")
	if m, err := DebianMirror(); err != nil || m != "http://from-list.example/debian" {
		t.Errorf("DebianMirror = %q, %v; want the sources.list URI", m, err)
	}

	t.Setenv("SNIPROOF_DEBIAN_MIRROR", "http://override.example/debian")
	if m, err := DebianMirror(); err != nil || m != "http://override.example/debian" {
		t.Errorf("DebianMirror = %q, %v; want the SNIPROOF_DEBIAN_MIRROR value", m, err)
	}
}
