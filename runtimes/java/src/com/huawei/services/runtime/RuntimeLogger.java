package com.huawei.services.runtime;

/**
 * The logger returned by {@link Context#getLogger()}.
 *
 * <p>Each call writes one entry to standard output, filed under the
 * invocation the context belongs to, whatever thread makes the call:
 * {@code <time> <request id> <message>} for {@link #log(String)} and
 * {@code <time> <request id> <LEVEL> <message>} for the levelled methods,
 * with the time in ISO-8601 UTC with milliseconds
 * ({@code 2024-06-01T08:30:00.123Z}).
 */
public interface RuntimeLogger {

    /** Writes a message without a level; never filtered. */
    void log(String message);

    /** Writes a DEBUG message (suppressed unless the level is DEBUG). */
    void debug(String message);

    /** Writes an INFO message. */
    void info(String message);

    /** Writes a WARN message. */
    void warn(String message);

    /** Writes an ERROR message. */
    void error(String message);

    /**
     * Sets the lowest level written: {@code DEBUG}, {@code INFO} (the
     * default), {@code WARN} or {@code ERROR}; case is ignored and unknown
     * names leave the level unchanged.
     */
    void setLevel(String level);
}
