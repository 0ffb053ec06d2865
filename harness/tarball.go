package harness

import (
	"archive/tar"
	"bytes"
	"fmt"
)

// singleFileTar is a tar archive holding one regular file.
func singleFileTar(name string, content []byte, mode int64) ([]byte, error) {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	if err := w.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
		return nil, fmt.Errorf("tar header: %w", err)
	}
	if _, err := w.Write(content); err != nil {
		return nil, fmt.Errorf("tar content: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("close tar: %w", err)
	}
	return b.Bytes(), nil
}
