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
}).Parse(pageTemplate))

// HTML renders index.html: one static page, no network needed to view it,
// with the comparison matrix, each proxy's matrix, and every record's
// evidence; each cell links to its evidence.
func HTML(d Document) ([]byte, error) {
	type section struct {
		Proxy  string
		Matrix Matrix
	}
	var proxies []section
	for _, p := range d.Proxies() {
		proxies = append(proxies, section{Proxy: p, Matrix: d.ProxyMatrix(p)})
	}
	var b bytes.Buffer
	err := page.Execute(&b, map[string]any{
		"Doc": d, "Line": d.Summary.Line(), "Explain": d.Explain(), "Comparison": d.Comparison(), "Clients": d.ClientMatrix(), "Proxies": proxies,
	})
	if err != nil {
		return nil, fmt.Errorf("render index.html: %w", err)
	}
	return b.Bytes(), nil
}
