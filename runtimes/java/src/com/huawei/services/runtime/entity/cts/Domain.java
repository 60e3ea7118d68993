package com.huawei.services.runtime.entity.cts;

import com.huawei.services.runtime.stratus.Json;

/**
 * The account (domain) of a {@link User}.
 */
public class Domain {
    private String name;
    private String id;

    public Domain() {
    }

    /** Account name. */
    public String getName() {
        return name;
    }

    public void setName(String value) {
        this.name = value;
    }

    /** Account ID. */
    public String getId() {
        return id;
    }

    public void setId(String value) {
        this.id = value;
    }

    @Override
    public String toString() {
        return Json.describe(this);
    }
}
