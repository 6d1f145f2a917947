"""The open-file limit caps the users of one process: a run that cannot fit is refused first."""

from __future__ import annotations

import resource

from loadtests.limits import RESERVED_FILES, fit_users, open_files


def test_users_within_the_hard_limit_fit_and_the_soft_limit_rises_to_them() -> None:
    """A share below the hard limit fits; the soft limit ends at least that high."""
    limits = open_files()
    users = max(1, min(limits.max_users, 4000))
    assert fit_users(users) is None
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert soft == resource.RLIM_INFINITY or soft >= users + RESERVED_FILES


def test_more_users_per_process_than_the_hard_limit_allows_are_refused_with_a_remedy() -> None:
    """Past the hard limit: the message names the limit and how many processes would do."""
    limits = open_files()
    if limits.hard < 0:  # no limit at all on this machine: nothing can exceed it
        assert fit_users(10**9) is None
        return
    users = 3 * limits.max_users + 1
    problem = fit_users(users)
    assert problem is not None
    assert f"{limits.hard:,}" in problem and "--processes 4" in problem
    assert fit_users(users, processes=4) is None  # spread over enough processes, it fits
