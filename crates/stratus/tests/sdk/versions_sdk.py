"""Versions and aliases through the official huaweicloudsdkfunctiongraph SDK.

Run by tests/sdk.rs against a real `stratus serve`; exits non-zero on the first failure.
Environment: FGS_ENDPOINT, FGS_AK, FGS_SK, FGS_PROJECT_ID.
"""
import base64
import io
import json
import os
import zipfile

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions as sdk_exc
from huaweicloudsdkfunctiongraph.v2 import (
    CreateFunctionRequest, CreateFunctionRequestBody, CreateFunctionVersionRequest,
    CreateFunctionVersionRequestBody, CreateVersionAliasRequest, CreateVersionAliasRequestBody,
    DeleteFunctionRequest, DeleteVersionAliasRequest, FuncCode, FunctionGraphClient,
    InvokeFunctionRequest, ListFunctionVersionsRequest, ListVersionAliasesRequest,
    ShowFunctionConfigRequest, ShowVersionAliasRequest, UpdateFunctionCodeRequest,
    UpdateFunctionCodeRequestBody, UpdateVersionAliasRequest, UpdateVersionAliasRequestBody,
)


def code(tag):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("index.py", "def handler(event, context):\n    return %r\n" % tag)
    return base64.b64encode(buf.getvalue()).decode()


def expect_error(fn, status, code=None):
    try:
        fn()
    except sdk_exc.ClientRequestException as e:
        assert e.status_code == status, (e.status_code, e.error_code, e.error_msg)
        if code:
            assert e.error_code == code, (e.error_code, e.error_msg)
        return e
    raise AssertionError("expected HTTP %d" % status)


def main():
    env = os.environ
    project = env["FGS_PROJECT_ID"]
    client = (FunctionGraphClient.new_builder()
              .with_credentials(BasicCredentials(env["FGS_AK"], env["FGS_SK"], project))
              .with_endpoint(env["FGS_ENDPOINT"]).build())
    body = CreateFunctionRequestBody(
        func_name="versioned", package="default", runtime="Python3.9", timeout=30,
        handler="index.handler", memory_size=128, code_type="zip", func_code=FuncCode(file=code("one")))
    urn = client.create_function(CreateFunctionRequest(body=body)).func_urn
    base = ":".join(urn.split(":")[:7])

    def invoke(target):
        r = client.invoke_function(InvokeFunctionRequest(function_urn=target, x_cff_request_version="v1", body={}))
        return r.result

    v1 = client.create_function_version(CreateFunctionVersionRequest(
        function_urn=urn, body=CreateFunctionVersionRequestBody(version="v1", description="first")))
    assert v1.version == "v1" and v1.func_urn == base + ":v1", (v1.version, v1.func_urn)
    assert v1.version_description == "first", v1.version_description
    client.update_function_code(UpdateFunctionCodeRequest(function_urn=urn, body=UpdateFunctionCodeRequestBody(
        code_type="zip", func_code=FuncCode(file=code("two")))))
    auto = client.create_function_version(CreateFunctionVersionRequest(
        function_urn=urn, body=CreateFunctionVersionRequestBody()))
    assert auto.version.startswith("v2") and len(auto.version) == 16, auto.version
    expect_error(lambda: client.create_function_version(CreateFunctionVersionRequest(
        function_urn=urn, body=CreateFunctionVersionRequestBody(version="v1"))), 409)
    versions = client.list_function_versions(ListFunctionVersionsRequest(function_urn=urn))
    assert [v.version for v in versions.versions] == ["latest", "v1", auto.version], versions.versions
    assert versions.count == 3, versions.count
    shown = client.show_function_config(ShowFunctionConfigRequest(function_urn=base + ":v1"))
    assert shown.version == "v1", shown.version
    assert invoke(base + ":v1") == "one" and invoke(urn) == "two"

    a = client.create_version_alias(CreateVersionAliasRequest(function_urn=urn, body=CreateVersionAliasRequestBody(
        name="prod", version="v1", description="production", additional_version_weights={auto.version: 0})))
    assert a.alias_urn == base + ":!prod", a.alias_urn
    assert invoke(a.alias_urn) == "one"
    u = client.update_version_alias(UpdateVersionAliasRequest(function_urn=urn, alias_name="prod",
                                    body=UpdateVersionAliasRequestBody(version=auto.version)))
    assert u.version == auto.version, u
    assert invoke(a.alias_urn) == "two"
    got = client.show_version_alias(ShowVersionAliasRequest(function_urn=urn, alias_name="prod"))
    assert got.name == "prod" and got.version == auto.version, got
    listed = client.list_version_aliases(ListVersionAliasesRequest(function_urn=urn))
    assert [x.name for x in listed.body] == ["prod"], listed.body
    expect_error(lambda: client.create_version_alias(CreateVersionAliasRequest(
        function_urn=urn, body=CreateVersionAliasRequestBody(name="bad!", version="v1"))), 400)
    expect_error(lambda: client.create_version_alias(CreateVersionAliasRequest(
        function_urn=urn, body=CreateVersionAliasRequestBody(name="x", version="v1",
                                                             additional_version_weights={"latest": 10}))), 400)

    client.delete_version_alias(DeleteVersionAliasRequest(function_urn=urn, alias_name="prod"))
    expect_error(lambda: client.show_version_alias(ShowVersionAliasRequest(function_urn=urn, alias_name="prod")),
                 404, "FSS.1053")
    client.delete_function(DeleteFunctionRequest(function_urn=base + ":v1"))
    expect_error(lambda: client.show_function_config(ShowFunctionConfigRequest(function_urn=base + ":v1")),
                 404, "FSS.1052")
    expect_error(lambda: client.delete_function(DeleteFunctionRequest(function_urn=urn)), 400)
    client.delete_function(DeleteFunctionRequest(function_urn=base))
    print("versions SDK checks passed")


if __name__ == "__main__":
    main()
