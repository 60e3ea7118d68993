package com.huawei.services.runtime.stratus;

import java.nio.charset.StandardCharsets;
import java.util.Collections;

/**
 * One serving loop: long-polls the runtime API for an event, runs the
 * handler on this thread, posts the result or the error, and polls again.
 * The runtime starts RUNTIME_CONCURRENT_NUM of them, each with its own
 * connection.
 */
final class Worker implements Runnable {

    private static final String POLL = RuntimeApi.PREFIX + "/invocation/request";
    private static final String RESPONSE = RuntimeApi.PREFIX + "/invocation/response/";
    private static final String ERROR = RuntimeApi.PREFIX + "/invocation/error/";

    private final Config config;
    private final UserCode.Entry handler;

    Worker(Config config, UserCode.Entry handler) {
        this.config = config;
        this.handler = handler;
    }

    @Override
    public void run() {
        RuntimeApi api = new RuntimeApi(config.apiAddr);
        try {
            while (true) {
                RuntimeApi.Response next = api.request("GET", POLL, null);
                if (next.status != 200) {
                    if (next.status != 204) {
                        RuntimeApi.pause(50);
                    }
                    continue;
                }
                String rid = next.header("x-cff-request-id");
                if (rid == null || rid.isEmpty()) {
                    RuntimeApi.pause(50);
                    continue;
                }
                byte[] error;
                byte[] payload = null;
                try {
                    payload = serve(rid, next);
                    error = null;
                } catch (ErrorResult e) {
                    error = e.body;
                } catch (RuntimeException e) {
                    // A bug in the runtime itself: fail the request, keep serving.
                    String text = "runtime internal error: " + e;
                    TaggedOutput.err.emitLines("", "stratus java runtime: " + text);
                    error = Failure.body("RuntimeInternalError", text, Collections.<String>emptyList(), null);
                }
                if (error == null) {
                    api.request("POST", RESPONSE + rid, payload);
                } else {
                    api.request("POST", ERROR + rid, error);
                }
            }
        } catch (RuntimeApi.Unreachable e) {
            Bootstrap.platformGone(e);
        }
    }

    /** The handler failed; carries the error body. */
    private static final class ErrorResult extends Exception {
        private static final long serialVersionUID = 1L;
        final byte[] body;

        ErrorResult(byte[] body) {
            super(null, null, false, false);
            this.body = body;
        }
    }

    private byte[] serve(String rid, RuntimeApi.Response next) throws ErrorResult {
        long deadline;
        String header = next.header("x-cff-deadline-ms");
        try {
            deadline = Long.parseLong(header == null ? "" : header.trim());
        } catch (NumberFormatException e) {
            deadline = System.currentTimeMillis() + config.timeoutSeconds * 1000L;
        }
        InvocationContext ctx = new InvocationContext(config, rid, next.headers, deadline);
        Object result;
        TaggedOutput.begin(rid);
        try {
            try {
                result = handler.call(next.body, ctx);
            } catch (Throwable t) {
                throw new ErrorResult(Failure.invocation(t));
            }
            try {
                return serialise(result);
            } catch (Throwable t) {
                throw new ErrorResult(Failure.body("FunctionResultInvalid",
                        "function result is not serialisable: " + Failure.text(Failure.unwrap(t)),
                        Collections.<String>emptyList(), null));
            }
        } finally {
            TaggedOutput.end(rid);
        }
    }

    /** null (and void) give an empty body, a String itself, byte[] its bytes, anything else JSON. */
    static byte[] serialise(Object result) {
        if (result == null) {
            return new byte[0];
        }
        if (result instanceof String) {
            return ((String) result).getBytes(StandardCharsets.UTF_8);
        }
        if (result instanceof byte[]) {
            return (byte[]) result;
        }
        return Json.write(result).getBytes(StandardCharsets.UTF_8);
    }
}
