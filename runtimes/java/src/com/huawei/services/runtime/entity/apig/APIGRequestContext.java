package com.huawei.services.runtime.entity.apig;

import com.huawei.services.runtime.stratus.Json;

/** The {@code requestContext} of an APIG trigger event. */
public class APIGRequestContext {
    private String apiId;
    private String requestId;
    private String stage;
    private String sourceIp;

    public APIGRequestContext() {
    }

    /** ID of the API that was called. */
    public String getApiId() {
        return apiId;
    }

    public void setApiId(String apiId) {
        this.apiId = apiId;
    }

    /** APIG's ID for this request (equals the {@code x-request-id} header). */
    public String getRequestId() {
        return requestId;
    }

    public void setRequestId(String requestId) {
        this.requestId = requestId;
    }

    /** Environment the API is published in ({@code RELEASE}, ...). */
    public String getStage() {
        return stage;
    }

    public void setStage(String stage) {
        this.stage = stage;
    }

    /** Client IP address, when APIG sends it. */
    public String getSourceIp() {
        return sourceIp;
    }

    public void setSourceIp(String sourceIp) {
        this.sourceIp = sourceIp;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
