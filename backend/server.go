// Package backend is sniproof's SNI-only HTTPS server. Like many real
// upstreams, each TLS listener refuses a ClientHello without SNI, or with a
// name it does not serve, in a configurable way (a chosen fatal alert, a bare
// close or a hang), and answers every accepted request with JSON describing
// what it saw. Every handshake, refusal, failure and request is recorded as
// an Event, kept in memory for the control API and written as a JSON line.
//
// crypto/tls cannot choose the alert it refuses with, so the backend reads
// and parses the ClientHello itself before deciding, and hands accepted
// connections to crypto/tls with the bytes already read replayed.
package backend

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// HangTimeout is how long a hanging listener holds a connection before
// closing it. New reads it, so change it before calling New.
var HangTimeout = 2 * time.Minute

const (
	// helloTimeout bounds reading the ClientHello and an HTTP request header.
	helloTimeout = 10 * time.Second
	// handshakeTimeout bounds the TLS handshake after the ClientHello.
	handshakeTimeout = 10 * time.Second
	// alertTimeout bounds writing a refusal alert.
	alertTimeout = 5 * time.Second
)

// Server runs the listeners of a Config and its control API.
type Server struct {
	listeners   []*listener
	byName      map[string]*listener
	control     *http.Server
	controlAddr string
	events      *eventLog
	hangTimeout time.Duration
	lastConn    atomic.Uint64
	cold        atomic.Bool   // see SetCold
	done        chan struct{} // closed by Close
	wg          sync.WaitGroup

	mu        sync.Mutex
	started   bool
	closed    bool
	controlLn net.Listener
	conns     map[*trackedConn]struct{}
	// dns are the resolvers to impersonate; closers their sockets.
	dns     []DNSServer
	closers []io.Closer
}

// listener is one configured port.
type listener struct {
	cfg   Listener
	names map[string]bool // lower case
	tls   *tls.Config     // nil for a plain listener
	http  *http.Server
	ln    net.Listener // set by Start
	sock  *socket      // ln's socket for accept, set by Start
	queue *connQueue   // connections ready for http, set by Start
	// acceptMu is held while a connection is taken from the kernel and
	// counted pending, and while a mark drains the queue (see accept).
	acceptMu sync.Mutex
	// pending counts, by the peer's address without its port, the TLS
	// connections whose ClientHello or handshake has no final event yet.
	pendingMu sync.Mutex
	pending   map[string]int
}

// addPending adds n to the connections of the peer at remote (host:port)
// that have no final event yet.
func (l *listener) addPending(remote string, n int) {
	host := peerHost(remote)
	l.pendingMu.Lock()
	defer l.pendingMu.Unlock()
	if l.pending == nil {
		l.pending = map[string]int{}
	}
	if l.pending[host] += n; l.pending[host] <= 0 {
		delete(l.pending, host)
	}
}

// peerHost is an address without its port.
func peerHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// serves reports whether l accepts a ClientHello with this server name.
func (l *listener) serves(name string) bool {
	return l.cfg.Lenient || l.names[strings.ToLower(name)]
}

// New makes a Server for cfg, which it validates. logw receives one JSON
// line per event; nil discards them.
func New(cfg *Config, logw io.Writer) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("validate config: %w", err)
	}
	s := &Server{
		byName:      make(map[string]*listener, len(cfg.Listeners)),
		controlAddr: cfg.Control,
		events:      newEventLog(logw, cfg.KeepEvents),
		hangTimeout: HangTimeout,
		done:        make(chan struct{}),
		conns:       make(map[*trackedConn]struct{}),
		dns:         cfg.DNS,
	}
	s.cold.Store(cfg.Cold)
	for _, lc := range cfg.Listeners {
		l := &listener{cfg: lc, names: make(map[string]bool, len(lc.Names))}
		for _, n := range lc.Names {
			l.names[strings.ToLower(n)] = true
		}
		if !lc.Plain {
			var err error
			if l.tls, err = lc.tlsConfig(); err != nil {
				return nil, fmt.Errorf("listener %q: %w", lc.Name, err)
			}
		}
		// TLSConfig stays nil: connections arrive as *tls.Conn with the
		// handshake done, and Serve then configures HTTP/2 for ALPN "h2".
		l.http = &http.Server{
			Handler:           s.requestHandler(l),
			ConnContext:       connContext,
			ReadHeaderTimeout: helloTimeout,
		}
		s.listeners = append(s.listeners, l)
		s.byName[lc.Name] = l
	}
	s.control = &http.Server{Handler: s.controlHandler(), ReadHeaderTimeout: helloTimeout}
	return s, nil
}

// Start binds every listener and the control address, then serves them in
// the background. If any bind fails, Start releases the others and returns
// an error naming the listener.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("start server: closed")
	}
	if s.started {
		return errors.New("start server: already started")
	}
	var bound []net.Listener
	var opened []io.Closer
	release := func() {
		for _, ln := range bound {
			_ = ln.Close()
		}
		for _, c := range opened {
			_ = c.Close()
		}
	}
	var socks []*socket
	for _, l := range s.listeners {
		ln, err := listen(l.cfg.Addr)
		if err != nil {
			release()
			return fmt.Errorf("bind listener %q: %w", l.cfg.Name, err)
		}
		bound = append(bound, ln)
		sock, err := openSocket(ln)
		if err != nil {
			release()
			return fmt.Errorf("bind listener %q: %w", l.cfg.Name, err)
		}
		opened = append(opened, sock)
		socks = append(socks, sock)
	}
	type dnsBound struct {
		pc net.PacketConn
		ln net.Listener
	}
	var dns []dnsBound
	for _, d := range s.dns {
		pc, err := net.ListenPacket("udp", d.Addr)
		if err != nil {
			release()
			return fmt.Errorf("bind resolver %s: %w", d.Addr, err)
		}
		opened = append(opened, pc)
		ln, err := net.Listen("tcp", d.Addr)
		if err != nil {
			release()
			return fmt.Errorf("bind resolver %s: %w", d.Addr, err)
		}
		opened = append(opened, ln)
		dns = append(dns, dnsBound{pc, ln})
	}
	controlLn, err := net.Listen("tcp", s.controlAddr)
	if err != nil {
		release()
		return fmt.Errorf("bind control: %w", err)
	}
	s.started = true
	s.controlLn = controlLn
	for i, d := range dns {
		s.closers = append(s.closers, d.pc, d.ln)
		s.serveDNS(s.dns[i], d.pc, d.ln)
	}
	for i, l := range s.listeners {
		l.ln, l.sock = bound[i], socks[i]
		s.closers = append(s.closers, l.sock)
		l.queue = newConnQueue(l.ln.Addr())
		s.background(func() { s.acceptLoop(l) })
		s.background(func() { _ = l.http.Serve(l.queue) })
	}
	s.background(func() { _ = s.control.Serve(controlLn) })
	return nil
}

// listen binds a listener's address: host:port over TCP, or unix:PATH, a
// unix socket anyone may connect to (the proxy's workers run as another
// user), replacing a stale socket file.
func listen(addr string) (net.Listener, error) {
	path, ok := strings.CutPrefix(addr, "unix:")
	if !ok {
		return net.Listen("tcp", addr)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if st, err := os.Lstat(path); err == nil && st.Mode()&os.ModeSocket != 0 {
		_ = os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(path, 0o666); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

// SetCold makes the server cold or warm. Cold, it closes every
// connection after its response (HTTP/1.1 Connection: close, an HTTP/2
// GOAWAY) and issues no TLS session ticket, so that a proxy's every
// request opens a new connection with a full handshake: what a request
// does then is what it does on its own, whatever came before it. Warm, it
// keeps connections open and sessions resumable, as real upstreams do.
// The change is logged as an event of kind KindMode; connections opened
// before it keep the mode they had.
func (s *Server) SetCold(cold bool) {
	s.cold.Store(cold)
	s.events.add(Event{Kind: KindMode, Reason: map[bool]string{true: ModeCold, false: ModeWarm}[cold]})
}

// background runs f in a goroutine that Close waits for.
func (s *Server) background(f func()) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// Addr is the address the named listener is bound to, or nil when there is
// no such listener or the server is not started.
func (s *Server) Addr(listener string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.byName[listener]
	if l == nil || l.ln == nil {
		return nil
	}
	return l.ln.Addr()
}

// ControlAddr is the address the control API is bound to, or nil before
// Start.
func (s *Server) ControlAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.controlLn == nil {
		return nil
	}
	return s.controlLn.Addr()
}

// Events returns the events with a sequence number above after, of the named
// listener, or of all listeners when listener is "". It never returns nil.
func (s *Server) Events(listener string, after int64) []Event {
	return s.events.since(listener, after)
}

// Close stops accepting, closes every connection, and waits for the
// backend's own goroutines to end. Calls after the first do nothing and
// return nil.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	conns := make([]*trackedConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	var errs []error
	for _, l := range s.listeners {
		if l.ln != nil {
			if err := l.ln.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close listener %q: %w", l.cfg.Name, err))
			}
		}
		_ = l.http.Close() // its only listener is the queue, which cannot fail
	}
	if err := s.control.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close control: %w", err))
	}
	for _, c := range s.closers {
		_ = c.Close()
	}
	for _, c := range conns {
		_ = c.Close()
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// acceptLoop accepts connections on l until Close, backing off on errors
// such as running out of file descriptors.
func (s *Server) acceptLoop(l *listener) {
	var delay time.Duration
	for {
		c, err := s.accept(l)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			select {
			case <-s.done:
				return
			case <-time.After(delay):
			}
			continue
		}
		delay = 0
		if c != nil {
			s.background(func() { s.serveConn(l, c) })
		}
	}
}

// adopt tracks a connection just taken from l's socket and, on a TLS
// listener, counts it pending; nil when the server is closed.
func (s *Server) adopt(l *listener, raw net.Conn) *trackedConn {
	c := s.track(raw)
	if c != nil && l.tls != nil {
		l.addPending(c.RemoteAddr().String(), 1)
	}
	return c
}

// serveConn decides what to do with a new connection on l, which adopt
// counted pending if l is a TLS listener.

func (s *Server) serveConn(l *listener, c *trackedConn) {
	if l.tls == nil {
		l.queue.deliver(c)
		return
	}
	ev := Event{Listener: l.cfg.Name, Conn: c.id, Remote: c.RemoteAddr().String(), Local: c.LocalAddr().String()}
	hello, data, err := readClientHello(c)
	if err != nil {
		ev.Kind, ev.Reason = KindFailed, err.Error()
		if errors.Is(err, ErrNotTLS) {
			ev.Reason = ReasonNotTLS
		}
		s.settle(l, ev)
		_ = c.Close()
		return
	}
	ev.SNI = hello.ServerName
	switch {
	case l.cfg.HangAll:
		ev.Kind, ev.Reason = KindRefused, ReasonHang
		s.settle(l, ev)
		s.hang(c)
	case !l.serves(hello.ServerName):
		s.refuse(l, c, ev)
	default:
		c.replay = data
		s.handshake(l, c, ev)
	}
}

// refuse refuses the ClientHello read from c the way l is configured to.
// The event is recorded before the client can see the refusal.
func (s *Server) refuse(l *listener, c *trackedConn, ev Event) {
	ev.Kind, ev.Reason = KindRefused, ReasonUnknownSNI
	if ev.SNI == "" {
		ev.Reason = ReasonMissingSNI
	}
	ev.Alert = l.cfg.Refuse.alert()
	s.settle(l, ev)
	switch {
	case l.cfg.Refuse == RefuseHang:
		s.hang(c)
		return
	case ev.Alert != 0:
		// A write error means the client is gone; there is nothing to add.
		_ = c.SetWriteDeadline(time.Now().Add(alertTimeout))
		_, _ = c.Write(alertRecord(ev.Alert))
	}
	_ = c.Close()
}

// alertRecord is a plaintext TLS record holding one fatal alert.
func alertRecord(description int) []byte {
	return []byte{recordTypeAlert, 3, 3, 0, 2, 2, byte(description)}
}

// hang holds c without answering until the client closes it, the hang
// timeout passes or the server closes, whichever comes first.
func (s *Server) hang(c *trackedConn) {
	_ = c.SetReadDeadline(time.Now().Add(s.hangTimeout))
	_, _ = io.Copy(io.Discard, c)
	_ = c.Close()
}

// handshake completes the TLS handshake on c, whose ClientHello l accepted,
// and hands the connection to l's HTTP server.
func (s *Server) handshake(l *listener, c *trackedConn, ev Event) {
	cfg := l.tls
	if s.cold.Load() {
		cfg = cfg.Clone()
		cfg.SessionTicketsDisabled = true
	}
	tc := tls.Server(c, cfg)
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tc.Handshake(); err != nil {
		ev.Kind, ev.Reason = KindFailed, err.Error()
		s.settle(l, ev)
		_ = c.Close()
		return
	}
	_ = c.SetDeadline(time.Time{})
	st := tc.ConnectionState()
	ev.Kind = KindHandshake
	ev.TLSVersion = tls.VersionName(st.Version)
	ev.ALPN = st.NegotiatedProtocol
	ev.Resumed = st.DidResume
	s.settle(l, ev)
	l.queue.deliver(tc)
}

// settle records the final event of a TLS connection's handshake on l.
func (s *Server) settle(l *listener, ev Event) {
	s.events.add(ev)
	l.addPending(ev.Remote, -1)
}

// pendingHandshakes is, by TLS listener, how many connections of the
// peer at remote (host:port; its port is not compared) have no final
// handshake event yet; listeners with none are left out. Peers are told
// apart so that proxies running cases at the same time never count each
// other's handshakes. Each TLS listener's socket is drained first, so
// that a connection the kernel completed before the mark arrived counts
// even if the accept loop has not taken it yet.
func (s *Server) pendingHandshakes(remote string) map[string]int {
	host := peerHost(remote)
	var out map[string]int
	for _, l := range s.listeners {
		if l.tls != nil {
			s.drain(l)
		}
		l.pendingMu.Lock()
		n := l.pending[host]
		l.pendingMu.Unlock()
		if n > 0 {
			if out == nil {
				out = map[string]int{}
			}
			out[l.cfg.Name] = n
		}
	}
	return out
}
