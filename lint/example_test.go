package lint_test

import (
	"fmt"

	"github.com/sniproof/sniproof/lint"
)

// Files follows include directives and reports each finding in the file
// that holds the directive.
func ExampleFiles() {
	res, err := lint.Files("testdata/include.conf")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range res.Findings {
		fmt.Printf("%s:%d %s %s\n", f.File, f.Line, f.Rule, f.Severity)
	}
	// Output:
	// testdata/include.conf:12 SNI002 error
	// testdata/include/sites/api.conf:6 SNI001 error
	// testdata/include/sites/shop.conf:8 SNI004 error
}

// A configuration that cannot be parsed is one error naming the file and
// line.
func ExampleConfigError() {
	_, err := lint.Files("testdata/errors/unclosed.conf")
	fmt.Println(err)
	_, err = lint.Files("testdata/absent.conf")
	fmt.Println(err)
	// Output:
	// testdata/errors/unclosed.conf:6: unexpected end of file, expecting "}"
	// testdata/absent.conf: cannot read: no such file or directory
}
