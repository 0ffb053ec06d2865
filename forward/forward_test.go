package forward

import (
	"bufio"
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// echo serves, once per connection, one line back in upper case and then
// closes its side, as a proxy that answers and closes.
func echo(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				_, _ = io.WriteString(c, strings.ToUpper(line))
			}()
		}
	}()
	return l.Addr().String()
}

func TestRelay(t *testing.T) {
	target := echo(t)
	f, err := Listen([]Route{{Listen: "127.0.0.1:0", Target: target}, {Listen: "127.0.0.1:0", Target: "127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { f.Serve(ctx); close(served) }()

	c, err := net.Dial("tcp", f.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "hello\n"); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "HELLO\n" {
		t.Errorf("relayed %q, %v; want HELLO and the target's close", got, err)
	}
	c.Close()

	// A target that refuses: the client's connection is closed at once.
	c, err = net.Dial("tcp", f.Addrs()[1].String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("read %d, %v from a relay to a refusing target; want the end of stream", n, err)
	}
	c.Close()

	// A relay in flight ends with Serve.
	idle, err := net.Dial("tcp", f.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	cancel()
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
}

func TestListenError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	free := "127.0.0.1:0"
	if _, err := Listen([]Route{{Listen: free, Target: "x:1"}, {Listen: l.Addr().String(), Target: "x:1"}}); err == nil || !strings.Contains(err.Error(), "listen on "+l.Addr().String()) {
		t.Errorf("error %v, want one naming the busy address", err)
	}
}
