"""DIMSE (pynetdicom): C-ECHO, C-FIND (study root), C-GET or C-MOVE into the cache, C-STORE.

C-GET receives the instances on the same association (we take the storage SCP role for each
storage class), so no port has to be opened to the PACS; C-MOVE needs the PACS to know our AE
title with our host and `our_port`, where a storage service listens while the move runs.
"""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import (DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                         JPEG2000, JPEG2000Lossless, JPEGBaseline8Bit, JPEGLosslessSV1, JPEGLSLossless, RLELossless)
from pydicom.uid import (BasicTextSRStorage, Comprehensive3DSRStorage, ComprehensiveSRStorage,
                         ComputedRadiographyImageStorage, CTImageStorage,
                         DigitalMammographyXRayImageStorageForPresentation, DigitalXRayImageStorageForPresentation,
                         DigitalXRayImageStorageForProcessing, EncapsulatedPDFStorage, EnhancedCTImageStorage,
                         EnhancedMRImageStorage, EnhancedSRStorage, GrayscaleSoftcopyPresentationStateStorage,
                         KeyObjectSelectionDocumentStorage, MRImageStorage,
                         MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
                         MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
                         MultiFrameTrueColorSecondaryCaptureImageStorage, NuclearMedicineImageStorage,
                         PositronEmissionTomographyImageStorage, SecondaryCaptureImageStorage, SegmentationStorage,
                         UltrasoundImageStorage, UltrasoundMultiFrameImageStorage, XRayAngiographicImageStorage)

from radview.core.pacs import PacsNode, StudyQuery, StudyRecord
from radview.core.progress import CancelToken, Cancelled, ProgressCallback, report
from radview.pacs.common import CONNECT_TIMEOUT_S, STUDY_FIELDS, PacsError, save_instance, study_record

MAX_STUDIES = 500
TRANSFER_SYNTAXES = [ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, RLELossless,
                     JPEGBaseline8Bit, JPEGLosslessSV1, JPEGLSLossless, JPEG2000Lossless, JPEG2000]
# What a review workstation takes in (a C-GET association holds at most 128 contexts).
STORAGE_CLASSES = [
    CTImageStorage, EnhancedCTImageStorage,
    MRImageStorage, EnhancedMRImageStorage,
    ComputedRadiographyImageStorage, DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing,
    DigitalMammographyXRayImageStorageForPresentation,
    UltrasoundImageStorage, UltrasoundMultiFrameImageStorage,
    NuclearMedicineImageStorage, PositronEmissionTomographyImageStorage,
    XRayAngiographicImageStorage,
    SecondaryCaptureImageStorage, MultiFrameGrayscaleByteSecondaryCaptureImageStorage,
    MultiFrameGrayscaleWordSecondaryCaptureImageStorage, MultiFrameTrueColorSecondaryCaptureImageStorage,
    SegmentationStorage,
    BasicTextSRStorage, EnhancedSRStorage, ComprehensiveSRStorage, Comprehensive3DSRStorage,
    KeyObjectSelectionDocumentStorage,
    EncapsulatedPDFStorage,
    GrayscaleSoftcopyPresentationStateStorage,
]


def _application_entity(node: PacsNode):
    from pynetdicom import AE

    ae = AE(ae_title=node.our_ae_title)
    ae.connection_timeout = CONNECT_TIMEOUT_S
    ae.acse_timeout = CONNECT_TIMEOUT_S
    ae.dimse_timeout = 120
    ae.network_timeout = 120
    return ae


def _associate(ae, node: PacsNode, **kwargs):
    assoc = ae.associate(node.host, int(node.port), ae_title=node.ae_title, **kwargs)
    if assoc.is_established:
        return assoc
    if assoc.is_rejected:
        raise PacsError(f"{node.describe()} rejected the association: check the PACS's AE title "
                        f"({node.ae_title!r}) and that it accepts our AE title ({node.our_ae_title!r})")
    raise PacsError(f"{node.describe()}: no DICOM association (connection refused, timed out or aborted): "
                    "check the host and port, and that the PACS is running")


def echo(node: PacsNode) -> str:
    """C-ECHO; returns a line for the user, raises PacsError."""
    from pynetdicom.sop_class import Verification

    ae = _application_entity(node)
    ae.add_requested_context(Verification)
    assoc = _associate(ae, node)
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    if not status or status.Status != 0:
        raise PacsError(f"{node.describe()}: C-ECHO failed (status {getattr(status, 'Status', 'none')})")
    return f"{node.describe()}: C-ECHO succeeded"


def find_studies(node: PacsNode, query: StudyQuery) -> list[StudyRecord]:
    """C-FIND at STUDY level (study root)."""
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind as Find

    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    for keyword in STUDY_FIELDS:
        setattr(identifier, keyword, "")
    identifier.PatientName = query.patient_name
    identifier.PatientID = query.patient_id
    identifier.StudyDate = query.date_range
    identifier.ModalitiesInStudy = query.modality
    identifier.AccessionNumber = query.accession_number
    ae = _application_entity(node)
    ae.add_requested_context(Find)
    assoc = _associate(ae, node)
    records = []
    try:
        for status, answer in assoc.send_c_find(identifier, Find):
            code = getattr(status, "Status", None)
            if code in (0xFF00, 0xFF01) and answer is not None:
                records.append(study_record(answer, node.name))
                if len(records) >= MAX_STUDIES:
                    break
            elif code not in (0x0000, None):
                raise PacsError(f"{node.describe()}: the query failed (C-FIND status 0x{code:04X})")
            elif code is None:
                raise PacsError(f"{node.describe()}: no answer to the query (timed out or aborted)")
    finally:
        if assoc.is_established:
            assoc.release()
    return records


def _store_handler(cache: Path, received: list[Path], cancel: CancelToken | None):
    def on_store(event) -> int:
        if cancel is not None and cancel.is_cancelled:
            return 0xA700  # refused: out of resources (the user cancelled)
        ds = event.dataset
        data = event.encoded_dataset(include_meta=True)
        received.append(save_instance(cache, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID, data))
        return 0x0000
    return on_store


def _report_suboperations(status, progress: ProgressCallback | None, node: PacsNode) -> None:
    remaining = int(getattr(status, "NumberOfRemainingSuboperations", 0) or 0)
    done = sum(int(getattr(status, name, 0) or 0) for name in (
        "NumberOfCompletedSuboperations", "NumberOfFailedSuboperations", "NumberOfWarningSuboperations"))
    report(progress, done, done + remaining, f"retrieving from {node.name}: {done} of {done + remaining}")


def retrieve_study(node: PacsNode, study_uid: str, cache: Path, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> list[Path]:
    """C-GET (or C-MOVE, as the node says) every instance of the study into `cache`."""
    from pynetdicom import build_role, evt
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelGet as Get
    from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelMove as Move

    identifier = Dataset()
    identifier.QueryRetrieveLevel = "STUDY"
    identifier.StudyInstanceUID = study_uid
    received: list[Path] = []
    handlers = [(evt.EVT_C_STORE, _store_handler(Path(cache), received, cancel))]
    ae = _application_entity(node)
    server = None
    if node.retrieve_method == "C-MOVE":
        ae.add_requested_context(Move)
        for uid in STORAGE_CLASSES:
            ae.add_supported_context(uid, TRANSFER_SYNTAXES)
        try:
            server = ae.start_server(("0.0.0.0", int(node.our_port)), block=False, evt_handlers=handlers)
        except OSError as error:
            raise PacsError(f"{node.describe()}: cannot listen on port {node.our_port} for C-MOVE ({error})") from error
        assoc = _associate(ae, node)
        responses = assoc.send_c_move(identifier, node.our_ae_title, Move)
    else:
        ae.add_requested_context(Get)
        for uid in STORAGE_CLASSES:
            ae.add_requested_context(uid, TRANSFER_SYNTAXES)
        roles = [build_role(uid, scp_role=True) for uid in STORAGE_CLASSES]
        assoc = _associate(ae, node, ext_neg=roles, evt_handlers=handlers)
        responses = assoc.send_c_get(identifier, Get)
    failed = 0
    try:
        for status, _identifier in responses:
            if cancel is not None and cancel.is_cancelled:
                assoc.abort()
                raise Cancelled()
            code = getattr(status, "Status", None)
            if code is None:
                raise PacsError(f"{node.describe()}: the retrieve got no answer (timed out or aborted)")
            _report_suboperations(status, progress, node)
            if code in (0xFF00, 0xFF01):
                continue
            failed = int(getattr(status, "NumberOfFailedSuboperations", 0) or 0)
            if code not in (0x0000, 0xB000):
                raise PacsError(f"{node.describe()}: the retrieve failed ({node.retrieve_method} status 0x{code:04X})"
                                + ("; C-MOVE needs the PACS to know our AE title, host and port"
                                   if node.retrieve_method == "C-MOVE" else ""))
    finally:
        if assoc.is_established:
            assoc.release()
        if server is not None:
            server.shutdown()
    if failed:
        raise PacsError(f"{node.describe()}: {failed} instance(s) of study {study_uid} could not be retrieved; "
                        f"{len(received)} arrived in {cache}")
    return received


def send_files(node: PacsNode, paths: list[Path], progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> int:
    """C-STORE each file; returns how many the PACS accepted, raises PacsError naming the first refusal."""
    datasets = []
    for path in paths:
        try:
            datasets.append((Path(path), pydicom.dcmread(path)))
        except Exception as error:  # pydicom raises many types on a broken file (docs/facts.md)
            raise PacsError(f"{path}: not a DICOM file that can be sent ({error})") from error
    ae = _application_entity(node)
    for sop_class in sorted({str(ds.SOPClassUID) for _p, ds in datasets}):
        syntaxes = {str(ds.file_meta.TransferSyntaxUID) for _p, ds in datasets if ds.SOPClassUID == sop_class}
        ae.add_requested_context(sop_class, sorted(syntaxes | {ExplicitVRLittleEndian, ImplicitVRLittleEndian}))
    assoc = _associate(ae, node)
    sent = 0
    try:
        for n, (path, ds) in enumerate(datasets):
            if cancel is not None:
                cancel.raise_if_cancelled()
            report(progress, n, len(datasets), f"sending {path.name} to {node.name}")
            status = assoc.send_c_store(ds)
            code = getattr(status, "Status", None)
            if code is None:
                raise PacsError(f"{node.describe()}: no answer while sending {path} (timed out or aborted)")
            if code not in (0x0000, 0xB000, 0xB007, 0xB006):
                raise PacsError(f"{node.describe()} refused {path} (C-STORE status 0x{code:04X})")
            sent += 1
    finally:
        if assoc.is_established:
            assoc.release()
    report(progress, len(datasets), len(datasets), f"{sent} sent to {node.name}")
    return sent
