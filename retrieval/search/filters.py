"""Filters a user sets (reports, report years, data years, section types) as a mask over the snapshot's rows."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..ingest.roles import cues, paragraph_roles
from ..passage import Passage
from ..store import Snapshot


@dataclass
class Filters:
    reports: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)  # the reports' own years
    section_types: list[str] = field(default_factory=list)
    # the years a passage is about (its section's span, ingest/years.py): the 2024 figures of a 2025
    # 政府工作报告 are 2024's; a passage whose years are unknown has none
    data_years: list[int] = field(default_factory=list)

    def mask(self, snap: Snapshot) -> np.ndarray | None:
        """Boolean mask over snapshot rows, or None when nothing is filtered."""
        if not (self.reports or self.years or self.section_types or self.data_years):
            return None
        keep = np.ones(len(snap.ids), dtype=bool)
        if self.reports:
            wanted = set(self.reports)
            for source, aliases in snap.aliases.items():
                if wanted & set(aliases):
                    wanted.add(source)
            keep &= np.isin(snap.sources, list(wanted))
        if self.years:
            keep &= np.isin(snap.years, [int(y) for y in self.years])
        if self.data_years:
            about = np.zeros(len(snap.ids), dtype=bool)
            for y in {int(y) for y in self.data_years}:
                about |= (snap.years_from <= y) & (y <= snap.years_to)
            keep &= about
        if self.section_types:  # every passage that plays the role: by its headings or its own paragraphs
            plays = np.zeros(len(snap.ids), dtype=bool)
            for role in self.section_types:
                plays |= snap.plays(role)
            keep &= plays
        return keep

    def badge(self, p: Passage) -> Passage:
        """A passage with the badge the role filter found it by: a passage that plays a role asked
        without being typed so (its own heading names it, or its paragraphs state it: "同时也要清醒
        看到…" in a 成效 section) shows that role, so badge and filter agree."""
        if not self.section_types or p.section_type in self.section_types:
            return p
        plays = [*cues(p.heading_path[-1] if p.heading_path else ""), *paragraph_roles(p.text)]
        shown = next((r for r in plays if r in self.section_types), self.section_types[0])
        return replace(p, section_type=shown)
