"""The one RFC 3339 writer (analyze/wheels.py), used for an sdist's upload time from the lock and
for its archive's file times (mitigate/period.py): both reach ``uv --exclude-newer``."""

from __future__ import annotations

import subprocess

import pytest

from bulletproof.analyze.wheels import rfc3339
from bulletproof.tomlcompat import tomllib


@pytest.mark.parametrize("epoch", [1, 1_700_000_000.75, 951_782_400])  # 951782400: 2000-02-29
def test_epoch_seconds_are_written_as_date_writes_them_in_utc(epoch: float) -> None:
    said = subprocess.run(
        ["date", "-u", "-d", f"@{int(epoch)}", "+%Y-%m-%dT%H:%M:%SZ"],
        capture_output=True,
        text=True,
        check=True,
        env={"LC_ALL": "C", "TZ": "Asia/Tokyo"},  # the local zone must not matter
    )
    assert rfc3339(epoch) == said.stdout.strip()


def test_a_lock_upload_time_is_kept_with_utc_as_z_and_unknown_is_empty() -> None:
    lock = tomllib.loads("a = 2024-05-06T07:08:09Z\nb = 2024-05-06T07:08:09.250+00:00\n")
    assert rfc3339(lock["a"]) == "2024-05-06T07:08:09Z"
    assert rfc3339(lock["b"]) == "2024-05-06T07:08:09.250000Z"
    assert rfc3339("2024-05-06T07:08:09Z") == "2024-05-06T07:08:09Z"
    assert [rfc3339(v) for v in (0, -3.5, None, "")] == ["", "", "", ""]
