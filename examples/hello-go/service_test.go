package main

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func startTestService(t *testing.T, drainMs int) (*Service, *strings.Builder) {
	t.Helper()
	c, err := LoadConfig(envOf(map[string]string{
		"HOST": "127.0.0.1", "PORT": "0", "METRICS_PORT": "0", "DRAIN_DELAY_MS": strconv.Itoa(drainMs), "SHUTDOWN_TIMEOUT_MS": "2000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var mu sync.Mutex
	s, err := Start(c, func(level, msg string, _ map[string]interface{}) {
		mu.Lock()
		defer mu.Unlock()
		logs.WriteString(level + " " + msg + "\n")
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, &logs
}

func status(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func TestServiceIsReadyOnceListening(t *testing.T) {
	s, _ := startTestService(t, 0)
	defer s.Shutdown()
	if got := status(t, "http://"+s.AppAddr+"/readyz"); got != 200 {
		t.Fatalf("readyz: %d", got)
	}
	if got := status(t, "http://"+s.MetricsAddr+"/metrics"); got != 200 {
		t.Fatalf("metrics: %d", got)
	}
}

func TestShutdownDrainsBeforeClosing(t *testing.T) {
	s, logs := startTestService(t, 300)
	done := make(chan string)
	started := time.Now()
	go func() { done <- s.Shutdown() }()
	time.Sleep(100 * time.Millisecond)
	// Inside the drain delay: not ready, yet still serving, so requests already routed here succeed.
	if got := status(t, "http://"+s.AppAddr+"/readyz"); got != 503 {
		t.Fatalf("readyz while draining: %d", got)
	}
	if got := status(t, "http://"+s.AppAddr+"/"); got != 200 {
		t.Fatalf("GET / while draining: %d", got)
	}
	result := <-done
	if elapsed := time.Since(started); elapsed < 300*time.Millisecond {
		t.Fatalf("shutdown took %v, less than the drain delay", elapsed)
	}
	if result != "clean" || !strings.Contains(logs.String(), "info stopped") {
		t.Fatalf("result %q, logs:\n%s", result, logs.String())
	}
	if got := status(t, "http://"+s.AppAddr+"/"); got != 0 {
		t.Fatalf("still answering after shutdown: %d", got)
	}
	if s.Shutdown() != "clean" {
		t.Fatal("a second Shutdown returned another result")
	}
}

func TestStartFailsOnAPortInUse(t *testing.T) {
	s, _ := startTestService(t, 0)
	defer s.Shutdown()
	c, _ := LoadConfig(envOf(map[string]string{"HOST": "127.0.0.1", "PORT": strings.Split(s.AppAddr, ":")[1], "METRICS_PORT": "0"}))
	if _, err := Start(c, func(string, string, map[string]interface{}) {}); err == nil {
		t.Fatal("Start succeeded on a port in use")
	}
}
