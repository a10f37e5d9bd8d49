"""Configuration, read once from ``JIEDUI_*`` environment variables (and a ``.env`` file).

Only this module reads the environment, so every other module receives plain values and tests can
pass their own ``Settings`` without touching ``os.environ``.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RiskWeights(BaseModel):
    """Points each fact adds to a priority household's risk score (see ``monitoring/risk.py``).

    The defaults follow the order in which the source reports name the most fragile households:
    sudden severe hardship first, then extreme poverty, severe disability, several disabled members
    and elderly parents caring for a disabled adult.
    """

    sudden_hardship: int = 40  # 突发严重困难户
    unstable: int = 30  # 脱贫不稳定户
    marginal: int = 25  # 边缘易致贫户
    tekun: int = 25  # 特困
    severe_member: int = 20  # a member graded 一级 or 二级 (once per household)
    extra_severe_member: int = 5  # each further severe member
    multiple_disabled: int = 15  # 一户多残: two or more disabled members
    elderly_carer: int = 15  # 以老养残
    dibao: int = 10  # 低保
    no_labour: int = 10  # 劳动力人数 = 0
    high_level: int = 50  # score at or above this is 高
    medium_level: int = 30  # score at or above this is 中, below it 低


class Settings(BaseSettings):
    """Every setting the system reads; one instance per process via :func:`get_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="JIEDUI_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    store: str = Field(
        "./jiedui-data",
        description="A directory (embedded LadybugDB) or a bolt://, bolt+s://, neo4j://, neo4j+s:// URI",
    )
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"
    neo4j_max_retry_seconds: float = 30.0
    # Statements one Neo4j read may run at once (Tx.side_by_side), its own among them, through a
    # pool of this many less one threads for the whole process: a statement runs on one core of
    # the server (Community has no parallel runtime). On 2 cores a province's benefit gaps took
    # 2.9 s with 1, 2.0 with 2, 1.8–1.9 with 3 and 2.1 with 5 (docs/benchmarks.md). 1: one after
    # the other.
    neo4j_reads_at_once: int = Field(3, ge=1)
    # 0: LadybugDB's own default (80% of the machine's memory). A small pool fills with pages a
    # province-size import has not checkpointed yet ("buffer pool is full").
    embedded_buffer_pool_mb: int = 0
    # Threads one embedded read query may use; 0: the engine's default (every core). The service
    # runs with 1: its queries are small, and one thread each halves their latency and lets
    # concurrent requests use the other cores (see docs/benchmarks.md, "Service").
    embedded_query_threads: int = 0
    # Write transactions between the embedded store's own checkpoints (0: only the engine's, every
    # 16 MiB of WAL). Each committed write holds memory until a checkpoint, far more than its WAL
    # (a one-property SET ~33 KiB): a service doing many small writes would otherwise grow for long.
    embedded_checkpoint_writes: int = Field(1000, ge=0)
    # Write transactions between reopenings of the embedded database (0: never). The engine holds
    # some memory for every write until the database is closed, checkpoints or not; a reopening
    # (a fraction of a second; requests wait) gives it back, as restarting the service would.
    embedded_reopen_writes: int = Field(10_000, ge=0)
    # Seconds the service keeps a monitoring report's run (0: never); any change made through the
    # service empties the cache (api/report_cache.py).
    report_cache_seconds: float = 30.0
    # Seconds the service keeps a token's lookup (api/auth.py: TokenCache). A revoked token or an
    # ended session is refused at once by the process that revoked it, and by the other worker
    # processes within this bound; lower it to shorten that, at a store lookup per token per period.
    token_cache_seconds: float = Field(30.0, gt=0)
    batch_size: int = Field(10_000, gt=0)  # items per write transaction of an import
    page_size: int = 50
    max_page_size: int = 1000
    max_upload_mb: int = 200  # the largest import upload the web service accepts (413 beyond)
    # Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: comma-separated
    # addresses or networks ("10.0.0.5", "10.0.0.0/24"; "*" any). Empty: none, so the peer address
    # is the client the throttles count (a header anyone can send must not choose the address).
    forwarded_allow_ips: str = ""
    # The secret the console's CSRF tokens are made under (api/security.py). Empty: each process
    # draws its own (`jiedui serve --workers N` draws one and gives it to its workers). Several
    # services behind one proxy must share it, or a form made by one is refused by another.
    csrf_secret: str = ""
    # The most a GraphQL operation may cost (api/graphql/cost.py), computed from the query before
    # it runs; above it the operation is refused with QUERY_TOO_COSTLY.
    graphql_max_cost: int = Field(50_000, gt=0)
    # What one import file may hold, checked from its own structure before it is read
    # (importers/file_limits.py); the defaults admit the province preset's files with room to spare.
    import_max_cells: int = Field(40_000_000, gt=0)  # a sheet's used area from A1 (rows × columns), a CSV's cells
    import_max_columns: int = Field(16_384, gt=0)  # Excel's own limit
    import_max_unpacked_mb: int = Field(2048, gt=0)  # a workbook's parts as its zip directory declares them
    import_max_ratio: int = Field(100, gt=0)  # unpacked / packed size of any part over 1 MiB
    import_max_parts: int = Field(10_000, gt=0)  # entries in a workbook's zip
    # The service reads uploads in a child process with these limits (importers/sandbox.py)
    import_memory_mb: int = Field(8192, gt=0)  # address space of the child
    import_cpu_seconds: int = Field(300, gt=0)
    import_timeout_seconds: float = Field(600.0, gt=0)
    import_readers: int = Field(2, gt=0)  # children reading at once; further uploads wait for one
    risk: RiskWeights = RiskWeights()
    # Reminders (graph_schema/notify): the SMS gateway the outbox is posted to ("" keeps the texts
    # as recorded and sends nothing), and the daily time the service writes the inboxes ("" never;
    # then run `jiedui notify` from cron or use the console's button).
    sms_url: str = ""
    sms_timeout_seconds: float = Field(10.0, gt=0)
    sms_max_attempts: int = Field(5, ge=1)
    notify_at: str = Field("", pattern=r"^$|^([01][0-9]|2[0-3]):[0-5][0-9]$")
    # Days the first answer to a request with an Idempotency-Key is kept (api/idempotency.py): a
    # phone that lost the answer may repeat the request when it next finds a network, days later.
    idempotency_days: int = Field(30, ge=1)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
