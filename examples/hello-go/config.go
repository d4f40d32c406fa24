package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Config is the validated environment plus the optional config file. Everything is read once at start-up: a
// pod that crash-loops with a clear reason is cheaper to debug than one that runs half-configured.
type Config struct {
	ServiceName       string
	Stage             string
	Host              string
	Port              int
	MetricsPort       int
	DrainDelayMs      int
	ShutdownTimeoutMs int
	ConfigFile        string
	LogLevel          string
	BuildNumber       string
	GitBranch         string
	GitSha            string
	File              FileConfig
}

// FileConfig is the file at CONFIG_FILE: a JSON object (JSON is also YAML, so a stack's `app.configFile.content`
// written as JSON fits a `.yaml` path). Unknown keys are errors, so a misspelt key is not silently ignored.
type FileConfig struct {
	Message  string          `json:"message"`
	Features map[string]bool `json:"features"`
}

// ConfigError lists every bad setting at once; its message is ready to print as is.
type ConfigError struct{ Problems []string }

func (e *ConfigError) Error() string {
	return "invalid configuration:\n  " + strings.Join(e.Problems, "\n  ")
}

var (
	stages    = []string{"local", "dev", "qa", "prod"}
	logLevels = []string{"info", "warn", "error"}
)

// LoadConfig validates the environment given by lookup (normally os.LookupEnv) and reads the file it names.
// An empty value counts as unset, which is how Kubernetes renders an env entry with no value.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	var problems []string
	get := func(name, fallback string) string {
		if v, ok := lookup(name); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return fallback
	}
	number := func(name string, fallback, min, max int) int {
		raw := get(name, strconv.Itoa(fallback))
		n, err := strconv.Atoi(raw)
		if err != nil || n < min || n > max {
			problems = append(problems, fmt.Sprintf("%s: expected an integer from %d to %d, got %q", name, min, max, raw))
			return fallback
		}
		return n
	}
	oneOf := func(name, fallback string, allowed []string) string {
		v := get(name, fallback)
		for _, a := range allowed {
			if v == a {
				return v
			}
		}
		problems = append(problems, fmt.Sprintf("%s: expected one of %s, got %q", name, strings.Join(allowed, "|"), v))
		return fallback
	}
	c := Config{
		ServiceName: get("SERVICE_NAME", "hello-go"),
		Stage:       oneOf("STAGE", "local", stages),
		Host:        get("HOST", "0.0.0.0"),
		// 0 is allowed so tests can ask the kernel for an ephemeral port.
		Port:        number("PORT", 8080, 0, 65535),
		MetricsPort: number("METRICS_PORT", 9464, 0, 65535),
		// Capped so a typo cannot outlast any sensible termination grace period.
		DrainDelayMs:      number("DRAIN_DELAY_MS", 5000, 0, 120000),
		ShutdownTimeoutMs: number("SHUTDOWN_TIMEOUT_MS", 10000, 0, 120000),
		ConfigFile:        get("CONFIG_FILE", ""),
		LogLevel:          oneOf("LOG_LEVEL", "info", logLevels),
		BuildNumber:       get("BUILD_NUMBER", "local"),
		GitBranch:         get("GIT_BRANCH", "local"),
		GitSha:            get("GIT_SHA", "unknown"),
		File:              FileConfig{Message: "Hello from Go", Features: map[string]bool{}},
	}
	if c.ConfigFile != "" {
		file, err := LoadConfigFile(c.ConfigFile)
		if err != nil {
			problems = append(problems, fmt.Sprintf("CONFIG_FILE (%s): %v", c.ConfigFile, err))
		} else {
			c.File = file
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return Config{}, &ConfigError{Problems: problems}
	}
	return c, nil
}

// LoadConfigFile reads the config file; an empty file means all defaults.
func LoadConfigFile(path string) (FileConfig, error) {
	out := FileConfig{Message: "Hello from Go", Features: map[string]bool{}}
	raw, err := os.ReadFile(path)
	if err != nil {
		return out, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return out, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return out, fmt.Errorf("expected a JSON object with message (string) and features (booleans): %v", err)
	}
	if out.Features == nil {
		out.Features = map[string]bool{}
	}
	return out, nil
}
