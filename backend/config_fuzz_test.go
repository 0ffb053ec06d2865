package backend

import (
	"strings"
	"testing"
)

// FuzzDecodeConfig feeds arbitrary bytes to the backend's config decoder:
// errors name the file, and nothing panics.
func FuzzDecodeConfig(f *testing.F) {
	f.Add([]byte(`{"control": ":9000", "listeners": [{"name": "a", "addr": ":1", "plain": true}]}`))
	f.Add([]byte(`{"control": ":9000", "listeners": [{"name": "a", "addr": ":1", "refuse": "alert112", "names": ["x"]}]}`))
	f.Add([]byte(`{"listeners": [{"name": 1}]}`))
	f.Add([]byte("{\n\n  \"control\": :9000\n}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := decodeConfig("backend.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "backend.json") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		_ = cfg.Validate()
	})
}
