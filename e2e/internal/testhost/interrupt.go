package testhost

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// TearDownBeforeEnd calls tearDown(130) when the run is interrupted
// (SIGINT, SIGTERM, SIGHUP) and tearDown(1) margin before go test's
// -timeout would kill the binary without running any cleanup, so an
// ended run still removes its pods, daemons and mounts. suite prefixes
// the line that says why.
func TearDownBeforeEnd(suite string, margin time.Duration, tearDown func(code int)) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		sig := <-sigs
		fmt.Printf("%s: %v: tearing down\n", suite, sig)
		tearDown(130)
	}()
	f := flag.Lookup("test.timeout")
	if f == nil {
		return
	}
	limit, err := time.ParseDuration(f.Value.String())
	if err != nil || limit <= 2*margin {
		return
	}
	time.AfterFunc(limit-margin, func() {
		fmt.Printf("%s: -timeout %s nearly reached: tearing down\n", suite, limit)
		tearDown(1)
	})
}
