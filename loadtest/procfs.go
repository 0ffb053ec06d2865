package loadtest

import (
	"os"
	"strconv"
	"strings"
)

// The Linux figures a run reports. Each reader returns a zero value, or
// false, where the file is missing or reads differently: the run goes on
// without the figure.

// somaxconn is net.core.somaxconn, the cap on a listen backlog. Go's
// net.Listen asks for exactly this backlog.
func somaxconn() int {
	data, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return n
}

// listenOverflows is the TcpExt ListenOverflows counter of the network
// namespace: connections the kernel dropped because a listener's accept
// queue was full.
func listenOverflows() (int64, bool) {
	data, err := os.ReadFile("/proc/net/netstat")
	if err != nil {
		return 0, false
	}
	return netstatField(string(data), "TcpExt", "ListenOverflows")
}

// netstatField finds a counter in the text of /proc/net/netstat, where
// each group is a line of names followed by a line of values, both
// prefixed with "GROUP:".
func netstatField(text, group, name string) (int64, bool) {
	lines := strings.Split(text, "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, ok := strings.CutPrefix(lines[i], group+":")
		if !ok {
			continue
		}
		values, ok := strings.CutPrefix(lines[i+1], group+":")
		if !ok {
			return 0, false
		}
		nf, vf := strings.Fields(names), strings.Fields(values)
		for j, n := range nf {
			if n == name && j < len(vf) {
				v, err := strconv.ParseInt(vf[j], 10, 64)
				return v, err == nil
			}
		}
		return 0, false
	}
	return 0, false
}

// openFilesLimit is the soft limit on open files of this process (Go
// raises it to the hard limit at start-up).
func openFilesLimit() (int, bool) {
	data, err := os.ReadFile("/proc/self/limits")
	if err != nil {
		return 0, false
	}
	return limitsField(string(data), "Max open files")
}

// limitsField is the soft limit of a row of /proc/self/limits, false when
// the row is missing or unlimited.
func limitsField(text, row string) (int, bool) {
	for line := range strings.Lines(text) {
		rest, ok := strings.CutPrefix(line, row)
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0, false
		}
		n, err := strconv.Atoi(f[0])
		return n, err == nil
	}
	return 0, false
}

// peakRSS is the process's peak resident set (VmHWM) in bytes.
func peakRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	return statusKiB(string(data), "VmHWM")
}

// statusKiB is a "NAME: N kB" field of /proc/self/status in bytes, 0 when
// missing.
func statusKiB(text, name string) uint64 {
	for line := range strings.Lines(text) {
		rest, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0
		}
		n, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0
		}
		return n << 10
	}
	return 0
}

// resetPeakRSS resets VmHWM to the current resident set, where the kernel
// allows it (Linux 4.0 and later). The peak that getrusage reports for the
// process, as in `time -v`, is reset with it.
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}
