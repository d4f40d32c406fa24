package main

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Logger writes one JSON object per line: what container log collectors parse without configuration.
type Logger func(level, msg string, fields map[string]interface{})

var severity = map[string]int{"info": 0, "warn": 1, "error": 2}

// JSONLogger writes info lines to out and the rest to errOut, dropping lines below minimum (LOG_LEVEL).
func JSONLogger(minimum string, out, errOut io.Writer) Logger {
	var mu sync.Mutex
	return func(level, msg string, fields map[string]interface{}) {
		if severity[level] < severity[minimum] {
			return
		}
		line := map[string]interface{}{}
		for k, v := range fields {
			line[k] = v
		}
		line["time"] = time.Now().UTC().Format(time.RFC3339Nano)
		line["level"] = level
		line["msg"] = msg
		b, _ := json.Marshal(line)
		w := out
		if level != "info" {
			w = errOut
		}
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(append(b, '\n'))
	}
}
