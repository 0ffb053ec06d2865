package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"

	"github.com/sniproof/sniproof/backend"
)

// Paths inside the client container.
const (
	// ClientCAPath holds the run's CA, which issued every server
	// certificate the clients meet.
	ClientCAPath = "/etc/sniproof/ca.pem"
	// ClientBinaryPath is the sniproof binary, for `sniproof tlsclient`.
	ClientBinaryPath = "/usr/local/bin/sniproof"
)

// ClientTimeouts bound the waits of client cases; they are not part of
// Timeouts so that the proxy suites keep theirs.
type ClientTimeouts struct {
	// Command bounds one client command inside the client container; the
	// command is run under timeout(1), which ends it with exit status 124.
	Command time.Duration
	// Seen bounds the wait, after a client command has ended, until the
	// server's log shows the command's connection (its handshake, refusal
	// or failure, and its request when the client reports an HTTP status).
	// The server logs before the client can see the outcome, so the wait is
	// the log's delivery only; a command whose connection never reached the
	// server costs this much.
	Seen time.Duration
}

// DefaultClientTimeouts are the client cases' timeouts.
var DefaultClientTimeouts = ClientTimeouts{Command: 20 * time.Second, Seen: 3 * time.Second}

// ClientContainer is the container the clients under test run in: it
// sleeps, and every client command is one exec in it. Commands must run
// one at a time: the servers' log lines are attributed by its address.
type ClientContainer struct {
	*testcontainers.DockerContainer
	// IP is the container's address on the internal network: the servers
	// see every client connection come from it.
	IP       string
	Timeouts ClientTimeouts

	attributed map[uint64]bool // backend connections of earlier commands
}

// RunClient starts image img sleeping, so that commands can be run in it.
// The caller attaches it to a network. On error it returns the partly
// started container, if any, so that the caller can terminate it.
func RunClient(ctx context.Context, img string, opts ...testcontainers.ContainerCustomizer) (*ClientContainer, error) {
	defaults := []testcontainers.ContainerCustomizer{testcontainers.WithCmd("sleep", "infinity")}
	ctr, err := testcontainers.Run(ctx, img, append(defaults, opts...)...)
	var c *ClientContainer
	if ctr != nil {
		c = &ClientContainer{DockerContainer: ctr, Timeouts: DefaultClientTimeouts, attributed: map[uint64]bool{}}
	}
	if err != nil {
		return c, fmt.Errorf("run client: %w", err)
	}
	return c, nil
}

// ClientRun is one command run in the client container.
type ClientRun struct {
	Command  []string
	Exit     int
	Stdout   string
	Stderr   string
	Duration time.Duration
}

// Run runs cmd in the container under timeout(1) with c.Timeouts.Command,
// with no standard input, and returns its exit status and output. The
// error is for the exec itself, never for the command's exit status.
func (c *ClientContainer) Run(ctx context.Context, cmd []string) (ClientRun, error) {
	secs := strconv.Itoa(int(c.Timeouts.Command.Round(time.Second) / time.Second))
	full := append([]string{"timeout", "-k", "2", secs}, cmd...)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code, _, err := c.Exec(ctx, full, splitOutput(&stdout, &stderr))
	run := ClientRun{Command: cmd, Exit: code, Stdout: stdout.String(), Stderr: stderr.String(), Duration: time.Since(start)}
	if err != nil {
		return run, fmt.Errorf("exec %s: %w", strings.Join(cmd, " "), err)
	}
	return run, nil
}

// splitOutput keeps an exec's standard output and error apart, where
// tcexec.Multiplexed would join them.
func splitOutput(stdout, stderr io.Writer) tcexec.ProcessOption {
	return tcexec.ProcessOptionFunc(func(o *tcexec.ProcessOptions) {
		if o.Reader == nil {
			return
		}
		_, _ = stdcopy.StdCopy(stdout, stderr, o.Reader)
		o.Reader = bytes.NewReader(nil)
	})
}

// ClientFile is a file for the client container: its path, content and
// mode.
type ClientFile struct {
	Path string
	Data []byte
	Mode int64
}

// StartClient builds (if missing) the client image of a Debian release and
// starts it on the internal network, so that it reaches the backend under
// its names, with the run's CA at ClientCAPath, the sniproof binary at
// ClientBinaryPath and the caller's files. It returns the container and
// its image; the stack's Close removes the container.
func (st *Stack) StartClient(ctx context.Context, release string, files ...ClientFile) (*ClientContainer, string, error) {
	op := "start the client container from " + release
	recipe, err := LoadRecipe("clients", release)
	if err != nil {
		return nil, "", &InfraError{Op: op, Err: err}
	}
	img, err := st.Session.Images.Debian(ctx, recipe)
	if err != nil {
		return nil, "", err
	}
	bin, err := buildBinary(ctx)
	if err != nil {
		return nil, img, &InfraError{Op: "build sniproof binary", Err: err}
	}
	cfs := []testcontainers.ContainerFile{
		{Reader: bytes.NewReader(st.CA.CertPEM()), ContainerFilePath: ClientCAPath, FileMode: 0o644},
		{Reader: bytes.NewReader(bin), ContainerFilePath: ClientBinaryPath, FileMode: 0o755},
	}
	for _, f := range files {
		cfs = append(cfs, testcontainers.ContainerFile{Reader: bytes.NewReader(f.Data), ContainerFilePath: f.Path, FileMode: f.Mode})
	}
	c, err := RunClient(ctx, img, testcontainers.WithFiles(cfs...), network.WithNetwork(nil, st.Session.Internal), st.Session.commonOptions())
	st.starts.Add(1)
	if err != nil {
		return c, img, &InfraError{Op: op, Err: err}
	}
	if c.IP, err = containerIP(ctx, c.DockerContainer, st.Session.Internal.Name); err != nil {
		return c, img, &InfraError{Op: op, Err: err}
	}
	return c, img, nil
}

// Front is nginx as a frontend that routes TLS by SNI: server blocks with
// their own names and certificates plus a default server, on the internal
// network under every name it knows.
type Front struct {
	Container *ProxyContainer
	Release   string
	Image     string
	Version   string
	// IP is its address on the internal network.
	IP     string
	Config []byte
}

// FrontSNIPrefix starts the line the frontend logs for every connection
// once it ends: `sniproof-sni remote=ADDR port=PORT sni="NAME"`, NAME being
// "" when the ClientHello had no SNI (nginx's $ssl_preread_server_name).
const FrontSNIPrefix = "sniproof-sni "

var frontSNILine = regexp.MustCompile(`^sniproof-sni remote=(\S+) port=(\d+) sni="([^"]*)"`)

// FrontCertDir is where the frontend finds NAME.crt (leaf and chain) and
// NAME.key of every name it has a certificate for.
const FrontCertDir = "/etc/sniproof/front"

// StartFront starts nginx from release with configuration conf, with a
// certificate from the run's CA in FrontCertDir for every name of certNames,
// reachable on the internal network under certNames and aliases. The
// configuration must serve GET /__sniproof/health on 8080 and log a
// FrontSNIPrefix line to stderr for every TLS connection, as nginx's stream
// module does with ssl_preread.
func (st *Stack) StartFront(ctx context.Context, release string, conf []byte, certNames, aliases []string) (*Front, error) {
	op := "start the nginx frontend from " + release
	k, err := LookupKind("nginx")
	if err != nil {
		return nil, &InfraError{Op: op, Err: err}
	}
	img, err := st.image(ctx, k, release)
	if err != nil {
		return nil, err
	}
	f := &Front{Release: release, Image: img, Config: conf}
	var files []testcontainers.ContainerFile
	for _, n := range certNames {
		leaf, err := st.CA.Leaf(n)
		if err != nil {
			return f, err
		}
		key, err := leaf.KeyPEM()
		if err != nil {
			return f, err
		}
		files = append(files,
			testcontainers.ContainerFile{Reader: bytes.NewReader(leaf.ChainPEM()), ContainerFilePath: FrontCertDir + "/" + n + ".crt", FileMode: 0o644},
			testcontainers.ContainerFile{Reader: bytes.NewReader(key), ContainerFilePath: FrontCertDir + "/" + n + ".key", FileMode: 0o644})
	}
	f.Container, err = RunProxy(ctx, k, img, conf,
		testcontainers.WithFiles(files...),
		network.WithNetwork(nil, st.Session.Front),
		network.WithNetwork(append(append([]string(nil), certNames...), aliases...), st.Session.Internal),
		st.Session.commonOptions(),
	)
	st.starts.Add(1)
	if err != nil {
		return f, &InfraError{Op: op, Err: err}
	}
	if f.Version, err = f.Container.Version(ctx, k); err != nil {
		return f, &InfraError{Op: op, Err: err}
	}
	if f.IP, err = containerIP(ctx, f.Container.DockerContainer, st.Session.Internal.Name); err != nil {
		return f, &InfraError{Op: op, Err: err}
	}
	return f, nil
}

// ClientObservation is what one client command showed and what the server
// it was aimed at saw of it.
type ClientObservation struct {
	Command []string `json:"command"`
	Exit    int      `json:"exit"`
	// Status is the HTTP status the client reported, 0 for none.
	Status int `json:"status"`
	// Cert is the common name of the certificate the client printed, ""
	// when it printed none.
	Cert string `json:"cert"`
	// Error is the client's error text: its error lines, joined.
	Error  string `json:"error,omitempty"`
	Stdout string `json:"stdout,omitempty"`
	Stderr string `json:"stderr,omitempty"`
	// SNI is the name the server saw in the first ClientHello, "" when
	// none was sent, nil when no connection reached the server.
	SNI *string `json:"sni"`
	// Backend and Reason sum up the backend's events, as in Observation;
	// empty for the frontend.
	Backend string          `json:"backend,omitempty"`
	Reason  string          `json:"reason,omitempty"`
	Events  []backend.Event `json:"events,omitempty"`
	// ServerLog holds the frontend's log lines of the command.
	ServerLog []string `json:"server_log,omitempty"`
	Duration  string   `json:"duration"`
	// Exec is the time the exec took, Wait the time the server's log took
	// after it.
	Exec time.Duration `json:"exec_ns"`
	Wait time.Duration `json:"wait_ns"`
}

// Observe runs cmd in the client container, reads its output in format
// (see ParseClientOutput), and observes the server it is aimed at: the
// frontend when front is set, else the backend. Commands must run one at a
// time: the server's log lines from the client's address between the
// command's start and the end of the wait belong to it.
func (st *Stack) Observe(ctx context.Context, c *ClientContainer, front *Front, format string, cmd []string) (ClientObservation, error) {
	book := st.Backend.Log
	if front != nil {
		book = front.Container.Log
	}
	from := book.Len()
	run, err := c.Run(ctx, cmd)
	obs := ClientObservation{Command: cmd, Exit: run.Exit, Stdout: run.Stdout, Stderr: run.Stderr, Exec: run.Duration}
	if err != nil {
		return obs, &InfraError{Op: "run a client command", Err: err}
	}
	out, err := ParseClientOutput(format, run.Stdout, run.Stderr)
	if err != nil {
		return obs, err
	}
	obs.Status, obs.Cert, obs.Error = out.Status, out.Cert, out.Error

	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, c.Timeouts.Seen)
	defer cancel()
	for {
		n := book.Len()
		var done bool
		if front != nil {
			done = obs.front(book.Lines(from), c.IP)
		} else {
			done = obs.backend(st.Backend.Events(from), c, obs.Status != 0)
		}
		if done {
			break
		}
		if _, err := book.WaitFor(wctx, n, ""); err != nil {
			if ctx.Err() != nil {
				return obs, ctx.Err()
			}
			break // nothing (more) reached the server
		}
	}
	obs.Wait = time.Since(start)
	obs.Duration = (obs.Exec + obs.Wait).Round(time.Millisecond).String()
	for _, ev := range obs.Events {
		c.attributed[ev.Conn] = true
	}
	return obs, nil
}

// backend takes the backend's events from the client's address on
// connections no earlier command had; it reports whether they are
// complete: some connection's handshake ended (completed, refused or
// failed) and, when the client reported an HTTP status, a request was
// answered.
func (obs *ClientObservation) backend(events []backend.Event, c *ClientContainer, wantRequest bool) bool {
	obs.Events = nil
	ended, requested := false, false
	for _, ev := range events {
		if !strings.HasPrefix(ev.Remote, c.IP+":") || c.attributed[ev.Conn] {
			continue
		}
		obs.Events = append(obs.Events, ev)
		switch ev.Kind {
		case backend.KindRequest:
			requested = true
		default:
			ended = true
		}
	}
	obs.Backend, obs.Reason, obs.SNI = classify(obs.Events)
	return ended && (requested || !wantRequest)
}

// front takes the frontend's log lines; it reports whether one of them is
// the SNI line of a connection from the client's address.
func (obs *ClientObservation) front(lines []string, ip string) bool {
	obs.ServerLog, obs.SNI = lines, nil
	for _, l := range lines {
		if m := frontSNILine.FindStringSubmatch(l); m != nil && strings.HasPrefix(m[1], ip) && (len(m[1]) == len(ip) || m[1][len(ip)] == ':') {
			name := m[3]
			obs.SNI = &name
			return true
		}
	}
	return false
}

// Output formats of ParseClientOutput.
const (
	OutputCurl    = "curl"    // curl -v -w 'sniproof-status=%{http_code}\n'
	OutputWget    = "wget"    // wget -S
	OutputOpenSSL = "openssl" // openssl s_client
	OutputGnuTLS  = "gnutls"  // gnutls-cli
	OutputJSON    = "json"    // one JSON line: status, cert (or certificate.cn), error
)

// OutputFormats are the formats ParseClientOutput reads.
var OutputFormats = []string{OutputCurl, OutputWget, OutputOpenSSL, OutputGnuTLS, OutputJSON}

// ClientOutput is what a client's output says.
type ClientOutput struct {
	// Status is the HTTP status, 0 for none.
	Status int
	// Cert is the certificate's common name, "" when none was printed.
	Cert string
	// Error holds the client's error lines, joined with " | ".
	Error string
}

var (
	curlStatus    = regexp.MustCompile(`(?m)^sniproof-status=(\d{3})$`)
	curlSubject   = regexp.MustCompile(`(?m)^\*\s+subject: (.*)$`)
	curlError     = regexp.MustCompile(`(?m)^(curl: \(\d+\).*|\*\s+SSL: .*|\*\s+OpenSSL .*error.*)$`)
	wgetStatus    = regexp.MustCompile(`(?m)^\s+HTTP/\S+ (\d{3})`)
	wgetError     = regexp.MustCompile(`(?m)^(GnuTLS: .*|ERROR.*|Unable to establish SSL connection\.|.*The certificate's owner does not match.*|.*certificate .* is not trusted.*)$`)
	opensslCert   = regexp.MustCompile(`(?m)^subject=(.*)$`)
	opensslError  = regexp.MustCompile(`(?m)^(.*:error:.*|no peer certificate available|verify error:.*|write:errno=.*)$`)
	gnutlsSubject = regexp.MustCompile("(?m)^\\s*- subject `([^']*)'")
	gnutlsError   = regexp.MustCompile(`(?m)^(\*\*\* .*|- Status: .*NOT trusted.*|.*[Ee]rror.*)$`)
	commonName    = regexp.MustCompile(`(?:^|[,;/]\s*)CN\s*=\s*([^,;/]+)`)
)

// ParseClientOutput reads a client's status, certificate and error from
// its output in one of OutputFormats.
func ParseClientOutput(format, stdout, stderr string) (ClientOutput, error) {
	var out ClientOutput
	switch format {
	case OutputCurl:
		out.Status = lastStatus(curlStatus, stdout)
		out.Cert = lastCN(curlSubject, stderr)
		out.Error = joinMatches(curlError, stderr)
	case OutputWget:
		out.Status = lastStatus(wgetStatus, stderr)
		out.Error = joinMatches(wgetError, stderr)
	case OutputOpenSSL:
		out.Cert = lastCN(opensslCert, stdout)
		out.Error = joinMatches(opensslError, stderr+"\n"+stdout)
	case OutputGnuTLS:
		out.Cert = firstCN(gnutlsSubject, stdout)
		out.Error = joinMatches(gnutlsError, stdout+"\n"+stderr)
	case OutputJSON:
		var v struct {
			Status int    `json:"status"`
			Cert   string `json:"cert"`
			Error  string `json:"error"`
			// Alert and Certificate are sniproof tlsclient's.
			Alert       int `json:"alert"`
			Certificate *struct {
				CN string `json:"cn"`
			} `json:"certificate"`
		}
		line := lastJSONLine(stdout)
		if line == "" {
			out.Error = strings.TrimSpace(lastLines(stderr, 3))
			return out, nil
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			return out, fmt.Errorf("read client output: %w: %.200s", err, line)
		}
		out.Status, out.Cert, out.Error = v.Status, v.Cert, v.Error
		if v.Certificate != nil {
			out.Cert = v.Certificate.CN
		}
		if v.Alert != 0 {
			out.Error += fmt.Sprintf(" (alert %d)", v.Alert)
		}
	default:
		return out, fmt.Errorf("read client output: unknown format %q (known: %s)", format, strings.Join(OutputFormats, ", "))
	}
	return out, nil
}

func lastStatus(re *regexp.Regexp, s string) int {
	ms := re.FindAllStringSubmatch(s, -1)
	if len(ms) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(ms[len(ms)-1][1])
	return n
}

func lastCN(re *regexp.Regexp, s string) string {
	ms := re.FindAllStringSubmatch(s, -1)
	if len(ms) == 0 {
		return ""
	}
	return cn(ms[len(ms)-1][1])
}

func firstCN(re *regexp.Regexp, s string) string {
	m := re.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return cn(m[1])
}

// cn is the common name in a subject printed as "CN = a, O = b",
// "CN=a; O=b" or "CN=a,O=b".
func cn(subject string) string {
	m := commonName.FindStringSubmatch(subject)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

func joinMatches(re *regexp.Regexp, s string) string {
	var lines []string
	seen := map[string]bool{}
	for _, m := range re.FindAllString(s, -1) {
		m = strings.TrimSpace(m)
		if m != "" && !seen[m] {
			seen[m] = true
			lines = append(lines, m)
		}
	}
	return strings.Join(lines, " | ")
}

func lastJSONLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); strings.HasPrefix(l, "{") {
			return l
		}
	}
	return ""
}

// ClientVersion runs cmd in the client container and returns what re's
// first group captures of its output, e.g. "7.88.1".
func (c *ClientContainer) ClientVersion(ctx context.Context, cmd []string, re *regexp.Regexp) (string, error) {
	run, err := c.Run(ctx, cmd)
	if err != nil {
		return "", err
	}
	m := re.FindStringSubmatch(run.Stdout + "\n" + run.Stderr)
	if run.Exit != 0 || m == nil {
		return "", fmt.Errorf("%s: exit %d: %q", strings.Join(cmd, " "), run.Exit, lastLines(run.Stdout+run.Stderr, 5))
	}
	return m[1], nil
}

// ClientExpect is what a client case must observe.
type ClientExpect struct {
	Exit int
	// Status is the HTTP status, 0 for none.
	Status int
	// SNI is the name the server must see; "" asserts that none was sent.
	SNI string
	// Cert is the common name the client must print, "" for none.
	Cert string
	// Error lists phrases that must each be in the client's error text,
	// Output phrases that must each be in its standard output.
	Error  []string
	Output []string
}

// JudgeClient compares a client observation with an expectation and
// returns every difference as one sentence, e.g. `server saw SNI "" want
// "www.xx.test"`; none means the case passes.
func JudgeClient(want ClientExpect, obs ClientObservation) []string {
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }
	if obs.Exit != want.Exit {
		if obs.Error != "" {
			add("exit %d (%s) want %d", obs.Exit, obs.Error, want.Exit)
		} else {
			add("exit %d want %d", obs.Exit, want.Exit)
		}
	}
	if obs.Status != want.Status {
		add("HTTP status %d want %d", obs.Status, want.Status)
	}
	switch {
	case obs.SNI == nil:
		add("no ClientHello reached the server, want SNI %q", want.SNI)
	case *obs.SNI != want.SNI:
		add("server saw SNI %q want %q", *obs.SNI, want.SNI)
	}
	if obs.Cert != want.Cert {
		add("certificate %s want %s", certText(obs.Cert), certText(want.Cert))
	}
	for _, p := range want.Error {
		if !strings.Contains(obs.Error, p) {
			add("error text %q lacks %q", obs.Error, p)
		}
	}
	for _, p := range want.Output {
		if !strings.Contains(obs.Stdout, p) {
			add("standard output lacks %q", p)
		}
	}
	return diffs
}

func certText(cn string) string {
	if cn == "" {
		return "none"
	}
	return strconv.Quote(cn)
}
