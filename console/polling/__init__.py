"""The watcher's parts: who reads what, when, and how what was read becomes the published FleetState.

`console.watch.Watcher` composes them with the service pollers (`console.codepipeline.poller`,
`console.stepfunctions.poller`); nothing outside the watcher imports from here except tests.

- `reader`: what the watcher reads through (one target's gateway, or a test double);
- `slots`: the per-resource and per-target bookkeeping the parts share;
- `gate`: who reads next (priority, fair shares, the budget);
- `context`: what every part is given (intervals, schedule, publisher, the targets) and the poll loop;
- `publisher`: the model, target health and staleness, published whole with its transitions;
- `discovery`: listing pipelines and state machines, starting and ending their loops;
- `history`: the history follower (incremental GetExecutionHistory, the execution shown in detail);
- `push_routing`: the push stream's readers, and which loop each event wakes.
"""
