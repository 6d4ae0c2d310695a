error: {"code":"TRINO_DISABLED","message":"Trino is disabled","fromTable":"orders","details":{"code":"TRINO_DISABLED"}}
