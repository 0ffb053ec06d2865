package harness

import (
	"net/netip"
	"testing"

	"github.com/moby/moby/api/types/container"
	mnetwork "github.com/moby/moby/api/types/network"
	"github.com/testcontainers/testcontainers-go"
)

// TestCommonOptions pins what every container of a session gets: the
// session label (next to the caller's labels) and every exposed port
// published on 127.0.0.1 only, on a random host port.
func TestCommonOptions(t *testing.T) {
	s := &Session{ID: "abc123"}
	if got := s.Labels(); len(got) != 1 || got[LabelSession] != "abc123" {
		t.Errorf("Labels = %v, want only %s=abc123", got, LabelSession)
	}
	req := &testcontainers.GenericContainerRequest{ContainerRequest: testcontainers.ContainerRequest{
		ExposedPorts: []string{"8080/tcp", "8081/tcp"},
		Labels:       map[string]string{"other": "kept"},
	}}
	if err := s.commonOptions()(req); err != nil {
		t.Fatal(err)
	}
	if req.Labels[LabelSession] != "abc123" || req.Labels["other"] != "kept" {
		t.Errorf("Labels = %v, want the session label and the caller's", req.Labels)
	}
	if req.HostConfigModifier == nil {
		t.Fatal("no HostConfigModifier")
	}
	hc := &container.HostConfig{}
	req.HostConfigModifier(hc)
	if len(hc.PortBindings) != 2 {
		t.Fatalf("PortBindings = %v, want 2 ports", hc.PortBindings)
	}
	local := netip.MustParseAddr("127.0.0.1")
	for _, p := range []string{"8080/tcp", "8081/tcp"} {
		b := hc.PortBindings[mnetwork.MustParsePort(p)]
		if len(b) != 1 || b[0].HostIP != local || b[0].HostPort != "0" {
			t.Errorf("binding of %s = %+v, want 127.0.0.1:0", p, b)
		}
	}

	// Without labels or ports: a label map is made, nothing is published.
	bare := &testcontainers.GenericContainerRequest{}
	if err := s.commonOptions()(bare); err != nil {
		t.Fatal(err)
	}
	hc = &container.HostConfig{}
	bare.HostConfigModifier(hc)
	if bare.Labels[LabelSession] != "abc123" || len(hc.PortBindings) != 0 {
		t.Errorf("bare request: labels %v, bindings %v", bare.Labels, hc.PortBindings)
	}
}

// TestSessionCloseNil pins that closing a session that never connected is a
// no-op.
func TestSessionCloseNil(t *testing.T) {
	var s *Session
	if err := s.Close(t.Context()); err != nil {
		t.Errorf("nil Session.Close = %v", err)
	}
	if err := (&Session{ID: "x"}).Close(t.Context()); err != nil {
		t.Errorf("Session without Docker: Close = %v", err)
	}
	var st *Stack
	if err := st.Close(t.Context()); err != nil {
		t.Errorf("nil Stack.Close = %v", err)
	}
}
