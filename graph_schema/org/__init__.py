"""Social organisations (统一社会信用代码 as key): upsert, scoped lookups and lists."""
