package rtcontext

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Bytes that frame the request tag at the start of a log line. The platform
// files a line that starts with tagStart+id+tagEnd under that request and
// strips the tag.
const (
	tagStart = '\x1e'
	tagEnd   = '\x1f'
)

// logTimeLayout renders a UTC time with milliseconds and a literal Z.
const logTimeLayout = "2006-01-02T15:04:05.000Z"

var (
	outputMu sync.Mutex
	output   io.Writer = os.Stdout
)

// Logger writes request-scoped log entries to stdout.
type Logger struct {
	requestID string
}

// NewLogger returns a logger for one request.
func NewLogger(requestID string) *Logger {
	return &Logger{requestID: requestID}
}

// Logf formats a message and writes it as
// "<time> <request id> <message>". Every physical line of the entry carries
// the request tag, so multi-line messages stay with their invocation even when
// several invocations run at once.
func (l *Logger) Logf(format string, args ...interface{}) {
	l.write(fmt.Sprintf(format, args...))
}

func (l *Logger) write(msg string) {
	msg = strings.TrimSuffix(msg, "\n")
	stamp := time.Now().UTC().Format(logTimeLayout)
	text := stamp + " " + l.requestID + " " + msg
	writeTagged(l.requestID, text)
}

// writeTagged writes text line by line, each line prefixed with the request
// tag, in a single write so that concurrent entries do not interleave.
func writeTagged(requestID, text string) {
	prefix := ""
	if taggable(requestID) {
		prefix = string(rune(tagStart)) + requestID + string(rune(tagEnd))
	}
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		b.WriteString(prefix)
		b.WriteString(strings.TrimSuffix(line, "\r"))
		b.WriteByte('\n')
	}
	outputMu.Lock()
	defer outputMu.Unlock()
	_, _ = io.WriteString(output, b.String())
}

// taggable reports whether an id can be embedded in a tag without breaking
// the line framing.
func taggable(id string) bool {
	if id == "" {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch id[i] {
		case tagStart, tagEnd, '\n', '\r':
			return false
		}
	}
	return true
}
