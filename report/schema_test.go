package report_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/sniproof/sniproof/report"
)

// schema compiles report.Schema, asserting formats (date-time).
func schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(report.Schema))
	if err != nil {
		t.Fatalf("results.schema.json is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("results.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("results.schema.json")
	if err != nil {
		t.Fatalf("compile results.schema.json: %v", err)
	}
	return sch
}

// validate validates JSON data against the schema.
func validate(t *testing.T, sch *jsonschema.Schema, data []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("instance is not JSON: %v", err)
	}
	return sch.Validate(inst)
}

// locations are the instance locations ("/records/0/verdict") of the
// innermost causes of a validation error.
func locations(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, "/"+strings.Join(e.InstanceLocation, "/"))
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestSchemaBuild pins that the document Build makes of realistic records
// is valid against results.schema.json: an observed SNI of "" and nil,
// backend events, a configuration test, a record never observed, every
// verdict, and suite errors.
func TestSchemaBuild(t *testing.T) {
	sch := schema(t)
	d := sampleDoc()
	if err := validate(t, sch, marshal(t, d)); err != nil {
		t.Errorf("the sample document is invalid: %v", err)
	}
	// The record fields the schema treats specially are really there.
	raw := string(marshal(t, d))
	for _, w := range []string{`"sni": ""`, `"sni": null`, `"config_test": {`, `"events": [`, `"verdict": "XPASS"`, `"verdict": "XFAIL"`} {
		if !strings.Contains(raw, w) {
			t.Errorf("the sample document lacks %s", w)
		}
	}

	withErrors := report.Build([]report.Suite{
		{Suite: "proxies", Records: sampleRecords()[:3], InfraError: "build image sniproof/nginx: mmdebstrap failed"},
		{Suite: "ledger", SetupError: "fixtures/ledger.yaml:7: reason is required"},
	})
	withErrors.Shards = []string{"3/4"}
	if err := validate(t, sch, marshal(t, withErrors)); err != nil {
		t.Errorf("a document with errors is invalid: %v", err)
	}
	merged := report.Merge([]report.Document{withErrors, d})
	if err := validate(t, sch, marshal(t, merged)); err != nil {
		t.Errorf("a merged document is invalid: %v", err)
	}
}

// TestSchemaWrite pins that Write writes results.json valid against the
// schema, with junit.xml, matrix.md and index.html beside it; and that it
// appends the Markdown to the file GITHUB_STEP_SUMMARY names.
func TestSchemaWrite(t *testing.T) {
	sch := schema(t)
	dir := filepath.Join(t.TempDir(), "new", "reports")
	summary := filepath.Join(t.TempDir(), "step-summary.md")
	if err := os.WriteFile(summary, []byte("earlier step\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_STEP_SUMMARY", summary)

	d := sampleDoc()
	if err := report.Write(dir, d); err != nil {
		t.Fatalf("Write: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate(t, sch, data); err != nil {
		t.Errorf("results.json is invalid: %v", err)
	}
	var back report.Document
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Summary != d.Summary || len(back.Records) != len(d.Records) || back.ExitCode() != d.ExitCode() {
		t.Errorf("results.json: %+v with %d records, want %+v with %d", back.Summary, len(back.Records), d.Summary, len(d.Records))
	}

	junit, err := report.JUnit(d)
	if err != nil {
		t.Fatal(err)
	}
	page, err := report.HTML(d)
	if err != nil {
		t.Fatal(err)
	}
	md := report.Markdown(d)
	for name, want := range map[string]string{"junit.xml": string(junit), "matrix.md": md, "index.html": string(page)} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("Write did not write %s: %v", name, err)
			continue
		}
		if string(got) != want {
			t.Errorf("%s differs from what the renderer makes", name)
		}
	}
	got, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "earlier step\n"+md {
		t.Errorf("GITHUB_STEP_SUMMARY = %q..., want the earlier content followed by matrix.md", got[:min(80, len(got))])
	}

	// A second run appends again; without the variable nothing is appended.
	if err := report.Write(dir, d); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	if err := report.Write(dir, d); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(summary)
	if string(got) != "earlier step\n"+md+md {
		t.Errorf("GITHUB_STEP_SUMMARY after two runs with it and one without holds %d bytes, want %d", len(got), len("earlier step\n"+md+md))
	}
}

// TestWriteErrors pins that Write fails when it cannot write: the report
// folder is a file, or GITHUB_STEP_SUMMARY names a folder.
func TestWriteErrors(t *testing.T) {
	t.Setenv("GITHUB_STEP_SUMMARY", "")
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := report.Write(file, sampleDoc()); err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("Write into a file: %v, want an error naming it", err)
	}
	t.Setenv("GITHUB_STEP_SUMMARY", t.TempDir())
	if err := report.Write(t.TempDir(), sampleDoc()); err == nil || !strings.Contains(err.Error(), "GITHUB_STEP_SUMMARY") {
		t.Errorf("Write with GITHUB_STEP_SUMMARY a folder: %v, want an error naming the variable", err)
	}
}

// TestSchemaRejects pins that the schema is strict: it rejects a document
// with another apiVersion, an unknown verdict, a record without id, an
// extra top-level field, and more, each at the right place.
func TestSchemaRejects(t *testing.T) {
	sch := schema(t)
	base := marshal(t, sampleDoc())
	if err := validate(t, sch, base); err != nil {
		t.Fatalf("the base document is invalid: %v", err)
	}
	tests := []struct {
		name   string
		change func(m map[string]any)
		at     string // an instance location of the error
	}{
		{"wrong apiVersion", func(m map[string]any) { m["apiVersion"] = "sniproof.dev/v1" }, "/apiVersion"},
		{"wrong kind", func(m map[string]any) { m["kind"] = "Report" }, "/kind"},
		{"unknown verdict", func(m map[string]any) { record(m, 1)["verdict"] = "MAYBE" }, "/records/1/verdict"},
		{"record without id", func(m map[string]any) { delete(record(m, 2), "id") }, "/records/2"},
		{"record with a bad id", func(m map[string]any) { record(m, 2)["id"] = "Nginx Case" }, "/records/2/id"},
		{"extra top-level field", func(m map[string]any) { m["extra"] = true }, ""},
		{"extra record field", func(m map[string]any) { record(m, 0)["colour"] = "red" }, "/records/0"},
		{"no summary", func(m map[string]any) { delete(m, "summary") }, ""},
		{"negative count", func(m map[string]any) { m["summary"].(map[string]any)["failed"] = -1 }, "/summary/failed"},
		{"unknown profile result", func(m map[string]any) {
			m["profiles"].([]any)[0].(map[string]any)["result"] = "meh"
		}, "/profiles/0/result"},
		{"bad shard", func(m map[string]any) { m["shards"] = []any{"first"} }, "/shards/0"},
		{"null shards", func(m map[string]any) { m["shards"] = nil }, "/shards"},
		{"bad date", func(m map[string]any) { m["date"] = "yesterday" }, "/date"},
		{"status out of range", func(m map[string]any) {
			record(m, 1)["observed"].(map[string]any)["status"] = 600
		}, "/records/1/observed/status"},
		{"numeric sni", func(m map[string]any) { record(m, 1)["observed"].(map[string]any)["sni"] = 7 }, "/records/1/observed/sni"},
		{"evidence without reproduce", func(m map[string]any) {
			delete(record(m, 1)["evidence"].(map[string]any), "reproduce")
		}, "/records/1/evidence"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(base, &m); err != nil {
				t.Fatal(err)
			}
			tt.change(m)
			err := validate(t, sch, marshal(t, m))
			if err == nil {
				t.Fatal("the schema accepts it")
			}
			want := tt.at
			if want == "" {
				want = "/"
			}
			if locs := locations(err); !slices.Contains(locs, want) {
				t.Errorf("error at %q, want one at %q: %v", locs, want, err)
			}
		})
	}
}

// record is the i-th record of a decoded document.
func record(m map[string]any, i int) map[string]any {
	return m["records"].([]any)[i].(map[string]any)
}
