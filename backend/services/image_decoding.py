"""A bounded pool for checking and decoding uploaded images, so concurrent uploads queue instead of
multiplying memory.

Checking an upload decodes every pixel, and the whole bitmap is held while it runs (up to ~150 MB at the
pixel ceiling). In the default thread pool four uploads at once held four bitmaps and more: four 7000×7000
PNGs took a process from 129 MB to 2.7 GB. Here at most DECODE_WORKERS images are decoded at a time in each
process; the others wait in the pool's queue, and a request that is cancelled while it waits never starts.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

DECODE_WORKERS = 2
"""The machine kind has two cores: more threads would not decode faster, only hold more bitmaps at once."""

# Threads start on first use and stay for the process; the pool is per process, like its memory.
_POOL = ThreadPoolExecutor(max_workers=DECODE_WORKERS, thread_name_prefix="image-decode")


async def decode_in_pool(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a CPU- and memory-heavy image function in the bounded pool; the event loop keeps serving."""
    return await asyncio.get_running_loop().run_in_executor(_POOL, functools.partial(fn, *args, **kwargs))
