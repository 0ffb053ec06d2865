package harness

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestSingleFileTar pins that singleFileTar is a tar archive holding exactly
// one regular file with the given name, mode and content.
func TestSingleFileTar(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		mode    int64
	}{
		{"sniproof", []byte("\x7fELF binary bytes\x00\x01"), 0o755},
		{"etc/config.json", []byte(`{"a": 1}`), 0o644},
		{"empty", nil, 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			archive, err := singleFileTar(tt.name, tt.content, tt.mode)
			if err != nil {
				t.Fatal(err)
			}
			r := tar.NewReader(bytes.NewReader(archive))
			h, err := r.Next()
			if err != nil {
				t.Fatalf("first entry: %v", err)
			}
			if h.Name != tt.name || h.Mode != tt.mode || h.Typeflag != tar.TypeReg || h.Size != int64(len(tt.content)) {
				t.Errorf("header = %q mode %o type %c size %d; want %q mode %o regular size %d",
					h.Name, h.Mode, h.Typeflag, h.Size, tt.name, tt.mode, len(tt.content))
			}
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, tt.content) {
				t.Errorf("content = %q, %v; want %q", got, err, tt.content)
			}
			if _, err := r.Next(); !errors.Is(err, io.EOF) {
				t.Errorf("second entry: %v, want io.EOF", err)
			}
		})
	}
}
