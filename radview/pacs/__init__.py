"""The PACS service: test a connection, query studies, retrieve them into the local cache, send
results; over DIMSE (pynetdicom) or DICOMweb (dicomweb-client). Plain functions with progress
and cancel, no Qt; `connect(node)` picks the protocol."""
