package harness

import (
	"strings"
	"testing"
)

// FuzzRecipe feeds arbitrary bytes to the recipe parser: errors name the
// file, a parsed recipe has packages, and its tag is stable.
func FuzzRecipe(f *testing.F) {
	f.Add([]byte("# comment\nnginx\nlibnginx-mod-stream\n"))
	f.Add([]byte("\n\n"))
	f.Add([]byte("Nginx\n"))
	f.Add([]byte("haproxy/bookworm\n"))
	f.Add([]byte("haproxy/experimental\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parseRecipe("x", "bookworm", "docker/x/bookworm.packages", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "docker/x/bookworm.packages") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if len(r.Packages) == 0 || r.Tag() != r.Tag() {
			t.Fatalf("recipe %+v: no packages or unstable tag", r)
		}
	})
}
