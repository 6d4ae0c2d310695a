error: {"code":"TRINO_DISABLED","message":"Trino is disabled","fromTable":"events","details":{"code":"TRINO_DISABLED"}}
