"""Reserved instances through the official huaweicloudsdkfunctiongraph SDK: set a count and a
scheduled policy, see the instances come up in the list, read the configs, refuse bad input,
remove the policy.

Run by tests/sdk.rs against a real `stratus serve`; exits non-zero on the first failure.
Environment: FGS_ENDPOINT, FGS_AK, FGS_SK, FGS_PROJECT_ID.
"""
import base64
import io
import os
import time
import zipfile

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions import exceptions as sdk_exc
from huaweicloudsdkfunctiongraph.v2 import (
    CreateFunctionRequest, CreateFunctionRequestBody, CronConfig, FuncCode, FunctionGraphClient,
    ListFunctionReservedInstancesRequest, ListReservedInstanceConfigsRequest, ShowFuncReservedInstanceMetricsRequest, TacticsConfig,
    UpdateFunctionReservedInstancesCountRequest, UpdateFunctionReservedInstancesCountRequestBody,
)


def code():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("index.py", "def handler(event, context):\n    return 'ok'\n")
    return base64.b64encode(buf.getvalue()).decode()


def main():
    env = os.environ
    project = env["FGS_PROJECT_ID"]
    client = (FunctionGraphClient.new_builder()
              .with_credentials(BasicCredentials(env["FGS_AK"], env["FGS_SK"], project))
              .with_endpoint(env["FGS_ENDPOINT"]).build())
    body = CreateFunctionRequestBody(
        func_name="kept", package="default", runtime="Python3.9", timeout=30,
        handler="index.handler", memory_size=128, code_type="zip", func_code=FuncCode(file=code()))
    urn = client.create_function(CreateFunctionRequest(body=body)).func_urn
    base = ":".join(urn.split(":")[:7])

    now = int(time.time())
    tactics = TacticsConfig(cron_configs=[CronConfig(name="always", cron="* * * * * ?", count=2,
                                                     start_time=now - 60, expired_time=now + 3600)])
    r = client.update_function_reserved_instances_count(UpdateFunctionReservedInstancesCountRequest(
        function_urn=urn, body=UpdateFunctionReservedInstancesCountRequestBody(count=1, tactics_config=tactics)))
    assert r.count == 1 and r.tactics_config.cron_configs[0].count == 2, r

    deadline = time.time() + 30
    while True:
        listed = client.list_function_reserved_instances(ListFunctionReservedInstancesRequest(urn=base))
        counts = {x.func_urn: x.count for x in listed.reservedinstances}
        if counts.get(base + ":latest") == 2:
            break
        assert time.time() < deadline, counts
        time.sleep(0.2)

    report = client.show_func_reserved_instance_metrics(ShowFuncReservedInstanceMetricsRequest(func_urn=base))
    assert report.reserved_instance_num[-1].value == 2, report
    assert report.instance_num[-1].value >= 2, report

    cfg = client.list_reserved_instance_configs(ListReservedInstanceConfigsRequest(function_urn=base))
    assert cfg.count == 1, cfg
    item = cfg.reserved_instances[0]
    assert (item.qualifier_type, item.qualifier_name, item.min_count) == ("version", "latest", 1), item

    try:
        client.update_function_reserved_instances_count(UpdateFunctionReservedInstancesCountRequest(
            function_urn=urn, body=UpdateFunctionReservedInstancesCountRequestBody(count=5000)))
        raise AssertionError("a count of 5000 was accepted")
    except sdk_exc.ClientRequestException as e:
        assert e.status_code == 400, e

    client.update_function_reserved_instances_count(UpdateFunctionReservedInstancesCountRequest(
        function_urn=urn, body=UpdateFunctionReservedInstancesCountRequestBody(count=0)))
    cfg = client.list_reserved_instance_configs(ListReservedInstanceConfigsRequest(function_urn=base))
    assert cfg.count == 0, cfg
    print("reserved-instance SDK checks passed")


if __name__ == "__main__":
    main()
