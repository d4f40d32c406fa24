package main

import "sync/atomic"

// Phase is where the service is in its life: starting and draining both answer 503 on /readyz, because traffic
// must not reach a pod before its listeners are up, nor after it was asked to terminate.
type Phase int32

const (
	Starting Phase = iota
	Ready
	Draining
)

func (p Phase) String() string {
	return [...]string{"starting", "ready", "draining"}[p]
}

// Lifecycle is read by every request and written by main: atomic, no lock on the request path.
type Lifecycle struct{ phase atomic.Int32 }

// Phase returns the current phase.
func (l *Lifecycle) Phase() Phase { return Phase(l.phase.Load()) }

// MarkReady has no effect once draining: a late start must not undo a SIGTERM.
func (l *Lifecycle) MarkReady() { l.phase.CompareAndSwap(int32(Starting), int32(Ready)) }

// MarkDraining turns readiness off for good.
func (l *Lifecycle) MarkDraining() { l.phase.Store(int32(Draining)) }
