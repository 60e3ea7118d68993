package com.huawei.services.runtime.entity.cts;

import com.huawei.services.runtime.stratus.Json;
import java.util.Map;

/**
 * One CTS trace record. Field names are the JSON keys of the event.
 */
public class CTS {
    private long time;
    private User user;
    private Map<String, Object> request;
    private Map<String, Object> response;
    private int code;
    private String service_type;
    private String resource_type;
    private String resource_name;
    private String resource_id;
    private String trace_name;
    private String trace_type;
    private String trace_rating;
    private String trace_status;
    private long record_time;
    private String trace_id;
    private String source_ip;
    private String api_version;
    private String domain_id;
    private String project_id;
    private String operation_id;
    private String message;
    private boolean read_only;
    private String resource_account_id;

    public CTS() {
    }

    /** When the operation happened, epoch milliseconds. */
    public long getTime() {
        return time;
    }

    public void setTime(long value) {
        this.time = value;
    }

    /** Who did it. */
    public User getUser() {
        return user;
    }

    public void setUser(User value) {
        this.user = value;
    }

    /** Request of the operation. */
    public Map<String, Object> getRequest() {
        return request;
    }

    public void setRequest(Map<String, Object> value) {
        this.request = value;
    }

    /** Response of the operation. */
    public Map<String, Object> getResponse() {
        return response;
    }

    public void setResponse(Map<String, Object> value) {
        this.response = value;
    }

    /** HTTP status of the operation. */
    public int getCode() {
        return code;
    }

    public void setCode(int value) {
        this.code = value;
    }

    /** Service that was called ({@code FunctionGraph}, ...). */
    public String getServiceType() {
        return service_type;
    }

    public void setServiceType(String serviceType) {
        this.service_type = serviceType;
    }

    /** Type of the resource. */
    public String getResourceType() {
        return resource_type;
    }

    public void setResourceType(String resourceType) {
        this.resource_type = resourceType;
    }

    /** Name of the resource. */
    public String getResourceName() {
        return resource_name;
    }

    public void setResourceName(String resourceName) {
        this.resource_name = resourceName;
    }

    /** ID of the resource. */
    public String getResourceId() {
        return resource_id;
    }

    public void setResourceId(String resourceId) {
        this.resource_id = resourceId;
    }

    /** Name of the operation. */
    public String getTraceName() {
        return trace_name;
    }

    public void setTraceName(String traceName) {
        this.trace_name = traceName;
    }

    /** {@code ConsoleAction}, {@code ApiCall} or {@code SystemAction}. */
    public String getTraceType() {
        return trace_type;
    }

    public void setTraceType(String traceType) {
        this.trace_type = traceType;
    }

    /** Rating: {@code normal}, {@code warning}, {@code incident}. */
    public String getTraceRating() {
        return trace_rating;
    }

    public void setTraceRating(String traceRating) {
        this.trace_rating = traceRating;
    }

    /** Status of the trace. */
    public String getTraceStatus() {
        return trace_status;
    }

    public void setTraceStatus(String traceStatus) {
        this.trace_status = traceStatus;
    }

    /** When CTS recorded the trace, epoch milliseconds. */
    public long getRecordTime() {
        return record_time;
    }

    public void setRecordTime(long recordTime) {
        this.record_time = recordTime;
    }

    /** ID of the trace. */
    public String getTraceId() {
        return trace_id;
    }

    public void setTraceId(String traceId) {
        this.trace_id = traceId;
    }

    /** Caller IP address. */
    public String getSourceIp() {
        return source_ip;
    }

    public void setSourceIp(String sourceIp) {
        this.source_ip = sourceIp;
    }

    /** API version of the operation. */
    public String getApiVersion() {
        return api_version;
    }

    public void setApiVersion(String apiVersion) {
        this.api_version = apiVersion;
    }

    /** Account (domain) ID. */
    public String getDomainId() {
        return domain_id;
    }

    public void setDomainId(String domainId) {
        this.domain_id = domainId;
    }

    /** Project ID. */
    public String getProjectId() {
        return project_id;
    }

    public void setProjectId(String projectId) {
        this.project_id = projectId;
    }

    /** Operation ID. */
    public String getOperationId() {
        return operation_id;
    }

    public void setOperationId(String operationId) {
        this.operation_id = operationId;
    }

    /** Remarks. */
    public String getMessage() {
        return message;
    }

    public void setMessage(String value) {
        this.message = value;
    }

    /** Whether the operation only reads. */
    public boolean isReadOnly() {
        return read_only;
    }

    /** Same as {@link #isReadOnly()}. */
    public boolean getReadOnly() {
        return read_only;
    }

    public void setReadOnly(boolean readOnly) {
        this.read_only = readOnly;
    }

    /** Account that owns the resource. */
    public String getResourceAccountId() {
        return resource_account_id;
    }

    public void setResourceAccountId(String resourceAccountId) {
        this.resource_account_id = resourceAccountId;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
