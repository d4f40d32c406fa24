package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func testApp(t *testing.T) *App {
	t.Helper()
	c, err := LoadConfig(envOf(map[string]string{
		"SERVICE_NAME": "hello-go", "STAGE": "dev", "GIT_SHA": "abc123", "BUILD_NUMBER": "42", "GIT_BRANCH": "main",
	}))
	if err != nil {
		t.Fatal(err)
	}
	return &App{Config: c, Lifecycle: &Lifecycle{}, Metrics: NewMetrics(map[string]string{"service": "hello-go", "stage": "dev"})}
}

func get(h http.Handler, method, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestRootReportsServiceAndBuild(t *testing.T) {
	app := testApp(t)
	rec := get(app.AppHandler(), "GET", "/")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	var body map[string]interface{}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]interface{}{
		"service": "hello-go", "version": version, "buildNumber": "42", "gitBranch": "main", "gitSha": "abc123",
		"stage": "dev", "message": "Hello from Go",
	}
	for k, v := range want {
		if body[k] != v {
			t.Errorf("%s: want %v, got %v", k, v, body[k])
		}
	}
}

func TestReadinessFollowsTheLifecycle(t *testing.T) {
	app := testApp(t)
	h := app.AppHandler()
	if rec := get(h, "GET", "/readyz"); rec.Code != 503 || !strings.Contains(rec.Body.String(), `"starting"`) {
		t.Fatalf("starting: %d %s", rec.Code, rec.Body)
	}
	app.Lifecycle.MarkReady()
	if rec := get(h, "GET", "/readyz"); rec.Code != 200 {
		t.Fatalf("ready: %d", rec.Code)
	}
	app.Lifecycle.MarkDraining()
	rec := get(h, "GET", "/readyz")
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"draining"`) || rec.Header().Get("Connection") != "close" {
		t.Fatalf("draining: %d %s %v", rec.Code, rec.Body, rec.Header())
	}
	// A late MarkReady must not undo a SIGTERM.
	app.Lifecycle.MarkReady()
	if app.Lifecycle.Phase() != Draining {
		t.Fatal("MarkReady after MarkDraining made the service ready again")
	}
	// Liveness stays up while draining: a draining pod must not be restarted.
	if rec := get(h, "GET", "/healthz"); rec.Code != 200 {
		t.Fatalf("healthz while draining: %d", rec.Code)
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	h := testApp(t).AppHandler()
	if rec := get(h, "GET", "/nope"); rec.Code != 404 {
		t.Fatalf("unknown path: %d", rec.Code)
	}
	if rec := get(h, "POST", "/"); rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Fatalf("POST: %d %v", rec.Code, rec.Header())
	}
	if rec := get(h, "GET", "/metrics"); rec.Code != 404 {
		t.Fatalf("metrics on the app port: %d", rec.Code)
	}
}

func TestMetricsCountRequestsByStatus(t *testing.T) {
	app := testApp(t)
	app.Lifecycle.MarkReady()
	h := app.AppHandler()
	get(h, "GET", "/")
	get(h, "GET", "/")
	get(h, "GET", "/wp-admin")
	get(h, "POST", "/")
	rec := get(app.MetricsHandler(), "GET", "/metrics")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	text := rec.Body.String()
	for _, want := range []string{
		"# TYPE http_requests_total counter\n",
		`http_requests_total{service="hello-go",stage="dev",route="/",method="GET",status="200"} 2` + "\n",
		`http_requests_total{service="hello-go",stage="dev",route="/",method="POST",status="405"} 1` + "\n",
		// Unknown paths share one series: a scanner cannot make the counter's cardinality explode.
		`http_requests_total{service="hello-go",stage="dev",route="unmatched",method="GET",status="404"} 1` + "\n",
		`app_ready{service="hello-go",stage="dev"} 1` + "\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %q:\n%s", want, text)
		}
	}
	if rec := get(app.MetricsHandler(), "GET", "/"); rec.Code != 404 {
		t.Fatalf("metrics port answers /: %d", rec.Code)
	}
}

func TestMetricsWithoutConstantLabels(t *testing.T) {
	m := NewMetrics(nil)
	m.CountRequest("/", "GET", 200)
	var b strings.Builder
	if err := m.Write(&b, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `http_requests_total{route="/",method="GET",status="200"} 1`) ||
		!strings.Contains(b.String(), "app_ready{} 0\n") {
		t.Fatalf("exposition:\n%s", b.String())
	}
}

func TestLabelValuesAreEscaped(t *testing.T) {
	m := NewMetrics(map[string]string{"service": "a\"b\\c\nd\te"})
	var b strings.Builder
	_ = m.Write(&b, true)
	if !strings.Contains(b.String(), `app_ready{service="a\"b\\c\nd?e"} 1`) {
		t.Fatalf("exposition:\n%s", b.String())
	}
}
