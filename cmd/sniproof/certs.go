package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sniproof/sniproof/certs"
)

func runCerts(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("certs", stderr)
	out := fs.String("out", "", "`folder` to write ca.crt, server.crt and server.key into (required)")
	var names stringList
	fs.Var(&names, "name", "DNS `name` or IP address of the leaf; repeat for more (at least one)")
	intermediates := fs.Int("intermediates", 0, "number of intermediate CAs between the root and the leaf")
	if code := parse(fs, args); code >= 0 {
		return code
	}
	if *out == "" || len(names) == 0 {
		fmt.Fprintln(stderr, "sniproof certs: --out FOLDER and at least one --name NAME are required")
		return exitUsage
	}
	if *intermediates < 0 || *intermediates > 5 {
		fmt.Fprintf(stderr, "sniproof certs: --intermediates must be 0-5, got %d\n", *intermediates)
		return exitUsage
	}
	if err := writeCerts(*out, names, *intermediates); err != nil {
		fmt.Fprintf(stderr, "sniproof certs: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s (CA), %s and %s\n",
		filepath.Join(*out, "ca.crt"), filepath.Join(*out, "server.crt"), filepath.Join(*out, "server.key"))
	return exitOK
}

func writeCerts(dir string, names []string, intermediates int) error {
	root, err := certs.NewCA("sniproof test CA")
	if err != nil {
		return err
	}
	issuer := root
	for i := 1; i <= intermediates; i++ {
		if issuer, err = issuer.Intermediate(fmt.Sprintf("sniproof intermediate %d", i)); err != nil {
			return err
		}
	}
	leaf, err := issuer.Leaf(names...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), root.CertPEM(), 0o644); err != nil {
		return fmt.Errorf("write CA: %w", err)
	}
	return leaf.WriteFiles(dir, "server")
}
