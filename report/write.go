package report

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sniproof/sniproof/redact"
)

// Schema is the JSON Schema of results.json.
//
//go:embed results.schema.json
var Schema []byte

// Write writes the run's report files into dir: results.json, junit.xml,
// matrix.md and index.html. When GITHUB_STEP_SUMMARY names a file, the
// Markdown matrix is appended to it too. Every string of d is redacted
// first (redact.Copy): evidence quotes configurations and proxy logs, and
// reports are published.
func Write(dir string, d Document) error {
	d = redact.Copy(d)
	if err := writeJSON(filepath.Join(dir, "results.json"), d); err != nil {
		return err
	}
	junit, err := JUnit(d)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "junit.xml"), junit); err != nil {
		return err
	}
	md := Markdown(d)
	if err := writeFile(filepath.Join(dir, "matrix.md"), []byte(md)); err != nil {
		return err
	}
	page, err := HTML(d)
	if err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "index.html"), page); err != nil {
		return err
	}
	if summary := os.Getenv("GITHUB_STEP_SUMMARY"); summary != "" {
		f, err := os.OpenFile(summary, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("append to GITHUB_STEP_SUMMARY: %w", err)
		}
		defer f.Close()
		if _, err := f.WriteString(md); err != nil {
			return fmt.Errorf("append to GITHUB_STEP_SUMMARY: %w", err)
		}
	}
	return nil
}
