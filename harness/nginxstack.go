package harness

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/template"

	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/sniproof/sniproof/fixtures"
)

const (
	// nginxGRPCPort is the HTTP/2 cleartext port of gRPC cases.
	nginxGRPCPort = "8081/tcp"
	// firstStreamPort is the port of the first stream case; each further
	// stream case gets the next one.
	firstStreamPort = 9100
)

// Nginx is one nginx version serving every case of a table, one server
// block per case. It implements Proxy.
type Nginx struct {
	Container *NginxContainer
	// Release is the Debian release the image comes from, Image the image.
	Release string
	Image   string
	// Config is the whole rendered nginx.conf; Standalone holds, by case
	// id, the configuration of that case alone, for the evidence and for
	// cases that nginx must refuse.
	Config     []byte
	Standalone map[string]string

	version   string
	url       string
	endpoints map[string]endpoint
}

type endpoint struct {
	url string
	h2c bool
}

// Name implements Proxy.
func (n *Nginx) Name() string { return "nginx" }

// Version implements Proxy: the version nginx reports, e.g. "1.22.1".
func (n *Nginx) Version() string { return n.version }

// BaseURL implements Proxy.
func (n *Nginx) BaseURL() string { return n.url }

// Endpoint implements Proxy.
func (n *Nginx) Endpoint(caseID string) (string, bool) {
	e, ok := n.endpoints[caseID]
	if !ok {
		return n.url, false
	}
	return e.url, e.h2c
}

// Log implements Proxy.
func (n *Nginx) Log() *LogBook { return n.Container.Log }

// Mark implements Proxy: the access-log line of the mark location.
func (n *Nginx) Mark(token string) string { return "__sniproof_mark " + MarkPath + token }

// TestConfig runs nginx's own configuration test on the standalone
// configuration of a case and returns nginx's exit code and message.
func (n *Nginx) TestConfig(ctx context.Context, caseID string) (int, string, error) {
	conf, ok := n.Standalone[caseID]
	if !ok {
		return 0, "", fmt.Errorf("no configuration rendered for case %q", caseID)
	}
	return n.Container.TestConfig(ctx, []byte(conf))
}

// SnippetData is what a case's configuration snippets can refer to.
type SnippetData struct {
	// Upstream is the case personality's first name, Port its port.
	Upstream string
	Port     int
	// P holds every personality by name, e.g. {{.P.alert112.Port}}.
	P map[string]PersonalityRef
	// BackendIP is the backend's address on the internal network.
	BackendIP string
	// CA is the path of the run's CA bundle inside the proxy, OtherCA that
	// of a CA that issued none of the backend's certificates.
	CA      string
	OtherCA string
	// Listen is the port of a stream case.
	Listen int
}

// PersonalityRef is a personality as snippets see it.
type PersonalityRef struct {
	Upstream string
	Port     int
}

type renderedCase struct {
	ID, Name, Frontend, Hosts      string
	HTTP, Server, Location, Stream string
	Listen                         int
}

// nginxPlan is a rendered configuration and where each case is reached.
type nginxPlan struct {
	conf        []byte
	standalone  map[string]string
	streamPorts map[string]int // case id → port
}

// planNginx renders the nginx configuration serving cases. Cases that nginx
// must refuse (expect.config_error) are rendered alone, never into the
// shared configuration.
func (st *Stack) planNginx(release string, cases []fixtures.Case) (nginxPlan, error) {
	plan := nginxPlan{standalone: map[string]string{}, streamPorts: map[string]int{}}
	tmpl, err := fixtures.Template("nginx/nginx.conf.tmpl")
	if err != nil {
		return plan, err
	}
	refs := map[string]PersonalityRef{}
	for name, p := range st.Personalities {
		refs[name] = PersonalityRef{Upstream: p.Names[0], Port: p.Port}
	}
	var shared []renderedCase
	next := firstStreamPort
	for _, c := range cases {
		p, ok := st.Personalities[c.Personality]
		if !ok {
			return plan, fmt.Errorf("%s:%d: case %q: no personality %q in fixtures/backend.yaml", c.File, c.Line, c.ID, c.Personality)
		}
		data := SnippetData{Upstream: p.Names[0], Port: p.Port, P: refs, BackendIP: st.BackendIP, CA: caPath, OtherCA: otherCAPath}
		if c.Frontend == fixtures.FrontendStream {
			data.Listen = next
			plan.streamPorts[c.ID] = next
			next++
		}
		rc := renderedCase{ID: c.ID, Name: c.Name, Frontend: c.Frontend, Hosts: serverNames(c), Listen: data.Listen}
		for _, part := range []struct {
			name, snippet string
			out           *string
		}{{"http", c.HTTP, &rc.HTTP}, {"server", c.Server, &rc.Server}, {"location", c.Location, &rc.Location}, {"stream", c.Stream, &rc.Stream}} {
			if *part.out, err = c.RenderSnippet(part.name, part.snippet, data); err != nil {
				return plan, err
			}
		}
		one, err := execute(tmpl, release, st.BackendIP, []renderedCase{rc})
		if err != nil {
			return plan, err
		}
		plan.standalone[c.ID] = string(one)
		if c.Expect.ConfigError == "" {
			shared = append(shared, rc)
		}
	}
	plan.conf, err = execute(tmpl, release, st.BackendIP, shared)
	return plan, err
}

// serverNames are the distinct host names of a case's requests.
func serverNames(c fixtures.Case) string {
	var names []string
	seen := map[string]bool{}
	for _, r := range c.Requests() {
		if n := r.ServerName(); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return strings.Join(names, " ")
}

func execute(tmpl *template.Template, release, backendIP string, cases []renderedCase) ([]byte, error) {
	streams := false
	for _, c := range cases {
		streams = streams || c.Frontend == fixtures.FrontendStream
	}
	var b bytes.Buffer
	err := tmpl.Execute(&b, map[string]any{
		"Release": release, "BackendIP": backendIP, "MarkPort": markPort, "Cases": cases, "Streams": streams,
	})
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
	plan, err := st.planNginx(release, cases)
	if err != nil {
		return nil, err
	}
	n := &Nginx{Release: release, Image: img, Config: plan.conf, Standalone: plan.standalone}
	ports := []string{nginxGRPCPort}
	for _, port := range plan.streamPorts {
		ports = append(ports, strconv.Itoa(port)+"/tcp")
	}
	n.Container, err = RunNginx(ctx, img, plan.conf,
		testcontainers.WithFiles(
			testcontainers.ContainerFile{Reader: bytes.NewReader(st.CA.CertPEM()), ContainerFilePath: caPath, FileMode: 0o644},
			testcontainers.ContainerFile{Reader: bytes.NewReader(st.OtherCA.CertPEM()), ContainerFilePath: otherCAPath, FileMode: 0o644},
		),
		testcontainers.WithExposedPorts(ports...),
		network.WithNetwork(nil, st.Session.Front),
		network.WithNetwork(nil, st.Session.Internal),
		st.Session.commonOptions(),
	)
	if err != nil {
		return n, &InfraError{Op: "start nginx " + release, Err: err}
	}
	if err := n.resolve(ctx, cases, plan.streamPorts); err != nil {
		return n, &InfraError{Op: "start nginx " + release, Err: err}
	}
	return n, nil
}

// resolve learns nginx's version and where the host reaches each case.
func (n *Nginx) resolve(ctx context.Context, cases []fixtures.Case, streamPorts map[string]int) error {
	var err error
	if n.version, err = n.Container.Version(ctx); err != nil {
		return err
	}
	if n.url, err = n.Container.URL(ctx, NginxPort); err != nil {
		return err
	}
	grpc, err := n.Container.URL(ctx, nginxGRPCPort)
	if err != nil {
		return err
	}
	n.endpoints = map[string]endpoint{}
	for _, c := range cases {
		switch c.Frontend {
		case fixtures.FrontendGRPC:
			n.endpoints[c.ID] = endpoint{url: grpc, h2c: true}
		case fixtures.FrontendStream:
			u, err := n.Container.URL(ctx, strconv.Itoa(streamPorts[c.ID])+"/tcp")
			if err != nil {
				return err
			}
			n.endpoints[c.ID] = endpoint{url: u}
		default:
			n.endpoints[c.ID] = endpoint{url: n.url}
		}
	}
	return nil
}
