// Command hello-go is a second example service for Slipway, in Go with the standard library only. It follows
// docs/app-contract.md and knows nothing of Slipway: any platform that sets its environment can run it.
//
// Exit codes: 0 after the drain (its log line says whether in-flight requests had to be cut), 1 for invalid
// configuration or a failure to start.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	config, err := LoadConfig(os.LookupEnv)
	if err != nil {
		// A plain message rather than a stack trace: the reader is whoever looks at `kubectl logs`.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	log := JSONLogger(config.LogLevel, os.Stdout, os.Stderr)
	// Subscribed before listening: a SIGTERM that arrives during start-up still drains instead of killing.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	service, err := Start(config, log)
	if err != nil {
		log("error", "failed to start", map[string]interface{}{"error": err.Error()})
		os.Exit(1)
	}
	sig := <-signals
	log("info", "received "+sig.String(), nil)
	service.Shutdown()
}
