"""The report forms, one per kind, with the ledger fields of DOMAIN.md and their checks."""

import math
import re
import uuid
from dataclasses import dataclass

import shapely
from flask import g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from shapely.geometry.base import BaseGeometry
from wtforms import (
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from geodata.crs import WGS84
from geodata.errors import GeodataError
from geodata.geometry import parse_geometry
from geodata.io import DEFAULT_MAX_UNZIPPED_BYTES, DEFAULT_MAX_ZIP_ENTRIES, read_vector
from geodata.ways import WEB_LOCATION
from inspection import clock, vocab
from inspection.cases.records import COMMON_FIELDS, KIND_FIELDS
from inspection.errors import InvalidInput

CRS_CHOICES = ("EPSG:4326", "GCJ02")
_CLIENT_ID_RE = re.compile(r"[A-Za-z0-9-]{8,64}")


def _finite(_form, field) -> None:
    """Refuse NaN and infinity, which float() accepts."""
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError(_l("Enter a finite number."))


def _not_future(_form, field) -> None:
    """Refuse a date after today."""
    if field.data and field.data > clock.town_today():
        raise ValidationError(_l("This date lies in the future."))


def _choices(table: dict, blank: bool = False) -> list[tuple[str, str]]:
    """Select options from a vocab table in the UI language."""
    lang = getattr(g, "lang", "zh")
    options = [(key, vocab.label(table, key, lang)) for key in table]
    return [("", "—")] + options if blank else options


class ReportForm(FlaskForm):
    """Fields every report has; CSRF is checked globally by CSRFProtect before the view runs."""

    class Meta:
        csrf = False

    client_id = HiddenField()
    title = StringField(_l("Title"), [Optional(), Length(max=200)])
    source = SelectField(_l("Source"), default="patrol")
    doc_number = StringField(_l("Document no. (文号)"), [Optional(), Length(max=100)])
    batch = StringField(_l("Batch"), [Optional(), Length(max=100)])
    deadline_on = DateField(_l("Deadline"), [Optional()])
    found_on = DateField(
        _l("Found on"), [Optional(), _not_future], default=lambda: clock.town_today()
    )
    description = TextAreaField(_l("Description"), [Optional(), Length(max=5000)])
    remarks = TextAreaField(_l("Remarks"), [Optional(), Length(max=2000)])
    geometry = TextAreaField(_l("Coordinates or shape"), [Optional(), Length(max=2_000_000)])
    crs = SelectField(_l("Coordinate system"), default="EPSG:4326")

    kind = ""
    kind_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source.choices = _choices(vocab.SOURCES)
        self.crs.choices = [
            ("EPSG:4326", _l("WGS-84 (GPS, 天地图)")),
            ("GCJ02", _l("GCJ-02 (高德, 腾讯)")),
        ]
        if not _CLIENT_ID_RE.fullmatch(self.client_id.data or ""):
            self.client_id.data = str(uuid.uuid4())

    def validate_deadline_on(self, field) -> None:
        """A deadline cannot come before the day the case was found."""
        if field.data and self.found_on.data and field.data < self.found_on.data:
            raise ValidationError(_l("The deadline lies before the day found."))

    def ledger_fields(self) -> dict:
        """The values to store on the case, by column name (empty ones left out)."""
        names = (*COMMON_FIELDS, *KIND_FIELDS[self.kind], *self.extra_fields())
        values = {name: getattr(self, name).data for name in names if name in self._fields}
        values = {k: v.strip() if isinstance(v, str) else v for k, v in values.items()}
        if not values.get("title"):
            values["title"] = self.default_title()
        return {k: v for k, v in values.items() if v not in (None, "")}

    def extra_fields(self) -> tuple[str, ...]:
        """Fields beside the ledger columns that create_case understands."""
        return ()

    def default_title(self) -> str:
        """A title made from the kind and its key field, when the user gave none."""
        return vocab.label(vocab.KINDS, self.kind, getattr(g, "lang", "zh"))


class IssueForm(ReportForm):
    """问题: category, source, description and the measures to take."""

    kind = "issue"
    category = SelectField(_l("Category"), [DataRequired(_l("Choose a category."))])
    measures = TextAreaField(_l("Measures"), [Optional(), Length(max=5000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = _choices(vocab.CATEGORIES, blank=True)

    def default_title(self) -> str:
        """The category's name."""
        return vocab.label(vocab.CATEGORIES, self.category.data, getattr(g, "lang", "zh"))


class BuildingForm(ReportForm):
    """违法建筑: party, structure, floors, areas, land type and document numbers."""

    kind = "illegal_building"
    party = StringField(_l("Party"), [Optional(), Length(max=100)])
    structure = SelectField(_l("Structure"), [Optional()], default="")
    floors = IntegerField(_l("Floors"), [Optional(), NumberRange(min=0, max=200)])
    stated_area_m2 = FloatField(
        _l("Footprint area (m²), needed when marked as a point"),
        [Optional(), _finite, NumberRange(min=0.01, max=10_000_000)],
    )
    building_area_m2 = FloatField(
        _l("Floor area (m²)"), [Optional(), _finite, NumberRange(min=0, max=10_000_000)]
    )
    land_type = StringField(_l("Land type"), [Optional(), Length(max=64)])
    enforcement_doc_no = StringField(_l("Enforcement document no."), [Optional(), Length(max=100)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.structure.choices = _choices(vocab.STRUCTURES, blank=True)

    def extra_fields(self) -> tuple[str, ...]:
        """The stated footprint area, used when the building is marked as a point."""
        return ("stated_area_m2",)

    def default_title(self) -> str:
        """ "违法建筑 · party" when the party is known."""
        base = super().default_title()
        party = (self.party.data or "").strip()
        return f"{base} · {party}" if party else base


class FarmlandForm(ReportForm):
    """复耕地块: parcel number, former land type and crop."""

    kind = "farmland"
    parcel_no = StringField(_l("Parcel no."), [Optional(), Length(max=64)])
    land_type = StringField(_l("Former land type / problem"), [Optional(), Length(max=64)])
    crop = StringField(_l("Crop"), [Optional(), Length(max=64)])

    def default_title(self) -> str:
        """ "复耕地块 parcel no." when the parcel number is known."""
        base = super().default_title()
        parcel = (self.parcel_no.data or "").strip()
        return f"{base} {parcel}" if parcel else base


FORMS = {"issue": IssueForm, "illegal_building": BuildingForm, "farmland": FarmlandForm}


def form_for(kind: str, formdata=None) -> ReportForm:
    """The form of a kind, filled from formdata (request.form on POST) or with defaults."""
    return FORMS[kind](formdata=formdata)


def field_errors(form: ReportForm) -> list[str]:
    """Every field error as "Label: message", for the summary at the top of the form."""
    return [
        f"{form[name].label.text}: {message}"
        for name, errors in form.errors.items()
        for message in errors
    ]


# --- Where the case is: drawn, located, pasted, picked from a file, or suggested by a photo ---

MAX_FILE_FEATURES = 100
_LABEL_COLUMNS = ("name", "名称", "图斑编号", "tbbh", "dkbh", "parcel_no", "title", "label")


class FieldError(InvalidInput):
    """A refusal that belongs to one field of the form; it may carry a suggestion or choices."""

    def __init__(self, field: str, code: str, message_zh: str, message_en: str, **extra):
        super().__init__(code, message_zh, message_en)
        self.field = field
        self.suggestion: str | None = extra.get("suggestion")
        self.features: list[dict] = extra.get("features") or []


@dataclass(frozen=True)
class GeometryInput:
    """A parsed location: the geometry (lon/lat, EPSG:4326) and the text and CRS it came from."""

    geom: BaseGeometry
    text: str
    crs: str


def from_geodata(exc: GeodataError, field: str = "geometry") -> FieldError:
    """Turn a geodata refusal (GeometryError, CRSError, FileFormatError) into a field error."""
    return FieldError(field, exc.code, exc.message_zh, exc.message_en)


def _feature_label(row, index: int, columns: list[str]) -> str:
    """A name for one feature of a file: its name-like attribute, else its number."""
    for column in columns:
        if column.lower() in _LABEL_COLUMNS:
            value = row[column]
            if isinstance(value, str) and value.strip():
                return f"{index + 1}. {value.strip()[:60]}"
    return f"{index + 1}."


def file_features(
    data: bytes,
    filename: str,
    *,
    max_bytes: int,
    max_zip_entries: int = DEFAULT_MAX_ZIP_ENTRIES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> list[dict]:
    """Read an uploaded GeoJSON, KML, zipped Shapefile or GeoPackage into its features (EPSG:4326)."""
    try:
        frame = read_vector(
            data,
            way=WEB_LOCATION,
            filename=filename,
            max_bytes=max_bytes,
            max_zip_entries=max_zip_entries,
            max_unzipped_bytes=max_unzipped_bytes,
        )
    except GeodataError as exc:
        raise from_geodata(exc, "geofile") from exc
    except shapely.errors.ShapelyError as exc:  # GDAL read a ring GEOS cannot build (unclosed)
        raise FieldError(
            "geofile",
            "file_bad_geometry",
            f"文件中的几何无效（{exc}），请检查后重新导出",
            f"The file holds an invalid geometry ({exc}); check it and export again",
        ) from exc
    keep = [g is not None and not g.is_empty for g in frame.geometry.values]
    frame = frame[keep]
    if len(frame) == 0:
        raise FieldError(
            "geofile",
            "file_no_geometry",
            "文件中没有带几何的要素",
            "The file has no feature with a geometry",
        )
    if len(frame) > MAX_FILE_FEATURES:
        raise FieldError(
            "geofile",
            "file_too_many_features",
            f"文件含 {len(frame)} 个要素，最多可从 {MAX_FILE_FEATURES} 个中选择；请只导出本案的要素",
            f"The file holds {len(frame)} features; pick from at most {MAX_FILE_FEATURES}: "
            "export only this case's feature",
        )
    columns = [c for c in frame.columns if c != frame.geometry.name]
    return [
        {
            "label": _feature_label(row, i, columns),
            "geom_type": geom.geom_type,
            "geojson": shapely.to_geojson(geom),
        }
        for i, (row, geom) in enumerate(zip(frame.to_dict("records"), frame.geometry, strict=True))
    ]


def read_geometry(
    formdata,
    files,
    *,
    max_vertices: int,
    max_file_bytes: int,
    max_zip_entries: int = DEFAULT_MAX_ZIP_ENTRIES,
    max_unzipped_bytes: int = DEFAULT_MAX_UNZIPPED_BYTES,
) -> GeometryInput | None:
    """The location a form gives: a feature picked from a file, a file, or the text field; None if none."""
    text, crs = (formdata.get("geometry_pick") or "").strip(), WGS84
    upload = files.get("geofile") if files else None
    if not text and upload is not None and upload.filename:
        features = file_features(
            upload.read(),
            upload.filename,
            max_bytes=max_file_bytes,
            max_zip_entries=max_zip_entries,
            max_unzipped_bytes=max_unzipped_bytes,
        )
        if len(features) > 1:
            raise FieldError(
                "geometry",
                "choose_feature",
                f"文件含 {len(features)} 个要素，请选择本案的一个",
                f"The file holds {len(features)} features; choose this case's one",
                features=features,
            )
        text = features[0]["geojson"]
    if not text:
        text, crs = (formdata.get("geometry") or "").strip(), formdata.get("crs") or WGS84
    if not text:
        return None
    if crs not in CRS_CHOICES:
        raise FieldError("crs", "bad_crs", "坐标系无效", "Unknown coordinate system")
    try:
        geom = parse_geometry(text, crs=crs, max_vertices=max_vertices)
    except GeodataError as exc:
        raise from_geodata(exc) from exc
    return GeometryInput(geom, text, crs)


def photo_suggestion(photos) -> str | None:
    """The first photo's GPS position as "lon,lat" text (WGS-84), to offer as the location."""
    for photo in photos:
        if photo.gps_lon is not None:
            return f"{photo.gps_lon:.7f},{photo.gps_lat:.7f}"
    return None


def no_location(suggestion: str | None) -> FieldError:
    """The refusal of a report without a location, offering the photo's position if there is one."""
    if suggestion:
        return FieldError(
            "geometry",
            "location_from_photo",
            f"未填写位置。已填入第一张照片的拍摄位置（{suggestion}），请核对后再提交",
            f"No location given. The first photo's position ({suggestion}) is filled in; "
            "check it and submit again",
            suggestion=suggestion,
        )
    return FieldError(
        "geometry",
        "location_required",
        "请标注位置：在地图上绘制、使用我的位置、粘贴坐标或上传文件",
        "Give the location: draw it on the map, use my location, paste coordinates or upload a file",
    )
