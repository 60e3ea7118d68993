package com.huawei.services.runtime.stratus;

import com.huawei.services.runtime.RuntimeLogger;

/**
 * The context's logger: {@code <time> <request id> [<LEVEL>] <message>} on
 * stdout, tagged with its own request id whatever thread calls it.
 */
final class ContextLogger implements RuntimeLogger {

    private static final int DEBUG = 10;
    private static final int INFO = 20;
    private static final int WARN = 30;
    private static final int ERROR = 40;

    private final String requestId;
    private volatile int level = INFO;

    ContextLogger(String requestId) {
        this.requestId = requestId;
    }

    @Override
    public void log(String message) {
        write(null, message);
    }

    @Override
    public void debug(String message) {
        if (level <= DEBUG) {
            write("DEBUG", message);
        }
    }

    @Override
    public void info(String message) {
        if (level <= INFO) {
            write("INFO", message);
        }
    }

    @Override
    public void warn(String message) {
        if (level <= WARN) {
            write("WARN", message);
        }
    }

    @Override
    public void error(String message) {
        if (level <= ERROR) {
            write("ERROR", message);
        }
    }

    @Override
    public void setLevel(String name) {
        if (name == null) {
            return;
        }
        String n = name.trim().toUpperCase(java.util.Locale.ROOT);
        if (n.equals("DEBUG") || n.equals("TRACE") || n.equals("ALL")) {
            level = DEBUG;
        } else if (n.equals("INFO")) {
            level = INFO;
        } else if (n.equals("WARN") || n.equals("WARNING")) {
            level = WARN;
        } else if (n.equals("ERROR") || n.equals("FATAL") || n.equals("CRITICAL")) {
            level = ERROR;
        }
    }

    private void write(String label, String message) {
        StringBuilder b = new StringBuilder(64 + (message == null ? 4 : message.length()));
        b.append(Clock.now()).append(' ').append(requestId).append(' ');
        if (label != null) {
            b.append(label).append(' ');
        }
        b.append(message);
        TaggedOutput.out.emitLines(requestId, b.toString());
    }
}
