// Package docker holds the image recipes: one package list per Debian
// release for each Debian-based image. The harness builds them with
// mmdebstrap and imports the root filesystem with docker import.
package docker

import "embed"

// Recipes holds every recipe file, named IMAGE/RELEASE.packages.
//
//go:embed */*.packages
var Recipes embed.FS
