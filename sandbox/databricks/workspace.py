"""DatabricksWorkspace: one Databricks workspace's identities (users, groups, the bot's service
principal, tokens), its jobs with their ACLs, and its RunBook.

Permission answers live here because they need users, groups and jobs together. Callers hold
the world's lock.
"""

from __future__ import annotations

import bisect
import itertools
import secrets

from sandbox.databricks.errors import denied, no_job
from sandbox.databricks.model import ADMINS, RANK, Group, Job, ServicePrincipal, User
from sandbox.databricks.runs import RunBook


class DatabricksWorkspace:
    def __init__(self, workspace_id: int, name: str) -> None:
        self.workspace_id = workspace_id
        self.name = name
        # The server sets the real base URL when it binds; run_page_url uses it.
        self.host = f"https://{name}.cloud.databricks.com"
        self._ids = itertools.count(workspace_id % 1000 * 1_000_000 + 1000)
        self.users: dict[str, User] = {}
        self.groups: dict[str, Group] = {ADMINS: Group(str(self.new_id()), ADMINS)}
        sp_id = str(self.new_id())
        self.sp = ServicePrincipal(
            sp_id, f"sp-{secrets.token_hex(8)}", f"{name}-jobs-bot", "dose" + secrets.token_hex(16)
        )
        self.groups[ADMINS].members.add(self.sp.application_id)
        # bearer token -> principal name (user_name, or the service principal's application id)
        self.tokens: dict[str, str] = {}
        # OAuth access token -> expiry (epoch ms, the world's clock); PATs never expire here.
        self.token_expiry: dict[str, int] = {}
        # SCIM Users `groups`: also the groups reached through nested groups ("indirect")?
        self.scim_lists_indirect_groups = False
        # Serve /.well-known/databricks-config (host metadata)? Not every host does.
        self.serves_host_metadata = True
        self.token = self.issue_token(self.sp.application_id)
        self.jobs: dict[int, Job] = {}
        self._job_ids: list[int] = []  # sorted, for jobs/list paging
        self.runs = RunBook(workspace_id, self.new_id)

    def new_id(self) -> int:
        """Job, run, task-run and repair ids share one sequence: each is unique per workspace."""
        return next(self._ids)

    def issue_token(self, principal: str) -> str:
        token = "dapi" + secrets.token_hex(16)
        self.tokens[token] = principal
        return token

    # -- identities ----------------------------------------------------------------------
    def principal_groups(self, principal: str) -> set[str]:
        """Every group the principal is in, directly or through nested groups."""
        direct = {g.name for g in self.groups.values() if principal in g.members}
        found, todo = set(direct), list(direct)
        while todo:
            inner = todo.pop()
            for g in self.groups.values():
                if inner in g.subgroups and g.name not in found:
                    found.add(g.name)
                    todo.append(g.name)
        return found

    def is_admin(self, principal: str) -> bool:
        return ADMINS in self.principal_groups(principal)

    def display_name(self, principal: str) -> str:
        if principal == self.sp.application_id:
            return self.sp.display_name
        user = self.users.get(principal)
        return user.display_name if user else principal

    # -- jobs ----------------------------------------------------------------------------
    def add_job(self, job: Job) -> Job:
        self.jobs[job.job_id] = job
        bisect.insort(self._job_ids, job.job_id)
        return job

    def delete_job(self, job_id: int) -> None:
        self.job(job_id)
        del self.jobs[job_id]
        self._job_ids.pop(bisect.bisect_left(self._job_ids, job_id))

    def job(self, job_id: int) -> Job:
        job = self.jobs.get(job_id)
        if job is None:
            raise no_job(job_id)
        return job

    def job_page(self, after: int | None, limit: int, name: str | None) -> tuple[list[Job], bool]:
        """Jobs in job_id (= creation) order after a cursor; (page, more)."""
        start = 0 if after is None else bisect.bisect_right(self._job_ids, after)
        page: list[Job] = []
        for job_id in itertools.islice(self._job_ids, start, None):
            job = self.jobs[job_id]
            if name is not None and job.name.lower() != name.lower():
                continue  # name filter: exact and case-insensitive, as documented
            if len(page) == limit:
                return page, True
            page.append(job)
        return page, False

    # -- permissions ---------------------------------------------------------------------
    def level(self, principal: str, job: Job) -> int:
        """The principal's effective rank on the job: direct, through groups, or as admin."""
        if self.is_admin(principal):
            return RANK["CAN_MANAGE"]
        ranks = [RANK[job.acl_users[principal]]] if principal in job.acl_users else []
        ranks += [
            RANK[job.acl_groups[g]] for g in self.principal_groups(principal) if g in job.acl_groups
        ]
        return max(ranks, default=0)

    def require(self, principal: str, job: Job, level: str) -> None:
        if self.level(principal, job) < RANK[level]:
            raise denied(f"User {principal} does not have {level} permissions on job {job.job_id}.")

    def set_acl(self, job: Job, users: dict[str, str], groups: dict[str, str]) -> None:
        for principal in users:
            if principal not in self.users and principal != self.sp.application_id:
                raise KeyError(f"no user {principal!r} in workspace {self.name}")
        for name in groups:
            if name not in self.groups:
                raise KeyError(f"no group {name!r} in workspace {self.name}")
        for level in [*users.values(), *groups.values()]:
            if level not in RANK:
                raise ValueError(f"unknown permission level {level!r}")
        owners = {p: lv for p, lv in job.acl_users.items() if lv == "IS_OWNER"}
        job.acl_users = {**owners, **users} if "IS_OWNER" not in users.values() else dict(users)
        job.acl_groups = dict(groups)
