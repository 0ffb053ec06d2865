package harness

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLogBookChunks pins that chunks of output, split anywhere and
// interleaved across stdout and stderr, form complete lines per stream in
// the order they complete, without "\r"; unfinished lines are not counted.
func TestLogBookChunks(t *testing.T) {
	b := NewLogBook()
	out, errw := io.Writer(streamWriter{b, "stdout"}), io.Writer(streamWriter{b, "stderr"})
	steps := []struct {
		w       io.Writer
		chunk   string
		wantLen int
	}{
		{out, "hel", 0},
		{errw, "err", 0},
		{out, "lo\nwor", 1},
		{errw, " one\r\n", 2},
		{out, "", 2},
		{out, "ld\n\nlast", 4},
		{errw, "two\nthree\n", 6},
		{out, "\n", 7},
	}
	for i, s := range steps {
		n, err := s.w.Write([]byte(s.chunk))
		if err != nil || n != len(s.chunk) {
			t.Fatalf("step %d: Write = %d, %v; want %d, nil", i, n, err, len(s.chunk))
		}
		if got := b.Len(); got != s.wantLen {
			t.Fatalf("step %d: Len = %d, want %d", i, got, s.wantLen)
		}
	}
	want := []string{"hello", "err one", "world", "", "two", "three", "last"}
	if got := b.Lines(0); !slices.Equal(got, want) {
		t.Errorf("Lines(0) = %q, want %q", got, want)
	}
	if got := b.Lines(5); !slices.Equal(got, want[5:]) {
		t.Errorf("Lines(5) = %q, want %q", got, want[5:])
	}
	for _, from := range []int{7, 100} {
		if got := b.Lines(from); got != nil {
			t.Errorf("Lines(%d) = %q, want nil", from, got)
		}
	}
	// Lines is a copy.
	got := b.Lines(0)
	got[0] = "changed"
	if b.Lines(0)[0] != "hello" {
		t.Error("changing the result of Lines changed the LogBook")
	}
}

// TestLogBookWaitFor pins WaitFor: it finds a line already there, searches
// only from the given index, and returns the index of a line appended later
// by another goroutine.
func TestLogBookWaitFor(t *testing.T) {
	b := NewLogBook()
	b.write("stdout", []byte("starting\nready once\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	if i, err := b.WaitFor(ctx, 0, "ready"); err != nil || i != 1 {
		t.Errorf("WaitFor(0, ready) = %d, %v; want 1, nil", i, err)
	}

	done := make(chan struct{})
	type result struct {
		i   int
		err error
	}
	res := make(chan result, 1)
	go func() {
		i, err := b.WaitFor(ctx, 2, "ready")
		res <- result{i, err}
	}()
	go func() {
		defer close(done)
		b.write("stderr", []byte("noise\n"))
		b.write("stdout", []byte("rea"))
		b.write("stdout", []byte("dy again\n"))
	}()
	<-done
	r := <-res
	if r.err != nil || r.i != 3 {
		t.Errorf("WaitFor(2, ready) = %d, %v; want 3, nil", r.i, r.err)
	}
	if got := b.Lines(r.i); len(got) == 0 || got[0] != "ready again" {
		t.Errorf("line %d = %q, want \"ready again\"", r.i, got)
	}
}

// TestLogBookWaitForBlocks pins that WaitFor keeps waiting through lines
// that do not match and returns once one does.
func TestLogBookWaitForBlocks(t *testing.T) {
	b := NewLogBook()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res := make(chan int, 1)
	go func() {
		i, err := b.WaitFor(ctx, 0, "__mark 7")
		if err != nil {
			i = -2
		}
		res <- i
	}()
	for i := range 7 {
		b.write("stdout", []byte("__mark "+string(rune('0'+i))+"\n"))
		select {
		case got := <-res:
			t.Fatalf("WaitFor returned %d before the line was written", got)
		default:
		}
	}
	b.write("stdout", []byte("__mark 7\n"))
	if got := <-res; got != 7 {
		t.Errorf("WaitFor = %d, want 7", got)
	}
}

// TestLogBookWaitForContext pins that WaitFor fails with the context's error
// when the context ends before the line comes.
func TestLogBookWaitForContext(t *testing.T) {
	b := NewLogBook()
	b.write("stdout", []byte("ready\n"))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	i, err := b.WaitFor(ctx, 1, "ready")
	if !errors.Is(err, context.DeadlineExceeded) || i != -1 {
		t.Errorf("WaitFor after deadline = %d, %v; want -1, DeadlineExceeded", i, err)
	}
	if err != nil && !strings.Contains(err.Error(), `"ready"`) {
		t.Errorf("error %q does not name the line waited for", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := b.WaitFor(ctx, 0, "never"); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitFor with a cancelled context = %v, want Canceled", err)
	}
}

// TestLogBookEnded pins that a wait on a stopped container's log fails with
// ErrStopped instead of waiting for its deadline.
func TestLogBookEnded(t *testing.T) {
	b := NewLogBook()
	b.write("stdout", []byte("last line\n"))
	done := make(chan error, 1)
	go func() {
		_, err := b.WaitFor(context.Background(), 0, "never")
		done <- err
	}()
	b.end()
	if err := <-done; !errors.Is(err, ErrStopped) {
		t.Fatalf("WaitFor after end = %v, want ErrStopped", err)
	}
	if !b.Ended() {
		t.Error("Ended = false after end")
	}
	if i, err := b.WaitFor(context.Background(), 0, "last"); err != nil || i != 0 {
		t.Errorf("WaitFor of a line already there = %d, %v; want 0, nil", i, err)
	}
}
