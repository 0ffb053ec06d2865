package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// ErrStopped means a container stopped while the harness waited for it.
var ErrStopped = errors.New("the container stopped")

// LogBook collects a container's output, line by line, as it arrives. It is
// safe for concurrent use.
type LogBook struct {
	mu      sync.Mutex
	lines   []string
	partial map[string][]byte // per stream, an unfinished line
	changed chan struct{}     // closed and replaced on every new line
	ended   bool              // the followed container's output ended
}

// NewLogBook returns an empty LogBook.
func NewLogBook() *LogBook {
	return &LogBook{partial: map[string][]byte{}, changed: make(chan struct{})}
}

// Follow streams the container's stdout and stderr, from their beginning,
// into b until the container stops or ctx ends. It returns once the stream
// is open; the caller learns of a broken stream through missing lines.
func (b *LogBook) Follow(ctx context.Context, cli *client.Client, containerID string) error {
	rc, err := cli.ContainerLogs(ctx, containerID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		return fmt.Errorf("follow logs of %.12s: %w", containerID, err)
	}
	go func() {
		defer rc.Close()
		_, _ = stdcopy.StdCopy(streamWriter{b, "stdout"}, streamWriter{b, "stderr"}, rc)
		b.end()
	}()
	return nil
}

// end records that no more output will come: the container stopped.
func (b *LogBook) end() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ended = true
	close(b.changed)
	b.changed = make(chan struct{})
}

// Ended reports whether the followed container's output has ended, which
// means the container stopped.
func (b *LogBook) Ended() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ended
}

type streamWriter struct {
	b      *LogBook
	stream string
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.b.write(w.stream, p)
	return len(p), nil
}

// write takes one chunk of output of a stream.
func (b *LogBook) write(stream string, p []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	buf := append(b.partial[stream], p...)
	added := false
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		b.lines = append(b.lines, strings.TrimRight(string(buf[:i]), "\r"))
		buf = buf[i+1:]
		added = true
	}
	b.partial[stream] = append([]byte(nil), buf...)
	if added {
		close(b.changed)
		b.changed = make(chan struct{})
	}
}

// Len is the number of complete lines so far.
func (b *LogBook) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.lines)
}

// Lines returns the lines from index from on.
func (b *LogBook) Lines(from int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	from = max(from, 0)
	if from >= len(b.lines) {
		return nil
	}
	return append([]string(nil), b.lines[from:]...)
}

// WaitFor blocks until a line at index from or later contains substr, and
// returns its index. It fails when ctx ends first.
func (b *LogBook) WaitFor(ctx context.Context, from int, substr string) (int, error) {
	for {
		b.mu.Lock()
		for i := from; i < len(b.lines); i++ {
			if strings.Contains(b.lines[i], substr) {
				b.mu.Unlock()
				return i, nil
			}
		}
		if len(b.lines) > from {
			from = len(b.lines)
		}
		if b.ended {
			b.mu.Unlock()
			return -1, fmt.Errorf("wait for log line %q: %w", substr, ErrStopped)
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return -1, fmt.Errorf("wait for log line %q: %w", substr, ctx.Err())
		}
	}
}

// followLogs makes book follow the container's output until it stops.
func followLogs(ctx context.Context, ctr *testcontainers.DockerContainer, book *LogBook) error {
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("docker client: %w", err)
	}
	return book.Follow(context.WithoutCancel(ctx), cli.Client, ctr.GetContainerID())
}
