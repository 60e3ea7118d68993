# -*- coding:utf-8 -*-
"""Shows what the context object of a Python function offers."""


def handler(event, context):
    logger = context.getLogger()
    info = {
        "request_id": context.getRequestID(),
        "remaining_time_ms": context.getRemainingTimeInMilliSeconds(),
        "function_name": context.getFunctionName(),
        "version": context.getVersion(),
        "package": context.getPackage(),
        "project_id": context.getProjectID(),
        "memory_size_mb": context.getMemorySize(),
        "cpu_millicores": context.getCPUNumber(),
        "running_time_s": context.getRunningTimeInSeconds(),
    }
    for k, v in info.items():
        logger.info("%s: %s", k, v)
    return info
