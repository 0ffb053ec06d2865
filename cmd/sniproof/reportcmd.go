package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/sniproof/sniproof/report"
)

func runReport(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: sniproof report merge --out DIR RESULTS.json... | sniproof report check [DIR]")
		return exitUsage
	}
	switch args[0] {
	case "merge":
		return runReportMerge(args[1:], stdout, stderr)
	case "check":
		return runReportCheck(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "sniproof report: unknown subcommand %q (want merge or check)\n", args[0])
	return exitUsage
}

// runReportMerge combines the results.json of several shards into one set
// of reports and exits with the merged run's exit code.
func runReportMerge(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report merge", stderr)
	out := fs.String("out", "reports", "`folder` for the merged results.json, junit.xml, matrix.md and index.html")
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "sniproof report merge: name at least one results.json")
		return exitUsage
	}
	var docs []report.Document
	for _, path := range fs.Args() {
		d, err := report.Load(path)
		if err != nil {
			fmt.Fprintf(stderr, "sniproof report merge: %v\n", err)
			return exitUsage
		}
		docs = append(docs, d)
	}
	doc := report.Merge(docs)
	if err := report.Write(*out, doc); err != nil {
		fmt.Fprintf(stderr, "sniproof report merge: %v\n", err)
		return report.ExitInfra
	}
	fmt.Fprintf(stderr, "sniproof: merged %d result files (shards %s): %s\n", len(docs), strings.Join(doc.Shards, ", "), doc.Explain())
	fmt.Fprintln(stdout, doc.Summary.Line())
	return doc.ExitCode()
}

// helpOrUsage is the exit code for a flag parse error: 0 for -h.
func helpOrUsage(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// failColour is the background of a failed cell in index.html (#f7c6c6).
var failColour = [3]uint8{0xf7, 0xc6, 0xc6}

// runReportCheck opens index.html in headless Chromium and checks what a
// person would see (checkPage). It saves a screenshot as index.png.
func runReportCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report check", stderr)
	browser := fs.String("chromium", "chromium", "the Chromium `binary`")
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	dir := "reports"
	if fs.NArg() > 0 {
		dir = fs.Arg(0)
	}
	if _, err := report.Load(filepath.Join(dir, "results.json")); err != nil {
		fmt.Fprintf(stderr, "sniproof report check: %v\n", err)
		return exitUsage
	}
	summary, problems, err := checkPage(dir, *browser)
	if err != nil {
		fmt.Fprintf(stderr, "sniproof report check: %v\n", err)
		return exitInfra
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintf(stderr, "sniproof report check: %s\n", p)
		}
		return 1
	}
	fmt.Fprintln(stdout, summary)
	return exitOK
}

// evidenceLink is a cell's link to a record's evidence.
var evidenceLink = regexp.MustCompile(`href="#(ev-[0-9]+)"`)

// redClass finds the elements of the page that CSS paints red.
var redClass = regexp.MustCompile(`class="(?:[^"]* )?(?:fail|xpass)(?: [^"]*)?"`)

// checkPage opens DIR/index.html in headless Chromium and checks what a
// person would see: the summary line; a red cell linking to the evidence
// of every failed record (FAIL, XPASS) and no red at all when nothing
// failed, in the page and on its first screen (the screenshot DIR/index.png);
// evidence behind every link, which opens when followed. It returns a
// one-line summary and the problems found; an error says the check could
// not be made.
func checkPage(dir, browser string) (string, []string, error) {
	doc, err := report.Load(filepath.Join(dir, "results.json"))
	if err != nil {
		return "", nil, err
	}
	page, err := filepath.Abs(filepath.Join(dir, "index.html"))
	if err != nil {
		return "", nil, err
	}
	failed := len(doc.Failed())
	target := -1
	switch {
	case failed > 0:
		target = doc.Failed()[0].Index
	case len(doc.Records) > 0:
		target = 0
	}
	top := (&url.URL{Scheme: "file", Path: page}).String()
	u := top
	if target >= 0 {
		u += fmt.Sprintf("#ev-%d", target)
	}
	dom, err := chromium(browser, "--dump-dom", u)
	if err != nil {
		return "", nil, err
	}
	problems := pageProblems(doc, dom, target)
	shot := filepath.Join(dir, "index.png")
	if _, err := chromium(browser, "--screenshot="+shot, "--window-size=1400,1000", top); err != nil {
		return "", nil, err
	}
	red, err := countColour(shot, failColour)
	switch {
	case err != nil:
		problems = append(problems, err.Error())
	case failed > 0 && red == 0:
		problems = append(problems, fmt.Sprintf("%d failed record(s), but the first screen (%s) has no red cell", failed, shot))
	case failed == 0 && red > 0:
		problems = append(problems, fmt.Sprintf("nothing failed, but the first screen (%s) shows red", shot))
	}
	return fmt.Sprintf("report check: %s shows %d record(s), %d failed in red with their evidence; screenshot %s",
		page, len(doc.Records), failed, shot), problems, nil
}

// pageProblems are what is wrong with the page's DOM, as Chromium
// rendered it with the evidence #ev-TARGET followed (-1: none): the summary
// line missing, a failed record without a red cell linking to its
// evidence, red when nothing failed, a link to evidence the page lacks,
// and the followed evidence not open.
func pageProblems(doc report.Document, dom string, target int) []string {
	var problems []string
	if !strings.Contains(dom, doc.Summary.Line()) {
		problems = append(problems, fmt.Sprintf("the page does not show %q", doc.Summary.Line()))
	}
	failed := doc.Failed()
	for _, c := range failed {
		r := c.Record
		cell := fmt.Sprintf(`data-verdict="%s" title="%s: `, r.Verdict, r.ID)
		if !strings.Contains(dom, cell) || !strings.Contains(dom, fmt.Sprintf(`href="#ev-%d"`, c.Index)) {
			problems = append(problems, fmt.Sprintf("no red cell linking to the evidence of %s on %s %s", r.ID, r.Proxy, r.Version))
		}
	}
	if reds := redClass.FindAllString(dom, -1); len(failed) == 0 && len(reds) > 0 {
		problems = append(problems, fmt.Sprintf("nothing failed, but %d element(s) of the page are red, e.g. %s", len(reds), reds[0]))
	}
	for _, m := range evidenceLink.FindAllStringSubmatch(dom, -1) {
		if !strings.Contains(dom, `<details id="`+m[1]+`"`) {
			problems = append(problems, fmt.Sprintf("a cell links to #%s, but the page has no such evidence", m[1]))
			break
		}
	}
	if target >= 0 && !strings.Contains(dom, fmt.Sprintf(`<details id="ev-%d" class="%s" open="">`, target, strings.ToLower(doc.Records[target].Verdict))) {
		problems = append(problems, fmt.Sprintf("following the link to #ev-%d does not open its evidence", target))
	}
	return problems
}

// chromium runs headless Chromium on a page and returns what it printed.
func chromium(binary string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=2000"}
	cmd := exec.CommandContext(ctx, binary, append(base, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w (is Debian's chromium package installed?)\n%s", binary, err, lastLine(errOut.String()))
	}
	return out.String(), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// countColour counts the pixels of a PNG within a small distance of c.
func countColour(path string, c [3]uint8) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open screenshot: %w", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return 0, fmt.Errorf("decode screenshot %s: %w", path, err)
	}
	return countIn(img, c), nil
}

func countIn(img image.Image, c [3]uint8) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, c[0]) && near(g>>8, c[1]) && near(bl>>8, c[2]) {
				n++
			}
		}
	}
	return n
}

func near(v uint32, want uint8) bool {
	d := int(v) - int(want)
	return d >= -3 && d <= 3
}
