"""Agency exports in, canonical event log out: readers, time parsing, tie order, the load report."""

from pekso_toolkit.events.eventlog import EventLog, LoadReport, load_events, read_xes

__all__ = ["EventLog", "LoadReport", "load_events", "read_xes"]
