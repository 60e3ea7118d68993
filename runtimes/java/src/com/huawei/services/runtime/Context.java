package com.huawei.services.runtime;

/**
 * What a function can learn about the invocation it is serving and about
 * the function itself. Handlers receive it as their second argument,
 * initializers as their only one.
 *
 * <p>The method names and types are those of FunctionGraph's Java runtime,
 * so code written for FunctionGraph compiles against this interface unchanged.
 * Stratus supplies the implementation.
 */
public interface Context {

    /** ID of this invocation; the caller sees the same ID. Empty in an initializer. */
    String getRequestID();

    /** Milliseconds left before the invocation times out; never negative. */
    int getRemainingTimeInMilliSeconds();

    /**
     * AK of the function's agency.
     *
     * @deprecated FunctionGraph no longer fills it; use {@link #getSecurityAccessKey()}.
     */
    @Deprecated
    String getAccessKey();

    /**
     * SK of the function's agency.
     *
     * @deprecated FunctionGraph no longer fills it; use {@link #getSecuritySecretKey()}.
     */
    @Deprecated
    String getSecretKey();

    /** Temporary AK of the function's agency; empty when none is configured. */
    String getSecurityAccessKey();

    /** Temporary SK of the function's agency; empty when none is configured. */
    String getSecuritySecretKey();

    /** Security token that goes with the temporary AK/SK. */
    String getSecurityToken();

    /** IAM token of the function's agency; empty when none is configured. */
    String getToken();

    /** Value of the function's environment variable {@code key}, or null when it is not set. */
    String getUserData(String key);

    /** Name of the function. */
    String getFunctionName();

    /** Configured timeout, in seconds. */
    int getRunningTimeInSeconds();

    /** Version being run: {@code latest}, {@code v1}, ... */
    String getVersion();

    /** Configured memory, in MB. */
    int getMemorySize();

    /** CPU share, in millicores (1000 is one core). */
    int getCPUNumber();

    /** ID of the project the function belongs to. */
    String getProjectID();

    /** Application (function group) the function belongs to. */
    String getPackage();

    /** Logger that writes lines filed under this invocation. */
    RuntimeLogger getLogger();

    /** Alias the invocation came through; empty when invoked by version. */
    String getAlias();

    /** Opaque invoke property; empty on Stratus. */
    String getInvokeProperty();

    /** Trace ID of the invocation (the request ID). */
    String getTraceID();

    /** Internal ID of the invocation (the request ID). */
    String getInvokeID();

    /** ID of the instance; empty on Stratus. */
    String getInstanceID();

    /** Function-flow workflow ID; empty when not called from a workflow. */
    String getWorkflowID();

    /** Function-flow run ID; empty when not called from a workflow. */
    String getWorkflowRunID();

    /** Function-flow state ID; empty when not called from a workflow. */
    String getWorkflowStateID();

    /** State object set with {@link #setState(Object)}, null when none. */
    Object getState();

    /** Stores a state object with this context. */
    void setState(Object state);
}
