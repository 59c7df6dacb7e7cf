"""Synthetic phantom studies written as valid DICOM, with ground truth (`radview demo`)."""
