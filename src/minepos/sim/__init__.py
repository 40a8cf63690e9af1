"""The simulator: people and shifts in a mine, sensor models, incidents, measurements and truth."""

from minepos.sim.batch import MeasurementBatch
from minepos.sim.config import (
    INCIDENT_KINDS,
    BleModel,
    EvacuationOrder,
    IncidentSpec,
    RfidModel,
    ScenarioConfig,
    SensorConfig,
    StatusModel,
    UwbModel,
)
from minepos.sim.incidents import Incident
from minepos.sim.simulation import Simulation, Tick, simulate
from minepos.sim.truth import TruthBatch

__all__ = [
    "INCIDENT_KINDS",
    "BleModel",
    "EvacuationOrder",
    "Incident",
    "IncidentSpec",
    "MeasurementBatch",
    "RfidModel",
    "ScenarioConfig",
    "SensorConfig",
    "Simulation",
    "StatusModel",
    "Tick",
    "TruthBatch",
    "UwbModel",
    "simulate",
]
