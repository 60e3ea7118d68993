package com.huawei.services.runtime.stratus;

import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * Error bodies ({@code {"errorMessage","errorType","stackTrace"}}) and the
 * Java-style stack trace lines that go in them.
 */
final class Failure {

    static final String INVOCATION_PREFIX = "function invocation exception, error: ";
    static final String INITIALIZATION_PREFIX = "function initialization exception: ";

    private static final int MAX_LINES = 200;

    private Failure() {
    }

    static byte[] body(String type, String message, List<String> stack, String phase) {
        LinkedHashMap<String, Object> m = new LinkedHashMap<String, Object>();
        m.put("errorMessage", message);
        m.put("errorType", type);
        m.put("stackTrace", stack != null ? stack : Collections.<String>emptyList());
        if (phase != null) {
            m.put("phase", phase);
        }
        return Json.write(m).getBytes(StandardCharsets.UTF_8);
    }

    /** The error body for an exception thrown by a handler. */
    static byte[] invocation(Throwable t) {
        t = unwrap(t);
        return body(t.getClass().getName(), INVOCATION_PREFIX + text(t), stack(t), null);
    }

    /** The exception user code threw, without reflection's wrappers. */
    static Throwable unwrap(Throwable t) {
        while ((t instanceof InvocationTargetException || t instanceof ExceptionInInitializerError)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** The exception's message, or its class name when it has none. */
    static String text(Throwable t) {
        String m;
        try {
            m = t.getMessage();
        } catch (RuntimeException e) {
            m = null;
        }
        return m != null ? m : t.getClass().getName();
    }

    /** A frame of the runtime itself or of reflection: where user code was called from. */
    private static boolean isCallSite(StackTraceElement e) {
        String c = e.getClassName();
        return c.startsWith("jdk.internal.reflect.") || c.startsWith("sun.reflect.")
                || c.equals("java.lang.reflect.Method") || c.equals("java.lang.reflect.Constructor")
                || c.startsWith("com.huawei.services.runtime.stratus.");
    }

    /**
     * Stack trace lines as FunctionGraph's Java runtime shows them: the
     * exception as the cause of the reflective call
     * ({@code "Caused by: java.lang.IllegalStateException: boom"}), its frames
     * up to the call into user code ({@code "at com.example.Handler.handle(Handler.java:12)"}),
     * {@code "... N more"}, then its own causes the way printStackTrace writes them.
     */
    static List<String> stack(Throwable t) {
        ArrayList<String> lines = new ArrayList<String>();
        StackTraceElement[] frames = t.getStackTrace();
        int cut = frames.length;
        for (int i = 0; i < frames.length; i++) {
            if (isCallSite(frames[i])) {
                cut = i;
                break;
            }
        }
        lines.add("Caused by: " + describe(t));
        for (int i = 0; i < cut && lines.size() < MAX_LINES; i++) {
            lines.add("at " + frames[i]);
        }
        if (cut < frames.length) {
            lines.add("... " + (frames.length - cut) + " more");
        }
        IdentityHashMap<Throwable, Boolean> seen = new IdentityHashMap<Throwable, Boolean>();
        seen.put(t, Boolean.TRUE);
        StackTraceElement[] enclosing = frames;
        Throwable cause = t.getCause();
        while (cause != null && !seen.containsKey(cause) && lines.size() < MAX_LINES) {
            seen.put(cause, Boolean.TRUE);
            StackTraceElement[] own = cause.getStackTrace();
            int m = own.length - 1;
            int n = enclosing.length - 1;
            while (m >= 0 && n >= 0 && own[m].equals(enclosing[n])) {
                m--;
                n--;
            }
            int common = own.length - 1 - m;
            lines.add("Caused by: " + describe(cause));
            for (int i = 0; i <= m && lines.size() < MAX_LINES; i++) {
                lines.add("at " + own[i]);
            }
            if (common > 0) {
                lines.add("... " + common + " more");
            }
            enclosing = own;
            cause = cause.getCause();
        }
        return lines;
    }

    private static String describe(Throwable t) {
        try {
            return t.toString();
        } catch (RuntimeException e) {
            return t.getClass().getName();
        }
    }

    /** Error details of a failed load or initializer. */
    static final class InitError extends Exception {
        private static final long serialVersionUID = 1L;
        final String type;
        final List<String> stackLines;

        InitError(String type, String message, List<String> stackLines) {
            super(message);
            this.type = type;
            this.stackLines = stackLines != null ? stackLines : Collections.<String>emptyList();
        }

        InitError(String message, Throwable cause) {
            super(message + ": " + text(unwrap(cause)), cause);
            Throwable u = unwrap(cause);
            this.type = u.getClass().getName();
            this.stackLines = stack(u);
        }

        InitError withPrefix(String prefix) {
            return new InitError(type, prefix + getMessage(), stackLines);
        }
    }
}
