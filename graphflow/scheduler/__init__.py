"""The distributed scheduler: a pure state machine and the shell that runs it.

* `graphflow.scheduler.events`: typed events in and commands out.
* `graphflow.scheduler.state`: `SchedulerState`, ``handle(*events) -> commands``.
* `graphflow.scheduler.model`: the task and worker records and their invariants.
* `graphflow.scheduler.handlers`: what each event does, and ``HANDLERS``, the one table of them.
* `graphflow.scheduler.policy`: placement, root-task queuing, work stealing.
* `graphflow.scheduler.server`: the tornado + zmq shell that has a `SchedulerState`.

Nothing is imported here, so ``import graphflow`` stays light; import the
submodule you need, e.g. ``from graphflow.scheduler.state import SchedulerState``.
"""
