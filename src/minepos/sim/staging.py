"""Staging the incidents and evacuation orders of a scenario into plans and tag effects."""

from __future__ import annotations

import math

import numpy as np

from minepos.errors import InputError
from minepos.mine import Mine, Person, Place
from minepos.sim.batch import EVENT_NAMES
from minepos.sim.config import IncidentSpec, ScenarioConfig
from minepos.sim.evacuation import stage_evacuation
from minepos.sim.incidents import Incident, TagEffects, detour, freeze, place_at, underground_at
from minepos.sim.plan import WORK, Plans

__all__ = ["Stager", "default_incidents"]

_EV = {name: k for k, name in enumerate(EVENT_NAMES)}
_ZONE_DWELL_S = 1200.0
_DETOUR_SPEED = 1.2


def default_incidents(duration_s: float) -> tuple[IncidentSpec, ...]:
    """One of each kind, spread over the middle of the run (zone kinds first: people must walk)."""
    kinds = (
        "overcrowding",
        "restricted_zone",
        "forbidden_zone",
        "sos",
        "man_down",
        "tag_silent",
        "low_battery",
        "anchor_failed",
        "not_returned",
    )
    out = []
    for n, kind in enumerate(kinds):
        at = duration_s * ((0.2 + 0.05 * n) if n < 3 else (0.3 + 0.4 * n / len(kinds)))
        dur = None if kind in ("not_returned", "low_battery") else min(600.0, 0.1 * duration_s)
        out.append(IncidentSpec(kind, at, duration_s=dur))
    return tuple(out)


class Stager:
    """Applies incident specs to plans; collects the incidents known in advance."""

    def __init__(
        self,
        mine: Mine,
        people: list[Person],
        plans: Plans,
        cfg: ScenarioConfig,
        rng: np.random.Generator,
    ) -> None:
        self.mine, self.people, self.plans, self.cfg, self.rng = mine, people, plans, cfg, rng
        self.effects = TagEffects.none(len(people), len(mine.anchors))
        self.incidents: list[Incident] = []
        self.person_index = {p.id: i for i, p in enumerate(people)}
        self.end = cfg.start_ts + cfg.duration_s
        self.busy: set[int] = set()

    def stage_all(self) -> None:
        """Every incident of the scenario, then the evacuation orders, then lamp events."""
        for spec in self.cfg.incidents:
            getattr(self, f"_{spec.kind}")(spec, self.cfg.start_ts + spec.at_s)
        for order in self.cfg.evacuations:
            self.incidents += stage_evacuation(
                self.mine,
                self.people,
                self.plans,
                order,
                self.cfg.start_ts + order.at_s,
                self.rng,
                self.effects.events,
            )
        for i in range(len(self.people)):
            if self.plans.segs[i]:
                self.effects.events.append((self.plans.lamp_out[i], i, _EV["lamp_out"]))
                if math.isfinite(self.plans.lamp_in[i]):
                    self.effects.events.append((self.plans.lamp_in[i], i, _EV["lamp_in"]))
        self.effects.events.sort()

    # -- choosing who -------------------------------------------------------------------------
    def _who(self, spec: IncidentSpec, t: float, ok: list[int] | None = None) -> int:
        if spec.person is not None:
            if spec.person not in self.person_index:
                raise InputError(f"incident {spec.kind}: unknown person {spec.person!r}")
            return self.person_index[spec.person]
        pool = ok if ok is not None else list(range(len(self.people)))
        for i in self.rng.permutation(pool).tolist():
            if i not in self.busy and underground_at(self.plans, i, t):
                self.busy.add(i)
                return int(i)
        raise InputError(f"incident {spec.kind}: nobody is underground at +{spec.at_s:.0f} s")

    def _record(
        self,
        kind: str,
        t: float,
        i: int | None,
        dur: float | None = None,
        zone: str | None = None,
        anchor: str | None = None,
    ) -> None:
        p = self.people[i] if i is not None else None
        if p is not None and zone is None:
            _, tunnel, s, _ = place_at(self.plans.segs[i], t)  # type: ignore[index]
            zones = self.mine.zones_at(self.mine.tunnels[tunnel].id, s)
            zone = zones[0] if zones else None
        self.incidents.append(
            Incident(
                kind,
                t,
                p.id if p else None,
                p.tag if p else None,
                zone,
                anchor,
                None if dur is None else t + dur,
            )
        )

    # -- kinds ---------------------------------------------------------------------------------
    def _sos(self, spec: IncidentSpec, t: float) -> None:
        i = self._who(spec, t)
        self.effects.events.append((t, i, _EV["sos"]))
        if spec.duration_s is not None:
            self.effects.events.append((t + spec.duration_s, i, _EV["sos_cancel"]))
        self._record("sos", t, i, spec.duration_s)

    def _man_down(self, spec: IncidentSpec, t: float) -> None:
        i = self._who(spec, t)
        dur = spec.duration_s if spec.duration_s is not None else math.inf
        self._record("man_down", t, i, dur)
        freeze(self.plans, i, t, dur)
        if self.cfg.sensors.status.fall_event:
            self.effects.events.append((t, i, _EV["fall"]))

    def _tag_silent(self, spec: IncidentSpec, t: float) -> None:
        i = self._who(spec, t)
        self.effects.silent_from[i] = t
        self.effects.silent_to[i] = t + spec.duration_s if spec.duration_s else math.inf
        self._record("tag_silent", t, i, spec.duration_s)

    def _low_battery(self, spec: IncidentSpec, t: float) -> None:
        i = self._who(spec, t)
        self.effects.battery_cross[i] = t
        self._record("low_battery", t, i)

    def _anchor_failed(self, spec: IncidentSpec, t: float) -> None:
        if spec.anchor is not None:
            if spec.anchor not in self.mine.anchor_index:
                raise InputError(f"incident anchor_failed: unknown anchor {spec.anchor!r}")
            a = self.mine.anchor_index[spec.anchor]
        else:
            uwb = [k for k, an in enumerate(self.mine.anchors) if an.tech == "uwb"]
            if not uwb:
                raise InputError("incident anchor_failed: the mine has no UWB anchor")
            a = int(self.rng.choice(uwb))
        self.effects.anchor_down_from[a] = t
        self.effects.anchor_down_to[a] = t + spec.duration_s if spec.duration_s else math.inf
        self._record("anchor_failed", t, None, spec.duration_s, anchor=self.mine.anchors[a].id)

    def _not_returned(self, spec: IncidentSpec, t: float) -> None:
        i = self._who(spec, t)
        leave = self.plans.leave[i]
        expected = self.plans.lamp_in[i]
        freeze_at = max(leave, t)
        _, tunnel, s, _ = place_at(self.plans.segs[i], freeze_at)
        head = [seg for seg in self.plans.segs[i] if seg[1] <= freeze_at]
        head.append((head[-1][1] if head else freeze_at, math.inf, tunnel, s, s, WORK))
        self.plans.segs[i] = head
        self.plans.lamp_in[i] = math.inf
        # dated when the lamp room raises it: at the end of the person's shift as it reckons it
        shift_end = self.plans.person_shift_end[i]
        self._record("not_returned", shift_end, i)
        self.incidents[-1].detail["expected_lamp_in"] = round(expected, 3)

    def _zone_kind(self, spec: IncidentSpec, t: float, kind: str) -> None:
        zones = [
            z
            for z in self.mine.zones
            if (
                z.id == spec.zone
                if spec.zone
                else (z.kind == "restricted" if kind == "restricted_zone" else z.allowed_roles)
            )
        ]
        if not zones:
            raise InputError(
                f"incident {kind}: no {'zone ' + spec.zone if spec.zone else 'such zone'}"
            )
        zone = zones[0]
        ok = [
            i
            for i, p in enumerate(self.people)
            if zone.allowed_roles is None or p.role not in zone.allowed_roles
        ]
        self._send(spec, t, zone.id, ok, 1)

    def _restricted_zone(self, spec: IncidentSpec, t: float) -> None:
        self._zone_kind(spec, t, "restricted_zone")

    def _forbidden_zone(self, spec: IncidentSpec, t: float) -> None:
        self._zone_kind(spec, t, "forbidden_zone")

    def _overcrowding(self, spec: IncidentSpec, t: float) -> None:
        zones = [z for z in self.mine.zones if z.max_occupancy and (spec.zone in (None, z.id))]
        if not zones:
            raise InputError(f"incident overcrowding: no zone with max_occupancy {spec.zone or ''}")
        zone = zones[0]
        here = 0
        for i in range(len(self.people)):
            if self.plans.segs[i] and self.plans.lamp_out[i] <= t < self.plans.lamp_in[i]:
                _, tunnel, s, _ = place_at(self.plans.segs[i], t)
                here += zone.id in self.mine.zones_at(self.mine.tunnels[tunnel].id, s)
        self._send(spec, t, zone.id, list(range(len(self.people))), zone.max_occupancy - here + 3)  # type: ignore[operator]

    def _send(self, spec: IncidentSpec, t: float, zone_id: str, ok: list[int], n: int) -> None:
        """Send the ``n`` nearest eligible people into a zone for a while."""
        zone = self.mine.zones[self.mine.zone_index[zone_id]]
        span = max(zone.spans, key=lambda s: s.length_m)
        target = Place(span.tunnel, 0.5 * (span.from_m + span.to_m))
        if spec.person is not None:
            chosen = [self._who(spec, t)]
        else:
            field = self.mine.network.field(list(zone.spans))
            cand = [i for i in ok if i not in self.busy and underground_at(self.plans, i, t)]
            dist = []
            for i in cand:
                _, tunnel, s, _ = place_at(self.plans.segs[i], t)
                dist.append(float(field.distances(np.array([tunnel]), np.array([s]))[0]))
            outside = [k for k in np.argsort(dist, kind="stable").tolist() if dist[k] > 0]
            chosen = [cand[k] for k in outside[: max(n, 0)]]
        dwell = spec.duration_s or _ZONE_DWELL_S
        gather = t
        for i in chosen:
            _, tunnel, s, _ = place_at(self.plans.segs[i], t)
            way = self.mine.distance(Place(self.mine.tunnels[tunnel].id, s), target)
            gather = max(gather, t + way / _DETOUR_SPEED if np.isfinite(way) else t)
        for i in chosen:
            self.busy.add(i)
            detour(self.mine, self.plans, i, t, target, dwell, _DETOUR_SPEED, gather)
