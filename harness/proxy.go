package harness

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	// CasePort is the port on which every proxy serves its HTTP cases.
	CasePort = "8080/tcp"
	// HealthPath answers 200 once a proxy serves its configuration.
	HealthPath = "/__sniproof/health"
)

// ProxyContainer is a proxy under test running a rendered configuration.
type ProxyContainer struct {
	*testcontainers.DockerContainer
	// Log holds the proxy's output: its error log and the mark lines.
	Log *LogBook
}

// RunProxy starts image img running the proxy kind k with the configuration
// conf. On error it returns the partly started container, if any, so that
// the caller can terminate it; the error then quotes the proxy's output.
func RunProxy(ctx context.Context, k Kind, img string, conf []byte, opts ...testcontainers.ContainerCustomizer) (*ProxyContainer, error) {
	book := NewLogBook()
	defaults := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd(k.Cmd...),
		testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader: strings.NewReader(string(conf)), ContainerFilePath: k.ConfigPath, FileMode: 0o644,
		}),
		testcontainers.WithExposedPorts(append([]string{CasePort}, k.Ports...)...),
		testcontainers.WithWaitStrategy(wait.ForHTTP(HealthPath).WithPort(CasePort).
			WithStartupTimeout(DefaultTimeouts.ContainerStart).WithPollInterval(50 * time.Millisecond)),
	}
	ctr, err := testcontainers.Run(ctx, img, append(defaults, opts...)...)
	var c *ProxyContainer
	if ctr != nil {
		c = &ProxyContainer{DockerContainer: ctr, Log: book}
	}
	if err != nil {
		return c, fmt.Errorf("run %s: %w%s", k.Name, err, c.output(ctx, k.Name))
	}
	if err := followLogs(ctx, ctr, book); err != nil {
		return c, fmt.Errorf("run %s: %w", k.Name, err)
	}
	return c, nil
}

// output is the container's log for an error message, or "".
func (c *ProxyContainer) output(ctx context.Context, name string) string {
	if c == nil {
		return ""
	}
	rc, err := c.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	data, _ := io.ReadAll(io.LimitReader(rc, 16<<10))
	if len(data) == 0 {
		return ""
	}
	return "\n" + name + " said:\n" + lastLines(string(data), 20)
}

// Version runs the kind's version command and returns what its pattern
// captures, e.g. "1.22.1".
func (c *ProxyContainer) Version(ctx context.Context, k Kind) (string, error) {
	code, out, err := c.Exec(ctx, k.VersionCmd, tcexec.Multiplexed())
	if err != nil {
		return "", fmt.Errorf("%s: %w", strings.Join(k.VersionCmd, " "), err)
	}
	data, _ := io.ReadAll(out)
	m := k.VersionRE.FindSubmatch(data)
	if code != 0 || m == nil {
		return "", fmt.Errorf("%s: exit %d: %q", strings.Join(k.VersionCmd, " "), code, data)
	}
	return string(m[1]), nil
}

// URL is the base URL on the host of a published port, e.g. CasePort.
func (c *ProxyContainer) URL(ctx context.Context, port string) (string, error) {
	ep, err := c.PortEndpoint(ctx, port, "http")
	if err != nil {
		return "", fmt.Errorf("endpoint of %s: %w", port, err)
	}
	return ep, nil
}

// TestConfig runs the kind's configuration test on conf inside the running
// container and returns the exit code and output, for configurations the
// proxy must refuse to start with.
func (c *ProxyContainer) TestConfig(ctx context.Context, k Kind, conf []byte) (int, string, error) {
	if k.TestCmd == nil {
		return 0, "", fmt.Errorf("%s has no configuration test", k.Name)
	}
	const path = "/tmp/sniproof-test.conf"
	if err := c.CopyToContainer(ctx, conf, path, 0o644); err != nil {
		return 0, "", fmt.Errorf("copy test config: %w", err)
	}
	cmd := k.TestCmd(path)
	code, out, err := c.Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", strings.Join(cmd, " "), err)
	}
	data, _ := io.ReadAll(out)
	return code, string(data), nil
}
