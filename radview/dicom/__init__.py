"""Reading DICOM: folder scan, series loading, conversion. Uses pydicom; never writes sources."""
