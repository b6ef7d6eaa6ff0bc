"""The limits one case must stay under (the checked code runs in this process, so a runaway must be stopped here)."""

TIME_LIMIT_S = 10.0
MEMORY_LIMIT_KB = 1024 * 1024  # 1 GB rise of the high-water mark
AS_GUARD_BYTES = 3 * 1024**3  # RLIMIT_AS soft limit: address space now + this (stops a runaway before the OOM killer)



