package main

import (
	"encoding/json"
	"net/http"
)

// version is this service's own version, reported by GET /. The build may override it with
// -ldflags "-X main.version=…".
var version = "0.1.0"

// routes the request counter knows; anything else is counted as "unmatched", so scanners cannot explode the
// counter's cardinality.
var routes = map[string]bool{"/": true, "/healthz": true, "/readyz": true}

// App is what the handlers share: the validated config, the readiness state and the counters.
type App struct {
	Config    Config
	Lifecycle *Lifecycle
	Metrics   *Metrics
}

// Info is the body of GET /: who answers and which build, so a rollout can be verified from outside. The
// field names are the Node sample's.
type Info struct {
	Service     string          `json:"service"`
	Version     string          `json:"version"`
	BuildNumber string          `json:"buildNumber"`
	GitBranch   string          `json:"gitBranch"`
	GitSha      string          `json:"gitSha"`
	Stage       string          `json:"stage"`
	Message     string          `json:"message"`
	Features    map[string]bool `json:"features"`
}

// Info returns the body of GET /.
func (a *App) Info() Info {
	c := a.Config
	return Info{c.ServiceName, version, c.BuildNumber, c.GitBranch, c.GitSha, c.Stage, c.File.Message, c.File.Features}
}

// statusRecorder remembers the status a handler wrote, for the counter.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func sendJSON(w http.ResponseWriter, status int, body interface{}) {
	payload, err := json.Marshal(body)
	if err != nil {
		status, payload = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(payload)
}

// AppHandler serves the application port: GET /, /healthz, /readyz. Every response is counted.
func (a *App) AppHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := r.URL.Path
		if !routes[route] {
			route = "unmatched"
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		defer func() { a.Metrics.CountRequest(route, r.Method, rec.status) }()
		// While draining, ask keep-alive clients to reconnect: their next request then goes to another pod
		// instead of racing this one's idle-connection close.
		if a.Lifecycle.Phase() == Draining {
			w.Header().Set("Connection", "close")
		}
		if route == "unmatched" {
			sendJSON(rec, http.StatusNotFound, map[string]string{"error": "not found"})
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			sendJSON(rec, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
			return
		}
		switch route {
		case "/healthz":
			// Liveness stays 200 while draining: restarting a pod that is shutting down cleanly would cut requests.
			sendJSON(rec, http.StatusOK, map[string]string{"status": "ok"})
		case "/readyz":
			phase := a.Lifecycle.Phase()
			status := http.StatusServiceUnavailable
			if phase == Ready {
				status = http.StatusOK
			}
			sendJSON(rec, status, map[string]string{"status": phase.String()})
		default:
			sendJSON(rec, http.StatusOK, a.Info())
		}
	})
}

// MetricsHandler serves the metrics port: GET /metrics only, in the Prometheus text format.
func (a *App) MetricsHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			sendJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_ = a.Metrics.Write(w, a.Lifecycle.Phase() == Ready)
	})
}
