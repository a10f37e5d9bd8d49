"""Pairings: one-to-one (a cadre ↔ a household) and auxiliary (an organisation ↔ a household)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from graph_schema.enums import AuxRequestStatus, PairingSource
from graph_schema.models import Key, Model, OptionalText, Uscc, today


class PairRequest(Model):
    """Ask for a new one-to-one pairing, or (with ``ended_on``) record one that has ended."""

    household_no: Key
    cadre_no: Key
    started_on: dt.date = Field(default_factory=today)
    ended_on: dt.date | None = None
    end_reason: OptionalText = None
    source: PairingSource = PairingSource.MANUAL
    proposal_id: OptionalText = None


class AuxPairRequest(Model):
    """Ask for an organisation's auxiliary pairing (辅助结对), or record one that has ended."""

    household_no: Key
    uscc: Uscc
    started_on: dt.date = Field(default_factory=today)
    ended_on: dt.date | None = None
    end_reason: OptionalText = None
    source: PairingSource = PairingSource.MANUAL


class Pairing(Model):
    """A one-to-one pairing as stored; ``ended_on`` is None while it is active."""

    pairing_id: str
    household_no: str
    cadre_no: str
    started_on: dt.date
    ended_on: dt.date | None = None
    end_reason: str | None = None
    source: PairingSource
    proposal_id: str | None = None

    @property
    def active(self) -> bool:
        return self.ended_on is None


class AuxPairing(Model):
    """An organisation's auxiliary pairing with a household."""

    pairing_id: str
    household_no: str
    uscc: Uscc
    started_on: dt.date
    ended_on: dt.date | None = None
    end_reason: str | None = None
    source: PairingSource


class AuxRequest(Model):
    """An organisation's request for an auxiliary pairing, and its decision (``status``)."""

    request_id: str
    household_no: str
    uscc: Uscc
    region_code: str
    reason: str
    service: str | None = None
    status: AuxRequestStatus
    requested_at: str
    requested_by: str
    decided_at: str | None = None
    decided_by: str | None = None
    decision_note: str | None = None
    consent_note: str | None = None
    pairing_id: str | None = None
