package harness

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	mnetwork "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/network"
)

// LabelSession marks every container and network of a run with its session id.
const LabelSession = "org.sniproof.session"

// LabelParent marks everything of a session started inside a run (each
// check of the check suite) with the run's session id, so that sweeping
// the run sweeps it too.
const LabelParent = "org.sniproof.parent"

// ryukRepository is testcontainers' reaper image, which cannot be pulled
// without a registry.
const ryukRepository = "testcontainers/ryuk"

// Session is one run's share of a Docker engine: a client, an id that labels
// everything the run creates, and two networks. Front is an ordinary bridge
// whose containers can publish ports (on 127.0.0.1 only); Internal has no
// egress and holds the backend. Proxies join both.
//
// The caller must call Close, which removes everything labelled with the id.
type Session struct {
	ID string
	// Parent is the session of the run this one was started in, or "".
	Parent   string
	Docker   *client.Client
	Images   *Images
	Front    *testcontainers.DockerNetwork
	Internal *testcontainers.DockerNetwork
}

// Connect opens a client to the Docker engine named by the environment
// (DOCKER_HOST, ...) and checks that the engine answers.
func Connect(ctx context.Context) (*client.Client, error) {
	cli, err := client.New(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, &InfraError{Op: "connect to Docker", Err: err}
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(pingCtx, client.PingOptions{}); err != nil {
		cli.Close()
		var cause error = err
		var opErr *net.OpError
		if errors.As(err, &opErr) {
			cause = opErr
		}
		return nil, &InfraError{Op: "connect to Docker", Err: fmt.Errorf("no Docker engine answers at %s (is it running? is DOCKER_HOST right?): %w", cli.DaemonHost(), cause)}
	}
	return cli, nil
}

// NewSession connects to Docker, disables testcontainers' reaper when its
// image is absent (the harness cleans up by label instead), removes the
// partial image tags that unfinished builds of earlier runs left (see
// NewImages), and creates the run's networks. The id is SNIPROOF_SESSION
// when set, else random.
func NewSession(ctx context.Context, progress io.Writer) (*Session, error) {
	id := os.Getenv("SNIPROOF_SESSION")
	if id == "" {
		id = randomID()
	}
	return newSession(ctx, progress, id, "")
}

// NewChildSession is NewSession for one of the sessions that run at the
// same time inside a run, such as the checks of the check suite in its
// parallel processes: its id is the run's (SNIPROOF_SESSION) with a random
// suffix, and the run's id is its parent (LabelParent), so that such
// sessions never sweep each other's containers, and sweeping the run
// sweeps them. Outside a run it is NewSession.
func NewChildSession(ctx context.Context, progress io.Writer) (*Session, error) {
	parent := os.Getenv("SNIPROOF_SESSION")
	if parent == "" {
		return newSession(ctx, progress, randomID(), "")
	}
	return newSession(ctx, progress, parent+"-"+randomID(), parent)
}

func newSession(ctx context.Context, progress io.Writer, id, parent string) (*Session, error) {
	cli, err := Connect(ctx)
	if err != nil {
		return nil, err
	}
	// testcontainers' own log is for debugging the harness.
	if os.Getenv("SNIPROOF_DEBUG") == "" {
		tclog.SetDefault(tclog.NewNoopLogger())
	}
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" && !hasRepository(ctx, cli, ryukRepository) {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	// Published ports listen on 127.0.0.1 only; testcontainers would
	// otherwise guess the docker bridge's gateway when it runs in a container.
	if os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" {
		os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}
	s := &Session{ID: id, Parent: parent, Docker: cli, Images: NewImages(ctx, cli, id, progress)}
	s.Front, err = network.New(ctx, network.WithLabels(s.Labels()))
	if err != nil {
		return s, &InfraError{Op: "create front network", Err: err}
	}
	s.Internal, err = network.New(ctx, network.WithLabels(s.Labels()), network.WithInternal())
	if err != nil {
		return s, &InfraError{Op: "create internal network", Err: err}
	}
	return s, nil
}

// Labels are the labels of everything the session creates.
func (s *Session) Labels() map[string]string {
	if s.Parent != "" {
		return map[string]string{LabelSession: s.ID, LabelParent: s.Parent}
	}
	return map[string]string{LabelSession: s.ID}
}

// Close removes every container and network of the session, and every
// partial image tag of its unfinished builds. It is safe to call on a
// partly created session.
func (s *Session) Close(ctx context.Context) error {
	if s == nil || s.Docker == nil {
		return nil
	}
	_, err := Sweep(ctx, s.Docker, s.ID)
	return errors.Join(err, s.Images.Close(ctx), s.Docker.Close())
}

// Swept counts what a sweep removed.
type Swept struct{ Containers, Networks, Volumes, PartialTags int }

// Sweep force-removes every container and then every network and volume
// labelled with the session id, or with it as their parent (LabelParent:
// the sessions started inside it), and the partial image tags of the
// session's unfinished builds (LabelBuild); an empty id sweeps every
// sniproof session and every partial image tag.
func Sweep(ctx context.Context, cli *client.Client, id string) (Swept, error) {
	labels := []string{LabelSession}
	if id != "" {
		labels = []string{LabelSession + "=" + id, LabelParent + "=" + id}
	}
	var swept Swept
	var errs []error
	for _, label := range labels {
		if err := sweepLabel(ctx, cli, label, &swept); err != nil {
			var infra *InfraError
			if errors.As(err, &infra) {
				return swept, err
			}
			errs = append(errs, err)
		}
	}
	n, err := SweepPartials(ctx, cli, time.Time{}, id)
	swept.PartialTags = n
	if err != nil {
		errs = append(errs, err)
	}
	return swept, errors.Join(errs...)
}

// sweepLabel force-removes every container, then every network and volume,
// with the label filter label, counting them in swept; the error joins
// what could not be removed, or is the *InfraError of a listing.
func sweepLabel(ctx context.Context, cli *client.Client, label string, swept *Swept) error {
	var errs []error
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", label)})
	if err != nil {
		return &InfraError{Op: "list containers", Err: err}
	}
	for _, c := range list.Items {
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove container %.12s: %w", c.ID, err))
			continue
		}
		swept.Containers++
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("label", label)})
	if err != nil {
		return &InfraError{Op: "list networks", Err: err}
	}
	for _, n := range nets.Items {
		if _, err := cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
			continue
		}
		swept.Networks++
	}
	vols, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: make(client.Filters).Add("label", label)})
	if err != nil {
		return &InfraError{Op: "list volumes", Err: err}
	}
	for _, v := range vols.Items {
		if _, err := cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
			errs = append(errs, fmt.Errorf("remove volume %.12s: %w", v.Name, err))
			continue
		}
		swept.Volumes++
	}
	return errors.Join(errs...)
}

func isNotFound(err error) bool {
	return cerrdefs.IsNotFound(err)
}

func hasRepository(ctx context.Context, cli *client.Client, repo string) bool {
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("reference", repo)})
	return err == nil && len(list.Items) > 0
}

func randomID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// commonOptions are what every container of the session gets, applied after
// the caller's options: the session label, and every published port bound to
// 127.0.0.1 so that nothing of a run is reachable from outside the machine.
func (s *Session) commonOptions() testcontainers.CustomizeRequestOption {
	return func(req *testcontainers.GenericContainerRequest) error {
		if req.Labels == nil {
			req.Labels = map[string]string{}
		}
		req.Labels[LabelSession] = s.ID
		ports := append([]string(nil), req.ExposedPorts...)
		return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = mnetwork.PortMap{}
			for _, p := range ports {
				port, err := mnetwork.ParsePort(p)
				if err != nil {
					continue
				}
				hc.PortBindings[port] = []mnetwork.PortBinding{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "0"}}
			}
		})(req)
	}
}

// Violations inspects every container of the session and returns each way
// one breaks the run's confinement: a privileged container, a port published
// on an address other than 127.0.0.1, or a container with a network other
// than the session's two (the backend: other than the internal one), or an
// internal network that has egress.
func (s *Session) Violations(ctx context.Context, backendID string) ([]string, error) {
	var out []string
	nets, err := s.Docker.NetworkInspect(ctx, s.Internal.ID, client.NetworkInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("inspect the internal network: %w", err)
	}
	if !nets.Network.Internal {
		out = append(out, fmt.Sprintf("network %s is not internal: the backend has egress", s.Internal.Name))
	}
	list, err := s.Docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label", LabelSession+"="+s.ID)})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, c := range list.Items {
		info, err := s.Docker.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			return nil, fmt.Errorf("inspect container %.12s: %w", c.ID, err)
		}
		ci := info.Container
		name := fmt.Sprintf("container %.12s (%s)", c.ID, ci.Config.Image)
		if ci.HostConfig.Privileged {
			out = append(out, name+" is privileged")
		}
		for port, bindings := range ci.HostConfig.PortBindings {
			for _, b := range bindings {
				if b.HostIP.String() != "127.0.0.1" {
					out = append(out, fmt.Sprintf("%s publishes %s on %q, not 127.0.0.1", name, port, b.HostIP))
				}
			}
		}
		for netName := range ci.NetworkSettings.Networks {
			allowed := netName == s.Internal.Name || (netName == s.Front.Name && c.ID != backendID)
			if !allowed {
				out = append(out, fmt.Sprintf("%s is on network %s", name, netName))
			}
		}
	}
	return out, nil
}
