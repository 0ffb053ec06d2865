package redact

import (
	"bytes"
	"io"
	"sync"
)

// Writer redacts what is written to it line by line (Text) before passing
// it on: a line reaches the underlying writer once its newline is written.
// It is safe for concurrent use. The caller must call Close, which writes
// an unfinished last line.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write redacts and writes every complete line of p, keeping the rest
// until its newline comes.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	i := bytes.LastIndexByte(w.buf, '\n')
	if i < 0 {
		return len(p), nil
	}
	if _, err := io.WriteString(w.w, Text(string(w.buf[:i+1]))); err != nil {
		return 0, err
	}
	w.buf = append(w.buf[:0], w.buf[i+1:]...)
	return len(p), nil
}

// Close writes the unfinished last line, redacted.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 {
		return nil
	}
	_, err := io.WriteString(w.w, Text(string(w.buf)))
	w.buf = nil
	return err
}
