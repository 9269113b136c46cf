"""The object store: where results live between tasks, in memory, on disk or in shared memory.

`spill` is the tiered mapping a worker (or a local executor with a memory
limit) keeps results in, spilling the least recently used to disk; `blocks`
is the on-disk format (numpy and Arrow buffers as they are, mapped back on
read); `shm` hands blocks between processes through ``/dev/shm``; `rss`
reads this process's resident memory cheaply.
"""
