"""How far ahead the worker's shell queues tasks to its threads (`graphflow.worker.server.tasks_per_thread`)."""

from graphflow.worker.server import MAX_TASKS_PER_THREAD, SHORT_TASK, tasks_per_thread


def test_slow_or_unmeasured_tasks_get_one_task_per_thread():
    assert tasks_per_thread(1.0) == 1  # the shell's starting guess: slow until measured
    assert tasks_per_thread(SHORT_TASK) == 1


def test_tiny_tasks_are_queued_deep_but_bounded():
    assert tasks_per_thread(5e-6) == MAX_TASKS_PER_THREAD
    assert tasks_per_thread(0.0) == MAX_TASKS_PER_THREAD  # a clock too coarse to see the task
    assert tasks_per_thread(-1e-3) == MAX_TASKS_PER_THREAD  # a clock that stepped back


def test_short_tasks_are_queued_by_expected_work():
    # a few milliseconds of work a thread: fewer 1 ms tasks than 0.1 ms ones, and always at least two
    assert 2 <= tasks_per_thread(1e-3) < tasks_per_thread(1e-4) < MAX_TASKS_PER_THREAD
    assert tasks_per_thread(SHORT_TASK * 0.99) == 2
