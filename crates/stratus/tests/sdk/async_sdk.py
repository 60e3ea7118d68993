"""Asynchronous invocation through the official huaweicloudsdkfunctiongraph SDK: the
invocation policy (set, show, list, delete, refused input), async invoke, status records
with filters and paging, and cancel.

Run by tests/sdk.rs against a real `stratus serve`; exits non-zero on the first failure.
Environment: FGS_ENDPOINT, FGS_AK, FGS_SK, FGS_PROJECT_ID.
"""
import base64
import datetime
import io
import json
import os
import time
import zipfile

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions as sdk_exc
from huaweicloudsdkfunctiongraph.v2 import (
    AsyncInvokeFunctionRequest, CancelAsyncInvocationRequest, CancelAsyncInvocationRequestBody,
    CreateFunctionRequest, CreateFunctionRequestBody, DeleteFunctionAsyncInvokeConfigRequest,
    FuncAsyncDestinationConfig, FuncCode, FuncDestinationConfig, FunctionGraphClient,
    ListAsyncInvocationsRequest, ListFunctionAsyncInvokeConfigRequest,
    ShowFunctionAsyncInvokeConfigRequest, UpdateFunctionAsyncInvokeConfigRequest,
    UpdateFunctionAsyncInvokeConfigRequestBody, UpdateFunctionMaxInstanceConfigRequest,
    UpdateFunctionMaxInstanceConfigRequestBody,
)

HANDLER = "import time\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return 'ok'\n"


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
        assert e.error_code and e.error_msg, (e.error_code, e.error_msg)
        return e
    raise AssertionError("expected HTTP %d" % status)


def main():
    env = os.environ
    project = env["FGS_PROJECT_ID"]
    client = (FunctionGraphClient.new_builder()
              .with_credentials(BasicCredentials(env["FGS_AK"], env["FGS_SK"], project))
              .with_endpoint(env["FGS_ENDPOINT"]).build())
    urns = {}
    for name in ("queued", "target"):
        body = CreateFunctionRequestBody(
            func_name=name, package="default", runtime="Python3.9", timeout=30,
            handler="index.handler", memory_size=128, code_type="zip",
            func_code=FuncCode(file=code()))
        urns[name] = client.create_function(CreateFunctionRequest(body=body)).func_urn
        client.update_function_max_instance_config(UpdateFunctionMaxInstanceConfigRequest(
            function_urn=urns[name], body=UpdateFunctionMaxInstanceConfigRequestBody(max_instance_num=1)))
    urn = urns["queued"]

    # Policy: set, show, list; refused values leave it unchanged.
    dest = FuncAsyncDestinationConfig(
        on_success=FuncDestinationConfig(destination="FunctionGraph",
                                         param=json.dumps({"func_urn": urns["target"]})),
        on_failure=FuncDestinationConfig(destination="OBS",
                                         param=json.dumps({"bucket": "sdk-fails", "prefix": "q"})))
    put = client.update_function_async_invoke_config(UpdateFunctionAsyncInvokeConfigRequest(
        function_urn=urn, body=UpdateFunctionAsyncInvokeConfigRequestBody(
            max_async_event_age_in_seconds=600, max_async_retry_attempts=2, destination_config=dest)))
    assert put.max_async_retry_attempts == 2 and put.max_async_event_age_in_seconds == 600, put
    assert put.func_urn.endswith(":latest"), put.func_urn
    assert put.destination_config.on_success.destination == "FunctionGraph", put
    shown = client.show_function_async_invoke_config(ShowFunctionAsyncInvokeConfigRequest(function_urn=urn))
    assert shown.destination_config.on_failure.destination == "OBS", shown
    assert json.loads(shown.destination_config.on_failure.param)["bucket"] == "sdk-fails", shown
    listed = client.list_function_async_invoke_config(ListFunctionAsyncInvokeConfigRequest(function_urn=urn))
    assert listed.count == 1 and listed.async_invoke_configs[0].func_urn == put.func_urn, listed
    expect_error(lambda: client.update_function_async_invoke_config(UpdateFunctionAsyncInvokeConfigRequest(
        function_urn=urn, body=UpdateFunctionAsyncInvokeConfigRequestBody(max_async_retry_attempts=7))), 400)
    back = FuncAsyncDestinationConfig(on_success=FuncDestinationConfig(
        destination="FunctionGraph", param=json.dumps({"func_urn": urn})))
    expect_error(lambda: client.update_function_async_invoke_config(UpdateFunctionAsyncInvokeConfigRequest(
        function_urn=urns["target"], body=UpdateFunctionAsyncInvokeConfigRequestBody(
            max_async_retry_attempts=1, destination_config=back))), 400)
    again = client.show_function_async_invoke_config(ShowFunctionAsyncInvokeConfigRequest(function_urn=urn))
    assert again.max_async_retry_attempts == 2, again

    # Async invoke: one long request occupies the only instance, the rest wait.
    first = client.async_invoke_function(AsyncInvokeFunctionRequest(function_urn=urn, body={"sleep": 2})).request_id
    ids = [client.async_invoke_function(AsyncInvokeFunctionRequest(function_urn=urn, body={"n": i})).request_id
           for i in range(6)]
    assert all(ids) and len(set(ids)) == 6, ids
    cancel_id = ids[-1]
    client.cancel_async_invocation(CancelAsyncInvocationRequest(
        function_urn=urn, body=CancelAsyncInvocationRequestBody(request_id=cancel_id, type="force")))
    expect_error(lambda: client.cancel_async_invocation(CancelAsyncInvocationRequest(
        function_urn=urn, body=CancelAsyncInvocationRequestBody(request_id="no-such-id"))), 404)

    begin = datetime.datetime.utcnow() - datetime.timedelta(minutes=5)
    deadline = time.time() + 60
    while True:
        resp = client.list_async_invocations(ListAsyncInvocationsRequest(
            function_urn=urn, limit="100", query_begin_time=begin))
        by_id = {r.request_id: r for r in resp.invocations}
        if all(by_id.get(i) and by_id[i].status in ("SUCCESS", "FAIL", "DISCARD") for i in [first] + ids):
            break
        assert time.time() < deadline, {k: v.status for k, v in by_id.items()}
        time.sleep(0.2)
    assert resp.count == 7, resp.count
    assert by_id[cancel_id].status == "DISCARD", by_id[cancel_id]
    assert all(by_id[i].status == "SUCCESS" for i in [first] + ids[:-1]), {k: v.status for k, v in by_id.items()}
    assert by_id[first].error_code == 0 and by_id[first].end_time, by_id[first]

    # Paging and filters.
    seen, marker = [], "0"
    while True:
        page = client.list_async_invocations(ListAsyncInvocationsRequest(
            function_urn=urn, limit="3", marker=marker, query_begin_time=begin))
        seen += [r.request_id for r in page.invocations]
        if page.next_marker >= page.count:
            break
        marker = str(page.next_marker)
    assert sorted(seen) == sorted([first] + ids), seen
    ok = client.list_async_invocations(ListAsyncInvocationsRequest(
        function_urn=urn, status="SUCCESS", query_begin_time=begin))
    assert ok.count == 6, ok.count
    one = client.list_async_invocations(ListAsyncInvocationsRequest(
        function_urn=urn, request_id=cancel_id, query_begin_time=begin))
    assert [r.request_id for r in one.invocations] == [cancel_id], one
    expect_error(lambda: client.list_async_invocations(ListAsyncInvocationsRequest(
        function_urn=urn, status="FINISHED")), 400)

    # The success destination got one record per successful request.
    deadline = time.time() + 30
    while True:
        t = client.list_async_invocations(ListAsyncInvocationsRequest(
            function_urn=urns["target"], limit="100", status="SUCCESS", query_begin_time=begin))
        if t.count == 6:
            break
        assert time.time() < deadline, t.count
        time.sleep(0.2)

    client.delete_function_async_invoke_config(DeleteFunctionAsyncInvokeConfigRequest(function_urn=urn))
    expect_error(lambda: client.show_function_async_invoke_config(
        ShowFunctionAsyncInvokeConfigRequest(function_urn=urn)), 404)
    print("async SDK checks passed")


if __name__ == "__main__":
    main()
