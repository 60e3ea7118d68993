package com.huawei.services.runtime.entity.cts;

import com.huawei.services.runtime.stratus.Json;

/**
 * Who performed the operation in a {@link CTS} trace.
 */
public class User {
    private String name;
    private String id;
    private Domain domain;

    public User() {
    }

    /** User name. */
    public String getName() {
        return name;
    }

    public void setName(String value) {
        this.name = value;
    }

    /** User ID. */
    public String getId() {
        return id;
    }

    public void setId(String value) {
        this.id = value;
    }

    /** The account. */
    public Domain getDomain() {
        return domain;
    }

    public void setDomain(Domain value) {
        this.domain = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
