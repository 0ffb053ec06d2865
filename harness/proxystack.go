package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/sniproof/sniproof/fixtures"
)

const (
	// GRPCPort is the HTTP/2 cleartext port of gRPC cases.
	GRPCPort = "8081/tcp"
	// firstStreamPort is the port of the first stream case; each further
	// stream case gets the next one.
	firstStreamPort = 9100
)

// Proxy is one version of a proxy kind serving every case of its table,
// each case on its own server block, virtual host or route.
type Proxy struct {
	Kind      Kind
	Container *ProxyContainer
	// Release is the Debian release the image comes from, Image the image.
	Release string
	Image   string
	// Config is the whole rendered configuration; Standalone holds, by
	// case id, the configuration of that case alone, for the evidence and
	// for cases that the proxy must refuse.
	Config     []byte
	Standalone map[string]string

	version   string
	packages  []string
	url       string
	endpoints map[string]endpoint
}

type endpoint struct {
	url string
	h2c bool
}

// Name is the proxy's name, e.g. "nginx".
func (p *Proxy) Name() string { return p.Kind.Name }

// Version is the version the proxy reports, e.g. "1.22.1".
func (p *Proxy) Version() string { return p.version }

// Packages are the recipe's packages as dpkg reports them in the running
// image, "NAME VERSION" (haproxy 3.2.26-1); none for the binary image.
func (p *Proxy) Packages() []string { return p.packages }

// debianPackages asks dpkg in the container for the versions of the
// recipe's packages.
func (p *Proxy) debianPackages(ctx context.Context) ([]string, error) {
	if p.Kind.Image == "" {
		return nil, nil
	}
	r, err := LoadRecipe(p.Kind.Image, p.Release)
	if err != nil {
		return nil, err
	}
	cmd := append([]string{"dpkg-query", "-W", "-f=${Package} ${Version}\n"}, r.packageNames()...)
	code, out, err := p.Container.Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(cmd, " "), err)
	}
	data, _ := io.ReadAll(out)
	if code != 0 {
		return nil, fmt.Errorf("%s: exit %d: %s", strings.Join(cmd, " "), code, data)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n"), nil
}

// BaseURL is where the host reaches the proxy's HTTP case port.
func (p *Proxy) BaseURL() string { return p.url }

// Endpoint is where the host reaches a case, and whether it speaks HTTP/2
// in cleartext (h2c) there.
func (p *Proxy) Endpoint(caseID string) (string, bool) {
	e, ok := p.endpoints[caseID]
	if !ok {
		return p.url, false
	}
	return e.url, e.h2c
}

// Log is the proxy's log.
func (p *Proxy) Log() *LogBook { return p.Container.Log }

// TestConfig runs the proxy's own configuration test on the standalone
// configuration of a case and returns its exit code and message.
func (p *Proxy) TestConfig(ctx context.Context, caseID string) (int, string, error) {
	conf, ok := p.Standalone[caseID]
	if !ok {
		return 0, "", fmt.Errorf("no configuration rendered for case %q", caseID)
	}
	return p.Container.TestConfig(ctx, p.Kind, []byte(conf))
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
	// Index numbers the case within its table, for unique names.
	Index int
}

// PersonalityRef is a personality as snippets see it.
type PersonalityRef struct {
	Upstream string
	Port     int
}

// renderedCase is a case as the configuration templates see it.
type renderedCase struct {
	ID, Name, Frontend string
	// Hosts are the case's host names, space-separated; HostList the same
	// as a list.
	Hosts    string
	HostList []string
	Index    int
	Listen   int
	// The snippets, rendered: nginx's, and the generic ones of other kinds.
	HTTP, Server, Location, Stream string
	Global, Config                 string
}

// plan is a rendered configuration and where each case is reached.
type plan struct {
	conf        []byte
	files       map[string][]byte // the kind's further files, by container path
	standalone  map[string]string
	streamPorts map[string]int // case id → port
}

// plan renders the configuration of kind k serving cases. Cases that the
// proxy must refuse (expect.config_error, for the release's version series
// when the kind keeps one: see refuses) are rendered alone, never into the
// shared configuration.
func (st *Stack) plan(k Kind, release string, cases []fixtures.Case) (plan, error) {
	pl := plan{standalone: map[string]string{}, streamPorts: map[string]int{}}
	tmpl, err := fixtures.Template(k.Name + "/" + k.Name + ".conf.tmpl")
	if err != nil {
		return pl, err
	}
	refs := map[string]PersonalityRef{}
	for name, p := range st.Personalities {
		refs[name] = PersonalityRef{Upstream: p.Names[0], Port: p.Port}
	}
	var shared []renderedCase
	next := firstStreamPort
	for i, c := range cases {
		p, ok := st.Personalities[c.Personality]
		if !ok {
			return pl, fmt.Errorf("%s:%d: case %q: no personality %q in fixtures/backend.yaml", c.File, c.Line, c.ID, c.Personality)
		}
		data := SnippetData{Upstream: p.Names[0], Port: p.Port, P: refs, BackendIP: st.BackendIP,
			CA: caPath, OtherCA: otherCAPath, Index: i + 1}
		if c.Frontend == fixtures.FrontendStream {
			data.Listen = next
			pl.streamPorts[c.ID] = next
			next++
		}
		hosts := serverNames(c)
		rc := renderedCase{ID: c.ID, Name: c.Name, Frontend: c.Frontend, Hosts: strings.Join(hosts, " "), HostList: hosts,
			Index: data.Index, Listen: data.Listen}
		for _, part := range []struct {
			name, snippet string
			out           *string
		}{
			{"http", c.HTTP, &rc.HTTP}, {"server", c.Server, &rc.Server}, {"location", c.Location, &rc.Location},
			{"stream", c.Stream, &rc.Stream}, {"global", c.Global, &rc.Global}, {"config", c.Config, &rc.Config},
		} {
			if *part.out, err = c.RenderSnippet(part.name, part.snippet, data); err != nil {
				return pl, err
			}
		}
		one, err := execute(tmpl, release, st.BackendIP, []renderedCase{rc})
		if err != nil {
			return pl, err
		}
		pl.standalone[c.ID] = string(one)
		if !refuses(k, release, c) {
			shared = append(shared, rc)
		}
	}
	if pl.conf, err = execute(tmpl, release, st.BackendIP, shared); err != nil {
		return pl, err
	}
	pl.files = map[string][]byte{}
	for path, name := range k.Files {
		t, err := fixtures.Template(k.Name + "/" + name)
		if err != nil {
			return pl, err
		}
		if pl.files[path], err = execute(t, release, st.BackendIP, shared); err != nil {
			return pl, err
		}
	}
	return pl, nil
}

// refuses reports whether the proxy of kind k from release must refuse
// case c's configuration: c's expectation for the release's version series
// (Kind.Series) when the kind keeps one, else its base expectation, has a
// config_error. So a directive that only newer versions know is a
// config_error override for the older ones and a request on the newer.
func refuses(k Kind, release string, c fixtures.Case) bool {
	if series, ok := k.Series[release]; ok {
		return c.For(series).ConfigError != ""
	}
	return c.Expect.ConfigError != ""
}

// serverNames are the distinct host names of a case's requests.
func serverNames(c fixtures.Case) []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range c.Requests() {
		if n := r.ServerName(); !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return names
}

func execute(tmpl *template.Template, release, backendIP string, cases []renderedCase) ([]byte, error) {
	streams := false
	for _, c := range cases {
		streams = streams || c.Frontend == fixtures.FrontendStream
	}
	var b bytes.Buffer
	err := tmpl.Execute(&b, map[string]any{
		"Release": release, "BackendIP": backendIP, "MarkPort": markPort, "Cases": cases, "Streams": streams,
		"CA": caPath, "OtherCA": otherCAPath,
	})
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", tmpl.Name(), err)
	}
	return b.Bytes(), nil
}

// StartProxy builds (if missing) the image of kind k for a Debian release
// and starts it serving cases, attached to both networks of the session.
func (st *Stack) StartProxy(ctx context.Context, k Kind, release string, cases []fixtures.Case) (*Proxy, error) {
	op := fmt.Sprintf("start %s from %s", k.Name, release)
	img, err := st.image(ctx, k, release)
	if err != nil {
		return nil, err
	}
	pl, err := st.plan(k, release, cases)
	if err != nil {
		return nil, err
	}
	p := &Proxy{Kind: k, Release: release, Image: img, Config: pl.conf, Standalone: pl.standalone}
	var ports []string
	for _, port := range pl.streamPorts {
		ports = append(ports, strconv.Itoa(port)+"/tcp")
	}
	files := []testcontainers.ContainerFile{
		{Reader: bytes.NewReader(st.CA.CertPEM()), ContainerFilePath: caPath, FileMode: 0o644},
		{Reader: bytes.NewReader(st.OtherCA.CertPEM()), ContainerFilePath: otherCAPath, FileMode: 0o644},
	}
	for path, data := range pl.files {
		files = append(files, testcontainers.ContainerFile{Reader: bytes.NewReader(data), ContainerFilePath: path, FileMode: 0o644})
	}
	p.Container, err = RunProxy(ctx, k, img, pl.conf,
		testcontainers.WithFiles(files...),
		testcontainers.WithExposedPorts(ports...),
		network.WithNetwork(nil, st.Session.Front),
		network.WithNetwork(nil, st.Session.Internal),
		st.Session.commonOptions(),
	)
	st.starts.Add(1)
	if err != nil {
		return p, &InfraError{Op: op, Err: err}
	}
	if err := p.resolve(ctx, cases, pl.streamPorts); err != nil {
		return p, &InfraError{Op: op, Err: err}
	}
	return p, nil
}

// image resolves the image of kind k: its Debian recipe for the release,
// or the sniproof binary image.
func (st *Stack) image(ctx context.Context, k Kind, release string) (string, error) {
	if k.Image == "" {
		return st.Session.Images.Binary(ctx)
	}
	recipe, err := LoadRecipe(k.Image, release)
	if err != nil {
		return "", &InfraError{Op: fmt.Sprintf("image of %s from %s", k.Name, release), Err: err}
	}
	return st.Session.Images.Debian(ctx, recipe)
}

// resolve learns the proxy's version and where the host reaches each case.
func (p *Proxy) resolve(ctx context.Context, cases []fixtures.Case, streamPorts map[string]int) error {
	var err error
	if p.version, err = p.Container.Version(ctx, p.Kind); err != nil {
		return err
	}
	if msg := p.Kind.CheckSeries(p.Release, p.version); msg != "" {
		return errors.New(msg)
	}
	if p.packages, err = p.debianPackages(ctx); err != nil {
		return err
	}
	if p.url, err = p.Container.URL(ctx, CasePort); err != nil {
		return err
	}
	p.endpoints = map[string]endpoint{}
	for _, c := range cases {
		switch c.Frontend {
		case fixtures.FrontendGRPC:
			u, err := p.Container.URL(ctx, GRPCPort)
			if err != nil {
				return err
			}
			p.endpoints[c.ID] = endpoint{url: u, h2c: true}
		case fixtures.FrontendStream:
			u, err := p.Container.URL(ctx, strconv.Itoa(streamPorts[c.ID])+"/tcp")
			if err != nil {
				return err
			}
			p.endpoints[c.ID] = endpoint{url: u}
		default:
			p.endpoints[c.ID] = endpoint{url: p.url}
		}
	}
	return nil
}

// Started is the outcome of starting one proxy version.
type Started struct {
	Proxy *Proxy
	Err   error
	// Runner runs the proxy's cases, once the suite has started it.
	Runner *CaseRunner
}

// StartProxies starts every release of every kind, a few at a time, each
// serving its kind's cases. A proxy that fails to start does not stop the
// others: its error is in its entry, keyed "KIND/RELEASE".
func (st *Stack) StartProxies(ctx context.Context, ks []Kind, cases map[string][]fixtures.Case) map[string]Started {
	out := map[string]Started{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, 3)
	for _, k := range ks {
		for _, rel := range k.Releases {
			wg.Add(1)
			go func() {
				defer wg.Done()
				slots <- struct{}{}
				defer func() { <-slots }()
				p, err := st.StartProxy(ctx, k, rel, cases[k.Name])
				mu.Lock()
				defer mu.Unlock()
				out[k.Name+"/"+rel] = Started{Proxy: p, Err: err}
			}()
		}
	}
	wg.Wait()
	return out
}

// Standalone renders each of kind k's cases in a configuration of its own,
// as the proxies suite tests a case the proxy must refuse, by case id: the
// configurations lint's agreement tests judge, with backendIP standing for
// the backend's address.
func Standalone(k Kind, release, backendIP string, cases []fixtures.Case) (map[string]string, error) {
	ps, err := fixtures.Personalities()
	if err != nil {
		return nil, err
	}
	st := &Stack{Personalities: map[string]fixtures.Personality{}, BackendIP: backendIP}
	for _, p := range ps {
		st.Personalities[p.Name] = p
	}
	pl, err := st.plan(k, release, cases)
	return pl.standalone, err
}
