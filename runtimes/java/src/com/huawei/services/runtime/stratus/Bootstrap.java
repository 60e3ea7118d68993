package com.huawei.services.runtime.stratus;

import java.util.List;

/**
 * Entry point of a Java instance:
 * {@code java -cp $RUNTIME_ROOT/java/classes com.huawei.services.runtime.stratus.Bootstrap}.
 *
 * <p>Loads the handler named in RUNTIME_HANDLER from the code package, runs
 * the initializer once (RUNTIME_INITIALIZER_HANDLER, bounded by
 * RUNTIME_INITIALIZER_TIMEOUT), then serves invocations from the runtime API
 * (docs/runtime-protocol.md) on RUNTIME_CONCURRENT_NUM worker threads.
 * A load or initializer failure is posted to /v1/runtime/init/error and the
 * process exits with status 1.
 */
public final class Bootstrap {

    private Bootstrap() {
    }

    public static void main(String[] args) {
        TaggedOutput.install();
        Config config = new Config(args);
        if (config.apiAddr.isEmpty()) {
            TaggedOutput.err.emitLines("", "stratus java runtime: RUNTIME_API_ADDR is not set");
            halt(2);
        }

        UserCode code = new UserCode(config.codeRoot);
        Thread.currentThread().setContextClassLoader(code.loader);

        UserCode.Entry handler = null;
        try {
            handler = code.handler(config.handler.isEmpty() ? "index.handler" : config.handler);
        } catch (Failure.InitError e) {
            initFailed(config, e, "load");
        } catch (RuntimeException e) {
            initFailed(config, new Failure.InitError("failed to load handler '" + config.handler + "'", e), "load");
        } catch (LinkageError e) {
            initFailed(config, new Failure.InitError("failed to load handler '" + config.handler + "'", e), "load");
        }

        if (!config.initializer.isEmpty()) {
            UserCode.Entry init = null;
            try {
                init = code.initializer(config.initializer);
            } catch (Failure.InitError e) {
                initFailed(config, e.withPrefix(Failure.INITIALIZATION_PREFIX), "initializer");
            } catch (RuntimeException e) {
                initFailed(config, new Failure.InitError(Failure.INITIALIZATION_PREFIX
                        + "failed to load initializer '" + config.initializer + "'", e), "initializer");
            } catch (LinkageError e) {
                initFailed(config, new Failure.InitError(Failure.INITIALIZATION_PREFIX
                        + "failed to load initializer '" + config.initializer + "'", e), "initializer");
            }
            Failure.InitError failure = runInitializer(config, init, code.loader);
            if (failure != null) {
                initFailed(config, failure, "initializer");
            }
        }

        Thread[] workers = new Thread[config.concurrency];
        for (int i = 0; i < workers.length; i++) {
            Thread t = new Thread(new Worker(config, handler), "stratus-worker-" + i);
            t.setDaemon(true);
            t.setContextClassLoader(code.loader);
            workers[i] = t;
            t.start();
        }
        // Handlers run on the workers; the main thread only waits.
        while (true) {
            for (Thread t : workers) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    // keep waiting
                }
            }
        }
    }

    /** Runs the initializer on its own thread, bounded by the initializer timeout; null on success. */
    private static Failure.InitError runInitializer(Config config, final UserCode.Entry init, ClassLoader loader) {
        final int timeout = Math.max(1, config.initializerTimeoutSeconds);
        final InvocationContext ctx = new InvocationContext(config, "", null,
                System.currentTimeMillis() + timeout * 1000L);
        final Failure.InitError[] outcome = new Failure.InitError[1];
        final boolean[] done = new boolean[1];
        Thread t = new Thread(new Runnable() {
            @Override
            public void run() {
                Failure.InitError result = null;
                try {
                    init.call(new byte[0], ctx);
                } catch (Throwable e) {
                    Throwable u = Failure.unwrap(e);
                    result = new Failure.InitError(u.getClass().getName(),
                            Failure.INITIALIZATION_PREFIX + Failure.text(u), Failure.stack(u));
                }
                synchronized (outcome) {
                    outcome[0] = result;
                    done[0] = true;
                    outcome.notifyAll();
                }
            }
        }, "stratus-initializer");
        t.setDaemon(true);
        t.setContextClassLoader(loader);
        t.start();
        long until = System.currentTimeMillis() + timeout * 1000L;
        synchronized (outcome) {
            while (!done[0]) {
                long left = until - System.currentTimeMillis();
                if (left <= 0) {
                    return new Failure.InitError("InitializerTimeout", Failure.INITIALIZATION_PREFIX
                            + "initializer timed out after " + timeout + " s", null);
                }
                try {
                    outcome.wait(left);
                } catch (InterruptedException e) {
                    // keep waiting
                }
            }
            return outcome[0];
        }
    }

    /** Reports a load or initializer failure to the platform and exits with status 1. */
    private static void initFailed(Config config, Failure.InitError e, String phase) {
        StringBuilder text = new StringBuilder().append(e.type).append(": ").append(e.getMessage());
        List<String> stack = e.stackLines;
        for (String line : stack) {
            text.append('\n').append(line);
        }
        TaggedOutput.err.emitLines("", text.toString());
        RuntimeApi api = new RuntimeApi(config.apiAddr);
        try {
            api.request("POST", RuntimeApi.PREFIX + "/init/error",
                    Failure.body(e.type, e.getMessage(), stack, phase));
        } catch (RuntimeApi.Unreachable gone) {
            // nobody to tell
        }
        api.close();
        halt(1);
    }

    static void platformGone(Exception e) {
        TaggedOutput.err.emitLines("", "stratus java runtime: " + e.getMessage() + ", exiting");
        halt(1);
    }

    /** Exits at once, without running user shutdown hooks that could hang. */
    private static void halt(int status) {
        System.out.flush();
        System.err.flush();
        Runtime.getRuntime().halt(status);
    }
}
