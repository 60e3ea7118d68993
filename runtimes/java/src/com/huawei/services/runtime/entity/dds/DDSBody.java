package com.huawei.services.runtime.entity.dds;

import com.huawei.services.runtime.stratus.Json;

/**
 * The change in a {@link DDSRecord}; the documents are MongoDB extended-JSON text.
 */
public class DDSBody {
    private String size_bytes;
    private String token;
    private String full_document;
    private String ns;

    public DDSBody() {
    }

    /** Size of the change. */
    public String getSizeBytes() {
        return size_bytes;
    }

    public void setSizeBytes(String sizeBytes) {
        this.size_bytes = sizeBytes;
    }

    /** Resume token (JSON text). */
    public String getToken() {
        return token;
    }

    public void setToken(String value) {
        this.token = value;
    }

    /** The document (JSON text). */
    public String getFullDocument() {
        return full_document;
    }

    public void setFullDocument(String fullDocument) {
        this.full_document = fullDocument;
    }

    /** Database and collection (JSON text). */
    public String getNs() {
        return ns;
    }

    public void setNs(String value) {
        this.ns = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
