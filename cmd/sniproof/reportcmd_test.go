package main

import (
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sniproof/sniproof/report"
)

// shardFile writes the results.json of one shard of a run, as `sniproof
// conformance` with SNIPROOF_SHARD does, and returns its path.
func shardFile(t *testing.T, shard string, s report.Suite) string {
	t.Helper()
	dir := t.TempDir()
	if err := report.WriteSuite(dir, s); err != nil {
		t.Fatal(err)
	}
	d, err := report.Collect(dir, shard)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.Write(dir, d); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "results.json")
}

// shardRec is a record of the merge tests.
func shardRec(id, version, verdict string) report.Record {
	return report.Record{ID: id, Name: id + " on nginx", Suite: "proxies", Proxy: "nginx", Version: version, Release: "bookworm",
		Verdict: verdict, Evidence: report.Evidence{Reason: "why", Source: "fixtures/nginx/cases.yaml:1", Reproduce: "make conformance FOCUS='" + id + "'"}}
}

// TestReportUsage pins the usage errors of `sniproof report` (64): no
// subcommand, an unknown one, merge without files or with a bad flag.
func TestReportUsage(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no subcommand", []string{"report"}, "usage: sniproof report merge --out DIR RESULTS.json... | sniproof report check [DIR]"},
		{"unknown subcommand", []string{"report", "publish"}, `sniproof report: unknown subcommand "publish" (want merge or check)`},
		{"merge without files", []string{"report", "merge"}, "sniproof report merge: name at least one results.json"},
		{"merge with --out only", []string{"report", "merge", "--out", t.TempDir()}, "name at least one results.json"},
		{"merge unknown flag", []string{"report", "merge", "--bogus", "x.json"}, "flag provided but not defined: -bogus"},
		{"check unknown flag", []string{"report", "check", "--bogus"}, "flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tt.wantErr, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

// TestReportHelp pins that -h of the report subcommands lists their flags.
func TestReportHelp(t *testing.T) {
	for sub, flag := range map[string]string{"merge": "-out", "check": "-chromium"} {
		_, stdout, stderr := run(t, "report", sub, "-h")
		if !strings.Contains(stderr, flag) || stdout != "" {
			t.Errorf("report %s -h: stdout %q, stderr %q, want the flag %s on stderr", sub, stdout, stderr, flag)
		}
	}
}

// TestReportMergeBadFile pins that merge refuses (64) a file that is not a
// results.json, naming it, and writes nothing: a suite's record file, a
// JUnit report, a document of another apiVersion, a missing file.
func TestReportMergeBadFile(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	good := shardFile(t, "1/2", report.Suite{Suite: "proxies", Records: []report.Record{shardRec("nginx/a/b", "1.22.1", report.Pass)}})
	dir := t.TempDir()
	suiteFile := filepath.Join(dir, "proxies.json")
	data, err := os.ReadFile(filepath.Join(filepath.Dir(good), "suites", "proxies.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(suiteFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	junit := filepath.Join(filepath.Dir(good), "junit.xml")
	other := filepath.Join(dir, "v2.json")
	data, err = os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(other, []byte(strings.Replace(string(data), report.APIVersion, "sniproof.dev/v2", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "absent.json")

	for name, bad := range map[string]string{"suite file": suiteFile, "junit.xml": junit, "other apiVersion": other, "missing": missing} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "merged")
			code, stdout, stderr := run(t, "report", "merge", "--out", out, good, bad)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, "sniproof report merge: ") || !strings.Contains(stderr, bad) {
				t.Errorf("stderr does not name %s:\n%s", bad, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("merge wrote %s although a file was bad", out)
			}
		})
	}
}

// TestReportMerge pins `sniproof report merge --out DIR A B`: it writes
// results.json, junit.xml, matrix.md and index.html of the merged run into
// DIR, prints the summary line on stdout and what it merged on stderr, and
// exits with the merged run's exit code.
func TestReportMerge(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	pass := func(id string) report.Record { return shardRec(id, "1.22.1", report.Pass) }
	tests := []struct {
		name     string
		a, b     report.Suite
		wantLine string
		wantExit int
	}{
		{"all pass",
			report.Suite{Suite: "proxies", Records: []report.Record{pass("nginx/a/one"), pass("nginx/a/two")}},
			report.Suite{Suite: "proxies", Records: []report.Record{pass("nginx/a/three"), shardRec("nginx/a/four", "1.22.1", report.XFail)}},
			"conformance: 4 passed, 0 failed, 0 skipped", report.ExitPass},
		{"a failure in one shard",
			report.Suite{Suite: "proxies", Records: []report.Record{pass("nginx/a/one")}},
			report.Suite{Suite: "proxies", Records: []report.Record{shardRec("nginx/a/two", "1.26.3", report.Fail), shardRec("nginx/a/three", "1.26.3", report.Skip)}},
			"conformance: 1 passed, 1 failed, 1 skipped", report.ExitFail},
		{"an xpass",
			report.Suite{Suite: "proxies", Records: []report.Record{pass("nginx/a/one")}},
			report.Suite{Suite: "proxies", Records: []report.Record{shardRec("nginx/a/two", "1.26.3", report.XPass)}},
			"conformance: 1 passed, 1 failed, 0 skipped", report.ExitFail},
		{"an infrastructure error in one shard",
			report.Suite{Suite: "proxies", Records: []report.Record{pass("nginx/a/one")}},
			report.Suite{Suite: "proxies", InfraError: "connect to Docker: no engine"},
			"conformance: 1 passed, 0 failed, 0 skipped", report.ExitInfra},
		{"nothing ran",
			report.Suite{Suite: "proxies"},
			report.Suite{Suite: "proxies", Records: []report.Record{shardRec("nginx/a/one", "1.22.1", report.Skip)}},
			"conformance: 0 passed, 0 failed, 1 skipped", report.ExitEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := shardFile(t, "1/2", tt.a)
			b := shardFile(t, "2/2", tt.b)
			out := filepath.Join(t.TempDir(), "merged", "reports")
			code, stdout, stderr := run(t, "report", "merge", "--out", out, b, a)
			if code != tt.wantExit {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantExit, stderr)
			}
			if stdout != tt.wantLine+"\n" {
				t.Errorf("stdout = %q, want %q", stdout, tt.wantLine+"\n")
			}
			if !strings.Contains(stderr, "sniproof: merged 2 result files (shards 1/2, 2/2): ") {
				t.Errorf("stderr lacks what was merged:\n%s", stderr)
			}
			for _, f := range []string{"results.json", "junit.xml", "matrix.md", "index.html"} {
				if info, err := os.Stat(filepath.Join(out, f)); err != nil || info.Size() == 0 {
					t.Errorf("%s not written: %v", f, err)
				}
			}
			d, err := report.Load(filepath.Join(out, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.Shards, []string{"1/2", "2/2"}) || len(d.Records) != len(tt.a.Records)+len(tt.b.Records) || d.Summary.Line() != tt.wantLine {
				t.Errorf("merged results.json: shards %q, %d records, %q", d.Shards, len(d.Records), d.Summary.Line())
			}
			if !strings.Contains(stderr, d.Explain()) {
				t.Errorf("stderr lacks the explanation %q:\n%s", d.Explain(), stderr)
			}
			md, err := os.ReadFile(filepath.Join(out, "matrix.md"))
			if err != nil || !strings.Contains(string(md), "`"+tt.wantLine+"`") || !strings.Contains(string(md), "shards 1/2, 2/2") {
				t.Errorf("matrix.md lacks the summary or the shards: %v\n%s", err, md)
			}
		})
	}
}

// TestReportMergeWriteError pins that merge exits 3 when it cannot write
// its reports.
func TestReportMergeWriteError(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	a := shardFile(t, "1/1", report.Suite{Suite: "proxies", Records: []report.Record{shardRec("nginx/a/b", "1.22.1", report.Pass)}})
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "report", "merge", "--out", file, a)
	if code != report.ExitInfra || !strings.Contains(stderr, file) || stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 3 and an error naming %s", code, stdout, stderr, file)
	}
}

// TestReportCheckBeforeChromium pins what `report check` finds before it
// starts a browser: a folder without results.json is a usage error (64)
// naming the file; a browser that does not exist is an infrastructure
// error (3). No browser runs.
func TestReportCheckBeforeChromium(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	empty := t.TempDir()
	code, _, stderr := run(t, "report", "check", "--chromium", filepath.Join(empty, "no-chromium"), empty)
	if code != exitUsage || !strings.Contains(stderr, filepath.Join(empty, "results.json")) {
		t.Errorf("exit %d, stderr %q; want 64 naming results.json", code, stderr)
	}

	a := shardFile(t, "1/1", report.Suite{Suite: "proxies", Records: []report.Record{shardRec("nginx/a/b", "1.22.1", report.Fail)}})
	missing := filepath.Join(t.TempDir(), "no-chromium")
	code, stdout, stderr := run(t, "report", "check", "--chromium", missing, filepath.Dir(a))
	if code != exitInfra || !strings.Contains(stderr, missing) || stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 3 naming %s", code, stdout, stderr, missing)
	}
}

// TestCountIn pins the pixel count of the screenshot check: pixels of the
// fail colour, and those within 3 of it in every channel, count; others,
// including the other verdicts' colours, do not; the image's bounds need
// not start at 0,0.
func TestCountIn(t *testing.T) {
	fail := color.RGBA{failColour[0], failColour[1], failColour[2], 0xff}
	if fail != (color.RGBA{0xf7, 0xc6, 0xc6, 0xff}) {
		t.Fatalf("failColour = %v, want #f7c6c6 (.fail in index.html.tmpl)", failColour)
	}
	img := image.NewRGBA(image.Rect(-5, -10, 35, 10)) // 40×20, around 0,0
	for y := img.Rect.Min.Y; y < img.Rect.Max.Y; y++ {
		for x := img.Rect.Min.X; x < img.Rect.Max.X; x++ {
			img.Set(x, y, color.White)
		}
	}
	want := 0
	// A red cell of 12×5 pixels.
	for y := -8; y < -3; y++ {
		for x := -5; x < 7; x++ {
			img.Set(x, y, fail)
			want++
		}
	}
	near := []color.RGBA{{0xf4, 0xc9, 0xc3, 0xff}, {0xfa, 0xc3, 0xc9, 0xff}, {0xfa, 0xc9, 0xc9, 0xff}}
	far := []color.RGBA{
		{0xf3, 0xc6, 0xc6, 0xff}, {0xfb, 0xc6, 0xc6, 0xff}, {0xf7, 0xc2, 0xc6, 0xff}, {0xf7, 0xc6, 0xca, 0xff},
		{0xd9, 0xf2, 0xd9, 0xff}, // .pass
		{0xfb, 0xe7, 0xb5, 0xff}, // .xfail
		{0xe6, 0xe6, 0xe6, 0xff}, // .skip
	}
	for i, c := range near {
		img.Set(20+i, 9, c)
		want++
	}
	for i, c := range far {
		img.Set(20+i, 0, c)
	}
	// A transparent pixel does not count.
	img.Set(34, 9, color.RGBA{})

	if got := countIn(img, failColour); got != want {
		t.Errorf("countIn = %d, want %d", got, want)
	}
	if got := countIn(img.SubImage(image.Rect(0, -8, 7, -3)), failColour); got != 7*5 {
		t.Errorf("countIn of a sub-image = %d, want 35", got)
	}
	if got := countIn(image.NewRGBA(image.Rect(0, 0, 10, 10)), failColour); got != 0 {
		t.Errorf("countIn of a black image = %d, want 0", got)
	}
	// Through a PNG file, as the screenshot arrives.
	path := filepath.Join(t.TempDir(), "index.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := countColour(path, failColour); err != nil || got != want {
		t.Errorf("countColour = %d, %v, want %d", got, err, want)
	}
	notPNG := filepath.Join(t.TempDir(), "index.png")
	if err := os.WriteFile(notPNG, []byte("<html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := countColour(notPNG, failColour); err == nil || !strings.Contains(err.Error(), notPNG) {
		t.Errorf("countColour of a non-PNG: %v, want an error naming it", err)
	}
}
