"""Going to findings: "go to" centres every view on a finding, zoomed so it is at least
MIN_FINDING_PX across on screen, and Next/Previous Finding (N / Shift+N, ] / [) walk the findings
list in its order, round and round, as a reader works through the AI's suggestions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from radview.core.findings import Finding
from radview.gui.findings_panel import FindingsPanel
from radview.gui.viewer_area import ViewerArea

DEFAULT_FINDING_MM = 10.0  # a finding without a size is shown as if it were this big


class FindingNavigation:
    """Handlers of Review > Next/Previous Finding, and the views' answer to a selected finding."""

    def __init__(self, area: ViewerArea, findings: FindingsPanel, show_status: Callable[[str, int], None]) -> None:
        self._area, self._findings, self._status = area, findings, show_status
        findings.finding_selected.connect(self.go_to)

    def go_to(self, finding: Finding) -> None:
        """Every view on the slices through the finding, centred on it and zoomed so it shows."""
        try:
            marker = self._area.model.find_marker(finding.id)
        except KeyError:  # no flag on the shown series
            self._area.go_to(np.array(finding.centre_lps_mm), finding.size_mm or DEFAULT_FINDING_MM)
            return
        self._area.select_marker(finding.id)  # its flag is drawn bold
        # the size the review has now (a reader's edit), else the flag's
        self._area.go_to(marker.centre_lps_mm, finding.size_mm or marker.size_mm)

    def action_next_finding(self) -> None:
        self._step(1)

    def action_previous_finding(self) -> None:
        self._step(-1)

    def _step(self, direction: int) -> None:
        ids = self._findings.ids
        if not ids:
            self._status("No findings to go to: run the AI (Ctrl+R) or add one (M)", 5000)
            return
        current = self._findings.selected_id()
        if current in ids:
            target = ids[(ids.index(current) + direction) % len(ids)]
        else:  # nothing selected yet: the first going forward, the last going back
            target = ids[0] if direction > 0 else ids[-1]
        if target == current:  # a single finding: selecting it again changes nothing, so go there
            self.go_to(self._findings.finding(target))
        else:
            self._findings.select(target)  # the list's selection goes to it (finding_selected)
