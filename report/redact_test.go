package report_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/report"
)

// TestWriteRedacts plants credentials in every part of a record that
// quotes a configuration or a log (the evidence's config, the proxy's log
// lines, the backend's request path) and holds every file Write and
// WriteSuite make free of them, the directive names kept.
func TestWriteRedacts(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	canary := regexp.MustCompile(`CANARY[A-Za-z0-9-]*`)
	sni := "api.internal.example"
	rec := report.Record{ID: "nginx/secrets/inline", Name: "inline credentials", Suite: "proxies", Proxy: "nginx", Version: "1.22.1",
		Release: "bookworm", Verdict: report.Fail, Differences: []string{`proxy_set_header X-Api-Key "CANARY-difference"`},
		Observed: &harness.Observation{SNI: &sni, ProxyLog: []string{`request: "GET /?api_key=CANARY-log HTTP/1.1"`, "Authorization: Bearer CANARY-header-line"}},
		Evidence: report.Evidence{Reproduce: "make conformance", Config: "location / {\n    proxy_set_header Authorization \"Bearer CANARY-config\";\n    stats auth ops:CANARY-stats\n}"}}
	doc := report.Build([]report.Suite{{Suite: "proxies", Records: []report.Record{rec}}})
	dir := t.TempDir()
	if err := report.Write(dir, doc); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteSuite(dir, report.Suite{Suite: "proxies", Records: []report.Record{rec}}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	suites, _ := filepath.Glob(filepath.Join(dir, "suites", "*"))
	files = append(files, suites...)
	written := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // a folder
		}
		written++
		if got := canary.FindAllString(string(data), -1); len(got) > 0 {
			t.Errorf("%s holds %q", filepath.Base(f), got)
		}
		if filepath.Ext(f) == ".json" && !regexp.MustCompile(`Authorization \\"REDACTED\\"`).Match(data) {
			t.Errorf("%s lost the directive's name: want Authorization \"REDACTED\"", filepath.Base(f))
		}
	}
	if written < 5 {
		t.Errorf("Write and WriteSuite made %d files, want results.json, junit.xml, matrix.md, index.html and the suite's", written)
	}
	if rec.Evidence.Config == "" || !canary.MatchString(rec.Evidence.Config) {
		t.Error("Write changed the caller's record")
	}
}
