"""idnplan's core: instances, device catalog, network and routes, plans, the
evaluator, instance generators and the CLI.

This package depends on neither :mod:`profiling` nor :mod:`solvers`.
"""

from . import _startup  # noqa: F401 - first: the CLI's Ctrl-C guard (exit 130 during start-up)
from .build import RouteChoice, build_plan
from .catalog import Device, builtin_catalog, catalog_devices
from .errors import IdnplanError, InfeasibleError, InputError, Problem, SolverError
from .evaluate import Evaluation, Violation, evaluate
from .instance import Demand, Instance, Model, Node, load_instance, save_instance
from .plan import Plan, PlanStatus, Termination, read_plan, write_plan
from .routes import Route, RouteFigures, Segment, enumerate_routes, route_figures
from .schema import InstanceSpec, ProfileSpec

__version__ = "0.1.0"

__all__ = [
    "Demand",
    "Device",
    "Evaluation",
    "IdnplanError",
    "InfeasibleError",
    "InputError",
    "Instance",
    "InstanceSpec",
    "Model",
    "Node",
    "Plan",
    "PlanStatus",
    "Problem",
    "ProfileSpec",
    "Route",
    "RouteFigures",
    "Segment",
    "SolverError",
    "Termination",
    "Violation",
    "RouteChoice",
    "build_plan",
    "builtin_catalog",
    "catalog_devices",
    "enumerate_routes",
    "evaluate",
    "load_instance",
    "read_plan",
    "route_figures",
    "save_instance",
    "write_plan",
]
