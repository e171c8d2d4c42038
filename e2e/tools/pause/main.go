// Command pause is the e2e sandbox ("pause") image's only binary: it
// blocks until SIGTERM or SIGINT, like Kubernetes' pause container.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
}
