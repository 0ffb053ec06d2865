package harness

import (
	"fmt"
	"strings"

	"github.com/sniproof/sniproof/fixtures"
)

// Judge compares an observation with an expectation and returns every
// difference as one sentence, e.g. `backend saw SNI "" want "www.xx.test"`;
// none means the case passes. Every expectation field that is set is
// checked; a passing case also must not have [alert] or [emerg] log lines.
func Judge(want fixtures.Expect, obs Observation) []string {
	var diffs []string
	add := func(format string, args ...any) { diffs = append(diffs, fmt.Sprintf(format, args...)) }

	if want.ConfigError != "" {
		switch {
		case obs.ConfigTest == nil:
			add("the configuration was not tested, want it refused with %q", want.ConfigError)
		case obs.ConfigTest.Exit == 0:
			add("the configuration test accepted the configuration, want it refused with %q", want.ConfigError)
		case !strings.Contains(obs.ConfigTest.Output, want.ConfigError):
			add("the configuration test said %q, want %q in it", strings.TrimSpace(obs.ConfigTest.Output), want.ConfigError)
		}
		return diffs
	}
	if obs.Status != want.Status {
		if obs.Error != "" {
			add("status %d (client error: %s) want %d", obs.Status, obs.Error, want.Status)
		} else {
			add("status %d want %d", obs.Status, want.Status)
		}
	}
	if obs.Backend != want.Backend {
		add("backend %s the connection, want %s", obs.Backend, want.Backend)
	}
	if want.Reason != "" && !strings.Contains(obs.Reason, want.Reason) {
		add("backend's reason %q want %q", obs.Reason, want.Reason)
	}
	switch {
	case want.SNI == nil:
	case obs.SNI == nil:
		add("no ClientHello reached the backend, want SNI %q", *want.SNI)
	case *obs.SNI != *want.SNI:
		add("backend saw SNI %q want %q", *obs.SNI, *want.SNI)
	}
	if want.Backend == fixtures.BackendUntouched && len(obs.Events) > 0 {
		add("%d backend event(s), want nothing to reach the backend", len(obs.Events))
	}
	if want.Connections != nil && obs.Connections != *want.Connections {
		add("backend completed %d handshake(s) want %d", obs.Connections, *want.Connections)
	}
	if want.Resumed != nil && obs.Resumed != *want.Resumed {
		add("last session resumed %v want %v", obs.Resumed, *want.Resumed)
	}
	for _, phrase := range want.Log {
		if !containsLine(obs.ProxyLog, phrase) {
			add("no log line has %q", phrase)
		}
	}
	for _, l := range AlertLines(obs.ProxyLog) {
		add("logged %s", l)
	}
	return diffs
}

func containsLine(lines []string, phrase string) bool {
	for _, l := range lines {
		if strings.Contains(l, phrase) {
			return true
		}
	}
	return false
}
