# -*- coding:utf-8 -*-
import json


def handler(event, context):
    logger = context.getLogger()
    logger.info("received event: %s", json.dumps(event))
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    return {"message": "Hello, %s!" % name, "event": event}
