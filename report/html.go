package report

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
)

//go:embed index.html.tmpl
var pageTemplate string

var page = template.Must(template.New("index.html").Funcs(template.FuncMap{
	"short": func(id string) string { return strings.TrimPrefix(id, CommonPrefix) },
	"sni":   sniText,
	"class": func(verdict string) string { return strings.ToLower(verdict) },
	"json": func(v any) (string, error) {
		data, err := json.MarshalIndent(v, "", "  ")
		return string(data), err
	},
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
}).Parse(pageTemplate))

// HTML renders index.html: one static page, no network needed to view it.
// Its first screen says in one line what ran, what passed and what failed
// (each failure a link to its evidence); then come the proxies' comparison
// matrix, the upgrades, the clients × targets matrix, the self-tests, each
// proxy in detail, and every record's evidence; each cell links to its
// evidence.
func HTML(d Document) ([]byte, error) {
	var details []Detail
	for _, p := range d.Proxies() {
		details = append(details, d.Detail(p))
	}
	failed := d.Failed()
	var b bytes.Buffer
	err := page.Execute(&b, map[string]any{
		"Doc": d, "Line": d.Summary.Line(), "Ran": d.Ran(), "Explain": d.Explain(),
		"Failed": failed[:min(len(failed), headlineFailures)], "More": max(0, len(failed)-headlineFailures),
		"Comparison": d.Comparison(), "Upgrades": d.Upgrades(), "Clients": d.ClientMatrix(),
		"SelfTests": d.SelfTests(), "Details": details,
	})
	if err != nil {
		return nil, fmt.Errorf("render index.html: %w", err)
	}
	return b.Bytes(), nil
}
