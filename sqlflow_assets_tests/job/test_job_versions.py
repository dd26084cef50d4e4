"""The sensor's rules without Dagster: analysis versions, job filters, the bounded cursor."""

from __future__ import annotations

import pytest

from sqlflow_assets.job.job_versions import Cursor, JobFilter, analysis_version, fingerprint, plan_tick, run_key, settle


def job(job_id: str, **fields) -> dict:
    return {"jobId": job_id, "jobName": "n", "status": "success", "createTime": "2026-11-15 10:00:00", **fields}


def test_a_version_is_the_session_id_else_changes_with_time_and_status():
    assert analysis_version(job("a", sessionId="s9")) == "s9"
    plain = analysis_version(job("a"))
    assert plain == analysis_version(job("a"))
    assert plain != analysis_version(job("a", status="partial_success"))
    assert plain != analysis_version(job("a", createTime="2026-11-15 10:00:01"))


def test_run_keys_name_the_attempt_after_the_first():
    assert [run_key("j", "v", n) for n in (1, 2)] == ["j:v", "j:v:2"]


def test_filters_compare_dates_and_glob_names():
    after = JobFilter.parse("2026-11-01T08:00:00+02:00", None)
    assert after.matches(job("a", createTime="2026-11-01 06:00:00"))
    assert not after.matches(job("a", createTime="2026-11-01 05:59:59"))
    assert not after.matches(job("a", createTime=None))
    named = JobFilter.parse(None, "etl-??-*")
    assert named.matches(job("a", jobName="etl-eu-daily")) and not named.matches(job("a", jobName="etl-e-daily"))
    assert JobFilter.parse("", "").matches(job("a", createTime="garbage", jobName=None))
    with pytest.raises(ValueError, match="sensor_created_after"):
        JobFilter.parse("1st of November", None)


def test_a_tick_plans_new_pending_failed_and_prunes_what_is_gone():
    previous = Cursor(settled={fingerprint(j, "s1") for j in ("done", "gone", "redo")}, pending={fingerprint("wait", "s1")})
    listed = [
        job("done", sessionId="s1"),
        job("redo", sessionId="s2"),
        job("wait", sessionId="s1"),
        job("new", sessionId="s1"),
        job("bad", status="fail"),
        job("busy", status="create"),
    ]
    plan = plan_tick(listed, JobFilter(), previous)
    assert [j.job_id for j in plan.new] == ["redo", "new"]
    assert [j.job_id for j in plan.to_check] == ["wait"]
    assert [j.job_id for j in plan.newly_failed] == ["bad"]
    assert plan.cursor.pending == {fingerprint("redo", "s2"), fingerprint("wait", "s1"), fingerprint("new", "s1")}
    assert plan.cursor.settled == {fingerprint("done", "s1"), plan.newly_failed[0].fingerprint}
    settle(plan.cursor, plan.to_check[0])
    again = plan_tick(listed, JobFilter(), Cursor.load(plan.cursor.dump()))
    assert again.newly_failed == [] and [j.job_id for j in again.to_check] == ["redo", "new"]


def test_a_review_diff_job_is_never_loaded_whatever_the_filters() -> None:
    from sqlflow_assets.domain import DIFF_JOB_PREFIX

    job = {"jobId": "j1", "jobName": f"{DIFF_JOB_PREFIX}warehouse", "status": "success", "createTime": "2026-12-01 00:00:00"}
    assert not JobFilter.parse(None, None).matches(job)
    assert not JobFilter.parse(None, "*").matches(job)
    assert JobFilter.parse(None, None).matches(job | {"jobName": "warehouse"})
