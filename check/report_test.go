package check

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func loc(key, place, at string, status int, sni *string, outcome string) Location {
	return Location{Key: key, Place: place, Location: "location " + strings.Fields(place)[2], At: at, Status: status, SNI: sni, Outcome: outcome}
}

// TestCompare lists each behaviour change in one sentence, matching
// locations by request (and by place when requested differently), not by
// line, which edits move.
func TestCompare(t *testing.T) {
	base := &Report{Locations: []Location{
		loc("GET https://shop.example.com/", "shop.conf shop.example.com /", "shop.conf:16", 200, str("www.shop-cdn.example"), Works),
		loc("GET https://shop.example.com/api/", "shop.conf shop.example.com /api/", "shop.conf:21", 502, str("api_pool"), Broken),
		loc("GET https://shop.example.com/orders/", "shop.conf shop.example.com /orders/", "shop.conf:25", 200, str("orders.internal.example"), Works),
		loc("GET https://shop.example.com/old/", "shop.conf shop.example.com /old/", "shop.conf:30", 200, str("old.example"), Works),
		loc("GET https://shop.example.com/x/", "shop.conf shop.example.com /x/", "shop.conf:35", 0, nil, NotChecked),
	}}
	now := &Report{Locations: []Location{
		loc("GET https://shop.example.com/", "shop.conf shop.example.com /", "shop.conf:17", 502, str(""), Broken),
		loc("GET https://shop.example.com/api/", "shop.conf shop.example.com /api/", "shop.conf:22", 502, str("api_pool"), Broken),
		loc("GET https://shop.example.com/orders/42", "shop.conf shop.example.com /orders/", "shop.conf:26", 502, nil, Broken),
		loc("GET https://shop.example.com/x/", "shop.conf shop.example.com /x/", "shop.conf:35", 200, str("x.example"), Works),
		loc("GET https://shop.example.com/new/", "shop.conf shop.example.com /new/", "shop.conf:40", 200, str("new.example"), Works),
	}}
	got := Compare(base, now)
	want := []string{
		"location / (shop.conf:17): SNI was www.shop-cdn.example, now none; status 200 → 502",
		"location /orders/ (shop.conf:26): SNI was orders.internal.example, now no ClientHello; status 200 → 502",
		"location /x/ (shop.conf:35): was not checked, now status 200, SNI x.example",
		"location /new/ (shop.conf:40): new since the baseline: status 200, SNI new.example",
		"location /old/ (shop.conf:30 in the baseline): gone (GET https://shop.example.com/old/)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	if got := Compare(base, base); len(got) != 0 {
		t.Errorf("no change: %q", got)
	}
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Report
		want int
	}{
		{"all work", Report{Summary: Summary{Locations: 3, Passed: 3}}, ExitOK},
		{"one broken", Report{Summary: Summary{Locations: 3, Passed: 2, Failed: 1}}, ExitFail},
		{"one broken, one not checked", Report{Summary: Summary{Locations: 3, Passed: 1, Failed: 1, NotChecked: 1}}, ExitFail},
		{"one not checked", Report{Summary: Summary{Locations: 3, Passed: 2, NotChecked: 1}}, ExitNotChecked},
		{"nothing to check", Report{}, ExitNotChecked},
		{"rejected", Report{Rejected: &ConfigTest{Exit: 1}}, ExitFail},
		{"baseline, broken but unchanged", Report{Baseline: "b.json", Summary: Summary{Locations: 1, Failed: 1}}, ExitOK},
		{"baseline, unchanged, one not checked", Report{Baseline: "b.json", Summary: Summary{Locations: 2, Passed: 1, NotChecked: 1}}, ExitNotChecked},
		{"baseline, a change", Report{Baseline: "b.json", Changes: []string{"x"}, Summary: Summary{Locations: 1}}, ExitFail},
		{"baseline, an expectation not met", Report{Baseline: "b.json", Expectations: "e.yaml", Summary: Summary{Locations: 1, Failed: 1}}, ExitFail},
	} {
		if got := tc.r.ExitCode(); got != tc.want {
			t.Errorf("%s: exit %d want %d", tc.name, got, tc.want)
		}
	}
}

// TestReportRoundTrip: the JSON report reads back as a baseline; anything
// else is one clear sentence.
func TestReportRoundTrip(t *testing.T) {
	r := &Report{APIVersion: APIVersion, Kind: ReportKind, Locations: []Location{loc("k", "f s /", "f:1", 200, str("a"), Works)}}
	var b bytes.Buffer
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "r.json")
	if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := LoadReport(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(Compare(r, back)) != 0 {
		t.Errorf("round trip changed: %q", Compare(r, back))
	}
	other := filepath.Join(dir, "results.json")
	data, _ := json.Marshal(map[string]string{"kind": "ConformanceReport"})
	if err := os.WriteFile(other, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadReport(other); err == nil || !strings.Contains(err.Error(), `kind "ConformanceReport", want "CheckReport"`) {
		t.Errorf("a conformance report as baseline: %v", err)
	}
}
