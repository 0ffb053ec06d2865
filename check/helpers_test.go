package check

import (
	"os"
	"path/filepath"
	"testing"
)

// planOf plans a configuration given as text, as nginx.conf in a
// temporary folder.
func planOf(t *testing.T, conf string) *Plan {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(file, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(file, "")
	if err != nil {
		t.Fatal(err)
	}
	return NewPlan(c)
}
