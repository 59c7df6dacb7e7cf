"""Workflow: composes the services (dicom, ai, report) into the flows the drivers run."""
