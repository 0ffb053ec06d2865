//go:build !linux

package backend

import "net"

// socket is a listener's socket; off Linux, accept uses the listener.
type socket struct{ ln net.Listener }

func openSocket(ln net.Listener) (*socket, error) { return &socket{ln: ln}, nil }

// Close does nothing: the server closes the listener itself.
func (*socket) Close() error { return nil }

// accept takes the next connection from l's socket and adopts it. Off
// Linux the mark cannot drain the socket (drain does nothing), so a
// connection still in the kernel's queue at the mark is not counted
// pending; the backend runs on Linux in every sniproof run.
func (s *Server) accept(l *listener) (*trackedConn, error) {
	raw, err := l.sock.ln.Accept()
	if err != nil {
		return nil, err
	}
	return s.adopt(l, raw), nil
}

// drain does nothing off Linux; see accept.
func (s *Server) drain(*listener) {}
