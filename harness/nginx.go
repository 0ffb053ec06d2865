package harness

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/wait"
)

const (
	// NginxPort is the port every nginx case server listens on.
	NginxPort = "8080/tcp"
	// nginxConfigPath is where the rendered configuration goes; nginx is
	// started with -c so that any image with nginx on its PATH works.
	nginxConfigPath = "/etc/sniproof/nginx.conf"
	// NginxHealthPath answers 200 once nginx serves the configuration.
	NginxHealthPath = "/__sniproof/health"
)

// NginxContainer is nginx running a rendered configuration.
type NginxContainer struct {
	*testcontainers.DockerContainer
	// Log holds nginx's error log (stderr) and the harness's mark lines.
	Log *LogBook
}

// RunNginx starts image img running nginx with the configuration conf.
// On error it returns the partly started container, if any, so that the
// caller can terminate it; the error then quotes nginx's own output.
func RunNginx(ctx context.Context, img string, conf []byte, opts ...testcontainers.ContainerCustomizer) (*NginxContainer, error) {
	book := NewLogBook()
	defaults := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd("nginx", "-c", nginxConfigPath, "-g", "daemon off;"),
		testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader: strings.NewReader(string(conf)), ContainerFilePath: nginxConfigPath, FileMode: 0o644,
		}),
		testcontainers.WithExposedPorts(NginxPort),
		testcontainers.WithWaitStrategy(wait.ForHTTP(NginxHealthPath).WithPort(NginxPort).
			WithStartupTimeout(DefaultTimeouts.ContainerStart).WithPollInterval(50 * time.Millisecond)),
	}
	ctr, err := testcontainers.Run(ctx, img, append(defaults, opts...)...)
	var c *NginxContainer
	if ctr != nil {
		c = &NginxContainer{DockerContainer: ctr, Log: book}
	}
	if err != nil {
		return c, fmt.Errorf("run nginx: %w%s", err, c.output(ctx))
	}
	if err := followLogs(ctx, ctr, book); err != nil {
		return c, fmt.Errorf("run nginx: %w", err)
	}
	return c, nil
}

// output is the container's log for an error message, or "".
func (c *NginxContainer) output(ctx context.Context) string {
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
	return "\nnginx said:\n" + lastLines(string(data), 20)
}

var nginxVersion = regexp.MustCompile(`nginx/(\d+\.\d+\.\d+)`)

// Version asks the nginx binary for its version, e.g. "1.22.1".
func (c *NginxContainer) Version(ctx context.Context) (string, error) {
	code, out, err := c.Exec(ctx, []string{"nginx", "-v"}, tcexec.Multiplexed())
	if err != nil {
		return "", fmt.Errorf("nginx -v: %w", err)
	}
	data, _ := io.ReadAll(out)
	m := nginxVersion.FindSubmatch(data)
	if code != 0 || m == nil {
		return "", fmt.Errorf("nginx -v: exit %d: %q", code, data)
	}
	return string(m[1]), nil
}

// URL is the base URL on the host of a published port, e.g. NginxPort.
func (c *NginxContainer) URL(ctx context.Context, port string) (string, error) {
	ep, err := c.PortEndpoint(ctx, port, "http")
	if err != nil {
		return "", fmt.Errorf("nginx endpoint: %w", err)
	}
	return ep, nil
}

// TestConfig runs `nginx -t` on conf inside the running container and
// returns nginx's exit code and output, for configurations nginx must
// refuse to start with.
func (c *NginxContainer) TestConfig(ctx context.Context, conf []byte) (int, string, error) {
	const path = "/tmp/sniproof-test.conf"
	if err := c.CopyToContainer(ctx, conf, path, 0o644); err != nil {
		return 0, "", fmt.Errorf("copy test config: %w", err)
	}
	code, out, err := c.Exec(ctx, []string{"nginx", "-t", "-c", path}, tcexec.Multiplexed())
	if err != nil {
		return 0, "", fmt.Errorf("nginx -t: %w", err)
	}
	data, _ := io.ReadAll(out)
	return code, string(data), nil
}
