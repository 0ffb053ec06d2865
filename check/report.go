package check

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/sniproof/sniproof/harness"
	"github.com/sniproof/sniproof/lint"
)

// Identity of the JSON report, which --baseline reads back.
const (
	APIVersion = "sniproof.dev/v1alpha1"
	ReportKind = "CheckReport"
)

// Outcomes of a location.
const (
	Works      = "works"       // the upstream served the request
	Broken     = "broken"      // it did not: see Cause
	NotChecked = "not-checked" // no request was sent: see NotChecked
)

// Verdicts of a location, as in conformance reports.
const (
	VerdictPass = "PASS" // works (or, with expectations, as expected)
	VerdictFail = "FAIL" // broken (or, with expectations, not as expected)
	VerdictSkip = "SKIP" // not checked
)

// Exit codes of sniproof check.
const (
	ExitOK   = 0 // every location works, or is as expected; no change from the baseline
	ExitFail = 1 // a location fails or differs from its expectation, nginx rejects the configuration, or a behaviour changed since the baseline
	// ExitNotChecked: nothing failed, but a location was not checked (see
	// its NotChecked), or the configuration has no location to check.
	ExitNotChecked = 2
	ExitInfra      = 3  // no Docker engine, an image build failed, a container did not start
	ExitUsage      = 64 // bad flags, an unreadable configuration, an invalid expectations or baseline file, an image without nginx
)

// Report is what a check found: per location, the request, what the
// upstream saw, the status and, for a failure, the cause and the fix.
type Report struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// Config is CONFIG as named; Main the main file in the container.
	Config string `json:"config"`
	// Folder is the folder on this machine mirrored at the main file's
	// folder in the container.
	Folder  string `json:"folder"`
	Main    string `json:"main"`
	Wrapped bool   `json:"wrapped"`
	Image   string `json:"image"`
	// Proxy is the proxy that ran the configuration, nginx or haproxy;
	// Version the version its binary in the image reports; Test its
	// configuration test ("nginx -t").
	Proxy   string `json:"proxy"`
	Version string `json:"version"`
	Test    string `json:"test"`
	Date    string `json:"date"`
	// Session labels every container and network the check started;
	// Containers counts the containers.
	Session      string `json:"session"`
	Containers   int    `json:"containers"`
	Expectations string `json:"expectations,omitempty"`
	// Notes say what check did to run the configuration unchanged.
	Notes []string `json:"notes"`
	// Rejected is the proxy's own verdict (nginx -t, haproxy -c) when it refuses the configuration:
	// then no request was sent.
	Rejected  *ConfigTest `json:"rejected,omitempty"`
	Backend   BackendInfo `json:"backend"`
	Locations []Location  `json:"locations"`
	// Lint holds every lint finding for the configuration.
	Lint    []Finding `json:"lint"`
	Summary Summary   `json:"summary"`
	// Baseline names the report compared with; Changes are the behaviour
	// changes since, one sentence each.
	Baseline string   `json:"baseline,omitempty"`
	Changes  []string `json:"changes,omitempty"`
}

// ConfigTest is the proxy's configuration test's verdict (nginx -t, haproxy -c) on a configuration it refuses.
type ConfigTest struct {
	Exit   int    `json:"exit"`
	Output string `json:"output"`
	// At is the operator's FILE:LINE nginx's message points to, when it
	// names one of the configuration's files.
	At string `json:"at,omitempty"`
}

// BackendInfo is how the backend impersonated the upstreams.
type BackendInfo struct {
	Names        []string        `json:"names"`
	Ports        []int           `json:"ports"`
	Impersonated []Impersonation `json:"impersonated,omitempty"`
}

// Impersonation is an IP upstream: the subnet in which the backend took
// its address, or why it could not.
type Impersonation struct {
	IP     string `json:"ip"`
	Subnet string `json:"subnet,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Finding is a lint finding.
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	At       string `json:"at"`
	Message  string `json:"message"`
	Fix      string `json:"fix"`
}

func finding(f lint.Finding) Finding {
	return Finding{Rule: f.Rule, Severity: string(f.Severity), At: fmt.Sprintf("%s:%d", f.File, f.Line), Message: f.Message, Fix: f.Fix}
}

// Location is one location (or stream server) that proxies to a TLS
// upstream, or that an expectations entry requests.
type Location struct {
	// Key identifies the location across runs: its request, or its Place
	// when it was not checked. Place is its file, server and location,
	// without line numbers, which edits move.
	Key   string `json:"key"`
	Place string `json:"place"`
	// Location is "location /api/" or "stream server :5432"; At is where
	// it starts; Server names its server.
	Location string `json:"location"`
	At       string `json:"at"`
	Server   string `json:"server"`
	// Config is the location's block as written (for a stream server,
	// the server's).
	Config string `json:"config,omitempty"`
	// Pass is the pass directive as written, PassAt where it is.
	Pass    string   `json:"pass,omitempty"`
	PassAt  string   `json:"passAt,omitempty"`
	Request *Request `json:"request,omitempty"`
	// Expect is the expectations entry's, from ExpectSource.
	Expect       *Expect `json:"expect,omitempty"`
	ExpectSource string  `json:"expectSource,omitempty"`
	Outcome      string  `json:"outcome"`
	Verdict      string  `json:"verdict"`
	// Differences are every way the observation differs from Expect.
	Differences []string `json:"differences,omitempty"`
	// Status is the client's (0: no response); SNI what the upstream saw
	// ("" none, null when no ClientHello reached it).
	Status   int                  `json:"status"`
	Error    string               `json:"error,omitempty"`
	SNI      *string              `json:"sni"`
	Observed *harness.Observation `json:"observed,omitempty"`
	// Cause, Explanation and Fix explain a broken location.
	Cause       string `json:"cause,omitempty"`
	Explanation string `json:"explanation,omitempty"`
	Fix         string `json:"fix,omitempty"`
	// NotChecked says why no request was sent.
	NotChecked string `json:"notChecked,omitempty"`
	// Hazard is how the location behaved in the warm pass, when that
	// differs from its (cold) verdict.
	Hazard *Hazard `json:"hazard,omitempty"`
	// Lint holds lint's findings for the directives in effect here.
	Lint []Finding `json:"lint,omitempty"`
}

// Summary counts locations.
type Summary struct {
	Locations  int `json:"locations"`
	Works      int `json:"works"`
	Broken     int `json:"broken"`
	NotChecked int `json:"notChecked"`
	Passed     int `json:"passed"`
	Failed     int `json:"failed"`
	// Hazards counts the locations with a Hazard.
	Hazards int `json:"hazards"`
}

func (r *Report) summarise() {
	r.Summary = Summary{Locations: len(r.Locations)}
	for _, l := range r.Locations {
		switch l.Outcome {
		case Works:
			r.Summary.Works++
		case Broken:
			r.Summary.Broken++
		default:
			r.Summary.NotChecked++
		}
		switch l.Verdict {
		case VerdictPass:
			r.Summary.Passed++
		case VerdictFail:
			r.Summary.Failed++
		}
		if l.Hazard != nil {
			r.Summary.Hazards++
		}
	}
}

// ExitCode is sniproof check's exit code for the report: ExitFail when
// the proxy rejects the configuration; with a baseline, when any
// behaviour changed (or an expectation is not met); without, when any
// location fails (is broken, or differs from its expectation) or has a
// hazard. Otherwise ExitNotChecked when a location was not checked or
// there is none: only a report whose every location was checked and
// works is ExitOK.
func (r *Report) ExitCode() int {
	switch {
	case r.Rejected != nil:
		return ExitFail
	case r.Baseline != "" && len(r.Changes) > 0:
		return ExitFail
	case (r.Baseline == "" || r.Expectations != "") && r.Summary.Failed > 0:
		return ExitFail
	case r.Baseline == "" && r.Summary.Hazards > 0:
		return ExitFail
	case r.Summary.NotChecked > 0 || r.Summary.Locations == 0:
		return ExitNotChecked
	}
	return ExitOK
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// LoadReport reads a JSON report written by check (--out or --json), for
// --baseline. Errors are *UsageError.
func LoadReport(file string) (*Report, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, usagef("cannot read the baseline %s: %v", file, cause(err))
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, usagef("the baseline %s is not a check report (JSON from sniproof check --json or --out): %v", file, err)
	}
	if r.Kind != ReportKind {
		return nil, usagef("the baseline %s is not a check report: kind %q, want %q (sniproof check --json or --out writes one)", file, r.Kind, ReportKind)
	}
	return &r, nil
}

// Compare lists every behaviour change from base to r, one sentence per
// location, e.g. "location /api/ (sites-enabled/shop.conf:12): SNI was
// api.internal.example, now none; status 200 → 502", followed, for a
// location that now fails for another reason, by its cause and fix.
// Locations are matched by Key, so edits that move lines change nothing.
func Compare(base, r *Report) []string {
	var out []string
	old := map[string]Location{}
	for _, l := range base.Locations {
		old[l.Key] = l
	}
	// A location requested differently (with and without expectations)
	// is matched by its place, when that names one location on each side.
	keys := map[string]bool{}
	for _, l := range r.Locations {
		keys[l.Key] = true
	}
	oldByPlace, newPlaces := map[string][]Location{}, map[string]int{}
	for _, l := range base.Locations {
		if !keys[l.Key] {
			oldByPlace[l.Place] = append(oldByPlace[l.Place], l)
		}
	}
	for _, l := range r.Locations {
		if _, ok := old[l.Key]; !ok {
			newPlaces[l.Place]++
		}
	}
	seen := map[string]bool{}
	for _, l := range r.Locations {
		b, ok := old[l.Key]
		if !ok && l.Place != "" && newPlaces[l.Place] == 1 && len(oldByPlace[l.Place]) == 1 {
			b, ok = oldByPlace[l.Place][0], true
		}
		seen[b.Key] = ok
		name := fmt.Sprintf("%s (%s)", l.Location, l.At)
		if !ok {
			out = append(out, fmt.Sprintf("%s: new since the baseline: %s", name, behaviour(l)))
			continue
		}
		var parts []string
		switch {
		case b.Outcome == NotChecked && l.Outcome != NotChecked:
			parts = append(parts, "was not checked, now "+behaviour(l))
		case b.Outcome != NotChecked && l.Outcome == NotChecked:
			parts = append(parts, fmt.Sprintf("was %s, now not checked (%s)", behaviour(b), l.NotChecked))
		case l.Outcome != NotChecked:
			if sniText(b.SNI) != sniText(l.SNI) {
				parts = append(parts, fmt.Sprintf("SNI was %s, now %s", sniText(b.SNI), sniText(l.SNI)))
			}
			if b.Status != l.Status {
				parts = append(parts, fmt.Sprintf("status %s → %s", statusWord(b.Status), statusWord(l.Status)))
			}
			if len(parts) == 0 && b.Outcome != l.Outcome {
				parts = append(parts, fmt.Sprintf("was %s, now %s", b.Outcome, l.Outcome))
			}
			switch {
			case b.Hazard == nil && l.Hazard != nil:
				parts = append(parts, "new warm hazard: "+l.Hazard.Text)
			case b.Hazard != nil && l.Hazard == nil:
				parts = append(parts, "its warm hazard is gone ("+b.Hazard.Text+")")
			}
		}
		if len(parts) > 0 && l.Cause != "" && (l.Cause != b.Cause || l.Explanation != b.Explanation) {
			parts = append(parts, "now "+l.Cause+": "+l.Explanation)
			if l.Fix != "" {
				parts = append(parts, "fix: "+l.Fix)
			}
		}
		if len(parts) > 0 {
			out = append(out, name+": "+strings.Join(parts, "; "))
		}
	}
	for _, b := range base.Locations {
		if !seen[b.Key] {
			out = append(out, fmt.Sprintf("%s (%s in the baseline): gone (%s)", b.Location, b.At, b.Key))
		}
	}
	return out
}

// behaviour sums up a location's observed behaviour.
func behaviour(l Location) string {
	if l.Outcome == NotChecked {
		return "not checked (" + l.NotChecked + ")"
	}
	return fmt.Sprintf("status %s, SNI %s", statusWord(l.Status), sniText(l.SNI))
}

func statusWord(s int) string {
	if s == 0 {
		return "none"
	}
	return fmt.Sprint(s)
}

// WriteText writes the report for people.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "sniproof check: %s", r.Config)
	if r.Version != "" {
		fmt.Fprintf(&b, " in %s %s", r.Proxy, r.Version)
	}
	fmt.Fprintf(&b, " (%s)\n", r.Image)
	if len(r.Notes) > 0 {
		b.WriteString("\nhow it ran:\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "  - %s\n", n)
		}
	}
	if r.Rejected != nil {
		fmt.Fprintf(&b, "\n%s rejects the configuration (%s exit %d):\n", r.Proxy, r.Test, r.Rejected.Exit)
		for _, l := range strings.Split(strings.TrimSpace(r.Rejected.Output), "\n") {
			fmt.Fprintf(&b, "  %s\n", l)
		}
		if r.Rejected.At != "" {
			fmt.Fprintf(&b, "  (that is %s)\n", filepath.Join(r.Folder, r.Rejected.At))
		}
		for _, f := range r.Lint {
			fmt.Fprintf(&b, "lint: %s %s %s: %s\n    fix: %s\n", f.At, f.Rule, f.Severity, f.Message, f.Fix)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	for _, l := range r.Locations {
		b.WriteString("\n")
		label := map[string]string{VerdictPass: "ok  ", VerdictFail: "FAIL", VerdictSkip: "skip"}[l.Verdict]
		fmt.Fprintf(&b, "%s  %s  %s", label, l.Location, l.At)
		switch {
		case l.Server != "" && strings.HasPrefix(l.Location, "location"):
			fmt.Fprintf(&b, "  (server %s)", l.Server)
		case strings.HasPrefix(l.Server, "frontend ") && l.Server != l.Location:
			fmt.Fprintf(&b, "  (via %s)", l.Server)
		}
		b.WriteString("\n")
		if l.Pass != "" {
			fmt.Fprintf(&b, "      %s  %s\n", l.Pass, l.PassAt)
		}
		if l.Outcome == NotChecked {
			fmt.Fprintf(&b, "      not checked: %s\n", l.NotChecked)
		} else {
			fmt.Fprintf(&b, "      %s → %s; the upstream saw %s\n", l.Request, statusText(l.Status, l.Error), sawText(l.SNI))
			if l.Outcome == Broken {
				fmt.Fprintf(&b, "      cause: %s: %s\n", l.Cause, l.Explanation)
				if l.Fix != "" {
					fmt.Fprintf(&b, "      fix:   %s\n", l.Fix)
				}
			}
			if l.Hazard != nil {
				fmt.Fprintf(&b, "      hazard: warm, %s\n", l.Hazard.Text)
			}
		}
		if l.Expect != nil {
			verdict := "as expected"
			if len(l.Differences) > 0 {
				verdict = "NOT as expected: " + strings.Join(l.Differences, "; ")
			}
			if l.Outcome == NotChecked {
				verdict = "not checked"
			}
			fmt.Fprintf(&b, "      expected (%s): %s: %s\n", l.ExpectSource, l.Expect, verdict)
		}
		for _, f := range l.Lint {
			fmt.Fprintf(&b, "      lint:  %s %s %s: %s\n", f.At, f.Rule, f.Severity, f.Message)
		}
	}
	s := r.Summary
	if s.Locations == 0 {
		b.WriteString("\ncheck: nothing to check: no location, backend or stream server of the configuration proxies to an upstream\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "\ncheck: %d locations: %d work, %d broken, %d not checked", s.Locations, s.Works, s.Broken, s.NotChecked)
	if s.Hazards > 0 {
		fmt.Fprintf(&b, "; %d with a warm hazard", s.Hazards)
	}
	if r.Expectations != "" {
		fmt.Fprintf(&b, "; %d as expected, %d not", s.Passed, s.Failed)
	}
	b.WriteString("\n")
	if r.Baseline != "" {
		if len(r.Changes) == 0 {
			fmt.Fprintf(&b, "no behaviour change since %s\n", r.Baseline)
		} else {
			fmt.Fprintf(&b, "%d behaviour change(s) since %s:\n", len(r.Changes), r.Baseline)
			for _, c := range r.Changes {
				fmt.Fprintf(&b, "  %s\n", c)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// sawText says what the upstream saw.
func sawText(s *string) string {
	switch {
	case s == nil:
		return "no ClientHello"
	case *s == "":
		return "no SNI"
	}
	return fmt.Sprintf("SNI %q", *s)
}
