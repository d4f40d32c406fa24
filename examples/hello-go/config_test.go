package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestDefaultsFollowTheAppContract(t *testing.T) {
	c, err := LoadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 8080 || c.MetricsPort != 9464 || c.Stage != "local" || c.LogLevel != "info" {
		t.Fatalf("defaults: %+v", c)
	}
	if c.DrainDelayMs != 5000 || c.ShutdownTimeoutMs != 10000 || c.GitSha != "unknown" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestEmptyValuesCountAsUnset(t *testing.T) {
	c, err := LoadConfig(envOf(map[string]string{"PORT": "", "STAGE": " "}))
	if err != nil || c.Port != 8080 || c.Stage != "local" {
		t.Fatalf("got %+v, %v", c, err)
	}
}

func TestEveryBadVariableIsNamedAtOnce(t *testing.T) {
	_, err := LoadConfig(envOf(map[string]string{
		"PORT": "http", "LOG_LEVEL": "debug", "STAGE": "staging", "DRAIN_DELAY_MS": "-1", "METRICS_PORT": "70000",
	}))
	if err == nil {
		t.Fatal("expected a ConfigError")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "invalid configuration:\n") {
		t.Fatalf("message: %q", msg)
	}
	for _, want := range []string{
		`DRAIN_DELAY_MS: expected an integer from 0 to 120000, got "-1"`,
		`LOG_LEVEL: expected one of info|warn|error, got "debug"`,
		`METRICS_PORT: expected an integer from 0 to 65535, got "70000"`,
		`PORT: expected an integer from 0 to 65535, got "http"`,
		`STAGE: expected one of local|dev|qa|prod, got "staging"`,
	} {
		if !strings.Contains(msg, "\n  "+want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigFileSetsMessageAndFeatures(t *testing.T) {
	path := writeFile(t, `{"message": "hello from the ConfigMap", "features": {"fromFile": true}}`)
	c, err := LoadConfig(envOf(map[string]string{"CONFIG_FILE": path}))
	if err != nil {
		t.Fatal(err)
	}
	if c.File.Message != "hello from the ConfigMap" || !c.File.Features["fromFile"] {
		t.Fatalf("file: %+v", c.File)
	}
}

func TestEmptyConfigFileMeansDefaults(t *testing.T) {
	c, err := LoadConfigFile(writeFile(t, "\n"))
	if err != nil || c.Message != "Hello from Go" || len(c.Features) != 0 {
		t.Fatalf("got %+v, %v", c, err)
	}
}

func TestMisspeltConfigFileKeyIsAnError(t *testing.T) {
	path := writeFile(t, `{"mesage": "typo"}`)
	_, err := LoadConfig(envOf(map[string]string{"CONFIG_FILE": path}))
	if err == nil || !strings.Contains(err.Error(), "CONFIG_FILE ("+path+")") || !strings.Contains(err.Error(), `unknown field "mesage"`) {
		t.Fatalf("got %v", err)
	}
}

func TestMissingConfigFileIsAnError(t *testing.T) {
	_, err := LoadConfig(envOf(map[string]string{"CONFIG_FILE": "/nonexistent/config.yaml"}))
	if err == nil || !strings.Contains(err.Error(), "CONFIG_FILE (/nonexistent/config.yaml)") {
		t.Fatalf("got %v", err)
	}
}
