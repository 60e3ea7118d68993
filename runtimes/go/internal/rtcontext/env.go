// Package rtcontext implements the RuntimeContext handed to user handlers:
// static values come from the RUNTIME_* environment, per-call values from the
// header map of each Invoke request.
package rtcontext

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
)

// defaultTimeoutSeconds is used when RUNTIME_TIMEOUT is missing or invalid.
const defaultTimeoutSeconds = 3

// Env is the part of the context that is fixed for the life of the process.
type Env struct {
	ProjectID          string
	FunctionName       string
	Version            string
	Package            string
	Handler            string
	InitializerHandler string
	Alias              string
	CodeRoot           string
	RuntimeRoot        string
	TimeoutSeconds     int
	InitializerTimeout int
	MemoryMB           int
	CPU                int
	// MaxResponseSize is the largest result in bytes; 0 means unlimited.
	MaxResponseSize int
	UserData        map[string]string
}

var (
	envOnce   sync.Once
	envLoaded *Env
)

// LoadEnv reads the RUNTIME_* variables once and returns the shared result.
func LoadEnv() *Env {
	envOnce.Do(func() { envLoaded = readEnv(os.Getenv) })
	return envLoaded
}

func readEnv(get func(string) string) *Env {
	e := &Env{
		ProjectID:          get("RUNTIME_PROJECT_ID"),
		FunctionName:       get("RUNTIME_FUNC_NAME"),
		Version:            get("RUNTIME_FUNC_VERSION"),
		Package:            get("RUNTIME_PACKAGE"),
		Handler:            get("RUNTIME_HANDLER"),
		InitializerHandler: get("RUNTIME_INITIALIZER_HANDLER"),
		Alias:              get("RUNTIME_ALIAS"),
		CodeRoot:           get("RUNTIME_CODE_ROOT"),
		RuntimeRoot:        get("RUNTIME_ROOT"),
		TimeoutSeconds:     intOr(get("RUNTIME_TIMEOUT"), defaultTimeoutSeconds),
		InitializerTimeout: intOr(get("RUNTIME_INITIALIZER_TIMEOUT"), 0),
		MemoryMB:           intOr(get("RUNTIME_MEMORY"), 0),
		CPU:                intOr(get("RUNTIME_CPU"), 0),
		MaxResponseSize:    intOr(get("RUNTIME_MAX_RESP_BODY_SIZE"), 0),
		UserData:           parseUserData(get("RUNTIME_USERDATA")),
	}
	if e.TimeoutSeconds <= 0 {
		e.TimeoutSeconds = defaultTimeoutSeconds
	}
	return e
}

func intOr(s string, fallback int) int {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return fallback
	}
	return v
}

// parseUserData decodes the JSON object in RUNTIME_USERDATA. String values are
// used as they are; any other JSON value is kept as its JSON text so that
// nothing the platform sent is lost.
func parseUserData(s string) map[string]string {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return out
	}
	for k, v := range raw {
		var str string
		if err := json.Unmarshal(v, &str); err == nil {
			out[k] = str
		} else {
			out[k] = string(v)
		}
	}
	return out
}
