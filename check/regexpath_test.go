package check

import "testing"

// TestPathFor: a path each regular expression location matches, as
// operators write them; none for what Go's regexp cannot read.
func TestPathFor(t *testing.T) {
	for _, c := range []struct {
		expr string
		fold bool
		want string
	}{
		{`^/api/v[0-9]+/`, false, "/api/v0/"},
		{`\.php$`, false, "/x.php"},
		{`^/(images|css|js)/`, false, "/images/"},
		{`^/static/.+\.(png|jpg)$`, true, "/static/x.png"},
		{`^/users/\d{2,}/profile`, false, "/users/00/profile"},
		{`^/~(?<user>[a-z]+)`, false, "/~a"},
	} {
		got, ok := pathFor(c.expr, c.fold)
		if !ok || got != c.want {
			t.Errorf("pathFor(%q) = %q, %v; want %q", c.expr, got, ok, c.want)
		}
	}
	for _, expr := range []string{`^/(?!admin)`, `^/a(?=b)`, `[`} {
		if got, ok := pathFor(expr, false); ok {
			t.Errorf("pathFor(%q) = %q, want none", expr, got)
		}
	}
}

func FuzzPathFor(f *testing.F) {
	f.Add(`^/api/v[0-9]+/`, false)
	f.Add(`\.(php|phtml)$`, true)
	f.Fuzz(func(t *testing.T, expr string, fold bool) {
		pathFor(expr, fold)
	})
}
