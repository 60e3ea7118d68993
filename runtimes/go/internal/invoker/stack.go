package invoker

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"

	"huaweicloud.com/go-runtime/internal/rtcontext"
)

// maxStackFrames bounds the frames reported for a panic.
const maxStackFrames = 32

type panicReport struct {
	message string
	stack   []string
}

// Frames of this package that matter to the walk: it stops at the frame that
// calls the handler (everything above belongs to the runtime) and leaves out
// the adapter Wrap builds around handlers of other function types.
const (
	ownPackage    = "huaweicloud.com/go-runtime/internal/invoker."
	callerFrame   = ownPackage + "(*Function).call"
	adapterFrames = ownPackage + "Wrap."
)

// panicStack describes the user frames between the panic and the handler
// call, two entries per frame: "pkg.Func()" and "    file.go:line". It must
// be called from the deferred function that recovered the panic.
func panicStack() []string {
	pcs := make([]uintptr, 128)
	n := runtime.Callers(1, pcs)
	frames := runtime.CallersFrames(pcs[:n])

	var out []string
	seenPanic := false
	count := 0
	for {
		fr, more := frames.Next()
		name := fr.Function
		switch {
		case !seenPanic:
			// Skip this helper, the deferred function and the runtime's
			// panic machinery.
			if name == "runtime.gopanic" {
				seenPanic = true
			}
		case name == callerFrame:
			return out
		case strings.HasPrefix(name, adapterFrames) ||
			strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "reflect."):
			// Frames such as runtime.panicIndex say nothing about user code.
		default:
			out = append(out, shortFuncName(name)+"()", fmt.Sprintf("    %s:%d", filepath.Base(fr.File), fr.Line))
			count++
			if count >= maxStackFrames {
				return out
			}
		}
		if !more {
			return out
		}
	}
}

// shortFuncName drops the import path of a function name, keeping the
// package name: "example.com/x/pkg.Func" becomes "pkg.Func".
func shortFuncName(name string) string {
	if i := strings.LastIndex(name, "/"); i >= 0 {
		return name[i+1:]
	}
	return name
}

// writeStack prints a panic's frames to the function log.
func writeStack(requestID string, stack []string) {
	rtcontext.NewLogger(requestID).Logf("%s", strings.Join(stack, "\n"))
}
