package com.huawei.services.runtime.entity.apig;

import com.huawei.services.runtime.stratus.Json;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * What a function behind an APIG trigger returns; the runtime sends it as
 * {@code {"statusCode":..,"headers":{..},"body":"..","isBase64Encoded":..}}.
 */
public class APIGTriggerResponse {
    private int statusCode;
    private Map<String, String> headers;
    private String body;
    private boolean isBase64Encoded;

    public APIGTriggerResponse() {
    }

    public APIGTriggerResponse(int statusCode, Map<String, String> headers, String body) {
        this.statusCode = statusCode;
        this.headers = headers;
        this.body = body;
    }

    public APIGTriggerResponse(int statusCode, Map<String, String> headers, String body, boolean isBase64Encoded) {
        this.statusCode = statusCode;
        this.headers = headers;
        this.body = body;
        this.isBase64Encoded = isBase64Encoded;
    }

    /** HTTP status code of the answer. */
    public int getStatusCode() {
        return statusCode;
    }

    public void setStatusCode(int statusCode) {
        this.statusCode = statusCode;
    }

    /** HTTP headers of the answer. */
    public Map<String, String> getHeaders() {
        return headers;
    }

    public void setHeaders(Map<String, String> headers) {
        this.headers = headers;
    }

    /** Body of the answer (Base64 when {@link #isBase64Encoded()}). */
    public String getBody() {
        return body;
    }

    public void setBody(String body) {
        this.body = body;
    }

    /** Whether APIG must Base64-decode the body before answering. */
    public boolean isBase64Encoded() {
        return isBase64Encoded;
    }

    public void setBase64Encoded(boolean base64Encoded) {
        this.isBase64Encoded = base64Encoded;
    }

    public void setIsBase64Encoded(boolean base64Encoded) {
        this.isBase64Encoded = base64Encoded;
    }

    /** Sets the body to the Base64 of {@code rawBody} (UTF-8) and marks it encoded. */
    public void setBase64EncodedBody(String rawBody) {
        this.body = rawBody == null ? null
                : Base64.getEncoder().encodeToString(rawBody.getBytes(StandardCharsets.UTF_8));
        this.isBase64Encoded = true;
    }

    /** Sets the body to the Base64 of {@code rawBody} and marks it encoded. */
    public void setBase64EncodedBody(byte[] rawBody) {
        this.body = rawBody == null ? null : Base64.getEncoder().encodeToString(rawBody);
        this.isBase64Encoded = true;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
