package com.huawei.services.runtime.stratus;

import java.io.File;
import java.util.Collections;
import java.util.Map;

/** Instance-wide settings, read once from the RUNTIME_* environment variables. */
final class Config {

    final String apiAddr;
    final File codeRoot;
    final String projectId;
    final String functionName;
    final String version;
    final String packageName;
    final String handler;
    final int timeoutSeconds;
    final int memoryMb;
    final int cpu;
    final String initializer;
    final int initializerTimeoutSeconds;
    final String alias;
    final int concurrency;
    private final String userDataText;
    private volatile Map<String, Object> userData;

    Config(String[] args) {
        String addr = env("RUNTIME_API_ADDR", "");
        if (addr.isEmpty() && args.length > 0) {
            addr = args[0];
        }
        apiAddr = addr.trim();
        String root = env("RUNTIME_CODE_ROOT", "");
        if (root.isEmpty() && args.length > 1) {
            root = args[1];
        }
        codeRoot = new File(root.isEmpty() ? System.getProperty("user.dir") : root).getAbsoluteFile();
        projectId = env("RUNTIME_PROJECT_ID", "");
        functionName = env("RUNTIME_FUNC_NAME", "");
        version = env("RUNTIME_FUNC_VERSION", "latest");
        packageName = env("RUNTIME_PACKAGE", "default");
        handler = env("RUNTIME_HANDLER", "").trim();
        timeoutSeconds = envInt("RUNTIME_TIMEOUT", 3);
        memoryMb = envInt("RUNTIME_MEMORY", 128);
        cpu = envInt("RUNTIME_CPU", 200 + memoryMb * 100 / 128);
        initializer = env("RUNTIME_INITIALIZER_HANDLER", "").trim();
        initializerTimeoutSeconds = envInt("RUNTIME_INITIALIZER_TIMEOUT", 300);
        alias = env("RUNTIME_ALIAS", "");
        concurrency = Math.max(1, Math.min(1000, envInt("RUNTIME_CONCURRENT_NUM", 1)));
        userDataText = env("RUNTIME_USERDATA", "");
    }

    static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null ? fallback : v;
    }

    static int envInt(String name, int fallback) {
        String v = System.getenv(name);
        if (v == null) {
            return fallback;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    /** The user's variables (RUNTIME_USERDATA), parsed on first use. */
    @SuppressWarnings("unchecked")
    Map<String, Object> userData() {
        Map<String, Object> data = userData;
        if (data == null) {
            data = Collections.emptyMap();
            if (!userDataText.trim().isEmpty()) {
                try {
                    Object parsed = Json.parse(userDataText);
                    if (parsed instanceof Map) {
                        data = (Map<String, Object>) parsed;
                    }
                } catch (IllegalArgumentException e) {
                    // not JSON: no user data
                }
            }
            userData = data;
        }
        return data;
    }
}
