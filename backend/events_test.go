package backend

import "testing"

// TestEventLogBounded pins that the in-memory log keeps only the last
// MaxKeptEvents events, numbered without gaps, and that since() filters them.
func TestEventLogBounded(t *testing.T) {
	l := newEventLog(nil, 0)
	for i := 0; i < MaxKeptEvents+5; i++ {
		name := "a"
		if i%2 == 1 {
			name = "b"
		}
		l.add(Event{Listener: name})
	}
	all := l.since("", 0)
	if len(all) != MaxKeptEvents {
		t.Fatalf("kept %d events, want %d", len(all), MaxKeptEvents)
	}
	if all[0].Seq != 6 || all[len(all)-1].Seq != MaxKeptEvents+5 {
		t.Errorf("kept seq %d..%d, want 6..%d", all[0].Seq, all[len(all)-1].Seq, MaxKeptEvents+5)
	}
	if got := l.since("b", int64(MaxKeptEvents)); len(got) != 2 {
		t.Errorf("since(b, %d) = %d events, want 2 (seq 10002 and 10004)", MaxKeptEvents, len(got))
	}
}
