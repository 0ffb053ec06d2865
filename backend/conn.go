package backend

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
)

// trackedConn is an accepted connection: it has an id, is closed by
// Server.Close, and first replays the bytes read to parse the ClientHello.
type trackedConn struct {
	net.Conn
	id     uint64
	server *Server
	replay []byte // read by the backend, not yet by crypto/tls
}

// track registers raw as a connection of s, or closes it and returns nil
// when s is closed.
func (s *Server) track(raw net.Conn) *trackedConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = raw.Close()
		return nil
	}
	c := &trackedConn{Conn: raw, id: s.lastConn.Add(1), server: s}
	s.conns[c] = struct{}{}
	return c
}

func (c *trackedConn) Read(b []byte) (int, error) {
	if len(c.replay) == 0 {
		return c.Conn.Read(b)
	}
	n := copy(b, c.replay)
	c.replay = c.replay[n:]
	return n, nil
}

// Close closes the connection and forgets it.
func (c *trackedConn) Close() error {
	c.server.mu.Lock()
	delete(c.server.conns, c)
	c.server.mu.Unlock()
	return c.Conn.Close()
}

// readClientHello reads from c until it holds a whole ClientHello, and
// returns it with every byte read. It gives up after helloTimeout, or after
// reading as much as the largest ClientHello takes in full-size records.
func readClientHello(c net.Conn) (ClientHello, []byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(helloTimeout))
	defer func() { _ = c.SetReadDeadline(time.Time{}) }()
	const limit = maxHelloLen + handshakeHeaderLen + (maxHelloLen/maxRecordLen+1)*recordHeaderLen
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(cap(buf), limit-len(buf)))
		}
		n, err := c.Read(buf[len(buf):min(cap(buf), limit)])
		buf = buf[:len(buf)+n]
		if n > 0 {
			hello, perr := ParseClientHello(buf)
			if !errors.Is(perr, ErrIncomplete) {
				return hello, buf, perr
			}
		}
		if err != nil {
			return ClientHello{}, nil, fmt.Errorf("read client hello after %d bytes: %w", len(buf), err)
		}
		if len(buf) >= limit {
			return ClientHello{}, nil, fmt.Errorf("read client hello: no end after %d bytes", limit)
		}
	}
}

// connIDKey is the context key of the connection id of an HTTP request.
type connIDKey struct{}

// connContext is the ConnContext of the listeners' HTTP servers: it puts
// the connection id in the request contexts.
func connContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tc, ok := c.(*trackedConn); ok {
		ctx = context.WithValue(ctx, connIDKey{}, tc.id)
	}
	return ctx
}

// connQueue is a net.Listener whose connections the backend hands over
// after deciding to serve them.
type connQueue struct {
	addr  net.Addr
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

// deliver hands c to Accept, or closes it when the queue is closed.
func (q *connQueue) deliver(c net.Conn) {
	select {
	case q.conns <- c:
	case <-q.done:
		_ = c.Close()
	}
}

// Accept returns the next delivered connection.
func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.done:
		return nil, net.ErrClosed
	}
}

// Close makes Accept and deliver stop waiting.
func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.done) })
	return nil
}

// Addr is the address of the real listener.
func (q *connQueue) Addr() net.Addr { return q.addr }
