# -*- coding:utf-8 -*-
"""Answers API Gateway (APIG trigger) requests with a JSON body."""
import base64
import json


def handler(event, context):
    body = event.get("body") or ""
    if event.get("isBase64Encoded") and body:
        body = base64.b64decode(body).decode("utf-8", "replace")
    context.getLogger().info("%s %s", event.get("httpMethod"), event.get("path"))
    answer = {
        "method": event.get("httpMethod"),
        "path": event.get("path"),
        "query": event.get("queryStringParameters") or {},
        "body": body,
        "requestId": (event.get("requestContext") or {}).get("requestId"),
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(answer),
        "isBase64Encoded": False,
    }
