package com.huawei.services.runtime.stratus;

import com.huawei.services.runtime.Context;
import com.huawei.services.runtime.RuntimeLogger;
import java.util.Collections;
import java.util.Map;

/** The {@link Context} handed to one invocation (or to the initializer). */
final class InvocationContext implements Context {

    private final Config config;
    private final String requestId;
    /** Headers of the next-event answer, lower-case names. */
    private final Map<String, String> headers;
    private final long deadlineMs;
    private volatile ContextLogger logger;
    private volatile Object state;

    InvocationContext(Config config, String requestId, Map<String, String> headers, long deadlineMs) {
        this.config = config;
        this.requestId = requestId;
        this.headers = headers != null ? headers : Collections.<String, String>emptyMap();
        this.deadlineMs = deadlineMs;
    }

    private String header(String name) {
        String v = headers.get(name);
        return v == null ? "" : v;
    }

    @Override
    public String getRequestID() {
        return requestId;
    }

    @Override
    public int getRemainingTimeInMilliSeconds() {
        long left = deadlineMs - System.currentTimeMillis();
        if (left <= 0) {
            return 0;
        }
        return left > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) left;
    }

    @Override
    @Deprecated
    public String getAccessKey() {
        return header("x-cff-access-key");
    }

    @Override
    @Deprecated
    public String getSecretKey() {
        return header("x-cff-secret-key");
    }

    @Override
    public String getSecurityAccessKey() {
        return header("x-cff-security-access-key");
    }

    @Override
    public String getSecuritySecretKey() {
        return header("x-cff-security-secret-key");
    }

    @Override
    public String getSecurityToken() {
        return header("x-cff-security-token");
    }

    @Override
    public String getToken() {
        return header("x-cff-auth-token");
    }

    @Override
    public String getUserData(String key) {
        Object v = config.userData().get(key);
        if (v == null || v instanceof String) {
            return (String) v;
        }
        return Json.write(v);
    }

    @Override
    public String getFunctionName() {
        return config.functionName;
    }

    @Override
    public int getRunningTimeInSeconds() {
        return config.timeoutSeconds;
    }

    @Override
    public String getVersion() {
        return config.version;
    }

    @Override
    public int getMemorySize() {
        return config.memoryMb;
    }

    @Override
    public int getCPUNumber() {
        return config.cpu;
    }

    @Override
    public String getProjectID() {
        return config.projectId;
    }

    @Override
    public String getPackage() {
        return config.packageName;
    }

    @Override
    public RuntimeLogger getLogger() {
        ContextLogger l = logger;
        if (l == null) {
            synchronized (this) {
                l = logger;
                if (l == null) {
                    l = new ContextLogger(requestId);
                    logger = l;
                }
            }
        }
        return l;
    }

    @Override
    public String getAlias() {
        String tag = headers.get("x-cff-origin-version-tag");
        if (tag == null) {
            return config.alias;
        }
        return tag.startsWith("!") ? tag.substring(1) : tag;
    }

    @Override
    public String getInvokeProperty() {
        return "";
    }

    @Override
    public String getTraceID() {
        return requestId;
    }

    @Override
    public String getInvokeID() {
        return requestId;
    }

    @Override
    public String getInstanceID() {
        return "";
    }

    @Override
    public String getWorkflowID() {
        return header("x-cff-workflow-id");
    }

    @Override
    public String getWorkflowRunID() {
        return header("x-cff-workflow-run-id");
    }

    @Override
    public String getWorkflowStateID() {
        return header("x-cff-workflow-state-id");
    }

    @Override
    public Object getState() {
        return state;
    }

    @Override
    public void setState(Object state) {
        this.state = state;
    }

    @Override
    public String toString() {
        return "Context{requestID=" + requestId + ", function=" + config.functionName
                + ", version=" + config.version + "}";
    }
}
