"""Plain data and arithmetic of a study: no Qt, no torch, no DICOM library."""
