package com.huawei.services.runtime.stratus;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UnsupportedEncodingException;
import java.nio.charset.StandardCharsets;

/**
 * Stands in for the process's stdout and stderr.
 *
 * <p>Outside an invocation bytes pass straight through. On a thread that runs
 * a handler ({@link #begin(String)} .. {@link #end(String)}) output is
 * collected per thread and every complete line goes out as
 * {@code 0x1E <request id> 0x1F <line> \n}, so the platform files it under its
 * request even when several requests run at once. A partial last line is
 * written when the invocation ends.
 */
final class TaggedOutput extends OutputStream {

    /** Request id of the handler running on this thread, null elsewhere. */
    private static final ThreadLocal<String> REQUEST = new ThreadLocal<String>();

    private static final int RS = 0x1E;
    private static final int US = 0x1F;
    /** A partial line longer than this is written as a line of its own. */
    private static final int MAX_PENDING = 256 * 1024;

    static TaggedOutput out;
    static TaggedOutput err;

    private final FileOutputStream raw;
    private final Object lock = new Object();
    /** The last byte written was not a newline (guarded by lock). */
    private boolean midLine;
    private final ThreadLocal<Buffer> pending = new ThreadLocal<Buffer>();

    private TaggedOutput(FileOutputStream raw) {
        this.raw = raw;
    }

    /** Replaces System.out and System.err. */
    static void install() {
        System.out.flush();
        System.err.flush();
        out = new TaggedOutput(new FileOutputStream(FileDescriptor.out));
        err = new TaggedOutput(new FileOutputStream(FileDescriptor.err));
        try {
            System.setOut(new PrintStream(out, true, "UTF-8"));
            System.setErr(new PrintStream(err, true, "UTF-8"));
        } catch (UnsupportedEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Marks the current thread as running request {@code rid}. */
    static void begin(String rid) {
        REQUEST.set(rid);
    }

    /** Ends the current thread's invocation: writes partial lines, drops the mark. */
    static void end(String rid) {
        out.finishThread(rid);
        err.finishThread(rid);
        REQUEST.remove();
    }

    @Override
    public void write(int b) {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) {
        if (len <= 0) {
            return;
        }
        String rid = REQUEST.get();
        if (rid == null) {
            putRaw(b, off, len);
            return;
        }
        Buffer partial = pending.get();
        if (partial == null) {
            partial = new Buffer(256);
            pending.set(partial);
        }
        byte[] tag = tagOf(rid);
        Buffer lines = null;
        int start = off;
        int end = off + len;
        for (int i = off; i < end; i++) {
            if (b[i] == '\n') {
                if (lines == null) {
                    lines = new Buffer(partial.size + (i - start) + tag.length + 8);
                }
                lines.add(tag, 0, tag.length);
                lines.add(partial.bytes, 0, partial.size);
                lines.add(b, start, i - start);
                lines.add('\n');
                partial.size = 0;
                start = i + 1;
            }
        }
        if (start < end) {
            partial.add(b, start, end - start);
            if (partial.size > MAX_PENDING) {
                if (lines == null) {
                    lines = new Buffer(partial.size + tag.length + 8);
                }
                lines.add(tag, 0, tag.length);
                lines.add(partial.bytes, 0, partial.size);
                lines.add('\n');
                partial.size = 0;
            }
        }
        if (lines != null) {
            putTagged(lines.bytes, lines.size);
        }
    }

    @Override
    public void flush() {
        // Nothing is buffered except a running handler's partial line, which
        // waits for its newline or the end of the invocation.
    }

    @Override
    public void close() {
        // System.out.close() must not close the process's stdout.
    }

    /** Writes the current thread's partial line, if any, as a tagged line. */
    void finishThread(String rid) {
        Buffer partial = pending.get();
        if (partial == null || partial.size == 0) {
            return;
        }
        byte[] tag = tagOf(rid);
        Buffer line = new Buffer(partial.size + tag.length + 1);
        line.add(tag, 0, tag.length);
        line.add(partial.bytes, 0, partial.size);
        line.add('\n');
        partial.size = 0;
        putTagged(line.bytes, line.size);
    }

    /**
     * Writes {@code text} as whole lines tagged with {@code rid} (untagged when
     * rid is empty or null), whichever thread calls.
     */
    void emitLines(String rid, String text) {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        boolean tagged = rid != null && !rid.isEmpty();
        byte[] tag = tagged ? tagOf(rid) : new byte[0];
        Buffer lines = new Buffer(body.length + tag.length + 8);
        // A trailing newline ends the last line; it does not start an empty one.
        int end = body.length > 0 && body[body.length - 1] == '\n' ? body.length - 1 : body.length;
        int start = 0;
        for (int i = 0; i <= end; i++) {
            if (i == end || body[i] == '\n') {
                lines.add(tag, 0, tag.length);
                lines.add(body, start, i - start);
                lines.add('\n');
                start = i + 1;
            }
        }
        if (tagged) {
            putTagged(lines.bytes, lines.size);
        } else {
            synchronized (lock) {
                try {
                    if (midLine) {
                        raw.write('\n');
                    }
                    raw.write(lines.bytes, 0, lines.size);
                } catch (IOException e) {
                    // stdout is gone; nothing to do
                }
                midLine = false;
            }
        }
    }

    private static byte[] tagOf(String rid) {
        byte[] id = rid.getBytes(StandardCharsets.UTF_8);
        byte[] tag = new byte[id.length + 2];
        tag[0] = RS;
        System.arraycopy(id, 0, tag, 1, id.length);
        tag[id.length + 1] = US;
        return tag;
    }

    private void putRaw(byte[] b, int off, int len) {
        synchronized (lock) {
            try {
                raw.write(b, off, len);
            } catch (IOException e) {
                // stdout is gone; nothing to do
            }
            midLine = b[off + len - 1] != '\n';
        }
    }

    private void putTagged(byte[] b, int len) {
        synchronized (lock) {
            try {
                if (midLine) {
                    // A tag must start a line: end the stray partial line first.
                    raw.write('\n');
                }
                raw.write(b, 0, len);
            } catch (IOException e) {
                // stdout is gone; nothing to do
            }
            midLine = false;
        }
    }

    /** A growable byte array. */
    private static final class Buffer {
        byte[] bytes;
        int size;

        Buffer(int capacity) {
            bytes = new byte[Math.max(16, capacity)];
        }

        void add(int b) {
            ensure(1);
            bytes[size++] = (byte) b;
        }

        void add(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, bytes, size, len);
            size += len;
        }

        private void ensure(int more) {
            if (size + more > bytes.length) {
                byte[] bigger = new byte[Math.max(bytes.length * 2, size + more)];
                System.arraycopy(bytes, 0, bigger, 0, size);
                bytes = bigger;
            }
        }
    }
}
