package backend

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// socket is a listener's socket as a file, for which the runtime's poller
// reports readiness, so that connections are taken from it without
// blocking while acceptMu is held (a net.Listener's own RawConn cannot
// wait for readiness).
type socket struct {
	file *os.File
	raw  syscall.RawConn
}

// openSocket duplicates ln's socket; closing ln leaves the copy open, so
// both are closed.
func openSocket(ln net.Listener) (*socket, error) {
	fl, ok := ln.(interface{ File() (*os.File, error) })
	if !ok {
		return nil, fmt.Errorf("listener %T has no file", ln)
	}
	f, err := fl.File()
	if err != nil {
		return nil, err
	}
	raw, err := f.SyscallConn()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &socket{file: f, raw: raw}, nil
}

// Close closes the copy of the socket.
func (k *socket) Close() error { return k.file.Close() }

// accept takes the next connection from l's socket, waiting for one, and
// adopts it in the same step under l.acceptMu. A mark's count of pending
// handshakes drains the socket under that lock too (drain), so no
// connection is ever between the kernel's queue and the count: a proxy
// that opened a connection and answered its client before the accept
// loop ran still has that connection counted at the mark. It returns nil
// and no error when the server is closed.
func (s *Server) accept(l *listener) (*trackedConn, error) {
	var c *trackedConn
	var aerr error
	err := l.sock.raw.Read(func(fd uintptr) bool {
		l.acceptMu.Lock()
		defer l.acceptMu.Unlock()
		var again bool
		c, again, aerr = s.acceptOne(l, int(fd))
		return !again
	})
	if err != nil {
		return nil, err
	}
	return c, aerr
}

// drain adopts, and starts serving, every connection waiting in l's
// socket, holding l.acceptMu.
func (s *Server) drain(l *listener) {
	_ = l.sock.raw.Control(func(fd uintptr) {
		l.acceptMu.Lock()
		defer l.acceptMu.Unlock()
		for {
			c, again, err := s.acceptOne(l, int(fd))
			if again || err != nil {
				return
			}
			if c != nil {
				s.background(func() { s.serveConn(l, c) })
			}
		}
	})
}

// acceptOne accepts one connection from the non-blocking listening socket
// fd and adopts it; again reports that none is waiting. The caller holds
// l.acceptMu.
func (s *Server) acceptOne(l *listener, fd int) (c *trackedConn, again bool, err error) {
	nfd, _, err := syscall.Accept4(fd, syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
	switch {
	case errors.Is(err, syscall.EAGAIN):
		return nil, true, nil
	case err != nil:
		return nil, false, os.NewSyscallError("accept4", err)
	}
	f := os.NewFile(uintptr(nfd), "accepted")
	raw, err := net.FileConn(f)
	_ = f.Close()
	if err != nil {
		return nil, false, err
	}
	return s.adopt(l, raw), false, nil
}
