# -*- coding:utf-8 -*-
"""Processes object storage (OBS trigger) notifications, one record per object."""
from urllib.parse import unquote_plus


def handler(event, context):
    logger = context.getLogger()
    processed = []
    for record in event.get("Records", []):
        s3 = record.get("s3", {})
        bucket = s3.get("bucket", {}).get("name")
        obj = s3.get("object", {})
        # Object keys arrive URL-encoded ("/" as %2F, space as +).
        key = unquote_plus(obj.get("key", ""))
        logger.info("%s: %s/%s (%s bytes)", record.get("eventName"), bucket, key, obj.get("size"))
        processed.append({"event": record.get("eventName"), "bucket": bucket, "key": key,
                          "size": obj.get("size")})
    return {"processed": len(processed), "objects": processed}
