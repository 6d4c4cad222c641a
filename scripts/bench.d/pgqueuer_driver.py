"""pgqueuer consumer for scripts/bench: its public API (QueueManager, AsyncpgDriver), a no-op
entrypoint named "noop" (QueueManager(Queries(driver)) is what PgQueuer wraps).

    python pgqueuer_driver.py DSN drain BATCH           work until the queue is empty, then exit
    python pgqueuer_driver.py DSN continuous BATCH SECS work for SECS seconds, then exit

Prints the number of jobs it ran. Timing is done by scripts/bench from the database side.
"""
import asyncio
import sys
from datetime import timedelta

import asyncpg
from pgqueuer.db import AsyncpgDriver
from pgqueuer.queries import Queries
from pgqueuer.models import Job
from pgqueuer.qm import QueueManager
from pgqueuer.types import QueueExecutionMode


async def main(dsn: str, mode: str, batch: int, seconds: float) -> None:
    connection = await asyncpg.connect(dsn)
    qm = QueueManager(Queries(AsyncpgDriver(connection)))
    ran = 0

    @qm.entrypoint("noop")
    async def noop(job: Job) -> None:
        nonlocal ran
        ran += 1

    if mode == "continuous":
        asyncio.get_running_loop().call_later(seconds, qm.shutdown.set)
    await qm.run(
        batch_size=batch,
        mode=QueueExecutionMode.drain if mode == "drain" else QueueExecutionMode.continuous,
        dequeue_timeout=timedelta(seconds=1),
    )
    await connection.close()
    print(ran)


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5) or sys.argv[2] not in ("drain", "continuous"):
        sys.exit("usage: pgqueuer_driver.py DSN drain|continuous BATCH [SECONDS]")
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) == 5 else 0))
