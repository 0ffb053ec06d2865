package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/sniproof/sniproof/backend"
)

// backendConfigPath is where the backend container reads its configuration.
const backendConfigPath = "/etc/sniproof/backend.json"

// BackendReady is the line the backend prints once every listener is bound.
const BackendReady = "sniproof backend: ready"

// BackendContainer is the SNI-only backend running in a container.
type BackendContainer struct {
	*testcontainers.DockerContainer
	// Log holds the container's output; its JSON lines are backend events.
	Log *LogBook
	// Config is the configuration the backend runs with.
	Config *backend.Config
}

// RunBackend starts the sniproof binary image img as the backend with cfg.
// On error it returns the partly started container, if any, so that the
// caller can terminate it.
func RunBackend(ctx context.Context, img string, cfg *backend.Config, opts ...testcontainers.ContainerCustomizer) (*BackendContainer, error) {
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("run backend: encode config: %w", err)
	}
	book := NewLogBook()
	defaults := []testcontainers.ContainerCustomizer{
		testcontainers.WithCmd("backend", "--config", backendConfigPath),
		testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader: strings.NewReader(string(data)), ContainerFilePath: backendConfigPath, FileMode: 0o644,
		}),
		testcontainers.WithWaitStrategy(wait.ForLog(BackendReady).WithStartupTimeout(30 * time.Second)),
	}
	ctr, err := testcontainers.Run(ctx, img, append(defaults, opts...)...)
	var c *BackendContainer
	if ctr != nil {
		c = &BackendContainer{DockerContainer: ctr, Log: book, Config: cfg}
	}
	if err != nil {
		return c, fmt.Errorf("run backend: %w", err)
	}
	if err := followLogs(ctx, ctr, book); err != nil {
		return c, fmt.Errorf("run backend: %w", err)
	}
	return c, nil
}

// Events returns the backend events logged from line index from on.
func (b *BackendContainer) Events(from int) []backend.Event {
	var events []backend.Event
	for _, line := range b.Log.Lines(from) {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var ev backend.Event
		if err := json.Unmarshal([]byte(line), &ev); err == nil && ev.Seq > 0 {
			events = append(events, ev)
		}
	}
	return events
}

// SetCold makes the running backend cold or warm (backend.Server.SetCold),
// by signal, and waits, bounded by DefaultTimeouts.ContainerStart, until
// its log shows the change.
func (b *BackendContainer) SetCold(ctx context.Context, cold bool) error {
	sig, mode := backend.SignalWarmName, backend.ModeWarm
	if cold {
		sig, mode = backend.SignalColdName, backend.ModeCold
	}
	from := b.Log.Len()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("make the backend %s: docker client: %w", mode, err)
	}
	defer cli.Close()
	if _, err := cli.ContainerKill(ctx, b.GetContainerID(), client.ContainerKillOptions{Signal: sig}); err != nil {
		return fmt.Errorf("make the backend %s: %w", mode, err)
	}
	wctx, cancel := context.WithTimeout(ctx, DefaultTimeouts.ContainerStart)
	defer cancel()
	if _, err := b.Log.WaitFor(wctx, from, fmt.Sprintf(`"reason":%q`, mode)); err != nil {
		return fmt.Errorf("make the backend %s: %w", mode, err)
	}
	return nil
}
