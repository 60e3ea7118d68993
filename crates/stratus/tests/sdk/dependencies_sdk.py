"""Dependency packages through the official huaweicloudsdkfunctiongraph SDK.

Run by tests/sdk.rs against a real `stratus serve`; exits non-zero on the first failure.
Environment: FGS_ENDPOINT, FGS_AK, FGS_SK, FGS_PROJECT_ID.
"""
import base64
import io
import json
import os
import sys
import zipfile

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions as sdk_exc
from huaweicloudsdkfunctiongraph.v2 import (
    CreateDependencyRequestBody, CreateDependencyVersionRequest, CreateFunctionRequest, CreateFunctionRequestBody,
    DeleteDependencyVersionRequest, DeleteFunctionRequest, FuncCode, FunctionGraphClient, InvokeFunctionRequest,
    ListDependenciesRequest, ListDependencyVersionRequest, ShowDependencyVersionRequest, ShowFunctionCodeRequest,
    ShowFunctionConfigRequest, UpdateFunctionCodeRequest, UpdateFunctionCodeRequestBody,
)


def b64zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return base64.b64encode(buf.getvalue()).decode()


def expect_error(fn, status, code=None):
    try:
        fn()
    except sdk_exc.ClientRequestException as e:
        assert e.status_code == status, (e.status_code, e.error_code, e.error_msg)
        assert e.error_msg, "error_msg is empty"
        if code:
            assert e.error_code == code, (e.error_code, e.error_msg)
        return e
    raise AssertionError("expected HTTP %d" % status)


def new_version(client, name, value, description=None):
    body = CreateDependencyRequestBody(
        depend_type="zip", runtime="Python3.9", name=name, description=description,
        depend_file=b64zip({"sdkmod/__init__.py": "VALUE = %r\n" % value}))
    return client.create_dependency_version(CreateDependencyVersionRequest(body=body))


def main():
    env = os.environ
    project = env["FGS_PROJECT_ID"]
    client = (FunctionGraphClient.new_builder()
              .with_credentials(BasicCredentials(env["FGS_AK"], env["FGS_SK"], project))
              .with_endpoint(env["FGS_ENDPOINT"]).build())

    v1 = new_version(client, "sdkdep", "one", description="made by the sdk")
    assert v1.name == "sdkdep" and v1.version == 1 and v1.runtime == "Python3.9", v1
    assert v1.owner == project and isinstance(v1.size, int) and v1.size > 0 and len(v1.etag) == 32, v1
    assert isinstance(v1.last_modified, int) and v1.description == "made by the sdk", v1
    v2 = new_version(client, "sdkdep", "two")
    assert v2.version == 2 and v2.dep_id == v1.dep_id and v2.id != v1.id, v2

    deps = client.list_dependencies(ListDependenciesRequest(maxitems="10", marker="0"))
    assert deps.count == 1 and [d.name for d in deps.dependencies] == ["sdkdep"], deps
    assert deps.dependencies[0].id == v1.dep_id and deps.dependencies[0].version == 2, deps
    public = client.list_dependencies(ListDependenciesRequest(dependency_type="public"))
    assert public.count == 0 and not public.dependencies, public
    versions = client.list_dependency_version(ListDependencyVersionRequest(depend_id=v1.dep_id))
    assert versions.count == 2 and [v.version for v in versions.dependencies] == [1, 2], versions
    assert versions.dependencies[0].is_shared is False, versions
    shown = client.show_dependency_version(ShowDependencyVersionRequest(depend_id=v1.dep_id, version="1"))
    assert shown.id == v1.id and shown.download_link.endswith(shown.link), shown

    code = b64zip({"index.py": "import sdkmod\n\ndef handler(event, context):\n    return {'dep': sdkmod.VALUE}\n"})
    body = CreateFunctionRequestBody(
        func_name="sdkdepfn", package="default", runtime="Python3.9", timeout=30, handler="index.handler",
        memory_size=128, code_type="zip", code_filename="index.zip", func_code=FuncCode(file=code),
        depend_version_list=[v2.id])
    created = client.create_function(CreateFunctionRequest(body=body))
    assert [d.name for d in created.dependencies] == ["sdkdep"] and created.dependencies[0].version == 2, created
    urn = created.func_urn
    cfg = client.show_function_config(ShowFunctionConfigRequest(function_urn=urn))
    assert cfg.depend_version_list == [v2.id] and cfg.dependencies[0].id == v2.id, cfg
    res = client.invoke_function(InvokeFunctionRequest(function_urn=urn, x_cff_request_version="v1", body={}))
    assert json.loads(res.result) == {"dep": "two"}, res.result

    e = expect_error(lambda: client.delete_dependency_version(
        DeleteDependencyVersionRequest(depend_id=v1.dep_id, version="2")), 409, "FSS.0428")
    assert "sdkdepfn" in e.error_msg, e.error_msg

    moved = client.update_function_code(UpdateFunctionCodeRequest(
        function_urn=urn, body=UpdateFunctionCodeRequestBody(
            code_type="zip", code_filename="index.zip", func_code=FuncCode(file=code), depend_version_list=[v1.id])))
    assert moved.depend_version_list == [v1.id] and moved.dependencies[0].version == 1, moved
    shown_code = client.show_function_code(ShowFunctionCodeRequest(function_urn=urn))
    assert shown_code.depend_version_list == [v1.id], shown_code
    res = client.invoke_function(InvokeFunctionRequest(function_urn=urn, x_cff_request_version="v1", body={}))
    assert json.loads(res.result) == {"dep": "one"}, res.result

    client.delete_dependency_version(DeleteDependencyVersionRequest(depend_id=v1.dep_id, version="2"))
    expect_error(lambda: client.delete_dependency_version(
        DeleteDependencyVersionRequest(depend_id=v1.dep_id, version="1")), 409, "FSS.0428")

    # Bad input gets a 4xx with a FunctionGraph error body and changes nothing.
    bad = CreateDependencyRequestBody(depend_type="zip", runtime="Python3.9", name="9lives",
                                      depend_file=b64zip({"a.py": ""}))
    expect_error(lambda: client.create_dependency_version(CreateDependencyVersionRequest(body=bad)), 400, "FSS.0400")
    bad.name, bad.depend_file = "okname", b64zip({"a.py~": ""})
    expect_error(lambda: client.create_dependency_version(CreateDependencyVersionRequest(body=bad)), 400, "FSS.0400")
    bad.depend_file, bad.runtime = b64zip({"a.py": ""}), "Python9"
    expect_error(lambda: client.create_dependency_version(CreateDependencyVersionRequest(body=bad)), 400, "FSS.1005")
    bad_fn = CreateFunctionRequestBody(
        func_name="baddeps", package="default", runtime="Python3.9", timeout=30, handler="index.handler",
        memory_size=128, code_type="zip", func_code=FuncCode(file=code), depend_version_list=["nope"])
    expect_error(lambda: client.create_function(CreateFunctionRequest(body=bad_fn)), 400, "FSS.0424")
    assert client.list_dependencies(ListDependenciesRequest()).count == 1
    expect_error(lambda: client.show_dependency_version(
        ShowDependencyVersionRequest(depend_id=v1.dep_id, version="2")), 404)

    client.delete_function(DeleteFunctionRequest(function_urn=urn.rsplit(":", 1)[0]))
    client.delete_dependency_version(DeleteDependencyVersionRequest(depend_id=v1.dep_id, version="1"))
    assert client.list_dependencies(ListDependenciesRequest()).count == 0
    expect_error(lambda: client.list_dependency_version(ListDependencyVersionRequest(depend_id=v1.dep_id)), 404)
    print("sdk dependencies: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        print("FAILED: %s" % exc)
        sys.exit(1)
