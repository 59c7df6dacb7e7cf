"""RadView's results as DICOM objects for the PACS: SEG, TID 1500 SR, encapsulated PDF, key images.

Each writer takes plain data (core findings, masks, pictures) plus the source images' headers,
and writes one new instance in a new series of the source study. Source files are only read.
"""
