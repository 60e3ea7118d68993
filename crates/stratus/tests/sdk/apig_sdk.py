"""API gateway (APIG) triggers through the official huaweicloudsdkfunctiongraph SDK:
create with the SDK's models, call the returned invoke_url, list, show, refused disable,
a conflicting API, delete one and delete all.

Run by tests/sdk.rs against a real `stratus serve`; exits non-zero on the first failure.
Environment: FGS_ENDPOINT, FGS_AK, FGS_SK, FGS_PROJECT_ID.
"""
import base64
import io
import json
import os
import urllib.error
import urllib.request
import zipfile

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions as sdk_exc
from huaweicloudsdkfunctiongraph.v2 import (
    ApigTriggerFuncInfo, BatchDeleteFunctionTriggersRequest, CreateFunctionRequest,
    CreateFunctionRequestBody, CreateFunctionTriggerRequest, CreateFunctionTriggerRequestBody,
    DeleteFunctionTriggerRequest, FuncCode, FunctionGraphClient, ListFunctionTriggersRequest,
    ShowFunctionTriggerRequest, TriggerEventDataRequestBody, UpdateTriggerRequest,
    UpdateTriggerRequestBody,
)

HANDLER = '''import json
def handler(event, context):
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"id": event["pathParameters"].get("id"),
                                "q": event["queryStringParameters"].get("q")}),
            "isBase64Encoded": False}
'''


def code():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("index.py", HANDLER)
    return base64.b64encode(buf.getvalue()).decode()


def expect_error(fn, status):
    try:
        fn()
    except sdk_exc.ClientRequestException as e:
        assert e.status_code == status, (e.status_code, e.error_code, e.error_msg)
        assert e.error_code and e.error_msg
        return e
    raise AssertionError("expected HTTP %d" % status)


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    env = os.environ
    project = env["FGS_PROJECT_ID"]
    client = (FunctionGraphClient.new_builder()
              .with_credentials(BasicCredentials(env["FGS_AK"], env["FGS_SK"], project))
              .with_endpoint(env["FGS_ENDPOINT"]).build())
    body = CreateFunctionRequestBody(
        func_name="web", package="default", runtime="Python3.9", timeout=30,
        handler="index.handler", memory_size=128, code_type="zip", func_code=FuncCode(file=code()))
    urn = client.create_function(CreateFunctionRequest(body=body)).func_urn

    def create(path, method="GET"):
        ed = TriggerEventDataRequestBody(
            name="API_web", type=1, path=path, protocol="HTTPS", req_method=method,
            group_id=project, group_name="APIGroup_sdk", match_mode="NORMAL", env_name="RELEASE",
            env_id="DEFAULT_ENVIRONMENT_RELEASE_ID", auth="NONE",
            func_info=ApigTriggerFuncInfo(timeout=5000, invocation_type="sync"))
        return client.create_function_trigger(CreateFunctionTriggerRequest(
            function_urn=urn, body=CreateFunctionTriggerRequestBody(
                trigger_type_code="APIG", trigger_status="ACTIVE", event_data=ed)))

    t = create("/sdk/{id}")
    assert t.trigger_type_code == "APIG" and t.trigger_status == "ACTIVE", t
    d = t.event_data
    assert d.triggerid == t.trigger_id and len(d.api_id) == 32 and d.api_name == "API_web", d
    assert d.path == "/sdk/{id}" and d.req_method == "GET" and d.auth == "NONE", d
    assert d.func_info.timeout == 5000 and d.func_info.invocation_type == "sync", d.func_info
    assert d.invoke_url.endswith("/%s/sdk/{id}" % project), d.invoke_url

    status, out = http_get(d.invoke_url.replace("{id}", "42") + "?q=hello")
    assert status == 200, (status, out)
    assert json.loads(out) == {"id": "42", "q": "hello"}, out

    other = create("/sdk/{id}", "POST")
    expect_error(lambda: create("/sdk/{other}"), 409)
    expect_error(lambda: create("no-slash"), 400)
    expect_error(lambda: client.update_trigger(UpdateTriggerRequest(
        function_urn=urn, trigger_type_code="APIG", trigger_id=t.trigger_id,
        body=UpdateTriggerRequestBody(trigger_status="DISABLED"))), 400)

    listed = client.list_function_triggers(ListFunctionTriggersRequest(function_urn=urn))
    assert sorted(x.trigger_id for x in listed.body) == sorted([t.trigger_id, other.trigger_id])
    shown = client.show_function_trigger(ShowFunctionTriggerRequest(
        function_urn=urn, trigger_type_code="APIG", trigger_id=t.trigger_id))
    assert shown.event_data.invoke_url == d.invoke_url, shown

    client.delete_function_trigger(DeleteFunctionTriggerRequest(
        function_urn=urn, trigger_type_code="APIG", trigger_id=t.trigger_id))
    expect_error(lambda: client.show_function_trigger(ShowFunctionTriggerRequest(
        function_urn=urn, trigger_type_code="APIG", trigger_id=t.trigger_id)), 404)
    status, _ = http_get(d.invoke_url.replace("{id}", "42"))
    assert status == 404, status
    client.batch_delete_function_triggers(BatchDeleteFunctionTriggersRequest(function_urn=urn))
    left = client.list_function_triggers(ListFunctionTriggersRequest(function_urn=urn))
    assert not left.body, left.body
    print("APIG trigger SDK checks passed")


if __name__ == "__main__":
    main()
