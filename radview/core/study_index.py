"""The study tree a folder scan produces: patients -> studies -> series -> images.

Plain data filled from DICOM headers by `radview.dicom.scan`; nothing here reads files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from radview.core.acquisition import Acquisition


@dataclass(frozen=True)
class MosaicTile:
    """Where one slice of a Siemens mosaic lies in its stored frame (radview.dicom.mosaic): the
    frame is stored_rows x stored_columns, tiled row by row with the slices."""

    index: int  # 0-based slice number in the mosaic
    count: int  # NumberOfImagesInMosaic
    row: int  # the tile's top row in the stored frame
    column: int  # the tile's left column
    stored_rows: int
    stored_columns: int


@dataclass
class ImageHeader:
    """What the loader needs to know about one 2D image (one file, or one frame of a file).

    Positions and directions are DICOM patient coordinates (LPS, mm):
    `position_mm` is ImagePositionPatient (0020,0032), the centre of the first pixel;
    `orientation` is ImageOrientationPatient (0020,0037): row direction then column direction.
    """

    path: str
    sop_instance_uid: str
    sop_class_uid: str = ""
    frame_index: int = 0  # 0-based frame inside a multi-frame file
    number_of_frames: int = 1
    instance_number: int | None = None
    transfer_syntax_uid: str = ""
    modality: str = ""
    rows: int = 0
    columns: int = 0
    samples_per_pixel: int = 1
    bits_allocated: int = 16
    bits_stored: int = 16
    pixel_representation: int = 0
    photometric_interpretation: str = "MONOCHROME2"
    position_mm: tuple[float, float, float] | None = None
    orientation: tuple[float, float, float, float, float, float] | None = None
    pixel_spacing_mm: tuple[float, float] | None = None  # (between rows, between columns)
    pixel_spacing_source: str = ""
    slice_thickness_mm: float | None = None
    spacing_between_slices_mm: float | None = None
    rescale_slope: float = 1.0
    rescale_intercept: float = 0.0
    rescale_type: str = ""
    window_center: float | None = None
    window_width: float | None = None
    echo_number: int | None = None
    acquisition_number: int | None = None
    temporal_position: int | None = None
    # TriggerTime (0018,1060); for enhanced frames the nominal cardiac trigger delay or the
    # temporal position time offset: names a time point ("time point 3 (1200 ms)")
    trigger_time_ms: float | None = None
    # DiffusionGradientOrientation (0018,9089), or the Siemens CSA DiffusionGradientDirection;
    # the b-value is acquisition.diffusion_b_value
    diffusion_direction: tuple[float, float, float] | None = None
    # enhanced multi-frame: the frame's DimensionIndexValues less its position in the stack, so
    # frames of one volume share it when nothing else tells the volumes apart
    dimension_key: tuple[int, ...] | None = None
    stack_id: str | None = None
    gantry_tilt_deg: float | None = None
    image_type: tuple[str, ...] = ()
    acquisition: Acquisition = field(default_factory=Acquisition)
    # Where the raw pixel bytes of this file start and how long they are, when they are stored
    # uncompressed: the loader then reads them straight into the volume (no decoder).
    pixel_offset: int | None = None
    pixel_length: int | None = None
    # A slice cut out of a Siemens mosaic: rows and columns are then the slice's, and the stored
    # frame is the mosaic's (stored_rows x stored_columns).
    mosaic: MosaicTile | None = None

    @property
    def stored_rows(self) -> int:
        """Rows of the frame as the file stores it (the whole mosaic for a mosaic slice)."""
        return self.mosaic.stored_rows if self.mosaic is not None else self.rows

    @property
    def stored_columns(self) -> int:
        """Columns of the frame as the file stores it."""
        return self.mosaic.stored_columns if self.mosaic is not None else self.columns

    @property
    def bytes_per_frame(self) -> int:
        """Bytes of one stored frame, uncompressed (1-bit frames are packed)."""
        return (self.stored_rows * self.stored_columns * self.samples_per_pixel * self.bits_allocated + 7) // 8


@dataclass
class Series:
    """One DICOM series (SeriesInstanceUID) and its images, in the order they were found."""

    series_instance_uid: str
    study_instance_uid: str = ""
    modality: str = ""
    series_number: int | None = None
    description: str = ""
    date: str = ""
    time: str = ""
    body_part: str = ""
    frame_of_reference_uid: str = ""
    manufacturer: str = ""
    images: list[ImageHeader] = field(default_factory=list)
    # identity problems a reader must see: images of this SeriesInstanceUID carried another
    # patient's identity or another study's UID and were kept apart
    warnings: list[str] = field(default_factory=list)

    @property
    def image_count(self) -> int:
        return len(self.images)


@dataclass
class Study:
    """One study (StudyInstanceUID) with its series."""

    study_instance_uid: str
    date: str = ""
    time: str = ""
    description: str = ""
    accession_number: str = ""
    referring_physician: str = ""
    series: list[Series] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # e.g. its StudyInstanceUID is shared with another patient
    workspace_id: str = ""  # the workspace key: the UID, made unique when two patients share it

    def __post_init__(self) -> None:
        self.workspace_id = self.workspace_id or self.study_instance_uid

    @property
    def identity_warnings(self) -> list[str]:
        """The study's and its series' identity warnings, each once."""
        return list(dict.fromkeys([*self.warnings, *(w for se in self.series for w in se.warnings)]))


@dataclass
class Patient:
    """One patient (PatientID + name) with their studies."""

    patient_id: str
    name: str = ""
    birth_date: str = ""
    sex: str = ""
    studies: list[Study] = field(default_factory=list)


@dataclass(frozen=True)
class SkippedFile:
    """A file the scan could not use, with a reason a person can act on."""

    path: str
    reason: str


@dataclass
class StudyIndex:
    """Everything a scan found under one path."""

    root: str
    patients: list[Patient] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    file_count: int = 0

    def all_series(self) -> list[Series]:
        """Every series of every study of every patient, in tree order."""
        return [se for p in self.patients for st in p.studies for se in st.series]

    def study_of(self, series: Series) -> Study:
        """The study that holds `series`."""
        for p in self.patients:
            for st in p.studies:
                if any(se is series for se in st.series):
                    return st
        raise KeyError(series.series_instance_uid)

    def patient_of(self, series: Series) -> Patient:
        """The patient that holds `series`."""
        for p in self.patients:
            for st in p.studies:
                if any(se is series for se in st.series):
                    return p
        raise KeyError(series.series_instance_uid)
