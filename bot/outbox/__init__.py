"""The outbox: work for Telegram that must happen even if the process dies first.

`machine` carries jobs out (lanes, pacing, retries, steps); `group_jobs` and
`user_jobs` are the jobs; `jobs.build_outbox` puts them together.
"""
