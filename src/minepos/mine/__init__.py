"""The mine model: levels, nodes, tunnels (graph + geometry), zones, anchors; loaders; demo."""

from minepos.mine.loader import (
    load_mine,
    load_mine_text,
    load_roster,
    mine_from_dict,
    parse_mine_file,
)
from minepos.mine.model import Anchor, Level, Mine, Node, Person, Tunnel, Zone
from minepos.mine.places import Leg, Place, Route, Span

__all__ = [
    "Anchor",
    "Leg",
    "Level",
    "Mine",
    "Node",
    "Person",
    "Place",
    "Route",
    "Span",
    "Tunnel",
    "Zone",
    "load_mine",
    "load_mine_text",
    "load_roster",
    "mine_from_dict",
    "parse_mine_file",
]
