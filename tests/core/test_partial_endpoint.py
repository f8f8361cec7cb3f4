"""An endpoint where one API fails while the others answer, in memory: reachability is per API, `reachable
again` is said once and only when true, and errors are one line (an HTML page by its title)."""

from __future__ import annotations

import io

from console.aws.errors import summarise
from console.codepipeline.model import PipelineExecution, PipelineState, Stage, pipelines_of
from console.errors import Unavailable
from console.watch_output import TransitionPrinter
from tests.core.test_watch_fake import T0, FakeFleet, make_watcher

PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n"
    "<p>The server encountered an internal error and was unable to complete your request.</p>\n"
)


class StateDown(FakeFleet):
    """GetPipelineState fails while `down`; everything else answers."""

    down = True

    async def get_pipeline_state(self, name: str, /) -> PipelineState:
        if self.down:
            self.calls["GetPipelineState"] += 1
            raise Unavailable(summarise(PAGE, 500), operation="GetPipelineState", target="fake")
        return await super().get_pipeline_state(name)


def test_an_html_page_is_summarised_by_its_title() -> None:
    assert summarise(PAGE, 500) == "HTTP 500: 500 Internal Server Error"
    assert summarise("<html><body><h1>Bad gateway</h1></body></html>", 502) == "HTTP 502: Bad gateway"
    assert len(summarise("<html><title>" + "x" * 5000 + "</title></html>", 502)) <= 300
    # AWS's own message passes unchanged (rendering it safely is the UI's job).
    assert summarise("Rate\n  exceeded", 400) == "Rate\n  exceeded"


async def test_reachable_again_is_said_once_when_the_failing_api_answers() -> None:
    fleet = StateDown()
    fleet.pipelines["orders-api"] = [Stage(name="Production-us-east-1", status="Succeeded", execution_id="e1")]
    fleet.executions["orders-api"] = [PipelineExecution("e1", "Succeeded", started=T0)]
    watcher, updates = make_watcher(fleet)
    err = io.StringIO()
    watcher.subscribe(TransitionPrinter(io.StringIO(), err))
    await watcher.start()
    try:
        key = "fake:orders-api"
        await updates.until(
            lambda: key in pipelines_of(watcher.state) and pipelines_of(watcher.state)[key].note, 5, "a note"
        )
        # Many reads of the other APIs succeed meanwhile: none of them says the target is reachable.
        calls = fleet.calls["GetPipelineState"]
        await updates.until(lambda: fleet.calls["GetPipelineState"] >= calls + 5, 10, "more failed state reads")
        assert "reachable again" not in err.getvalue()
        pipeline = pipelines_of(watcher.state)[key]
        assert pipeline.stages[0].name == "Production-us-east-1"
        assert pipeline.stages[0].status is None  # not made up from the executions
        assert pipeline.latest_execution is not None
        assert pipeline.latest_execution.status == "Succeeded"
        fleet.down = False
        await updates.until(lambda: watcher.state.targets[0].error is None, 10, "the target to recover")
        await updates.until(lambda: pipelines_of(watcher.state)[key].note is None, 10, "the note to go")
        await updates.until(lambda: pipelines_of(watcher.state)[key].stages[0].status == "Succeeded", 10, "the status")
        calls = fleet.calls["GetPipelineState"]
        await updates.until(lambda: fleet.calls["GetPipelineState"] >= calls + 3, 10, "more state reads")
    finally:
        await watcher.stop()
    lines = err.getvalue().splitlines()
    assert lines.count("wavedeck: fake: reachable again") == 1, lines
    failures = [line for line in lines if "GetPipelineState" in line]
    assert failures == ["wavedeck: fake: GetPipelineState: HTTP 500: 500 Internal Server Error"], lines
