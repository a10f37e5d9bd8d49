"""The console's menu: one list of entries, each with the roles that may open it.

The menu shows a user only the entries of their role, and a role's first entry is the page it
lands on after signing in (and the way out of an error page). A new page for a role is one more
entry here; the route itself still checks the role (``Caller.require``), and the page tests check
that the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.auth import ORGANISERS, READERS
from graph_schema.access.models import Role

CADRES = (Role.CADRE,)
ORGS = (Role.ORG,)


@dataclass(frozen=True)
class Entry:
    path: str
    zh: str
    en: str
    roles: tuple[Role, ...]

    def current(self, path: str) -> bool:
        """Whether the page at ``path`` is this entry's (its own pages below it included)."""
        return path == self.path or (self.path != "/" and path.startswith(self.path + "/"))


ENTRIES: tuple[Entry, ...] = (
    Entry("/", "工作台", "Dashboard", READERS),
    Entry("/mine", "我的结对户", "My households", CADRES),
    Entry("/aux-pairings", "辅助结对", "Auxiliary pairings", ORGS),
    Entry("/unpaired", "未结对重点户", "Unpaired", READERS),
    Entry("/overdue", "走访逾期", "Overdue visits", READERS),
    Entry("/problems", "未解决困难", "Open problems", READERS),
    Entry("/benefit-gaps", "数据比对", "Benefit gaps", READERS),
    Entry("/cert-expiry", "证件到期", "Certificate expiry", READERS),
    Entry("/cadre-load", "干部负荷", "Cadre load", READERS),
    Entry("/unmet-needs", "服务需求逾期", "Unmet needs", ORGANISERS),
    Entry("/overdue-referrals", "转介逾期", "Overdue referrals", ORGANISERS),
    Entry("/imports", "导入", "Imports", ORGANISERS),
    Entry("/matching", "结对匹配", "Matching", ORGANISERS),
    Entry("/aux-requests", "辅助结对申请", "Pairing requests", (*READERS, Role.ORG)),
    Entry("/referrals", "转介", "Referrals", ORGS),
    Entry("/accounts", "账号", "Accounts", ORGANISERS),
    Entry("/join-requests", "入驻申请", "Requests to join", ORGANISERS),
    Entry("/inbox", "消息", "Inbox", tuple(Role)),
)
#: the entry whose title carries the unread count
INBOX = "/inbox"


def entries_for(role: Role) -> list[Entry]:
    """The entries a role may open, in menu order."""
    return [e for e in ENTRIES if role in e.roles]


def landing(role: Role) -> str:
    """The page a role starts on: its first entry."""
    return entries_for(role)[0].path
