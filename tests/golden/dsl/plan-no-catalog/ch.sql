error: {"code":"NO_CATALOG","message":"No Trino catalog for databases: pg-tenant","fromTable":"orders","details":{"code":"NO_CATALOG","databases":["pg-tenant"]}}
