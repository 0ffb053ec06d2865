// Package forward relays TCP connections from ports it listens on to a
// target host: sniproof check's door, which publishes the ports of a proxy
// that sits on internal networks only, so that an operator's configuration
// can reach nothing outside the run, whatever it names.
package forward

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// DialTimeout bounds the connection to the target of each relayed
// connection.
const DialTimeout = 10 * time.Second

// Route is one relayed port: connections to Listen go to Target.
type Route struct {
	Listen, Target string
}

// Forwarder relays the connections of its routes.
type Forwarder struct {
	listeners []net.Listener
	routes    []Route
	wg        sync.WaitGroup
	mu        sync.Mutex
	conns     map[net.Conn]bool
	closed    bool
}

// Listen binds every route's address; on error none stays bound.
func Listen(routes []Route) (*Forwarder, error) {
	f := &Forwarder{routes: routes, conns: map[net.Conn]bool{}}
	for _, r := range routes {
		l, err := net.Listen("tcp", r.Listen)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("listen on %s: %w", r.Listen, err)
		}
		f.listeners = append(f.listeners, l)
	}
	return f, nil
}

// Addrs are the bound addresses, in the order of the routes.
func (f *Forwarder) Addrs() []net.Addr {
	out := make([]net.Addr, len(f.listeners))
	for i, l := range f.listeners {
		out[i] = l.Addr()
	}
	return out
}

// Serve relays connections until ctx ends, then closes every listener and
// connection and returns once every relay has ended.
func (f *Forwarder) Serve(ctx context.Context) {
	for i, l := range f.listeners {
		f.wg.Add(1)
		go f.accept(l, f.routes[i].Target)
	}
	<-ctx.Done()
	f.Close()
	f.wg.Wait()
}

// Close closes every listener and relayed connection.
func (f *Forwarder) Close() {
	f.mu.Lock()
	f.closed = true
	for _, l := range f.listeners {
		l.Close()
	}
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
}

// track records a connection to close with the forwarder; false when it
// is closed already.
func (f *Forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		c.Close()
		return false
	}
	f.conns[c] = true
	return true
}

func (f *Forwarder) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
}

func (f *Forwarder) accept(l net.Listener, target string) {
	defer f.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if !f.track(c) {
			return
		}
		f.wg.Add(1)
		go f.relay(c, target)
	}
}

// relay copies both ways between a client and the target, passing each
// side's end of stream on (a half close), so that a proxy that closes
// without a response is seen closing.
func (f *Forwarder) relay(client net.Conn, target string) {
	defer f.wg.Done()
	defer f.untrack(client)
	up, err := net.DialTimeout("tcp", target, DialTimeout)
	if err != nil {
		return
	}
	if !f.track(up) {
		return
	}
	defer f.untrack(up)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, client)
	go pipe(client, up)
	<-done
	<-done
}
