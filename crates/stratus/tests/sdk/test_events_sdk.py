"""Test events (and function templates) through the official huaweicloudsdkfunctiongraph SDK.

Run by tests/sdk.rs against a real `stratus serve`; exits non-zero on the first failure.
Environment: FGS_ENDPOINT, FGS_AK, FGS_SK, FGS_PROJECT_ID.
"""
import base64
import io
import json
import os
import sys
import time
import zipfile

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions as sdk_exc
from huaweicloudsdkfunctiongraph.v2 import (
    CreateEventRequest, CreateEventRequestBody, CreateFunctionRequest, CreateFunctionRequestBody,
    DeleteEventRequest, DeleteFunctionRequest, FuncCode, FunctionGraphClient, InvokeFunctionRequest,
    ListEventsRequest, ListFunctionTemplateRequest, ShowEventRequest, ShowFunctionTemplateRequest,
    UpdateEventRequest, UpdateEventRequestBody,
)


def code():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("index.py", "def handler(event, context):\n    return {'got': event}\n")
    return base64.b64encode(buf.getvalue()).decode()


def b64json(value):
    return base64.b64encode(json.dumps(value).encode()).decode()


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

    body = CreateFunctionRequestBody(
        func_name="sdkevents", package="default", runtime="Python3.9", timeout=30, handler="index.handler",
        memory_size=128, code_type="zip", code_filename="index.zip", func_code=FuncCode(file=code()))
    urn = client.create_function(CreateFunctionRequest(body=body)).func_urn

    assert client.list_events(ListEventsRequest(function_urn=urn)).count == 0

    created = client.create_event(CreateEventRequest(
        function_urn=urn, body=CreateEventRequestBody(name="event-k9r3", content=b64json({"k": "v"}))))
    assert created.name == "event-k9r3" and created.id, created
    event_id = created.id

    listed = client.list_events(ListEventsRequest(function_urn=urn))
    assert listed.count == 1 and listed.next_marker == 1, listed
    entry = listed.events[0]
    assert (entry.id, entry.name) == (event_id, "event-k9r3"), entry
    assert isinstance(entry.last_modified, (int, float)) and abs(entry.last_modified - time.time()) < 120, entry

    shown = client.show_event(ShowEventRequest(function_urn=urn, event_id=event_id))
    assert shown.name == "event-k9r3" and shown.id == event_id, shown
    assert json.loads(base64.b64decode(shown.content)) == {"k": "v"}, shown.content

    updated = client.update_event(UpdateEventRequest(
        function_urn=urn, event_id=event_id, body=UpdateEventRequestBody(content=b64json({"k": "changed"}))))
    assert (updated.id, updated.name) == (event_id, "event-k9r3"), updated
    shown = client.show_event(ShowEventRequest(function_urn=urn, event_id=event_id))
    event = json.loads(base64.b64decode(shown.content))
    assert event == {"k": "changed"}, event

    # The saved event is what a test invokes the function with.
    res = client.invoke_function(InvokeFunctionRequest(function_urn=urn, x_cff_request_version="v1",
                                                       x_cff_log_type="tail", body=event))
    assert json.loads(res.result) == {"got": {"k": "changed"}}, res.result

    # Bad input: names of guide table 6-1, content that is not base64 JSON, the limit of 10.
    for bad in ["1abc", "abc-", "a" * 26, "a b"]:
        expect_error(lambda: client.create_event(CreateEventRequest(
            function_urn=urn, body=CreateEventRequestBody(name=bad, content=b64json({})))), 400, "FSS.0400")
    expect_error(lambda: client.create_event(CreateEventRequest(
        function_urn=urn, body=CreateEventRequestBody(
            name="broken", content=base64.b64encode(b"{not json").decode()))), 400, "FSS.0400")
    expect_error(lambda: client.create_event(CreateEventRequest(
        function_urn=urn, body=CreateEventRequestBody(name="event-k9r3", content=b64json({})))), 409, "FSS.0409")
    for i in range(9):
        client.create_event(CreateEventRequest(
            function_urn=urn, body=CreateEventRequestBody(name="e%d" % i, content=b64json({"i": i}))))
    expect_error(lambda: client.create_event(CreateEventRequest(
        function_urn=urn, body=CreateEventRequestBody(name="eleventh", content=b64json({})))), 400, "FSS.1090")
    assert client.list_events(ListEventsRequest(function_urn=urn)).count == 10

    client.delete_event(DeleteEventRequest(function_urn=urn, event_id=event_id))
    expect_error(lambda: client.show_event(ShowEventRequest(function_urn=urn, event_id=event_id)), 404)
    expect_error(lambda: client.delete_event(DeleteEventRequest(function_urn=urn, event_id=event_id)), 404)
    names = [e.name for e in client.list_events(ListEventsRequest(function_urn=urn)).events]
    assert names == ["e%d" % i for i in range(9)], names

    # Function templates.
    templates = client.list_function_template(ListFunctionTemplateRequest())
    assert len(templates.func_templates) == 7, templates
    by_runtime = client.list_function_template(ListFunctionTemplateRequest(runtime="Node.js18.15"))
    assert [t.template_name for t in by_runtime.func_templates] == ["hello-nodejs"], by_runtime
    hello = client.show_function_template(ShowFunctionTemplateRequest(template_id="hello-python"))
    assert hello.runtime == "Python3.9" and hello.handler == "index.handler" and hello.code_type == "zip", hello
    assert zipfile.ZipFile(io.BytesIO(base64.b64decode(hello.code))).namelist() == ["index.py"]
    assert hello.temp_detail.input == "blank-template", hello.temp_detail
    expect_error(lambda: client.show_function_template(ShowFunctionTemplateRequest(template_id="nope")), 404)

    # Deleting the function deletes its events.
    client.delete_function(DeleteFunctionRequest(function_urn=urn.rsplit(":", 1)[0]))
    expect_error(lambda: client.list_events(ListEventsRequest(function_urn=urn)), 404, "FSS.1051")
    client.create_function(CreateFunctionRequest(body=body))
    assert client.list_events(ListEventsRequest(function_urn=urn)).count == 0
    print("sdk test events: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # noqa: BLE001
        import traceback
        traceback.print_exc()
        print("FAILED: %s" % exc)
        sys.exit(1)
