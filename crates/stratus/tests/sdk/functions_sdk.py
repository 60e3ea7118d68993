"""Function management through the official huaweicloudsdkfunctiongraph SDK.

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
    CreateFunctionRequest, CreateFunctionRequestBody, DeleteFunctionRequest, ExportFunctionRequest,
    FuncCode, FunctionGraphClient, InvokeFunctionRequest, ListFunctionsRequest, ShowFunctionCodeRequest,
    ShowFunctionConfigRequest, StrategyConfig, UpdateFunctionCodeRequest, UpdateFunctionCodeRequestBody,
    UpdateFunctionConfigRequest, UpdateFunctionConfigRequestBody, UpdateFunctionMaxInstanceConfigRequest,
    UpdateFunctionMaxInstanceConfigRequestBody,
)


def code(version):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("index.py", "def handler(event, context):\n    return {'v': %d, 'name': event.get('name')}\n" % version)
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


def main():
    env = os.environ
    project = env["FGS_PROJECT_ID"]
    client = (FunctionGraphClient.new_builder()
              .with_credentials(BasicCredentials(env["FGS_AK"], env["FGS_SK"], project))
              .with_endpoint(env["FGS_ENDPOINT"]).build())
    bad = (FunctionGraphClient.new_builder()
           .with_credentials(BasicCredentials(env["FGS_AK"], "not-the-secret", project))
           .with_endpoint(env["FGS_ENDPOINT"]).build())
    expect_error(lambda: bad.list_functions(ListFunctionsRequest()), 401)

    body = CreateFunctionRequestBody(
        func_name="sdkfn", package="default", runtime="Python3.9", timeout=30, handler="index.handler",
        memory_size=256, code_type="zip", code_filename="index.zip", func_code=FuncCode(file=code(1)),
        user_data=json.dumps({"K": "v"}), description="made by the sdk", type="v2")
    created = client.create_function(CreateFunctionRequest(body=body))
    assert created.func_name == "sdkfn" and created.memory_size == 256 and created.timeout == 30, created
    assert created.func_urn.endswith(":sdkfn:latest"), created.func_urn
    assert isinstance(created.code_size, int) and created.code_size > 0
    urn = created.func_urn

    cfg = client.show_function_config(ShowFunctionConfigRequest(function_urn=urn))
    assert cfg.runtime == "Python3.9" and cfg.handler == "index.handler" and cfg.user_data == '{"K":"v"}', cfg
    assert cfg.strategy_config.concurrency == 400 and cfg.strategy_config.concurrent_num == 1
    assert cfg.cpu == 400 and cfg.description == "made by the sdk"

    listed = client.list_functions(ListFunctionsRequest(maxitems="400", marker="0"))
    assert [f.func_name for f in listed.functions] == ["sdkfn"] and listed.count == 1, listed

    upd = UpdateFunctionConfigRequestBody(func_name="sdkfn", runtime="Python3.9", timeout=60, handler="index.handler",
                                          memory_size=512, strategy_config=StrategyConfig(concurrency=5, concurrent_num=2))
    out = client.update_function_config(UpdateFunctionConfigRequest(function_urn=urn, body=upd))
    assert out.memory_size == 512 and out.timeout == 60 and out.strategy_config.concurrent_num == 2, out

    c2 = client.update_function_code(UpdateFunctionCodeRequest(
        function_urn=urn, body=UpdateFunctionCodeRequestBody(code_type="zip", code_filename="index.zip",
                                                             func_code=FuncCode(file=code(2)))))
    assert c2.digest != created.digest
    shown = client.show_function_code(ShowFunctionCodeRequest(function_urn=urn))
    assert shown.digest == c2.digest and shown.func_code.link, shown

    mi = client.update_function_max_instance_config(UpdateFunctionMaxInstanceConfigRequest(
        function_urn=urn, body=UpdateFunctionMaxInstanceConfigRequestBody(max_instance_num=3)))
    assert mi.strategy_config.concurrency == 3, mi

    res = client.invoke_function(InvokeFunctionRequest(function_urn=urn, x_cff_request_version="v1",
                                                       x_cff_log_type="tail", body={"name": "sdk"}))
    assert json.loads(res.result) == {"v": 2, "name": "sdk"}, res.result
    assert res.status == 200 and res.request_id and res.x_cff_request_id == res.request_id
    assert "Finish invoke request '%s'" % res.request_id in res.log, res.log

    exported = client.export_function(ExportFunctionRequest(function_urn=urn, code="true", config="true"))
    raw = getattr(exported, "raw_content", None)
    if raw is not None:
        assert raw[:2] == b"PK", raw[:20]

    # Bad input gets a 4xx with a FunctionGraph error body and changes nothing.
    bad_body = CreateFunctionRequestBody(func_name="1bad", package="default", runtime="Python3.9", timeout=30,
                                         handler="index.handler", memory_size=128, code_type="zip",
                                         func_code=FuncCode(file=code(1)))
    expect_error(lambda: client.create_function(CreateFunctionRequest(body=bad_body)), 400, "FSS.0400")
    bad_body.func_name, bad_body.runtime = "okname", "Python9"
    expect_error(lambda: client.create_function(CreateFunctionRequest(body=bad_body)), 400, "FSS.1005")
    bad_body.runtime, bad_body.memory_size = "Python3.9", 100
    expect_error(lambda: client.create_function(CreateFunctionRequest(body=bad_body)), 400)
    assert client.list_functions(ListFunctionsRequest()).count == 1

    client.delete_function(DeleteFunctionRequest(function_urn=urn.rsplit(":", 1)[0]))
    e = expect_error(lambda: client.show_function_config(ShowFunctionConfigRequest(function_urn=urn)), 404, "FSS.1051")
    assert e.request_id, "request id header missing"
    print("sdk functions: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        print("FAILED: %s" % exc)
        sys.exit(1)
