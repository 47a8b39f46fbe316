"""The scheduled reports: the daily digest (`digest.Digests`) and the weekly cost report
(`weekly.WeeklyReports`), each queued in the outbox exactly once per local day by a
`due(now)` the scheduler calls every minute (`schedule` says why)."""
