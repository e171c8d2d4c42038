// Command cmd regenerates profiles/seccomp/default.json from its source
// table, profiles/seccomp/default.yaml. Run it through
// `go generate ./internal/profiles/`; with -check it changes nothing and
// fails when the JSON is out of date.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/nri-guard/nri-guard/internal/profiles"
	"github.com/nri-guard/nri-guard/internal/profiles/seccompgen"
)

func main() {
	out := flag.String("o", "", "JSON profile to write")
	check := flag.Bool("check", false, "only report whether the JSON profile is up to date")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: cmd -o OUT.json [-check] SOURCE.yaml")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *out, *check); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(src, out string, check bool) error {
	want, err := render(src)
	if err != nil {
		return err
	}
	have, err := os.ReadFile(out)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	switch {
	case bytes.Equal(have, want):
		return nil
	case check:
		return fmt.Errorf("%s is out of date with %s: run go generate ./internal/profiles/", out, src)
	}
	return writeAtomic(out, want)
}

// render generates the JSON and checks it the way the plugin will load
// it, so a table that produces a profile the plugin refuses fails here.
func render(src string) ([]byte, error) {
	table, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	p, err := seccompgen.Generate(filepath.Base(src), table, profiles.Syscalls())
	if err != nil {
		return nil, err
	}
	data, err := seccompgen.Marshal(p)
	if err != nil {
		return nil, err
	}
	if _, err := profiles.ParseSeccomp("generated "+filepath.Base(src), data); err != nil {
		return nil, err
	}
	return data, nil
}

// writeAtomic replaces path in one step, so an interrupted run never
// leaves a half-written profile to be embedded.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".seccompgen-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
