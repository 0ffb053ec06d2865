package harness_test

import (
	"fmt"

	"github.com/sniproof/sniproof/harness"
)

// The variable that substitutes an image names its image and release.
func ExampleRecipe_EnvVar() {
	r, err := harness.LoadRecipe("nginx", "bookworm")
	if err != nil {
		panic(err)
	}
	fmt.Println(r.EnvVar())
	fmt.Println(r.Packages)
	// Output:
	// SNIPROOF_IMAGE_NGINX_BOOKWORM
	// [nginx libnginx-mod-stream]
}

// Only [alert] and [emerg] lines of a proxy's log count as alerts.
func ExampleAlertLines() {
	for _, l := range harness.AlertLines([]string{
		"[error] 7#7: *2 SSL_do_handshake() failed",
		"[alert] 7#7: worker process 8 exited on signal 11",
		"[emerg] 1#1: unknown directive",
	}) {
		fmt.Println(l)
	}
	// Output:
	// [alert] 7#7: worker process 8 exited on signal 11
	// [emerg] 1#1: unknown directive
}
