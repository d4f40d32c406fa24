package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Service is both listeners and the drain sequence.
type Service struct {
	App         *App
	AppAddr     string
	MetricsAddr string
	appServer   *http.Server
	metrics     *http.Server
	log         Logger
	served      sync.WaitGroup
	once        sync.Once
	result      string
}

// Start binds both ports (before it returns, so a bad port fails start-up) and serves them; then the service
// is ready.
func Start(c Config, log Logger) (*Service, error) {
	app := &App{Config: c, Lifecycle: &Lifecycle{}, Metrics: NewMetrics(map[string]string{"service": c.ServiceName, "stage": c.Stage})}
	appLn, err := net.Listen("tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)))
	if err != nil {
		return nil, err
	}
	metricsLn, err := net.Listen("tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.MetricsPort)))
	if err != nil {
		appLn.Close()
		return nil, err
	}
	s := &Service{
		App: app, AppAddr: appLn.Addr().String(), MetricsAddr: metricsLn.Addr().String(), log: log,
		// Longer than the 60 s idle timeout of common load balancers, so the balancer, not us, closes idle
		// connections in normal operation (the other way round it may send a request into a closing socket).
		appServer: &http.Server{Handler: app.AppHandler(), IdleTimeout: 65 * time.Second, ReadHeaderTimeout: 10 * time.Second},
		metrics:   &http.Server{Handler: app.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second},
	}
	for _, pair := range []struct {
		srv *http.Server
		ln  net.Listener
	}{{s.appServer, appLn}, {s.metrics, metricsLn}} {
		s.served.Add(1)
		go func(srv *http.Server, ln net.Listener) {
			defer s.served.Done()
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log("error", "server stopped", map[string]interface{}{"error": err.Error()})
			}
		}(pair.srv, pair.ln)
	}
	app.Lifecycle.MarkReady()
	log("info", "listening", map[string]interface{}{"port": s.AppAddr, "metricsPort": s.MetricsAddr})
	return s, nil
}

// Shutdown drains once: not ready → DRAIN_DELAY_MS, still serving, so endpoints drop the pod first → stop
// accepting → in-flight requests get up to SHUTDOWN_TIMEOUT_MS → the rest are cut. It returns "clean" or
// "forced"; later calls return the first result.
func (s *Service) Shutdown() string {
	s.once.Do(func() {
		c := s.App.Config
		s.App.Lifecycle.MarkDraining()
		s.log("info", "draining", map[string]interface{}{"drainDelayMs": c.DrainDelayMs, "shutdownTimeoutMs": c.ShutdownTimeoutMs})
		time.Sleep(time.Duration(c.DrainDelayMs) * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(c.ShutdownTimeoutMs)*time.Millisecond)
		defer cancel()
		s.result = "clean"
		if err := s.appServer.Shutdown(ctx); err != nil {
			s.result = "forced"
			s.appServer.Close()
		}
		// Metrics stay up through the drain, so the last scrape sees it; they hold no requests worth waiting for.
		s.metrics.Close()
		s.served.Wait()
		s.log("info", "stopped", map[string]interface{}{"connections": s.result})
	})
	return s.result
}
