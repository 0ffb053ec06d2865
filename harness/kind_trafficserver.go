package harness

import (
	"regexp"
	"strings"
)

// trafficserverConf is the directory of the rendered configuration files:
// remap.config (the main template) and logging.yaml (a further file).
const trafficserverConf = "/etc/sniproof/"

// trafficserverCmd starts traffic_server in the foreground, with records
// set through PROXY_CONFIG_* environment variables (which override
// records.config) instead of a rendered records.config:
//   - remap.config and logging.yaml are the rendered ones; the local state
//     (lock and socket) goes to /tmp, and ADMIN_USER_ID #-1 keeps root.
//   - every diagnostic level goes to stderr (E), and so does the access log
//     (logging.yaml: filename stderr); the debug tag ssl-diag adds OpenSSL's
//     error for every failed upstream handshake, with the alert number.
//   - the access log is written a buffer at a time, in order: a buffer
//     when the next line does not fit in it (LogObject::_checkout_write in
//     proxy/logging/LogObject.cc), else once it is older than
//     max_secs_per_buffer, here 1 s (by default 5 s), in whole seconds, which
//     the flush thread checks at most once a second (PeriodicWakeup and
//     periodic_tasks in proxy/logging/Log.cc). Buffers of 2048 bytes
//     (log_buffer_size, by default 9216; records.config in
//     https://docs.trafficserver.apache.org/en/9.2.x/admin-guide/files/records.config.en.html)
//     make the two pushes that follow every mark (trafficserverPush) write
//     the mark's line at once, instead of a second later.
//   - file_stat_frequency is never reached: every 32nd log write, 9.2 checks
//     that the log "file" exists and closes it if not, and for "stderr"
//     that closes the process's stderr, after which nothing is logged any
//     more (apache/trafficserver#8955, #12197; fix proposed in #12407).
//   - no cache, so that every request reaches the upstream.
//   - no upstream connection is shared between requests (server session
//     sharing match none): every case opens its own, with its own SNI.
//   - down_server.cache_time 0: an upstream that failed is not marked down
//     for the next cases (by default for 60 s, with fewer retries).
var trafficserverCmd = []string{"env",
	"PROXY_CONFIG_URL_REMAP_FILENAME=" + trafficserverConf + "remap.config",
	"PROXY_CONFIG_LOG_CONFIG_FILENAME=" + trafficserverConf + "logging.yaml",
	"PROXY_CONFIG_LOCAL_STATE_DIR=/tmp",
	"PROXY_CONFIG_ADMIN_USER_ID=#-1",
	"PROXY_CONFIG_DIAGS_OUTPUT_DEBUG=E",
	"PROXY_CONFIG_DIAGS_OUTPUT_STATUS=E",
	"PROXY_CONFIG_DIAGS_OUTPUT_NOTE=E",
	"PROXY_CONFIG_DIAGS_OUTPUT_WARNING=E",
	"PROXY_CONFIG_DIAGS_OUTPUT_ERROR=E",
	"PROXY_CONFIG_DIAGS_OUTPUT_FATAL=E",
	"PROXY_CONFIG_DIAGS_OUTPUT_ALERT=E",
	"PROXY_CONFIG_DIAGS_OUTPUT_EMERGENCY=E",
	"PROXY_CONFIG_DIAGS_DEBUG_ENABLED=1",
	"PROXY_CONFIG_DIAGS_DEBUG_TAGS=ssl-diag",
	"PROXY_CONFIG_LOG_MAX_SECS_PER_BUFFER=1",
	"PROXY_CONFIG_LOG_LOG_BUFFER_SIZE=2048",
	"PROXY_CONFIG_LOG_PERIODIC_TASKS_INTERVAL=1",
	"PROXY_CONFIG_LOG_FILE_STAT_FREQUENCY=2147483647",
	"PROXY_CONFIG_HTTP_CACHE_HTTP=0",
	"PROXY_CONFIG_HTTP_SERVER_SESSION_SHARING_MATCH=none",
	"PROXY_CONFIG_HTTP_DOWN_SERVER_CACHE_TIME=0",
	"traffic_server",
}

// trafficserverKind is Apache Traffic Server from Debian's trafficserver
// package, as a reverse proxy: one remap rule per case host. Its access
// log (logging.yaml.tmpl) and its diagnostics share stderr; the mark line
// is an access log line, written once the mark request is answered.
//
// error.log, the only place with Traffic Server's own word for a failed
// upstream handshake (CONNECT: attempt fail ... ENET_SSL_CONNECT_FAILED),
// stays in /var/log/trafficserver/error.log: proxy.config.error.logfile.filename
// stderr works, but every flush writes the error log after the access log,
// so a case's error lines would come after its mark line.
var trafficserverKind = Kind{
	Name:       "trafficserver",
	Image:      "trafficserver",
	Releases:   []string{"bookworm"},
	ConfigPath: trafficserverConf + "remap.config",
	Files:      map[string]string{trafficserverConf + "logging.yaml": "logging.yaml.tmpl"},
	Cmd:        trafficserverCmd,
	VersionCmd: []string{"traffic_server", "--version"},
	VersionRE:  regexp.MustCompile(`Apache Traffic Server - traffic_server - (\d+\.\d+\.\d+)`),
	// The access log line of every request starts with the request line
	// after remapping, "GET http://BACKEND:8000/__sniproof/mark/TOKEN HTTP/1.1".
	Mark:   func(token string) string { return MarkPath + token + " HTTP/" },
	Pushes: []string{trafficserverPush, trafficserverPush},
}

// trafficserverPush is the path of a push whose access log entry takes more
// than half of a 2048-byte log buffer and less than all of it. Two of them
// never share a buffer: if the first still fits beside the mark's line, the
// second does not fit beside the first, so the buffer holding the mark's
// line is full and written, after every earlier one, as soon as the pushes
// are logged. Measured on 9.2.9 with logging.yaml.tmpl's format: two entries
// share a buffer up to a path of 682 bytes, one entry takes a path of up to
// 1555 (a longer one is dropped, with a Note "Skipping the current log
// entry" at most once a minute); this path has 1117. A case's line, without
// such a path, has 200 to 300 bytes.
var trafficserverPush = PushPath + strings.Repeat("x", 1100)
