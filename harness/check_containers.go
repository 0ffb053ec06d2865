package harness

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	mnetwork "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tcexec "github.com/testcontainers/testcontainers-go/exec"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/sniproof/sniproof/backend"
)

// This file holds the containers of sniproof check, which runs an
// operator's own nginx configuration rather than a rendered one: a backend
// with listeners and addresses chosen from that configuration, and an nginx
// container into which the configuration is copied, tested and started.

// NewSubnetNetwork creates an internal network of the session with the
// given subnet and gateway, so that a container can take a chosen address
// in it (sniproof check impersonates an upstream IP address that way).
func (s *Session) NewSubnetNetwork(ctx context.Context, subnet netip.Prefix, gateway netip.Addr) (*testcontainers.DockerNetwork, error) {
	nw, err := network.New(ctx, network.WithLabels(s.Labels()), network.WithInternal(),
		network.WithIPAM(&mnetwork.IPAM{Driver: "default", Config: []mnetwork.IPAMConfig{{Subnet: subnet, Gateway: gateway}}}))
	if err != nil {
		return nil, fmt.Errorf("create network %s: %w", subnet, err)
	}
	return nw, nil
}

// SubnetHolder is a network on the engine, not of this session, whose
// subnet overlaps one a check needs.
type SubnetHolder struct {
	Name   string
	Subnet netip.Prefix
	// Session is the sniproof session the network belongs to (another
	// check on the same engine); "" for a network that is not sniproof's.
	Session string
}

func (h SubnetHolder) String() string {
	if h.Session == "" {
		return fmt.Sprintf("the engine's network %s (%s)", h.Name, h.Subnet)
	}
	return fmt.Sprintf("network %s (%s) of sniproof session %s", h.Name, h.Subnet, h.Session)
}

// SubnetHolders lists the engine's networks, other than this session's,
// whose subnets overlap any of prefixes, so that a check can wait for
// another check's networks to go rather than fail to create its own.
func (s *Session) SubnetHolders(ctx context.Context, prefixes []netip.Prefix) ([]SubnetHolder, error) {
	nets, err := s.Docker.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return nil, &InfraError{Op: "list networks", Err: err}
	}
	var out []SubnetHolder
	for _, n := range nets.Items {
		if n.Labels[LabelSession] == s.ID {
			continue
		}
		for _, c := range n.IPAM.Config {
			if !c.Subnet.IsValid() || !slices.ContainsFunc(prefixes, c.Subnet.Overlaps) {
				continue
			}
			out = append(out, SubnetHolder{Name: n.Name, Subnet: c.Subnet, Session: n.Labels[LabelSession]})
		}
	}
	return out, nil
}

// StaticIP is an address a container takes on a network of the session,
// reachable there under Aliases too.
type StaticIP struct {
	Network *testcontainers.DockerNetwork
	Addr    netip.Addr
	Aliases []string
}

// RunCheckBackend starts the backend with cfg on the session's internal
// network, reachable there under aliases, and at every static address. On
// error it returns the partly started container, if any; Session.Close
// removes it.
func (s *Session) RunCheckBackend(ctx context.Context, cfg *backend.Config, aliases []string, statics []StaticIP) (*BackendContainer, error) {
	img, err := s.Images.Binary(ctx)
	if err != nil {
		return nil, err
	}
	connect := func(ctx context.Context, c testcontainers.Container) error {
		for _, st := range statics {
			_, err := s.Docker.NetworkConnect(ctx, st.Network.ID, client.NetworkConnectOptions{
				Container:      c.GetContainerID(),
				EndpointConfig: &mnetwork.EndpointSettings{IPAMConfig: &mnetwork.EndpointIPAMConfig{IPv4Address: st.Addr}, Aliases: st.Aliases},
			})
			if err != nil {
				return fmt.Errorf("take address %s: %w", st.Addr, err)
			}
		}
		return nil
	}
	b, err := RunBackend(ctx, img, cfg, network.WithNetwork(aliases, s.Internal),
		testcontainers.WithAdditionalLifecycleHooks(testcontainers.ContainerLifecycleHooks{
			PostCreates: []testcontainers.ContainerHook{connect},
		}),
		s.commonOptions())
	if err != nil {
		return b, &InfraError{Op: "start backend", Err: err}
	}
	return b, nil
}

// IdleNginxConf keeps an nginx container up without serving anything, so
// that a configuration can be copied in, tested with nginx -t and started
// next to it: it binds no port and writes its pid outside /run.
const IdleNginxConf = `# sniproof check: an idle nginx that keeps the container up; it serves nothing.
pid /tmp/sniproof-idle.pid;
error_log stderr notice;
daemon off;
master_process off;
events {}
`

// idleNginxPath is where the idle configuration goes.
const idleNginxPath = "/tmp/sniproof-idle.conf"

// ProxyHost is a container of a proxy's image running an idle process,
// into which sniproof check copies an operator's configuration, tests it
// and starts the proxy. It is on internal networks only, so that the
// configuration reaches nothing outside the run whatever it names (health
// checks, resolvers, addresses check does not impersonate); a Door
// publishes its ports. Its Log holds the container's output: the idle
// process's, and whatever the started proxy writes to the container's
// stdout and stderr.
type ProxyHost struct {
	*testcontainers.DockerContainer
	Log *LogBook
}

// ProxyAlias is a ProxyHost's name on the session's internal network,
// where its Door relays to.
const ProxyAlias = "sniproof-proxy"

// RunNginxHost starts image img as a ProxyHost running an idle nginx
// (which proves that the image has nginx), on the session's internal
// network and extra networks; opts come last, so that theirs win. On
// error it returns the partly started container, if any; Session.Close
// removes it.
func (s *Session) RunNginxHost(ctx context.Context, img string, extra []*testcontainers.DockerNetwork, opts ...testcontainers.ContainerCustomizer) (*ProxyHost, error) {
	return s.runProxyHost(ctx, img, extra, opts,
		testcontainers.WithEntrypoint("nginx"),
		testcontainers.WithCmd("-c", idleNginxPath),
		testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader: strings.NewReader(IdleNginxConf), ContainerFilePath: idleNginxPath, FileMode: 0o644,
		}),
		testcontainers.WithWaitStrategy(wait.ForLog(" nginx/").WithStartupTimeout(DefaultTimeouts.ContainerStart)))
}

// RunIdleHost starts image img as a ProxyHost whose idle process is sleep
// (for a proxy such as HAProxy that has no idle mode), on networks and
// with options as RunNginxHost.
func (s *Session) RunIdleHost(ctx context.Context, img string, extra []*testcontainers.DockerNetwork, opts ...testcontainers.ContainerCustomizer) (*ProxyHost, error) {
	return s.RunHostWith(ctx, img, []string{"sleep", "infinity"}, extra, opts...)
}

// RunHostWith starts image img as a ProxyHost whose first process is
// idle, e.g. a proxy that waits for its configuration to be copied in (an
// image without a shell has no sleep), on networks and with options as
// RunNginxHost.
func (s *Session) RunHostWith(ctx context.Context, img string, idle []string, extra []*testcontainers.DockerNetwork, opts ...testcontainers.ContainerCustomizer) (*ProxyHost, error) {
	return s.runProxyHost(ctx, img, extra, opts,
		testcontainers.WithEntrypoint(idle[0]),
		testcontainers.WithCmd(idle[1:]...))
}

func (s *Session) runProxyHost(ctx context.Context, img string, extra []*testcontainers.DockerNetwork, caller []testcontainers.ContainerCustomizer, idle ...testcontainers.ContainerCustomizer) (*ProxyHost, error) {
	opts := append(idle, network.WithNetwork([]string{ProxyAlias}, s.Internal))
	for _, nw := range extra {
		opts = append(opts, network.WithNetwork(nil, nw))
	}
	opts = append(append(opts, caller...), s.commonOptions())
	book := NewLogBook()
	ctr, err := testcontainers.Run(ctx, img, opts...)
	var h *ProxyHost
	if ctr != nil {
		h = &ProxyHost{DockerContainer: ctr, Log: book}
	}
	if err != nil {
		return h, fmt.Errorf("run %s: %w", img, err)
	}
	if err := followLogs(ctx, ctr, book); err != nil {
		return h, fmt.Errorf("run %s: %w", img, err)
	}
	return h, nil
}

// WithLoopbackIPv6 gives a ProxyHost ::1: Docker disables IPv6 on the
// loopback interface of a container on IPv4 networks, so an upstream at
// [::1] could not be impersonated in its network namespace.
func WithLoopbackIPv6() testcontainers.CustomizeRequestOption {
	return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		if hc.Sysctls == nil {
			hc.Sysctls = map[string]string{}
		}
		hc.Sysctls["net.ipv6.conf.lo.disable_ipv6"] = "0"
	})
}

// SharedDir is a folder that a ProxyHost shares with the backend in its
// network namespace: a volume of the session, mounted at Dir in both, in
// which the backend's unix sockets appear to the proxy.
type SharedDir struct{ Volume, Dir string }

// NewSharedDir creates the volume of a SharedDir at dir, labelled with the
// session; Session.Close removes it.
func (s *Session) NewSharedDir(ctx context.Context, dir string) (SharedDir, error) {
	v, err := s.Docker.VolumeCreate(ctx, client.VolumeCreateOptions{Labels: s.Labels()})
	if err != nil {
		return SharedDir{}, &InfraError{Op: "create a volume for " + dir, Err: err}
	}
	return SharedDir{Volume: v.Volume.Name, Dir: dir}, nil
}

// WithSharedDirs mounts each SharedDir's volume at its folder.
func WithSharedDirs(dirs []SharedDir) testcontainers.CustomizeRequestOption {
	return testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
		for _, d := range dirs {
			hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeVolume, Source: d.Volume, Target: d.Dir})
		}
	})
}

// RunLoopbackBackend starts the backend with cfg inside host's network
// namespace, so that its listeners take the loopback addresses the
// proxy's configuration names (proxy_pass https://127.0.0.1:4096, a
// local TLS sidecar), with host's shared folders mounted, so that its
// unix sockets are where the configuration names them: the proxy reaches
// them exactly as in production. On error it returns the partly started
// container, if any; Session.Close removes it.
func (s *Session) RunLoopbackBackend(ctx context.Context, cfg *backend.Config, host *ProxyHost, dirs []SharedDir) (*BackendContainer, error) {
	img, err := s.Images.Binary(ctx)
	if err != nil {
		return nil, err
	}
	b, err := RunBackend(ctx, img, cfg,
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.NetworkMode = container.NetworkMode("container:" + host.GetContainerID())
		}),
		WithSharedDirs(dirs),
		s.commonOptions())
	if err != nil {
		return b, &InfraError{Op: "start the backend in the proxy's network namespace", Err: err}
	}
	return b, nil
}

// Door publishes a ProxyHost's ports on 127.0.0.1 of this machine: the
// sniproof binary relaying each port (sniproof forward) from the
// session's front network to the same port of the ProxyHost on its
// internal network.
type Door struct {
	*testcontainers.DockerContainer
}

// DoorReady is the line sniproof forward prints once it listens.
const DoorReady = "sniproof forward: ready"

// RunDoor starts the Door of the session's ProxyHost for ports. On error
// it returns the partly started container, if any; Session.Close removes
// it.
func (s *Session) RunDoor(ctx context.Context, ports []int) (*Door, error) {
	img, err := s.Images.Binary(ctx)
	if err != nil {
		return nil, err
	}
	var list, exposed []string
	for _, p := range ports {
		list = append(list, strconv.Itoa(p))
		exposed = append(exposed, strconv.Itoa(p)+"/tcp")
	}
	ctr, err := testcontainers.Run(ctx, img,
		testcontainers.WithCmd("forward", "--to", ProxyAlias, "--ports", strings.Join(list, ",")),
		testcontainers.WithExposedPorts(exposed...),
		testcontainers.WithWaitStrategy(wait.ForLog(DoorReady).WithStartupTimeout(DefaultTimeouts.ContainerStart)),
		network.WithNetwork(nil, s.Front),
		network.WithNetwork(nil, s.Internal),
		s.commonOptions())
	var d *Door
	if ctr != nil {
		d = &Door{DockerContainer: ctr}
	}
	if err != nil {
		return d, &InfraError{Op: "start the door to the proxy", Err: err}
	}
	return d, nil
}

// CopyFiles copies files, by absolute container path, into the container
// in one archive; missing folders are created.
func (h *ProxyHost) CopyFiles(ctx context.Context, files map[string][]byte) error {
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		rel := strings.TrimPrefix(path.Clean(name), "/")
		if err := w.WriteHeader(&tar.Header{Name: rel, Mode: 0o644, Size: int64(len(files[name])), Typeflag: tar.TypeReg}); err != nil {
			return fmt.Errorf("copy %s: %w", name, err)
		}
		if _, err := w.Write(files[name]); err != nil {
			return fmt.Errorf("copy %s: %w", name, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("copy files: %w", err)
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("copy files: docker client: %w", err)
	}
	defer cli.Close()
	if _, err := cli.CopyToContainer(ctx, h.GetContainerID(), client.CopyToContainerOptions{DestinationPath: "/", Content: &b}); err != nil {
		return fmt.Errorf("copy files: %w", err)
	}
	return nil
}

// Run runs cmd in the container and returns its exit code and output,
// stdout and stderr merged.
func (h *ProxyHost) Run(ctx context.Context, cmd ...string) (int, string, error) {
	code, out, err := h.Exec(ctx, cmd, tcexec.Multiplexed())
	if err != nil {
		return 0, "", fmt.Errorf("%s: %w", strings.Join(cmd, " "), err)
	}
	data, _ := io.ReadAll(out)
	return code, string(data), nil
}

// ClassifyEvents sums up backend events as a case's Observation does: the
// outcome (served, refused, failed or untouched), the reason of a refusal
// or failure, and the first SNI seen (nil when no ClientHello arrived).
func ClassifyEvents(events []backend.Event) (outcome, reason string, sni *string) {
	return classify(events)
}

// ContainerIP is the container's address on the named network.
func ContainerIP(ctx context.Context, c *testcontainers.DockerContainer, networkName string) (string, error) {
	return containerIP(ctx, c, networkName)
}
