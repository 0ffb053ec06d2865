package jsonfile

import (
	"strings"
	"testing"
)

// TestDecode pins each error's file:line:col and wording, and a good decode.
func TestDecode(t *testing.T) {
	type cfg struct {
		Name  string   `json:"name"`
		Ports []int    `json:"ports"`
		On    bool     `json:"on"`
		Tags  []string `json:"tags"`
	}
	tests := []struct{ name, data, want string }{
		{"syntax", "{\n  \"name\": \"a\",\n  \"ports\": [1,]\n}", "f.json:3:15: invalid character ']'"},
		{"type", "{\n  \"on\": \"yes\"\n}", `f.json:2:13: on: expected true or false, got string`},
		{"unknown field", `{"colour": 1}`, `f.json: unknown field "colour"`},
		{"empty", "", "f.json: empty file, expected a JSON object"},
		{"truncated", "{\n  \"name\": \"a\"", "f.json:2:13: unexpected end of file"},
		{"trailing", "{}\n\n  {}", "f.json:3:3: unexpected data after the config object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c cfg
			err := Decode("f.json", []byte(tt.data), &c)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Decode = %v, want an error starting %q", err, tt.want)
			}
		})
	}
	var c cfg
	if err := Decode("f.json", []byte(`{"name": "a", "ports": [1, 2], "on": true}`), &c); err != nil || c.Name != "a" || len(c.Ports) != 2 || !c.On {
		t.Errorf("Decode = %+v, %v", c, err)
	}
}
