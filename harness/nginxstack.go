package harness

import (
	"bytes"
	"context"
	"fmt"
	"text/template"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/sniproof/sniproof/fixtures"
)

// Nginx is one nginx version serving every case of a table, one server
// block per case. It implements Proxy.
type Nginx struct {
	Container *NginxContainer
	// Release is the Debian release the image comes from, Image the image.
	Release string
	Image   string
	// Config is the whole rendered nginx.conf; Standalone holds, by case
	// id, the configuration of that case alone, for the evidence.
	Config     []byte
	Standalone map[string]string

	version string
	url     string
}

// Name implements Proxy.
func (n *Nginx) Name() string { return "nginx" }

// Version implements Proxy: the version nginx reports, e.g. "1.22.1".
func (n *Nginx) Version() string { return n.version }

// BaseURL implements Proxy.
func (n *Nginx) BaseURL() string { return n.url }

// Log implements Proxy.
func (n *Nginx) Log() *LogBook { return n.Container.Log }

// Mark implements Proxy: the access-log line of the mark location.
func (n *Nginx) Mark(token string) string { return "__sniproof_mark " + MarkPath + token }

// SnippetData is what a case's configuration snippets can refer to.
type SnippetData struct {
	// Upstream is the personality's first name, Port its port.
	Upstream string
	Port     int
	// BackendIP is the backend's address on the internal network.
	BackendIP string
	// CA is the path of the run's CA bundle inside the proxy.
	CA string
}

type renderedCase struct {
	ID, Name, Host         string
	HTTP, Server, Location string
}

// RenderNginx renders the nginx configuration serving cases.
func (st *Stack) RenderNginx(release string, cases []fixtures.Case) ([]byte, map[string]string, error) {
	tmpl, err := fixtures.Template("nginx/nginx.conf.tmpl")
	if err != nil {
		return nil, nil, err
	}
	var rcs []renderedCase
	blocks := map[string]string{}
	for _, c := range cases {
		p, ok := st.Personalities[c.Personality]
		if !ok {
			return nil, nil, fmt.Errorf("%s:%d: case %q: no personality %q in fixtures/backend.yaml", c.File, c.Line, c.ID, c.Personality)
		}
		data := SnippetData{Upstream: p.Names[0], Port: p.Port, BackendIP: st.BackendIP, CA: caPath}
		rc := renderedCase{ID: c.ID, Name: c.Name, Host: c.Request.Host}
		for _, part := range []struct {
			name, snippet string
			out           *string
		}{{"http", c.HTTP, &rc.HTTP}, {"server", c.Server, &rc.Server}, {"location", c.Location, &rc.Location}} {
			if *part.out, err = c.RenderSnippet(part.name, part.snippet, data); err != nil {
				return nil, nil, err
			}
		}
		rcs = append(rcs, rc)
		one, err := execute(tmpl, release, st.BackendIP, []renderedCase{rc})
		if err != nil {
			return nil, nil, err
		}
		blocks[c.ID] = string(one)
	}
	conf, err := execute(tmpl, release, st.BackendIP, rcs)
	return conf, blocks, err
}

func execute(tmpl *template.Template, release, backendIP string, cases []renderedCase) ([]byte, error) {
	var b bytes.Buffer
	err := tmpl.Execute(&b, map[string]any{"Version": release, "BackendIP": backendIP, "MarkPort": markPort, "Cases": cases})
	if err != nil {
		return nil, fmt.Errorf("render nginx.conf: %w", err)
	}
	return b.Bytes(), nil
}

// StartNginx builds (if missing) the nginx image of a Debian release and
// starts it serving cases, attached to both networks of the session.
func (st *Stack) StartNginx(ctx context.Context, release string, cases []fixtures.Case) (*Nginx, error) {
	recipe, err := LoadRecipe("nginx", release)
	if err != nil {
		return nil, &InfraError{Op: "nginx " + release, Err: err}
	}
	img, err := st.Session.Images.Debian(ctx, recipe)
	if err != nil {
		return nil, err
	}
	conf, standalone, err := st.RenderNginx(release, cases)
	if err != nil {
		return nil, err
	}
	n := &Nginx{Release: release, Image: img, Config: conf, Standalone: standalone}
	n.Container, err = RunNginx(ctx, img, conf,
		testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader: bytes.NewReader(st.CA.CertPEM()), ContainerFilePath: caPath, FileMode: 0o644,
		}),
		network.WithNetwork(nil, st.Session.Front),
		network.WithNetwork(nil, st.Session.Internal),
		st.Session.commonOptions(),
	)
	if err != nil {
		return n, &InfraError{Op: "start nginx " + release, Err: err}
	}
	if n.version, err = n.Container.Version(ctx); err != nil {
		return n, &InfraError{Op: "start nginx " + release, Err: err}
	}
	if n.url, err = n.Container.URL(ctx); err != nil {
		return n, &InfraError{Op: "start nginx " + release, Err: err}
	}
	return n, nil
}
