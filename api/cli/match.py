"""``jiedui match …``: propose optimal pairings, review, confirm; keep the exclusion list."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from api.cli.common import StoreOption, cli_store, console, err, fail
from graph_schema.enums import ExclusionReason
from graph_schema.errors import JieduiError
from graph_schema.pairing.exclusions import exclude, exclusions, lift_exclusion
from matching.candidates import Reach
from matching.proposal import Proposal
from matching.referral_proposal import ReferralProposal, is_referral_file
from matching.referral_service import confirm_referrals, propose_referrals
from matching.service import confirm, propose, reassign
from matching.solve import SOLVERS

match_app = typer.Typer(help="一对一结对匹配 / one-to-one pairing proposals", no_args_is_help=True)

RegionOption = Annotated[str, typer.Option("--region", help="区划代码（2/4/6/9/12位）/ region code, any level")]
OutOption = Annotated[Path | None, typer.Option("--out", help="方案文件 .json / proposal file")]
ReachOption = Annotated[str, typer.Option(
    "--reach", help="village | township | county：干部可结对的最远范围 / how far a cadre may be paired")]
SolverOption = Annotated[str, typer.Option("--solver", help="ortools（快）| networkx（参照）")]


def _options(reach: str, solver: str) -> Reach:
    try:
        parsed = Reach.parse(reach)
    except (KeyError, ValueError):
        err.print(f"[red]未知范围 / unknown reach: {reach}[/red]（village | township | county）")
        raise typer.Exit(2) from None
    if solver not in SOLVERS:
        err.print(f"[red]未知求解器 / unknown solver: {solver}[/red]（{' | '.join(SOLVERS)}）")
        raise typer.Exit(2)
    return parsed


def _run(store: str | None, region: str, reach: str, solver: str, out: Path | None, keep_current: bool) -> None:
    parsed = _options(reach, solver)
    with cli_store(store) as s:
        try:
            proposal = (reassign if keep_current else propose)(store=s, region=region, reach=parsed, solver=solver)
        except JieduiError as exc:
            raise fail(exc) from exc
    target = out or Path(f"匹配方案-{proposal.scope}-{dt.datetime.now():%Y%m%d-%H%M%S}.json")
    proposal.write(target)
    _print_summary(proposal)
    console.print(f"方案已写入 / proposal written: [bold]{target}[/bold]（未写入图库 / nothing stored yet: "
                  f"jiedui match confirm {target}）")


@match_app.command("propose")
def propose_command(region: RegionOption, out: OutOption = None, reach: ReachOption = "township",
                    solver: SolverOption = "ortools", store: StoreOption = None) -> None:
    """为一个区划的重点户生成最优一对一结对方案（不写入）/ propose optimal pairings for a region (writes nothing)."""
    _run(store, region, reach, solver, out, keep_current=False)


@match_app.command("reassign")
def reassign_command(region: RegionOption, out: OutOption = None, reach: ReachOption = "township",
                     solver: SolverOption = "ortools", store: StoreOption = None) -> None:
    """干部离岗或新增户后重新安排：只动需要干部的户 / place only the households that need a cadre."""
    _run(store, region, reach, solver, out, keep_current=True)


@match_app.command("confirm")
def confirm_command(
    file: Annotated[Path, typer.Argument(help="方案文件 / proposal file", show_default=False)],
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="只确认这些户编号（逗号分隔，可重复）/ confirm only these households")] = None,
    store: StoreOption = None,
) -> None:
    """确认方案（全部或部分）/ confirm a proposal, all of it or some households.

    A referral proposal (``jiedui match referrals``) is confirmed alike: ``--only`` then names
    need ids. Exit status: 0 all confirmed; 1 some refused (the rest confirmed); 2 nothing done.
    """
    wanted = {h.strip() for item in only for h in item.split(",") if h.strip()} if only else None
    if is_referral_file(file):
        _confirm_referrals(file, wanted, store)
        return
    with cli_store(store) as s:
        try:
            proposal = Proposal.read(file)
            result = confirm(store=s, proposal=proposal, only=wanted)
        except JieduiError as exc:
            raise fail(exc) from exc
    console.print(f"已确认 confirmed: {len(result.confirmed)} · 让出 dropped: {len(result.dropped)} · "
                  f"无需变更 unchanged: {len(result.unchanged)} · 拒绝 refused: {len(result.refused)}")
    if result.refused:
        table = Table(title="未能确认的结对 / pairs refused")
        for column in ("户编号", "代码 code", "原因 reason"):
            table.add_column(column, overflow="fold")
        for household_no, exc in result.refused:
            table.add_row(household_no, exc.code, f"{exc.zh}\n{exc.en}")
        console.print(table)
        raise typer.Exit(1)


@match_app.command("referrals")
def referrals_command(region: RegionOption, out: OutOption = None, solver: SolverOption = "ortools",
                      as_of: Annotated[dt.datetime | None, typer.Option(
                          "--as-of", formats=["%Y-%m-%d"], help="日期，默认今天 / as of (default today)")] = None,
                      store: StoreOption = None) -> None:
    """为一个区划等待中的服务需求生成最优转介方案（不写入）/ propose referrals of a region's waiting needs.

    Every waiting need goes to an organisation whose active offer covers the person's village and
    has room: the highest-risk needs first, designated institutions first, nearer offers first,
    never over an offer's yearly capacity. Confirm with ``jiedui match confirm FILE``.
    """
    if solver not in SOLVERS:
        err.print(f"[red]未知求解器 / unknown solver: {solver}[/red]（{' | '.join(SOLVERS)}）")
        raise typer.Exit(2)
    with cli_store(store) as s:
        try:
            proposal = propose_referrals(store=s, region=region, as_of=as_of.date() if as_of else None, solver=solver)
        except JieduiError as exc:
            raise fail(exc) from exc
    target = out or Path(f"转介方案-{proposal.scope}-{dt.datetime.now():%Y%m%d-%H%M%S}.json")
    proposal.write(target)
    m = proposal.summary
    console.print(f"转介方案 proposal {proposal.id} · 区划 scope {proposal.scope} · {proposal.as_of}")
    console.print(f"等待的需求 waiting needs {m.needs} · 转介 referred {m.referred}（定点 designated {m.designated}）· "
                  f"未能转介 unassigned {m.unassigned}（无供给 no offer {m.no_offer} · 已满 no room {m.no_room}）")
    if proposal.no_offer:
        by_category: dict[str, int] = {}
        for row in proposal.no_offer:
            by_category[row.category] = by_category.get(row.category, 0) + row.needs
        console.print("无供给覆盖的需求按类别 / needs no offer covers, by category: "
                      + " · ".join(f"{c} {n}" for c, n in by_category.items())
                      + f"（按乡镇计数见方案文件；服务空白村 / desert villages: {proposal.deserts}）")
    console.print(f"方案已写入 / proposal written: [bold]{target}[/bold]（未写入图库 / nothing stored yet: "
                  f"jiedui match confirm {target}）")


def _confirm_referrals(file: Path, wanted: set[str] | None, store: str | None) -> None:
    with cli_store(store) as s:
        try:
            result = confirm_referrals(store=s, proposal=ReferralProposal.read(file), made_by="cli", only=wanted)
        except JieduiError as exc:
            raise fail(exc) from exc
    console.print(f"已转介 referred: {len(result.made)} · 无需变更 unchanged: {len(result.unchanged)} · "
                  f"拒绝 refused: {len(result.refused)}")
    if result.refused:
        table = Table(title="未能转介的需求 / referrals refused")
        for column in ("需求编号 need", "代码 code", "原因 reason"):
            table.add_column(column, overflow="fold")
        for need_id, exc in result.refused:
            table.add_row(need_id, exc.code, f"{exc.zh}\n{exc.en}")
        console.print(table)
        raise typer.Exit(1)


@match_app.command("exclude")
def exclude_command(
    household: Annotated[str, typer.Option("--household", help="户编号 / household number")],
    cadre: Annotated[str, typer.Option("--cadre", help="干部编号 / cadre number")],
    reason: Annotated[ExclusionReason, typer.Option("--reason", help="回避原因 / why")] = ExclusionReason.ORGANISER,
    note: Annotated[str | None, typer.Option("--note", help="备注 / note")] = None,
    lift: Annotated[bool, typer.Option("--lift", help="移出回避名单 / take the pair off the list")] = False,
    store: StoreOption = None,
) -> None:
    """把干部与户列入（或移出）回避名单 / put a cadre–household pair on (or off) the exclusion list."""
    with cli_store(store) as s:
        try:
            if lift:
                done = lift_exclusion(store=s, household_no=household, cadre_no=cadre)
                console.print("已移出回避名单 / taken off the list" if done else "不在回避名单上 / was not on the list")
                return
            exclude(store=s, household_no=household, cadre_no=cadre, reason=reason, note=note)
        except JieduiError as exc:
            raise fail(exc) from exc
    console.print(f"已列入回避名单 / excluded: {cadre} × {household}（{reason.value}）")


@match_app.command("exclusions")
def exclusions_command(region: RegionOption, store: StoreOption = None) -> None:
    """列出一个区划的回避名单 / list the exclusion list of a region."""
    with cli_store(store) as s:
        items = exclusions(store=s, region=region)
    table = Table(title=f"回避名单 / exclusion list（{len(items)}）")
    for column in ("户编号", "干部编号", "原因", "自", "备注"):
        table.add_column(column)
    for e in items:
        table.add_row(e.household_no, e.cadre_no, e.reason.value, str(e.since), e.note or "")
    console.print(table)


def _print_summary(p: Proposal, rows: int = 15) -> None:
    s = p.summary
    console.print(f"方案 proposal {p.id} · 区划 scope {p.scope} · 范围 reach {p.reach} · {p.as_of}")
    console.print(f"重点户 priority {s.priority} · 结对 paired {s.paired} · 保持 kept {s.kept} · 新结对 new {s.new} · "
                  f"调整 moved {s.moved} · 让出 dropped {s.dropped} · 未结对 unpaired {s.unpaired} · "
                  f"变动率 churn {s.churn:.2%}")
    changes = [x for x in p.pairs if x.change != "keep"]
    if changes:
        table = Table(title="变更的结对 / changed pairs", caption=f"前 {min(rows, len(changes))} / {len(changes)}")
        for column in ("户编号", "干部", "变更", "风险", "原因 reasons"):
            table.add_column(column, overflow="fold")
        for x in changes[:rows]:
            table.add_row(x.household_no, x.cadre_no, x.change.value, f"{x.risk_score}{x.risk_level}",
                          "\n".join(x.reasons))
        console.print(table)
    if p.unpaired:
        table = Table(title="无法结对的重点户 / priority households left unpaired",
                      caption=f"前 {min(rows, len(p.unpaired))} / {len(p.unpaired)}")
        for column in ("户编号", "风险", "原因 reason"):
            table.add_column(column, overflow="fold")
        for u in sorted(p.unpaired, key=lambda u: -u.risk_score)[:rows]:
            table.add_row(u.household_no, f"{u.risk_score}{u.risk_level}", u.reason)
        console.print(table)
