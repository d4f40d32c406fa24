package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
)

// Metrics is a hand-written Prometheus text exposition: the standard library has no client, and a module
// download would break the offline build. One counter and one gauge need no more than this.
type Metrics struct {
	mu       sync.Mutex
	requests map[requestKey]uint64
	// labels are constant labels on every series, so dashboards can tell services and stages apart.
	labels string
}

type requestKey struct{ route, method, status string }

// NewMetrics returns an empty registry whose series all carry the given constant labels.
func NewMetrics(constant map[string]string) *Metrics {
	names := make([]string, 0, len(constant))
	for k := range constant {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, k := range names {
		parts = append(parts, fmt.Sprintf("%s=%q", k, escapeLabel(constant[k])))
	}
	return &Metrics{requests: map[requestKey]uint64{}, labels: strings.Join(parts, ",")}
}

// escapeLabel keeps a value within what %q writes the way Prometheus reads it: backslash, quote and newline
// escaped. Other control characters and invalid UTF-8 would come out as Go escapes Prometheus does not know.
func escapeLabel(v string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\n' {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(v, "?"))
}

// series joins the constant labels and the given ones into one label set.
func (m *Metrics) series(name string, extra ...string) string {
	all := extra
	if m.labels != "" {
		all = append([]string{m.labels}, extra...)
	}
	return name + "{" + strings.Join(all, ",") + "}"
}

// CountRequest adds one request to http_requests_total{route,method,status}.
func (m *Metrics) CountRequest(route, method string, status int) {
	m.mu.Lock()
	m.requests[requestKey{route, method, fmt.Sprint(status)}]++
	m.mu.Unlock()
}

// Write renders every series in the text format (version 0.0.4), sorted so scrapes diff cleanly.
func (m *Metrics) Write(w io.Writer, ready bool) error {
	m.mu.Lock()
	keys := make([]requestKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	counts := make(map[requestKey]uint64, len(keys))
	for _, k := range keys {
		counts[k] = m.requests[k]
	}
	m.mu.Unlock()
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.route != b.route {
			return a.route < b.route
		}
		if a.method != b.method {
			return a.method < b.method
		}
		return a.status < b.status
	})
	var b strings.Builder
	b.WriteString("# HELP http_requests_total HTTP requests served on the application port.\n")
	b.WriteString("# TYPE http_requests_total counter\n")
	for _, k := range keys {
		name := m.series("http_requests_total", fmt.Sprintf("route=%q", k.route), fmt.Sprintf("method=%q", escapeLabel(k.method)),
			fmt.Sprintf("status=%q", k.status))
		fmt.Fprintf(&b, "%s %d\n", name, counts[k])
	}
	b.WriteString("# HELP app_ready 1 while the service reports ready on /readyz, 0 while starting or draining.\n")
	b.WriteString("# TYPE app_ready gauge\n")
	value := 0
	if ready {
		value = 1
	}
	fmt.Fprintf(&b, "%s %d\n", m.series("app_ready"), value)
	_, err := io.WriteString(w, b.String())
	return err
}
