"""Timer triggers through the official huaweicloudsdkfunctiongraph SDK: create, list, show,
disable and enable, refused input, delete one and delete all.

Run by tests/sdk.rs against a real `stratus serve`; exits non-zero on the first failure.
Environment: FGS_ENDPOINT, FGS_AK, FGS_SK, FGS_PROJECT_ID.
"""
import base64
import io
import os
import zipfile

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions as sdk_exc
from huaweicloudsdkfunctiongraph.v2 import (
    BatchDeleteFunctionTriggersRequest, CreateFunctionRequest, CreateFunctionRequestBody,
    CreateFunctionTriggerRequest, CreateFunctionTriggerRequestBody, DeleteFunctionTriggerRequest,
    FuncCode, FunctionGraphClient, ListFunctionTriggersRequest, ShowFunctionTriggerRequest,
    TriggerEventDataRequestBody, UpdateTriggerRequest, UpdateTriggerRequestBody,
)


def code():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("index.py", "def handler(event, context):\n    return 'ok'\n")
    return base64.b64encode(buf.getvalue()).decode()


def expect_error(fn, status):
    try:
        fn()
    except sdk_exc.ClientRequestException as e:
        assert e.status_code == status, (e.status_code, e.error_code, e.error_msg)
        assert e.error_code and e.error_msg
        return e
    raise AssertionError("expected HTTP %d" % status)


def main():
    env = os.environ
    project = env["FGS_PROJECT_ID"]
    client = (FunctionGraphClient.new_builder()
              .with_credentials(BasicCredentials(env["FGS_AK"], env["FGS_SK"], project))
              .with_endpoint(env["FGS_ENDPOINT"]).build())
    body = CreateFunctionRequestBody(
        func_name="timed", package="default", runtime="Python3.9", timeout=30,
        handler="index.handler", memory_size=128, code_type="zip", func_code=FuncCode(file=code()))
    urn = client.create_function(CreateFunctionRequest(body=body)).func_urn

    def create(schedule_type, schedule, name="nightly"):
        ed = TriggerEventDataRequestBody(name=name, schedule_type=schedule_type, schedule=schedule,
                                         user_event="sdk")
        return client.create_function_trigger(CreateFunctionTriggerRequest(
            function_urn=urn, body=CreateFunctionTriggerRequestBody(
                trigger_type_code="TIMER", trigger_status="ACTIVE", event_type_code="MessageCreated",
                event_data=ed)))

    rate = create("Rate", "3m", "every-three")
    assert rate.trigger_type_code == "TIMER" and rate.trigger_status == "ACTIVE", rate
    assert rate.event_data.schedule == "3m" and rate.event_data.name == "every-three", rate.event_data
    cron = create("Cron", "0 30 8 ? * MON-FRI")
    expect_error(lambda: create("Cron", "0 30 25 ? * MON-FRI"), 400)
    expect_error(lambda: create("Rate", "90m"), 400)

    listed = client.list_function_triggers(ListFunctionTriggersRequest(function_urn=urn))
    assert sorted(t.trigger_id for t in listed.body) == sorted([rate.trigger_id, cron.trigger_id]), listed.body
    shown = client.show_function_trigger(ShowFunctionTriggerRequest(
        function_urn=urn, trigger_type_code="TIMER", trigger_id=cron.trigger_id))
    assert shown.event_data.schedule == "0 30 8 ? * MON-FRI", shown

    off = client.update_trigger(UpdateTriggerRequest(
        function_urn=urn, trigger_type_code="TIMER", trigger_id=cron.trigger_id,
        body=UpdateTriggerRequestBody(trigger_status="DISABLED")))
    assert off.trigger_status == "DISABLED", off
    on = client.update_trigger(UpdateTriggerRequest(
        function_urn=urn, trigger_type_code="TIMER", trigger_id=cron.trigger_id,
        body=UpdateTriggerRequestBody(trigger_status="ACTIVE")))
    assert on.trigger_status == "ACTIVE", on

    client.delete_function_trigger(DeleteFunctionTriggerRequest(
        function_urn=urn, trigger_type_code="TIMER", trigger_id=rate.trigger_id))
    expect_error(lambda: client.show_function_trigger(ShowFunctionTriggerRequest(
        function_urn=urn, trigger_type_code="TIMER", trigger_id=rate.trigger_id)), 404)
    client.batch_delete_function_triggers(BatchDeleteFunctionTriggersRequest(function_urn=urn))
    left = client.list_function_triggers(ListFunctionTriggersRequest(function_urn=urn))
    assert not left.body, left.body
    print("trigger SDK checks passed")


if __name__ == "__main__":
    main()
