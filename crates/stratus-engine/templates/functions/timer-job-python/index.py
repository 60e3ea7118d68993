# -*- coding:utf-8 -*-
"""A scheduled job run by a timer trigger."""
import json


def handler(event, context):
    logger = context.getLogger()
    trigger = event.get("trigger_name", "?")
    user_event = event.get("user_event", "")
    logger.info("timer %s fired at %s", trigger, event.get("time"))
    try:
        params = json.loads(user_event) if user_event else {}
    except ValueError:
        params = {"text": user_event}
    # The job itself goes here; this one only reports what it was given.
    return {"trigger": trigger, "time": event.get("time"), "params": params, "status": "done"}
