// Command coredns is CoreDNS with the plugins a single Kubernetes node needs and nothing else: upstream's own
// main package links every cloud DNS provider, which costs minutes of build and megabytes for nothing here.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/reload"
)

// The order plugins run in, as upstream's plugin.cfg orders these ones.
func init() {
	dnsserver.Directives = []string{"reload", "errors", "log", "health", "ready", "kubernetes", "loadbalance", "cache", "forward"}
}

func main() { coremain.Run() }
