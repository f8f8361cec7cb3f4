"""The moto internals the Step Functions patches plug into, and a check that they are still where they were.

`moved()` lists every class, method, parameter and attribute the patches rely on that a moto release has
moved or renamed; `install()` refuses to start the sandbox on any, naming them. `changed_sources()` lists
the moto methods the patches replace wholesale whose source differs from the one the replacement was
written against (tests/sandbox/test_moto_internals_stepfunctions.py fails on any: re-read them, port the
change, then update the fingerprint).
"""

from __future__ import annotations

from console.sandbox.moto_patches import touch_points

_PARSER = "moto.stepfunctions.parser"
_COMPONENT = f"{_PARSER}.asl.component"

# (module, dotted attribute, parameters it must accept)
TOUCH_POINTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (f"{_COMPONENT}.state.wait.wait_function.wait_function", "WaitFunction._eval_body", ("env",)),
    (f"{_COMPONENT}.state.wait.wait_function.wait_function", "WaitFunction._get_wait_seconds", ("env",)),
    (f"{_COMPONENT}.state.wait.wait_function.timestamp", "Timestamp._get_wait_seconds", ("env",)),
    (f"{_COMPONENT}.state.wait.wait_function.timestamp", "Timestamp._from_timestamp_string", ("timestamp",)),
    (f"{_COMPONENT}.state.wait.wait_function.timestamp", "Timestamp._create_failure_event", ("env", "timestamp_str")),
    (f"{_COMPONENT}.common.timeouts.timeout", "Timeout._eval_body", ("env",)),
    (f"{_COMPONENT}.common.timeouts.timeout", "Timeout._eval_seconds", ("env",)),
    (f"{_COMPONENT}.common.timeouts.timeout", "TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS", ()),
    (f"{_COMPONENT}.common.timeouts.heartbeat", "Heartbeat._eval_body", ("env",)),
    (f"{_COMPONENT}.common.timeouts.heartbeat", "Heartbeat._eval_seconds", ("env",)),
    (f"{_COMPONENT}.common.retry.retrier_decl", "time.sleep", ()),
    (f"{_COMPONENT}.common.path.result_path", "parse", ()),
    (f"{_PARSER}.asl.utils.json_path", "parse", ()),
    (f"{_COMPONENT}.common.error_name.failure_event", "FailureEventException.get_execution_failed_event_details", ()),
    (f"{_COMPONENT}.eval_component", "EvalComponent.eval", ("env",)),
    (f"{_COMPONENT}.state.choice.state_choice", "StateChoice._eval_state", ("env",)),
    (f"{_COMPONENT}.common.error_name.states_error_name_type", "StatesErrorNameType.StatesNoChoiceMatched", ()),
    (f"{_COMPONENT}.common.error_name.failure_event", "FailureEvent.__init__", ("env", "error_name", "event_type")),
    (f"{_COMPONENT}.program.program", "Program.eval", ("env",)),
    (f"{_COMPONENT}.program.program", "Program._eval_body", ("env",)),
    (f"{_COMPONENT}.program.program", "Program._get_state", ("state_name",)),
    (
        f"{_PARSER}.asl.eval.event.event_manager",
        "EventManager.add_event",
        ("context", "event_type", "event_details", "timestamp", "update_source_event_id"),
    ),
    (f"{_PARSER}.asl.eval.event.event_manager", "EventManager.get_event_history", ()),
    (f"{_PARSER}.asl.eval.event.event_manager", "EventManager.__init__", ("cloud_watch_logging_session",)),
    (f"{_PARSER}.asl.eval.event.event_manager", "EventHistoryContext.__init__", ("previous_event_id",)),
    (f"{_PARSER}.asl.eval.environment", "Environment.set_stop", ("stop_date", "cause", "error")),
    (f"{_PARSER}.asl.eval.environment", "Environment.set_timed_out", ()),
    (f"{_PARSER}.asl.eval.environment", "Environment.set_error", ("error",)),
    (f"{_PARSER}.asl.eval.environment", "Environment.program_state", ()),
    (f"{_PARSER}.asl.eval.environment", "Environment.is_frame", ()),
    (f"{_PARSER}.asl.eval.environment", "Environment.is_running", ()),
    (f"{_PARSER}.asl.eval.environment", "Environment.next_state_name", ()),
    (f"{_PARSER}.asl.eval.states", "ContextObject.update_task_token", ()),
    (f"{_PARSER}.asl.eval.states", "States.get_input", ()),
    (f"{_PARSER}.asl.eval.states", "States.reset", ("input_value",)),
    (f"{_PARSER}.asl.eval.callback.callback", "CallbackPoolManager.add", ("callback_id",)),
    (
        f"{_PARSER}.asl.eval.callback.callback",
        "CallbackPoolManager.add_activity_task",
        ("callback_id", "activity_arn", "activity_input"),
    ),
    (f"{_PARSER}.asl.eval.callback.callback", "CallbackEndpoint.interrupt_all", ()),
    (f"{_PARSER}.asl.eval.callback.callback", "CallbackEndpoint.notify", ("outcome",)),
    (f"{_PARSER}.asl.eval.callback.callback", "CallbackEndpoint.notify_heartbeat", ()),
    (f"{_PARSER}.asl.eval.callback.callback", "CallbackEndpoint.get_outcome", ()),
    (f"{_PARSER}.asl.eval.callback.callback", "CallbackOutcomeSuccess.__init__", ("callback_id", "output")),
    (f"{_PARSER}.asl.eval.callback.callback", "CallbackOutcomeFailure.__init__", ("callback_id", "error", "cause")),
    (f"{_PARSER}.asl.eval.program_state", "ProgramStopped.__init__", ("stop_date", "error", "cause")),
    (f"{_PARSER}.backend.execution_worker", "ExecutionWorker.start", ()),
    (f"{_PARSER}.backend.execution_worker", "ExecutionWorker._execution_logic", ()),
    (f"{_PARSER}.backend.execution_worker", "ExecutionWorker._get_evaluation_environment", ()),
    (f"{_PARSER}.backend.execution_worker", "ExecutionWorker._get_evaluation_entrypoint", ()),
    (f"{_PARSER}.asl.parse.asl_parser", "AmazonStateLanguageParser.parse", ("definition",)),
    (f"{_PARSER}.backend.execution", "Execution.start", ()),
    (f"{_PARSER}.backend.execution", "Execution._get_start_execution_worker", ()),
    (f"{_PARSER}.backend.execution", "BaseExecutionWorkerCommunication._reflect_execution_status", ()),
    (f"{_PARSER}.backend.execution", "BaseExecutionWorkerCommunication.terminated", ()),
    (f"{_PARSER}.api", "HistoryEventType.ExecutionRedriven", ()),
    (
        f"{_PARSER}.models",
        "StepFunctionsParserBackend.start_execution",
        ("state_machine_arn", "name", "execution_input", "trace_header"),
    ),
    (f"{_PARSER}.models", "StepFunctionsParserBackend.describe_execution", ("execution_arn",)),
    (f"{_PARSER}.models", "StepFunctionsParserBackend.describe_state_machine", ("arn",)),
    (f"{_PARSER}.models", "StepFunctionsParserBackend._validate_name", ("name",)),
    ("moto.stepfunctions.responses", "StepFunctionResponse.describe_execution", ()),
    ("moto.stepfunctions.responses", "StepFunctionResponse.list_executions", ()),
    ("moto.stepfunctions.responses", "StepFunctionResponse.get_execution_history", ()),
    ("moto.stepfunctions.responses", "StepFunctionResponse.stop_execution", ()),
    ("moto.stepfunctions.responses", "StepFunctionResponse.send_task_failure", ()),
    ("moto.stepfunctions.responses", "StepFunctionResponse.send_task_success", ()),
    ("moto.stepfunctions.responses", "StepFunctionResponse.send_task_heartbeat", ()),
    ("moto.stepfunctions.responses", "StepFunctionResponse.stepfunction_backend", ()),
    ("moto.stepfunctions.responses", "get_backend", ("account", "region")),
    ("moto.stepfunctions.utils", "PAGINATION_MODEL", ()),
    ("moto.utilities.paginator", "paginate", ("pagination_model",)),
    # CreateStateMachine's checks (asl_checks.py)
    (f"{_PARSER}.models", "StepFunctionsParserBackend._validate_definition", ("definition",)),
    # Simulated Lambda functions (lambdas.py)
    (
        f"{_COMPONENT}.state.exec.state_task.lambda_eval_utils",
        "_invoke_lambda_function",
        ("parameters", "region", "state_credentials"),
    ),
    (f"{_COMPONENT}.state.exec.state_task.lambda_eval_utils", "execute_lambda_function_integration", ()),
    # TaskFailed's resource (task_events.py)
    (f"{_COMPONENT}.state.exec.execute_state", "ExecutionState._eval_state", ("env",)),
    (f"{_COMPONENT}.state.exec.state_task.state_task", "StateTask", ()),
    (f"{_COMPONENT}.state.exec.state_task.service.state_task_service", "StateTaskService._get_sfn_resource", ()),
    (f"{_COMPONENT}.state.exec.state_task.service.state_task_service", "StateTaskService._get_sfn_resource_type", ()),
    # JSONata and variables (jsonata.py)
    (f"{_COMPONENT}.common.string.string_expression", "StringJSONata._eval_body", ("env",)),
    (f"{_COMPONENT}.common.string.string_expression", "StringVariableSample._eval_body", ("env",)),
    (f"{_COMPONENT}.eval_component", "EvalComponent._field_name", ()),
    (f"{_COMPONENT}.common.error_name.states_error_name_type", "StatesErrorNameType.StatesQueryEvaluationError", ()),
    (f"{_PARSER}.api", "HistoryEventType.EvaluationFailed", ()),
    (f"{_PARSER}.api", "EvaluationFailedEventDetails", ()),
    (f"{_PARSER}.asl.eval.variable_store", "VariableStore.get_assigned_variables", ()),
    (f"{_PARSER}.asl.eval.variable_store", "VariableStore.get", ("variable_identifier",)),
    (f"{_PARSER}.asl.eval.states", "States.to_variable_declarations", ()),  # reads States._states_data
    (f"{_PARSER}.asl.eval.environment", "Environment.next_field_name", ()),
)

# Nested workflows (nested.py): the names of a nested start's parameters and answer.
TOUCH_POINTS += (
    (
        f"{_COMPONENT}.state.exec.state_task.service.state_task_service_sfn",
        "StateTaskServiceSfn._normalise_parameters",
        ("parameters", "boto_service_name", "service_action_name"),
    ),
    (
        f"{_COMPONENT}.state.exec.state_task.service.state_task_service_sfn",
        "StateTaskServiceSfn._normalise_response",
        ("response", "boto_service_name", "service_action_name"),
    ),
)

# GetExecutionHistory's answer written without moto's attribute picker (moto_patches/plain_json.py); what it
# writes is checked against moto's own serialiser by tests/sandbox/test_plain_json.py.
TOUCH_POINTS += (
    ("moto.core.responses", "ActionResult.execute_result", ("context",)),
    ("moto.core.responses", "ActionContext", ()),
    ("moto.core.serialize", "JSONSerializer._create_default_response", ()),
    (
        "moto.core.serialize",
        "JSONSerializer._serialized_result_to_response",
        ("resp", "result", "shape", "serialized_result"),
    ),
    ("moto.core.serialize", "JSONSerializer.DEFAULT_TIMESTAMP_FORMAT", ()),
    ("moto.core.serialize", "JSONSerializer.DEFAULT_ENCODING", ()),
    ("moto.core.serialize", "TimestampSerializer._convert_timestamp_to_str", ("value", "timestamp_format")),
    ("moto.settings", "PRETTIFY_RESPONSES", ()),
)

# Map iterations and Parallel branches failing with a predefined error (iteration_errors.py): how they name it.
TOUCH_POINTS += (
    (f"{_COMPONENT}.state.exec.state_map.iteration.iteration_worker", "CustomErrorName", ()),
    (f"{_COMPONENT}.state.exec.state_parallel.branches_decl", "CustomErrorName", ()),
    (f"{_COMPONENT}.common.error_name.states_error_name", "StatesErrorName.from_name", ("error_name",)),
)

# Methods replaced wholesale → sha256 (first 16 hex) of the moto 5.2.5 source they were ported from.
REPLACED_SOURCES: dict[tuple[str, str], str] = {
    (f"{_COMPONENT}.state.wait.wait_function.wait_function", "WaitFunction._eval_body"): "adaade605eee07ef",
    (f"{_COMPONENT}.state.wait.wait_function.timestamp", "Timestamp._get_wait_seconds"): "611d040940ad5f39",
    (f"{_COMPONENT}.common.timeouts.timeout", "Timeout._eval_body"): "5c5f336e8ba14d64",
    (f"{_COMPONENT}.common.timeouts.heartbeat", "Heartbeat._eval_body"): "5c5f336e8ba14d64",
    (f"{_COMPONENT}.program.program", "Program.eval"): "6d701880064a8970",
    (f"{_COMPONENT}.program.program", "Program._eval_body"): "0735481f6d027e47",
    (f"{_PARSER}.backend.execution_worker", "ExecutionWorker.start"): "0b502dd3a4e5fd2b",
    (f"{_PARSER}.backend.execution_worker", "ExecutionWorker._get_evaluation_entrypoint"): "2b25949ae855da80",
    (f"{_PARSER}.backend.execution_worker", "ExecutionWorker._execution_logic"): "baa3e2a48fd228d9",
    (f"{_PARSER}.backend.execution", "Execution.start"): "07e927c2d5f9e104",
    (f"{_PARSER}.backend.execution", "BaseExecutionWorkerCommunication._reflect_execution_status"): "038a396107afe59b",
    (f"{_PARSER}.models", "StepFunctionsParserBackend.send_task_success"): "2e95c66f0d676001",
    (f"{_PARSER}.models", "StepFunctionsParserBackend.send_task_failure"): "2d5a9597cf1d92f9",
    (f"{_PARSER}.models", "StepFunctionsParserBackend.send_task_heartbeat"): "279ad79cd7a2f24b",
    ("moto.stepfunctions.models", "StepFunctionBackend.stop_execution"): "9fd7ff1aebca7c0e",
    ("moto.stepfunctions.models", "StepFunctionBackend.list_executions"): "171cc9525a3fbe99",
    ("moto.stepfunctions.responses", "StepFunctionResponse.describe_execution"): "c3953bdc9ce21fda",
    ("moto.stepfunctions.responses", "StepFunctionResponse.list_executions"): "6fec14cfc5afd6b8",
    ("moto.stepfunctions.responses", "StepFunctionResponse.get_execution_history"): "3889cc6224ac2f76",
    ("moto.stepfunctions.responses", "StepFunctionResponse.stop_execution"): "633c8a544aacfd14",
    ("moto.stepfunctions.responses", "StepFunctionResponse.send_task_failure"): "f0fed5e805768377",
    (f"{_COMPONENT}.common.string.string_expression", "StringJSONata._eval_body"): "277b6f4132141b36",
    (f"{_COMPONENT}.common.string.string_expression", "StringVariableSample._eval_body"): "4aa01e616a9824dd",
    (f"{_PARSER}.asl.eval.variable_store", "VariableStore.get_assigned_variables"): "accd1b2a7446a246",
    (f"{_COMPONENT}.eval_component", "EvalComponent._field_name"): "513b699fede46596",
}

# Attributes of moto objects that exist only once an instance does: (module, class, attribute names).
INSTANCE_ATTRIBUTES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        f"{_PARSER}.asl.eval.event.event_manager",
        "EventManager",
        ("_mutex", "_event_id_gen", "_history_event_list", "_cloud_watch_logging_session"),
    ),
    (f"{_PARSER}.asl.eval.variable_store", "VariableStore", ("_outer_scope", "_inner_scope", "_declaration_tracing")),
)


# --- Distributed Map (distributed_map.py, map_definitions.py, map_io.py, map_runs.py) ----------------------
_MAP = f"{_COMPONENT}.state.exec.state_map"

TOUCH_POINTS += (
    (f"{_MAP}.state_map", "StateMap.from_state_props", ("state_props",)),
    (f"{_COMPONENT}.state.exec.state_parallel.state_parallel", "StateParallel.from_state_props", ("state_props",)),
    (f"{_COMPONENT}.state.exec.state_parallel.branches_decl", "BranchesDecl.__init__", ("programs",)),
    (f"{_COMPONENT}.program.states", "States.__init__", ()),
    (f"{_MAP}.iteration.iteration_component", "IterationComponent._get_iteration_program", ()),
    (f"{_MAP}.iteration.distributed_iteration_component", "DistributedIterationComponent._eval_body", ("env",)),
    (
        f"{_MAP}.iteration.distributed_iteration_component",
        "DistributedIterationComponentEvalInput.__init__",
        ("input_items", "parameters", "item_selector", "item_reader", "map_run_record"),
    ),
    (f"{_MAP}.result_writer.result_writer_decl", "ResultWriter._eval_body", ("env",)),
    (f"{_MAP}.result_writer.result_writer_decl", "ResultWriter.__init__", ("resource", "parargs")),
    (
        f"{_MAP}.item_reader.eval.resource_eval_s3",
        "ResourceEvalS3._handle_list_objects_v2",
        ("env", "resource_runtime_part", "state_credentials"),
    ),
    (f"{_MAP}.item_reader.item_reader_decl", "ItemReader._eval_body", ("env",)),
    (f"{_MAP}.iteration.itemprocessor.map_run_record", "MapRunRecord.set_stop", ("status",)),
    (f"{_MAP}.iteration.itemprocessor.map_run_record", "MapRunRecord.update", ("max_concurrency",)),
    (f"{_MAP}.iteration.itemprocessor.map_run_record", "MapRunRecord.describe", ()),
    (f"{_MAP}.iteration.itemprocessor.map_run_record", "Counter.count", ("increment",)),
    (f"{_MAP}.iteration.itemprocessor.map_run_record", "Counter.get", ()),
    (f"{_PARSER}.asl.eval.environment", "Environment.open_inner_frame", ("event_history_context",)),
    (f"{_PARSER}.asl.eval.environment", "Environment.delete_frame", ("frame",)),
    (f"{_PARSER}.asl.eval.event.event_manager", "EventHistoryContext.of_program_start", ()),
    (f"{_PARSER}.asl.eval.states", "MapData", ()),
    (f"{_PARSER}.asl.eval.states", "ItemData", ()),
    (f"{_PARSER}.asl.utils.boto_client", "boto_client_for", ("region", "service", "state_credentials")),
    (f"{_PARSER}.asl.utils.json_path", "extract_json", ("path", "data")),
    (f"{_PARSER}.api", "HistoryEventType.MapRunAborted", ()),
    (f"{_PARSER}.api", "MapRunStatus.ABORTED", ()),
    (
        f"{_COMPONENT}.common.error_name.states_error_name_type",
        "StatesErrorNameType.StatesExceedToleratedFailureThreshold",
        (),
    ),
    (f"{_COMPONENT}.common.error_name.states_error_name_type", "StatesErrorNameType.StatesItemReaderFailed", ()),
    (f"{_MAP}.iteration.itemprocessor.map_run_record", "MapRunRecord.list_item", ()),
    ("moto.stepfunctions.responses", "StepFunctionResponse.list_map_runs", ()),
    ("moto.stepfunctions.responses", "StepFunctionResponse.describe_map_run", ()),
    (f"{_PARSER}.models", "StepFunctionsParserBackend.update_map_run", ("map_run_arn",)),
    ("moto.stepfunctions.responses", "StepFunctionResponse.update_map_run", ()),
)

REPLACED_SOURCES |= {
    (
        f"{_MAP}.iteration.distributed_iteration_component",
        "DistributedIterationComponent._eval_body",
    ): "5f5e01607eb064fb",
    (f"{_MAP}.result_writer.result_writer_decl", "ResultWriter._eval_body"): "bcde5765f0a578a3",
    (f"{_MAP}.item_reader.eval.resource_eval_s3", "ResourceEvalS3._handle_list_objects_v2"): "f4a476c93e91515c",
}

# Instance attributes of the parsed Map components and of MapRunRecord (StateMap.iteration_component,
# .result_writer; IterationComponent._states; MapRunRecord's arns, counters and thresholds) are checked on
# real instances by tests/sandbox/test_moto_internals_distributed_map.py.


def remember_originals() -> None:
    """Keep moto's own versions of what the patches replace (call before patching)."""
    touch_points.remember_originals(REPLACED_SOURCES)


def moved() -> list[str]:
    """Every touch point that is missing or no longer takes the parameters the patches pass."""
    return touch_points.moved(TOUCH_POINTS, INSTANCE_ATTRIBUTES, REPLACED_SOURCES)


def changed_sources() -> list[str]:
    """Replaced moto methods whose source is not the one the replacement was ported from."""
    return touch_points.changed_sources(REPLACED_SOURCES)
