package com.huawei.services.runtime.entity.apig;

import com.huawei.services.runtime.stratus.Json;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * The event an API Gateway (APIG/APIC) trigger sends: the HTTP request.
 * Field names are the JSON keys of the event.
 */
public class APIGTriggerEvent {
    private boolean isBase64Encoded;
    private String httpMethod;
    private String path;
    private String body;
    private Map<String, String> pathParameters;
    private APIGRequestContext requestContext;
    private Map<String, String> headers;
    private Map<String, String> queryStringParameters;
    private String user_data;

    public APIGTriggerEvent() {
    }

    /** Whether {@link #getBody()} is Base64 (APIG's default). */
    public boolean isBase64Encoded() {
        return isBase64Encoded;
    }

    public void setBase64Encoded(boolean base64Encoded) {
        this.isBase64Encoded = base64Encoded;
    }

    public void setIsBase64Encoded(boolean base64Encoded) {
        this.isBase64Encoded = base64Encoded;
    }

    /** Request method: GET, POST, ... */
    public String getHttpMethod() {
        return httpMethod;
    }

    public void setHttpMethod(String httpMethod) {
        this.httpMethod = httpMethod;
    }

    /** Request path. */
    public String getPath() {
        return path;
    }

    public void setPath(String path) {
        this.path = path;
    }

    /** Request body as sent in the event (Base64 when {@link #isBase64Encoded()}). */
    public String getBody() {
        return body;
    }

    public void setBody(String body) {
        this.body = body;
    }

    /**
     * The request body as text: Base64-decoded (UTF-8) when the event says it
     * is encoded, else the body itself. Never null.
     */
    public String getRawBody() {
        if (body == null) {
            return "";
        }
        if (!isBase64Encoded) {
            return body;
        }
        try {
            return new String(Base64.getDecoder().decode(body.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            try {
                return new String(Base64.getMimeDecoder().decode(body), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException again) {
                return body;
            }
        }
    }

    /** Path parameters defined on the API. */
    public Map<String, String> getPathParameters() {
        return pathParameters;
    }

    public void setPathParameters(Map<String, String> pathParameters) {
        this.pathParameters = pathParameters;
    }

    /** APIG details of the request. */
    public APIGRequestContext getRequestContext() {
        return requestContext;
    }

    public void setRequestContext(APIGRequestContext requestContext) {
        this.requestContext = requestContext;
    }

    /** Request headers, lower-case names. */
    public Map<String, String> getHeaders() {
        return headers;
    }

    public void setHeaders(Map<String, String> headers) {
        this.headers = headers;
    }

    /** Query string parameters. */
    public Map<String, String> getQueryStringParameters() {
        return queryStringParameters;
    }

    public void setQueryStringParameters(Map<String, String> queryStringParameters) {
        this.queryStringParameters = queryStringParameters;
    }

    /** Data set by an APIG custom authorizer ({@code user_data}). */
    public String getUserData() {
        return user_data;
    }

    public void setUserData(String userData) {
        this.user_data = userData;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
