"""One runtime for every background job (imports, deletions, builder pulls, undo): claim with a
capped attempt count, a lease kept by a heartbeat that does not wait for the work, every chunk
write fenced by the lease, a reaper inside every worker, cancellation, hand-back on SIGTERM
(R2.17, R2.24).

A job's code reads::

    lease = jobs.claim(KIND, job_id)
    if lease is None:
        return                        # done, held by a live worker, or out of attempts
    with jobs.holding(lease) as held:
        try:
            for chunk in chunks:
                held.checkpoint()     # stop here if cancelled, stopping or taken over
                with transaction.atomic():
                    ...               # the chunk's writes
                    jobs.fence(lease, done=F("done") + len(chunk))
            jobs.release(lease, status=SUCCEEDED, error="")
        except jobs.JobCancelled:
            jobs.release(lease, status=CANCELLED)
"""

from crm.jobs.heartbeat import Held, holding, request_stop, stop_requested
from crm.jobs.lease import (
    HandBack,
    JobCancelled,
    JobKind,
    JobStopped,
    Lease,
    LeaseLost,
    beat,
    cancel,
    claim,
    fence,
    hand_back,
    kinds,
    register,
    release,
)
from crm.jobs.reaper import reap, reap_all

__all__ = [
    "HandBack",
    "Held",
    "JobCancelled",
    "JobKind",
    "JobStopped",
    "Lease",
    "LeaseLost",
    "beat",
    "cancel",
    "claim",
    "fence",
    "hand_back",
    "holding",
    "kinds",
    "reap",
    "reap_all",
    "register",
    "release",
    "request_stop",
    "stop_requested",
]
